package dev.secondsite.rules;

import dev.secondsite.arm.ArmException;

import java.util.List;
import java.util.Objects;

/**
 * A rule the facts break, with a message that says what was found and what to do about it.
 */
public record Violation(Rule rule, String message) {
    public Violation {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(message, "message");
    }

    public String code() { return rule.code(); }

    public int status() { return rule.status(); }

    public ArmException toArmException() {
        return new ArmException(rule.status(), rule.code(), message, null, List.of());
    }
}
