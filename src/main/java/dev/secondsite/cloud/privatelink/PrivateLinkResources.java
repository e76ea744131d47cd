package dev.secondsite.cloud.privatelink;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.network.ArmResources;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.VaultScope;

import java.util.List;

/**
 * A vault's private link resources (vaults/{v}/privateLinkResources[/{name}]): what a private endpoint to the vault
 * can connect to. The local cloud serves Site Recovery's sub-resource only (not Azure Backup's): group
 * AzureSiteRecovery, its five members and the zone their FQDNs resolve in.
 */
public final class PrivateLinkResources {
    private static final String TYPE = VaultScope.VAULT_TYPE + "/privateLinkResources";

    private final VaultScope scope;

    public PrivateLinkResources(VaultScope scope) {
        this.scope = scope;
    }

    public ArmResponse list(ArmRequest request) {
        return ArmResponse.ok(ArmResources.collection(List.of(render(scope.requireVault(request)))));
    }

    public ArmResponse get(ArmRequest request) {
        ObjectNode resource = render(scope.requireVault(request));
        if (!resource.path("name").asText().equalsIgnoreCase(request.path().name())) {
            throw new ArmException(404, "NotFound", "Private link resource '" + request.path().name() + "' was not "
                    + "found; the vault has '" + resource.path("name").asText() + "'.");
        }
        return ArmResponse.ok(resource);
    }

    private static ObjectNode render(StoredResource vault) {
        PrivateLinkTargets.Target target = PrivateLinkTargets.vaultTarget(vault);
        ObjectNode r = Json.object();
        r.put("id", vault.id() + "/privateLinkResources/" + target.groupId());
        r.put("name", target.groupId());
        r.put("type", TYPE);
        ObjectNode p = r.putObject("properties");
        p.put("groupId", target.groupId());
        ArrayNode members = p.putArray("requiredMembers");
        target.members().forEach(m -> members.add(m.name()));
        p.putArray("requiredZoneNames").add(target.dnsZone());
        return r;
    }
}
