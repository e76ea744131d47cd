package dev.secondsite.vault;

import dev.secondsite.cloud.Regions;

/**
 * Location names as ARM normalizes them: "West US" and "westus" name the same region, and only
 * regions of the local cloud's catalogue are accepted.
 */
public final class Locations {
    private Locations() {}

    public static String normalize(String location) {
        return Regions.require(location, "location").name();
    }
}
