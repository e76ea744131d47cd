package dev.secondsite.cloud.privatelink;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.cloud.Regions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.VaultFacts;
import dev.secondsite.vault.ReplicationTypes;
import dev.secondsite.vault.VaultScope;

import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.function.Predicate;

/**
 * What private endpoints need to know about a Recovery Services vault, read from its stored body: its managed
 * identity, its approved connections, what is registered to it, and the numeric vault id of its FQDNs.
 * Enable protection reads the same facts (EnableFacts), so both judge the vault alike.
 */
public final class VaultLinks {
    private VaultLinks() {}

    /** The vault's managed identity as the rules see it. */
    public static VaultFacts.Identity identity(JsonNode vault) {
        String type = vault.path("identity").path("type").asText("None");
        boolean system = type.contains("SystemAssigned");
        boolean user = type.contains("UserAssigned");
        return system && user ? VaultFacts.Identity.SYSTEM_AND_USER_ASSIGNED
                : system ? VaultFacts.Identity.SYSTEM_ASSIGNED
                : user ? VaultFacts.Identity.USER_ASSIGNED : VaultFacts.Identity.NONE;
    }

    /**
     * Approved private endpoint connections of the vault: a pending or rejected request does not lock the vault
     * down, so only approved ones make the vault "use private endpoints" (seed 003's role rules).
     */
    public static int approvedConnections(JsonNode vault) {
        int n = 0;
        for (JsonNode c : vault.path("properties").path("privateEndpointConnections")) {
            if (PrivateLinkTypes.APPROVED.equals(c.at("/properties/privateLinkServiceConnectionState/status").asText())) {
                n++;
            }
        }
        return n;
    }

    /** Fabrics (registered servers live under them) and protected items: a vault with any is no longer new. */
    public static int registeredItems(ResourceStore resources, StoredResource vault) {
        return resources.descendants(vault.id(), ReplicationTypes.FABRIC).size()
                + resources.descendants(vault.id(), ReplicationTypes.PROTECTED_ITEM).size();
    }

    /**
     * Whether a principal id is a vault's system-assigned identity, so that role assignments can name it (seed
     * 003: grant the vault identity roles on storage). A scan of the vaults: assignments are rare writes.
     */
    public static Predicate<String> managedIdentities(ResourceStore resources) {
        return principalId -> resources.allOfType(VaultScope.VAULT_TYPE).stream()
                .anyMatch(v -> principalId.equalsIgnoreCase(v.body().path("identity").path("principalId").asText()));
    }

    /** The vault as CREATE_PRIVATE_ENDPOINT judges it. */
    public static VaultFacts facts(ResourceStore resources, StoredResource vault) {
        return new VaultFacts(vault.name(), Regions.require(vault.body().path("location").asText(), "location"),
                registeredItems(resources, vault), identity(vault.body()), approvedConnections(vault.body()), false);
    }

    /**
     * The {vault-id} of the vault's private link FQDNs. Azure uses a numeric id the service assigns; ours is
     * derived from the vault's ARM id and creation time, so it is stable for the vault's life, needs no column,
     * and a vault re-created under the same name gets a new one (its old DNS records don't resolve to it).
     */
    public static String dnsId(StoredResource vault) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(
                    (ResourceStore.key(vault.id()) + "|" + vault.createdAt()).getBytes(StandardCharsets.UTF_8));
            return Long.toUnsignedString(ByteBuffer.wrap(digest).getLong() >>> 1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
