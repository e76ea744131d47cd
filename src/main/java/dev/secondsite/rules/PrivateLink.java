package dev.secondsite.rules;

import dev.secondsite.auth.BuiltInRole;
import dev.secondsite.cloud.Region;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/** Seed 003 as data: private-link names, approval, and the roles the vault identity needs on storage. */
public final class PrivateLink {
    private PrivateLink() {}

    /** "Enter the name of the private DNS zone as privatelink.siterecovery.windowsazure.com." */
    public static final String DNS_ZONE = "privatelink.siterecovery.windowsazure.com";
    /** The target sub-resource of a vault endpoint ("set Azure Site Recovery as the Target sub-resource"). */
    public static final String VAULT_SUB_RESOURCE = "AzureSiteRecovery";
    /** The target sub-resource of a storage endpoint. */
    public static final String STORAGE_SUB_RESOURCE = "blob";
    /** "Once the private endpoint is created, five fully qualified domain names are added." */
    public static final int FQDNS_AT_CREATION = 5;
    /** "Later, when you enable the replication, two additional fully qualified domain names are added." */
    public static final int FQDNS_ADDED_AT_ENABLE_REPLICATION = 2;
    /**
     * The five Site Recovery microservices behind a vault endpoint. The seed gives only their count and the
     * {type} placeholder; these names are the ones Azure uses, kept so that DNS records look familiar.
     */
    public static final List<String> VAULT_SERVICE_TYPES = List.of("id1", "prot2", "rcm1", "srs1", "tel1");

    /**
     * The {type}s of the two links "for the source and target region pairing" added at enable replication: one in
     * the source region's geo, one in the target's. The seed gives only their count and no public source names
     * them, so these are SecondSite's names, chosen not to collide with the five above.
     */
    public static final String SOURCE_PAIRING_TYPE = "src1";
    public static final String TARGET_PAIRING_TYPE = "tgt1";

    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");

    /**
     * {vault-id}-asr-pod01-{type}.{geo}.privatelink.siterecovery.windowsazure.com.
     *
     * <p>The seed prints the pattern as "{Vault-ID}-asr-pod01-{type}-.{target-geo-code}…"; the hyphen before
     * the dot would end a DNS label with '-', which is not a valid host name, so it is taken as a typo and
     * left out. {target-geo-code} is the geo code of the region passed in: the vault's region, which seed 004
     * recommends be the target region.
     */
    public static String fqdn(String vaultId, String type, Region region) {
        Objects.requireNonNull(region, "region");
        String id = Objects.requireNonNull(vaultId, "vaultId").toLowerCase(Locale.ROOT);
        String t = Objects.requireNonNull(type, "type").toLowerCase(Locale.ROOT);
        if (!LABEL.matcher(id).matches()) throw new IllegalArgumentException("vault id is not a DNS label: " + vaultId);
        if (!LABEL.matcher(t).matches()) throw new IllegalArgumentException("type is not a DNS label: " + type);
        String label = id + "-asr-pod01-" + t;
        if (label.length() > 63) throw new IllegalArgumentException("name longer than a DNS label allows: " + label);
        return label + "." + region.geoCode() + "." + DNS_ZONE;
    }

    /** The five names a new vault endpoint gets. */
    public static List<String> vaultFqdns(String vaultId, Region region) {
        return VAULT_SERVICE_TYPES.stream().map(t -> fqdn(vaultId, t, region)).toList();
    }

    /** The two names enable replication adds for a pairing: source-geo first, then target-geo. */
    public static List<String> pairingFqdns(String vaultId, Region source, Region target) {
        return List.of(fqdn(vaultId, SOURCE_PAIRING_TYPE, source), fqdn(vaultId, TARGET_PAIRING_TYPE, target));
    }

    /** How a new private endpoint connection gets approved. */
    public enum Approval {
        /** The creator owns the vault: approved automatically within minutes. */
        AUTOMATIC,
        /** Someone else: pending until the vault's owner approves or rejects it. */
        MANUAL
    }

    /** "If the user creating the private endpoint is also the owner of the vault, [it] is auto approved." */
    public static Approval approval(boolean creatorOwnsVault) {
        return creatorOwnsVault ? Approval.AUTOMATIC : Approval.MANUAL;
    }

    /**
     * The roles the vault's managed identity needs on a storage account:
     * Resource Manager standard: Contributor + Storage Blob Data Contributor;
     * Resource Manager premium: Contributor + Storage Blob Data Owner;
     * classic: Classic Storage Account Contributor + Classic Storage Account Key Operator Service Role.
     */
    public static Set<BuiltInRole> requiredVaultRoles(StorageAccountFacts account) {
        if (account.deploymentModel() == StorageAccountFacts.DeploymentModel.CLASSIC) {
            return Set.copyOf(EnumSet.of(BuiltInRole.CLASSIC_STORAGE_ACCOUNT_CONTRIBUTOR, BuiltInRole.CLASSIC_STORAGE_ACCOUNT_KEY_OPERATOR));
        }
        return account.sku().premium()
                ? Set.copyOf(EnumSet.of(BuiltInRole.CONTRIBUTOR, BuiltInRole.STORAGE_BLOB_DATA_OWNER))
                : Set.copyOf(EnumSet.of(BuiltInRole.CONTRIBUTOR, BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR));
    }

    /** The roles the identity still lacks on the account, in a stable order. */
    public static List<BuiltInRole> missingVaultRoles(StorageAccountFacts account) {
        EnumSet<BuiltInRole> missing = EnumSet.copyOf(requiredVaultRoles(account));
        missing.removeAll(account.vaultIdentityRoles());
        return List.copyOf(missing);
    }

    /**
     * The accounts the vault identity must have roles on before replication is enabled, when the vault uses
     * private endpoints: "If your virtual machines are using managed disks, ... only to the cache storage
     * accounts. In case the virtual machines are using unmanaged disks, ... source, cache, and target".
     */
    public static List<StorageAccountFacts> accountsNeedingVaultRoles(ReplicationFacts f) {
        if (!f.vault().usesPrivateEndpoints()) return List.of();
        List<StorageAccountFacts> out = new ArrayList<>();
        if (!f.vm().managedDisks()) out.addAll(f.source().storageAccounts());
        if (f.source().cacheStorage() != null) out.add(f.source().cacheStorage());
        if (!f.vm().managedDisks()) out.addAll(f.target().storageAccounts());
        return List.copyOf(out);
    }
}
