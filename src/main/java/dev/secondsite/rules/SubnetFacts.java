package dev.secondsite.rules;

import java.util.Objects;

/** A subnet and how many IP addresses it still has free. */
public record SubnetFacts(String id, int freeIps) {
    public SubnetFacts {
        Objects.requireNonNull(id, "id");
        if (freeIps < 0) throw new IllegalArgumentException("freeIps must not be negative: " + freeIps);
    }
}
