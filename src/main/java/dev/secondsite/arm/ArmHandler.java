package dev.secondsite.arm;

/** Serves one ARM route. */
@FunctionalInterface
public interface ArmHandler {
    ArmResponse handle(ArmRequest request);
}
