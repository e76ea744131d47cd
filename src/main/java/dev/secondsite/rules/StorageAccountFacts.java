package dev.secondsite.rules;

import dev.secondsite.auth.BuiltInRole;
import dev.secondsite.cloud.Region;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A storage account used by replication: target (recovery) storage, cache storage in the source region,
 * or the source VM's own account for unmanaged disks.
 *
 * @param accessTier          the account's default blob access tier; null when the account has none
 *                            (general-purpose v1, premium)
 * @param vaultIdentityRoles  roles the vault's managed identity holds on this account (seed 003)
 * @param firewallEnabled     public network access is limited to selected networks (the account firewall is on)
 * @param trustedServicesAllowed  the firewall exception "Allow trusted Microsoft services" is set
 */
public record StorageAccountFacts(String id, Region region, Kind kind, Sku sku, AccessTier accessTier,
                                  DeploymentModel deploymentModel, Set<BuiltInRole> vaultIdentityRoles,
                                  boolean firewallEnabled, boolean trustedServicesAllowed) {

    public enum Kind {
        STORAGE_V2("StorageV2"), STORAGE("Storage"), BLOB_STORAGE("BlobStorage"),
        BLOCK_BLOB_STORAGE("BlockBlobStorage"), FILE_STORAGE("FileStorage");

        private final String armName;

        Kind(String armName) { this.armName = armName; }

        public String armName() { return armName; }

        /** Replication writes page blobs; only general-purpose accounts hold them. */
        public boolean pageBlobs() { return this == STORAGE_V2 || this == STORAGE; }
    }

    public enum Sku {
        STANDARD_LRS, STANDARD_GRS, STANDARD_RAGRS, STANDARD_ZRS, STANDARD_GZRS, STANDARD_RAGZRS,
        PREMIUM_LRS, PREMIUM_ZRS;

        /** "Standard_RAGRS". */
        public String armName() {
            String[] parts = name().split("_");
            return parts[0].charAt(0) + parts[0].substring(1).toLowerCase(Locale.ROOT) + "_" + parts[1];
        }

        public boolean premium() { return name().startsWith("PREMIUM"); }

        /** Zone-redundant, including geo-zone-redundant (seed 002: "Zone-redundant storage: No"). */
        public boolean zoneRedundant() { return name().endsWith("ZRS"); }
    }

    public enum AccessTier { HOT, COOL }

    public enum DeploymentModel { RESOURCE_MANAGER, CLASSIC }

    public StorageAccountFacts {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(sku, "sku");
        Objects.requireNonNull(deploymentModel, "deploymentModel");
        vaultIdentityRoles = vaultIdentityRoles.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(vaultIdentityRoles));
    }

    /** A Resource Manager account with no access tier, no firewall and no roles for the vault. */
    public static StorageAccountFacts of(String id, Region region, Kind kind, Sku sku) {
        return new StorageAccountFacts(id, region, kind, sku, null, DeploymentModel.RESOURCE_MANAGER, Set.of(), false, false);
    }

    public StorageAccountFacts with(Consumer<Builder> change) {
        Builder b = new Builder(this);
        change.accept(b);
        return b.build();
    }

    public static final class Builder {
        private String id;
        private Region region;
        private Kind kind;
        private Sku sku;
        private AccessTier accessTier;
        private DeploymentModel deploymentModel;
        private Set<BuiltInRole> vaultIdentityRoles;
        private boolean firewallEnabled;
        private boolean trustedServicesAllowed;

        private Builder(StorageAccountFacts s) {
            id = s.id; region = s.region; kind = s.kind; sku = s.sku; accessTier = s.accessTier;
            deploymentModel = s.deploymentModel; vaultIdentityRoles = s.vaultIdentityRoles;
            firewallEnabled = s.firewallEnabled; trustedServicesAllowed = s.trustedServicesAllowed;
        }

        public Builder id(String v) { id = v; return this; }
        public Builder region(Region v) { region = v; return this; }
        public Builder kind(Kind v) { kind = v; return this; }
        public Builder sku(Sku v) { sku = v; return this; }
        public Builder accessTier(AccessTier v) { accessTier = v; return this; }
        public Builder deploymentModel(DeploymentModel v) { deploymentModel = v; return this; }
        public Builder vaultIdentityRoles(Set<BuiltInRole> v) { vaultIdentityRoles = v; return this; }
        public Builder firewallEnabled(boolean v) { firewallEnabled = v; return this; }
        public Builder trustedServicesAllowed(boolean v) { trustedServicesAllowed = v; return this; }

        public StorageAccountFacts build() {
            return new StorageAccountFacts(id, region, kind, sku, accessTier, deploymentModel, vaultIdentityRoles,
                    firewallEnabled, trustedServicesAllowed);
        }
    }
}
