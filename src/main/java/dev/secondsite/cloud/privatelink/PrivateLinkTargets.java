package dev.secondsite.cloud.privatelink;

import dev.secondsite.arm.ArmException;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;
import dev.secondsite.cloud.storage.StorageAccounts;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.PrivateEndpointFacts;
import dev.secondsite.rules.PrivateLink;
import dev.secondsite.vault.VaultScope;

import java.util.List;
import java.util.Locale;

/**
 * What a private endpoint can connect to: a Recovery Services vault (sub-resource AzureSiteRecovery) or a
 * storage account (sub-resource blob), and the members (one private IP and one FQDN each) the endpoint gets.
 */
public final class PrivateLinkTargets {
    /** The private DNS zone of storage blob endpoints. */
    public static final String BLOB_DNS_ZONE = "privatelink.blob.core.windows.net";

    /** One member of a target: its name and the FQDN that resolves to its private IP (in the target's zone). */
    public record Member(String name, String fqdn) {}

    /** A resolved target. */
    public record Target(StoredResource resource, PrivateEndpointFacts.Target kind, String groupId, String dnsZone,
                         List<Member> members) {
        public String type() {
            return kind == PrivateEndpointFacts.Target.VAULT ? VaultScope.VAULT_TYPE : StorageAccounts.TYPE;
        }
    }

    private final ResourceStore resources;

    public PrivateLinkTargets(ResourceStore resources) {
        this.resources = resources;
    }

    /**
     * The target a privateLinkServiceId and groupId name; 400 naming the field when the id names nothing we can
     * link to or the group is not the target's sub-resource.
     */
    public Target resolve(String serviceId, String groupId, String field) {
        StoredResource resource = resources.find(serviceId).orElseThrow(() -> new ArmException(400,
                "PrivateLinkServiceNotFound", "Private link resource '" + serviceId + "' was not found.",
                field + ".privateLinkServiceId", List.of()));
        boolean vault = resource.typeKey().equalsIgnoreCase(VaultScope.VAULT_TYPE);
        if (!vault && !resource.typeKey().equalsIgnoreCase(StorageAccounts.TYPE)) {
            throw new ArmException(400, "PrivateLinkServiceNotSupported", "Resource '" + serviceId + "' is not a "
                    + "private link resource of the local cloud: use a Recovery Services vault or a storage account.",
                    field + ".privateLinkServiceId", List.of());
        }
        String expected = vault ? PrivateLink.VAULT_SUB_RESOURCE : PrivateLink.STORAGE_SUB_RESOURCE;
        if (groupId == null || !groupId.equalsIgnoreCase(expected)) {
            throw new ArmException(400, "InvalidGroupId", "Group id '" + groupId + "' is not a sub-resource of '"
                    + serviceId + "'; use '" + expected + "'.", field + ".groupIds", List.of());
        }
        return vault ? vaultTarget(resource) : storageTarget(resource);
    }

    /** The vault's five Site Recovery microservices, with FQDNs in the geo of the vault's region (seed 003). */
    public static Target vaultTarget(StoredResource vault) {
        Region region = Regions.require(vault.body().path("location").asText(), "location");
        String id = VaultLinks.dnsId(vault);
        List<Member> members = PrivateLink.VAULT_SERVICE_TYPES.stream()
                .map(t -> new Member(memberName(t), PrivateLink.fqdn(id, t, region))).toList();
        return new Target(vault, PrivateEndpointFacts.Target.VAULT, PrivateLink.VAULT_SUB_RESOURCE, PrivateLink.DNS_ZONE,
                members);
    }

    /**
     * The two members enable replication adds for a region pairing: one FQDN in the source region's geo, one in the
     * target's. Member names carry the geo, so another pairing's links are other members of the same endpoint.
     */
    public static List<Member> pairingMembers(StoredResource vault, Region source, Region target) {
        List<String> fqdns = PrivateLink.pairingFqdns(VaultLinks.dnsId(vault), source, target);
        return List.of(new Member(memberName(PrivateLink.SOURCE_PAIRING_TYPE) + "-" + source.geoCode(), fqdns.get(0)),
                new Member(memberName(PrivateLink.TARGET_PAIRING_TYPE) + "-" + target.geoCode(), fqdns.get(1)));
    }

    private static Target storageTarget(StoredResource account) {
        String fqdn = account.name().toLowerCase(Locale.ROOT) + "." + BLOB_DNS_ZONE;
        return new Target(account, PrivateEndpointFacts.Target.STORAGE, PrivateLink.STORAGE_SUB_RESOURCE, BLOB_DNS_ZONE,
                List.of(new Member(PrivateLink.STORAGE_SUB_RESOURCE, fqdn)));
    }

    /** "SiteRecovery-prot2": the member name Azure lists for a Site Recovery microservice. */
    static String memberName(String serviceType) {
        return "SiteRecovery-" + serviceType;
    }
}
