package dev.secondsite.cloud.identity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.network.ArmResources;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.VaultScope;

import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * User-assigned managed identities ({@code Microsoft.ManagedIdentity/userAssignedIdentities}): a principal that
 * lives on its own, can be given roles (RBAC accepts its principalId), and can be attached to vaults
 * ({@code identity.userAssignedIdentities}). Its principalId, clientId and tenantId never change for its life,
 * as role assignments and vaults refer to them.
 */
public final class UserAssignedIdentities {
    public static final String TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities";
    /** Azure: 3-128 letters, digits, '-' or '_', starting with a letter or digit. */
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$");

    private final ResourceStore resources;
    private final VaultScope scope;
    private final String tenantId;

    public UserAssignedIdentities(ResourceStore resources, VaultScope scope, String tenantId) {
        this.resources = resources;
        this.scope = scope;
        this.tenantId = tenantId;
    }

    /** PUT: create, or update the tags of an existing identity (its ids stay). */
    public ArmResponse put(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name();
        ArmResources.checkName(name, NAME, "user-assigned identity", "3-128 letters, digits, '-' or '_', starting "
                + "with a letter or digit");
        Fields body = Fields.of(request.bodyObject(), "");
        Region region = ArmResources.location(body);
        String id = group.id() + "/providers/" + TYPE + "/" + name;
        Optional<StoredResource> existing = resources.find(id);
        if (existing.isPresent() && !existing.get().body().path("location").asText().equals(region.name())) {
            throw ArmException.conflict("InvalidResourceLocation", "User-assigned identity '" + name + "' is in "
                    + existing.get().body().path("location").asText() + "; it can't move to " + region.name() + ".");
        }
        ObjectNode identity = existing.map(StoredResource::bodyCopy).orElseGet(() -> {
            ObjectNode n = Json.object();
            n.put("id", id);
            n.put("name", name);
            n.put("type", TYPE);
            n.put("location", region.name());
            ObjectNode p = n.putObject("properties");
            p.put("tenantId", tenantId);
            p.put("principalId", UUID.randomUUID().toString());
            p.put("clientId", UUID.randomUUID().toString());
            return n;
        });
        identity.set("tags", ArmResources.tags(body));
        StoredResource stored = resources.put(id, group.id(), TYPE, name, group.id().split("/")[2], identity);
        return existing.isPresent() ? ArmResponse.ok(stored.bodyCopy()) : ArmResponse.created(stored.bodyCopy());
    }

    /** PATCH: tags only. */
    public ArmResponse patch(ArmRequest request) {
        StoredResource current = require(request);
        ObjectNode body = current.bodyCopy();
        Fields patch = Fields.of(request.bodyObject(), "");
        if (patch.has("tags")) {
            body.set("tags", ArmResources.tags(patch));
        }
        return ArmResponse.ok(resources.put(current.id(), null, TYPE, current.name(), current.id().split("/")[2], body)
                .bodyCopy());
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(require(request).bodyCopy());
    }

    public ArmResponse list(ArmRequest request) {
        return ArmResponse.ok(ArmResources.collection(scope.listInScope(request.path(), TYPE).stream()
                .map(StoredResource::bodyCopy).toList()));
    }

    public ArmResponse delete(ArmRequest request) {
        scope.requireGroup(request.path());
        Optional<StoredResource> found = resources.find(request.path().resourceId());
        if (found.isEmpty()) {
            return ArmResponse.noContent();
        }
        resources.delete(found.get().id());
        return ArmResponse.ok(null);
    }

    private StoredResource require(ArmRequest request) {
        scope.requireGroup(request.path());
        return resources.require(request.path().resourceId());
    }

    /** The identity a vault names in identity.userAssignedIdentities (its ARM id), or 400 naming the field. */
    public static StoredResource requireForVault(ResourceStore resources, String identityId) {
        return resources.find(identityId).filter(r -> r.typeKey().equals(ResourceStore.key(TYPE)))
                .orElseThrow(() -> new ArmException(400, "UserAssignedIdentityNotFound", "User-assigned identity '"
                        + identityId + "' (identity.userAssignedIdentities) does not exist. Create it first "
                        + "(Microsoft.ManagedIdentity/userAssignedIdentities).", "identity.userAssignedIdentities",
                        java.util.List.of()));
    }

    /** Whether {@code principalId} is a user-assigned identity's (RBAC may assign roles to it). */
    public static boolean isIdentity(ResourceStore resources, String principalId) {
        return resources.allOfType(TYPE).stream()
                .anyMatch(r -> principalId.equalsIgnoreCase(r.properties().path("principalId").asText()));
    }
}
