package dev.secondsite.vault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.identity.UserAssignedIdentities;
import dev.secondsite.cloud.network.Transactions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import org.jdbi.v3.core.Jdbi;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Recovery Services vaults: create, read, update, delete and list, with a system-assigned managed
 * identity (a principal id that stays the same across updates) as the vault API returns it.
 *
 * <p>{@code properties.privateEndpointConnections} and {@code privateEndpointStateForSiteRecovery} are read-only:
 * the private link code writes them from the connection rows under the vault's row lock. A PUT or PATCH therefore
 * never takes them from the body, and reads the stored vault under the same lock (the group's too, for two PUTs
 * creating one vault), so a concurrent endpoint's connection is never dropped by a vault update.
 *
 * <p>A vault that still has private endpoint connections (in any state) can't be deleted, as in Azure, whose
 * vault deletion steps remove them first: the error lists them.
 */
public final class Vaults {
    /** Azure's rule: 2-50 characters, starting with a letter, then letters, digits and hyphens. */
    private static final Pattern NAME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9-]{1,49}$");
    private static final List<String> IDENTITY_TYPES =
            List.of("SystemAssigned", "None", "UserAssigned", "SystemAssigned, UserAssigned");
    private static final List<String> ENABLED_DISABLED = List.of("Enabled", "Disabled");
    /** First api-version whose Vaults_Delete is long-running (202/204 instead of 200). */
    private static final String DELETE_IS_LRO_FROM = "2024-04-01";

    /** Child type of a vault's private endpoint connections (written by cloud.privatelink). */
    private static final String CONNECTIONS = VaultScope.VAULT_TYPE + "/privateEndpointConnections";

    private final ResourceStore resources;
    private final Jdbi jdbi;
    private final VaultScope scope;
    private final String tenantId;

    public Vaults(ResourceStore resources, Jdbi jdbi, VaultScope scope, String tenantId) {
        this.resources = resources;
        this.jdbi = jdbi;
        this.scope = scope;
        this.tenantId = tenantId;
    }

    public ArmResponse put(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name();
        if (!NAME.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidResourceName", "Vault name '" + name
                    + "' is invalid: use 2-50 characters, start with a letter, then letters, digits or hyphens.");
        }
        Fields body = Fields.of(request.bodyObject(), "");
        String location = Locations.normalize(body.string("location").orElseThrow(() -> new ArmException(400,
                "LocationRequired", "The location property is required for this definition.", "location", List.of())));
        String id = group.id() + "/providers/" + VaultScope.VAULT_TYPE + "/" + name;
        return Transactions.run(jdbi, h -> {
            // The group's row serializes two PUTs creating one vault; the vault's row, updates with connection syncs.
            Transactions.lock(h, group.id());
            Transactions.lock(h, id);
            Optional<StoredResource> existing = resources.find(id);
            if (existing.isPresent() && !existing.get().body().path("location").asText().equals(location)) {
                throw new ArmException(409, "InvalidResourceLocation", "The resource '" + name + "' already exists in "
                        + "location '" + existing.get().body().path("location").asText() + "' in resource group '"
                        + group.name() + "'. A resource with the same name cannot be created in location '" + location
                        + "'.");
            }
            ObjectNode vault = existing.map(StoredResource::bodyCopy).orElseGet(() -> newVault(
                    existing.map(StoredResource::id).orElse(id), name, location, request));
            vault.set("tags", Tags.read(body));
            vault.set("sku", sku(body.object("sku"), existing.isPresent() ? vault.path("sku") : null));
            applyIdentity(vault, body.object("identity"));
            applyProperties((ObjectNode) vault.path("properties"), body.object("properties"));
            touch(vault, request);
            StoredResource stored = save(vault, group);
            return existing.isPresent() ? ArmResponse.ok(stored.bodyCopy()) : ArmResponse.created(stored.bodyCopy());
        });
    }

    public ArmResponse patch(ArmRequest request) {
        StoredResource found = scope.requireVault(request);
        Fields body = Fields.of(request.bodyObject(), "");
        return Transactions.run(jdbi, h -> {
            Transactions.lock(h, found.id()); // as in put: read under the lock connection syncs take
            StoredResource current = resources.require(found.id());
            return patch(request, body, current);
        });
    }

    private ArmResponse patch(ArmRequest request, Fields body, StoredResource current) {
        ObjectNode vault = current.bodyCopy();
        if (body.has("location") && !Locations.normalize(body.requiredString("location"))
                .equals(vault.path("location").asText())) {
            throw ArmException.invalidField("location", "a vault cannot move to another location.");
        }
        if (body.has("tags")) {
            vault.set("tags", Tags.read(body));
        }
        if (body.has("sku")) {
            vault.set("sku", sku(body.object("sku"), vault.path("sku")));
        }
        applyIdentity(vault, body.object("identity"));
        applyProperties((ObjectNode) vault.path("properties"), body.object("properties"));
        touch(vault, request);
        return ArmResponse.ok(save(vault, scope.requireGroup(request.path())).bodyCopy());
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(scope.requireVault(request).bodyCopy());
    }

    public ArmResponse delete(ArmRequest request) {
        scope.requireGroup(request.path());
        if (resources.find(request.path().resourceId()).isEmpty()) {
            return ArmResponse.noContent();
        }
        return Transactions.run(jdbi, h -> {
            Transactions.lock(h, request.path().resourceId()); // a connection being created waits, or is seen
            Optional<StoredResource> vault = resources.find(request.path().resourceId());
            return vault.isEmpty() ? ArmResponse.noContent() : delete(request, vault.get());
        });
    }

    private ArmResponse delete(ArmRequest request, StoredResource vault) {
        int protectedItems = resources.descendants(vault.id(), ReplicationTypes.PROTECTED_ITEM).size();
        int mappings = resources.descendants(vault.id(), ReplicationTypes.MAPPING).size();
        if (protectedItems + mappings > 0) {
            throw ArmException.conflict("ServiceResourceNotEmpty", "Vault '" + vault.name()
                    + "' cannot be deleted as there are existing resources within the vault (" + protectedItems
                    + " replicated items, " + mappings + " policy associations). Disable replication of every item "
                    + "and remove the container mappings, then delete the vault.");
        }
        refuseWithConnections(vault);
        resources.delete(vault.id());
        // Older api-versions of Vaults_Delete answer 200; from 2024-04-01 on the spec makes it a long-running
        // operation whose only responses are 202 and 204, and the official SDKs for it (Java
        // azure-resourcemanager-recoveryservices 1.3.0) reject a 200. Our delete is synchronous, so those
        // versions get the terminal 204.
        return request.apiVersion().compareTo(DELETE_IS_LRO_FROM) >= 0 ? ArmResponse.noContent() : ArmResponse.ok(null);
    }

    /**
     * 409 VaultHasPrivateEndpointConnections listing each connection (name, state, endpoint): the owner deletes
     * (or the endpoints' owners delete their endpoints), then deletes the vault.
     */
    private void refuseWithConnections(StoredResource vault) {
        List<StoredResource> connections = resources.children(vault.id(), CONNECTIONS);
        if (connections.isEmpty()) {
            return;
        }
        List<ArmException> details = connections.stream().map(c -> new ArmException(409,
                "PrivateEndpointConnectionExists", "Private endpoint connection '" + c.name() + "' ("
                + c.properties().at("/privateLinkServiceConnectionState/status").asText() + ") of private endpoint '"
                + c.properties().at("/privateEndpoint/id").asText() + "'.", c.id(), List.of())).toList();
        throw new ArmException(409, "VaultHasPrivateEndpointConnections", "Vault '" + vault.name() + "' cannot be "
                + "deleted as it has " + connections.size() + " private endpoint connection(s): " + connections.stream()
                .map(StoredResource::name).collect(Collectors.joining(", ")) + ". Delete them (vault "
                + "private-endpoint-connection delete) or their private endpoints, then delete the vault.", null, details);
    }

    public ArmResponse list(ArmRequest request) {
        return ArmResponse.ok(ResourceGroups.collection(scope.listInScope(request.path(), VaultScope.VAULT_TYPE)));
    }

    private StoredResource save(ObjectNode vault, StoredResource group) {
        return resources.put(vault.path("id").asText(), group.id(), VaultScope.VAULT_TYPE, vault.path("name").asText(),
                group.id().split("/")[2], vault);
    }

    private ObjectNode newVault(String id, String name, String location, ArmRequest request) {
        ObjectNode vault = Json.object();
        vault.put("id", id);
        vault.put("name", name);
        vault.put("type", VaultScope.VAULT_TYPE);
        vault.put("location", location);
        ObjectNode properties = vault.putObject("properties");
        properties.put("provisioningState", "Succeeded");
        properties.put("publicNetworkAccess", "Enabled");
        properties.put("privateEndpointStateForBackup", "None");
        properties.put("privateEndpointStateForSiteRecovery", "None");
        properties.put("backupStorageVersion", "V2");
        properties.put("secureScore", "None");
        properties.put("bcdrSecurityLevel", "Poor");
        properties.putArray("privateEndpointConnections");
        ObjectNode redundancy = properties.putObject("redundancySettings");
        redundancy.put("standardTierStorageRedundancy", "GeoRedundant");
        redundancy.put("crossRegionRestore", "Disabled");
        ObjectNode systemData = vault.putObject("systemData");
        systemData.put("createdBy", request.principal().clientId());
        systemData.put("createdByType", "Application");
        systemData.put("createdAt", Json.time(System.currentTimeMillis()));
        return vault;
    }

    private static void touch(ObjectNode vault, ArmRequest request) {
        long now = System.currentTimeMillis();
        vault.put("etag", "W/\"datetime'" + Json.time(now).replace(":", "%3A") + "'\"");
        ObjectNode systemData = vault.with("systemData");
        systemData.put("lastModifiedBy", request.principal().clientId());
        systemData.put("lastModifiedByType", "Application");
        systemData.put("lastModifiedAt", Json.time(now));
    }

    /** sku.name Standard or RS0 (the same SKU); the response always says RS0 / Standard. */
    private static ObjectNode sku(Fields sku, JsonNode current) {
        if (!sku.present()) {
            if (current != null && current.isObject()) {
                return (ObjectNode) current;
            }
            ObjectNode defaultSku = Json.object();
            defaultSku.put("name", "RS0");
            defaultSku.put("tier", "Standard");
            return defaultSku;
        }
        sku.oneOf("name", List.of("Standard", "RS0")).orElseThrow(() -> ArmException.missingField("sku.name"));
        sku.oneOf("tier", List.of("Standard")).ifPresent(t -> { });
        ObjectNode result = Json.object();
        result.put("name", "RS0");
        result.put("tier", "Standard");
        return result;
    }

    private void applyIdentity(ObjectNode vault, Fields identity) {
        if (!identity.present()) {
            return;
        }
        String type = identity.oneOf("type", IDENTITY_TYPES).orElseThrow(() -> ArmException.missingField("identity.type"));
        ObjectNode current = vault.path("identity").isObject() ? (ObjectNode) vault.path("identity") : Json.object();
        ObjectNode result = Json.object();
        result.put("type", type);
        if (type.startsWith("SystemAssigned")) {
            // The managed identity keeps its principal id for the vault's life, as role assignments refer to it.
            result.put("principalId", current.path("principalId").asText(UUID.randomUUID().toString()));
            result.put("tenantId", tenantId);
        }
        if (type.contains("UserAssigned")) {
            JsonNode requested = identity.raw("userAssignedIdentities");
            if (!requested.isObject() || requested.isEmpty()) {
                throw ArmException.invalidField("identity.userAssignedIdentities",
                        "must name at least one user-assigned identity when identity.type is '" + type + "'.");
            }
            ObjectNode users = result.putObject("userAssignedIdentities");
            for (Iterator<Map.Entry<String, JsonNode>> it = requested.fields(); it.hasNext(); ) {
                // Each key is a user-assigned identity's ARM id: the vault takes that identity's principal.
                StoredResource user = UserAssignedIdentities.requireForVault(resources, it.next().getKey());
                ObjectNode entry = users.putObject(user.id());
                entry.put("principalId", user.properties().path("principalId").asText());
                entry.put("clientId", user.properties().path("clientId").asText());
            }
        }
        vault.set("identity", result);
    }

    private static void applyProperties(ObjectNode properties, Fields input) {
        if (!input.present()) {
            return;
        }
        input.oneOf("publicNetworkAccess", ENABLED_DISABLED).ifPresent(v -> properties.put("publicNetworkAccess", v));
        Fields redundancy = input.object("redundancySettings");
        if (redundancy.present()) {
            ObjectNode target = properties.with("redundancySettings");
            redundancy.oneOf("standardTierStorageRedundancy",
                    List.of("LocallyRedundant", "GeoRedundant", "ZoneRedundant"))
                    .ifPresent(v -> target.put("standardTierStorageRedundancy", v));
            redundancy.oneOf("crossRegionRestore", ENABLED_DISABLED).ifPresent(v -> target.put("crossRegionRestore", v));
        }
        for (String passThrough : List.of("monitoringSettings", "restoreSettings", "securitySettings", "encryption")) {
            input.objectNode(passThrough).ifPresent(v -> properties.set(passThrough, v));
        }
    }
}
