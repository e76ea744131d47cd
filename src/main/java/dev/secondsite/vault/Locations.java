package dev.secondsite.vault;

import dev.secondsite.arm.ArmException;

import java.util.Locale;

/**
 * Location names as ARM normalizes them: "West US" and "westus" name the same region.
 * The region catalogue (which names exist, which cloud they belong to) comes with the local cloud.
 */
public final class Locations {
    private Locations() {}

    public static String normalize(String location) {
        String normalized = location.replace(" ", "").toLowerCase(Locale.ROOT);
        if (!normalized.matches("^[a-z][a-z0-9]{1,39}$")) {
            throw ArmException.invalidField("location", "'" + location + "' is not a valid location name.");
        }
        return normalized;
    }
}
