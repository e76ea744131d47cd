package dev.secondsite.rules;

import dev.secondsite.cloud.Region;

import java.util.Objects;

/** A virtual network a recovered VM attaches to. */
public record NetworkFacts(String id, Region region) {
    public NetworkFacts {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(region, "region");
    }

    boolean sameNetworkAs(NetworkFacts other) {
        return other != null && id.equalsIgnoreCase(other.id);
    }
}
