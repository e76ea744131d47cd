package dev.secondsite.rules;

import dev.secondsite.cloud.Region;

import java.util.Objects;

/**
 * The Recovery Services vault an operation runs in.
 *
 * @param registeredItems   servers, containers and protected items ever registered to the vault; a vault
 *                          with any is no longer "new" for private endpoints (seed 003)
 * @param privateEndpoints  private endpoints configured on the vault
 * @param createdBeforeTrustedLaunchPreview  the vault predates Site Recovery's trusted-launch preview (seed
 *                          000: such a vault with private endpoints can't protect trusted launch VMs).
 *                          Vaults SecondSite creates are never in this state; imported ones may be.
 */
public record VaultFacts(String name, Region region, int registeredItems, Identity identity, int privateEndpoints,
                         boolean createdBeforeTrustedLaunchPreview) {

    /** The vault's managed identity. */
    public enum Identity {
        NONE, SYSTEM_ASSIGNED, USER_ASSIGNED, SYSTEM_AND_USER_ASSIGNED;

        public boolean systemAssigned() { return this == SYSTEM_ASSIGNED || this == SYSTEM_AND_USER_ASSIGNED; }
    }

    public VaultFacts {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(identity, "identity");
        if (registeredItems < 0 || privateEndpoints < 0) throw new IllegalArgumentException("counts must not be negative");
    }

    /** A new vault: nothing registered, no identity, no private endpoints. */
    public static VaultFacts fresh(String name, Region region) {
        return new VaultFacts(name, region, 0, Identity.NONE, 0, false);
    }

    public boolean usesPrivateEndpoints() { return privateEndpoints > 0; }

    public VaultFacts withRegisteredItems(int v) { return new VaultFacts(name, region, v, identity, privateEndpoints, createdBeforeTrustedLaunchPreview); }
    public VaultFacts withIdentity(Identity v) { return new VaultFacts(name, region, registeredItems, v, privateEndpoints, createdBeforeTrustedLaunchPreview); }
    public VaultFacts withPrivateEndpoints(int v) { return new VaultFacts(name, region, registeredItems, identity, v, createdBeforeTrustedLaunchPreview); }
    public VaultFacts withRegion(Region v) { return new VaultFacts(name, v, registeredItems, identity, privateEndpoints, createdBeforeTrustedLaunchPreview); }
    public VaultFacts withCreatedBeforeTrustedLaunchPreview(boolean v) { return new VaultFacts(name, region, registeredItems, identity, privateEndpoints, v); }
}
