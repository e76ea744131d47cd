package dev.secondsite.auth;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Json;
import org.jdbi.v3.core.Jdbi;

import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * Role-based access control: role assignments (principal, built-in role, scope) and the check every
 * ARM call passes. An assignment at a scope covers that scope and everything under it; "/" covers all.
 */
public final class Rbac {
    private final Jdbi jdbi;
    private final IdentityService identities;
    private final Predicate<String> managedIdentities;

    public Rbac(Jdbi jdbi, IdentityService identities) {
        this(jdbi, identities, principalId -> false);
    }

    /**
     * @param managedIdentities whether a principal id is a resource's managed identity (a vault's system-assigned
     *                          identity): such principals hold roles (seed 003: the vault identity's roles on
     *                          storage) without being service principals of the directory
     */
    public Rbac(Jdbi jdbi, IdentityService identities, Predicate<String> managedIdentities) {
        this.jdbi = jdbi;
        this.identities = identities;
        this.managedIdentities = managedIdentities;
    }

    public record Assignment(String id, String name, String scope, BuiltInRole role, String principalId,
                             long createdAt) {}

    /** Throws 403 AuthorizationFailed unless one of the caller's roles at or above the scope grants the operation. */
    public void authorize(Principal principal, String scope, String operation) {
        if (!allows(principal, scope, operation)) {
            throw new ArmException(403, "AuthorizationFailed", "The client '" + principal.clientId()
                    + "' with object id '" + principal.objectId() + "' does not have authorization to perform action '"
                    + operation + "' over scope '" + scope + "' or the scope is invalid.");
        }
    }

    /** Whether one of the caller's roles at or above the scope grants the operation. */
    public boolean allows(Principal principal, String scope, String operation) {
        String target = key(scope);
        return forPrincipal(principal.objectId()).stream()
                .anyMatch(a -> covers(key(a.scope()), target) && a.role().permits(operation));
    }

    private static boolean covers(String assignmentScope, String target) {
        return assignmentScope.equals("/") || target.equals(assignmentScope) || target.startsWith(assignmentScope + "/");
    }

    public Assignment assign(String scope, BuiltInRole role, String principalId) {
        return assign(scope, UUID.randomUUID().toString(), role, principalId);
    }

    public Assignment assign(String scope, String name, BuiltInRole role, String principalId) {
        String normalizedScope = scope.equals("/") ? "/" : scope.replaceAll("/+$", "");
        String id = (normalizedScope.equals("/") ? "" : normalizedScope)
                + "/providers/Microsoft.Authorization/roleAssignments/" + name;
        long now = System.currentTimeMillis();
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO role_assignments (id_key, id, name, scope_key, scope, role_name, "
                        + "principal_id, created_at) VALUES (:k, :id, :n, :sk, :s, :r, :p, :t)")
                .bind("k", key(id)).bind("id", id).bind("n", name).bind("sk", key(normalizedScope))
                .bind("s", normalizedScope).bind("r", role.name()).bind("p", principalId).bind("t", now).execute());
        return new Assignment(id, name, normalizedScope, role, principalId, now);
    }

    public List<Assignment> forPrincipal(String principalId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT id, name, scope, role_name, principal_id, created_at "
                        + "FROM role_assignments WHERE principal_id = :p")
                .bind("p", principalId).map((rs, ctx) -> new Assignment(rs.getString(1), rs.getString(2),
                        rs.getString(3), BuiltInRole.valueOf(rs.getString(4)), rs.getString(5), rs.getLong(6)))
                .list());
    }

    private List<Assignment> all() {
        return jdbi.withHandle(h -> h.createQuery("SELECT id, name, scope, role_name, principal_id, created_at "
                        + "FROM role_assignments ORDER BY created_at")
                .map((rs, ctx) -> new Assignment(rs.getString(1), rs.getString(2), rs.getString(3),
                        BuiltInRole.valueOf(rs.getString(4)), rs.getString(5), rs.getLong(6)))
                .list());
    }

    // ---- ARM handlers: {scope}/providers/Microsoft.Authorization/roleAssignments[/{name}] ----

    public ArmResponse putAssignment(ArmRequest request) {
        String name = request.path().name();
        try {
            UUID.fromString(name);
        } catch (IllegalArgumentException e) {
            throw ArmException.badRequest("InvalidRoleAssignmentId",
                    "The role assignment name '" + name + "' is not valid. It must be a GUID.");
        }
        var properties = request.bodyObject().path("properties");
        if (properties.isMissingNode() || properties.isNull()) {
            throw ArmException.missingField("properties");
        }
        if (!properties.isObject()) {
            throw ArmException.invalidField("properties", "must be a JSON object.");
        }
        String roleDefinitionId = properties.path("roleDefinitionId").asText(null);
        String principalId = properties.path("principalId").asText(null);
        if (roleDefinitionId == null) {
            throw ArmException.missingField("properties.roleDefinitionId");
        }
        if (principalId == null) {
            throw ArmException.missingField("properties.principalId");
        }
        BuiltInRole role = BuiltInRole.find(roleDefinitionId).orElseThrow(() -> ArmException.badRequest(
                "RoleDefinitionDoesNotExist", "The specified role definition '" + roleDefinitionId + "' does not exist."));
        if (!identities.objectExists(principalId) && !managedIdentities.test(principalId)) {
            throw ArmException.badRequest("PrincipalNotFound",
                    "Principal " + principalId + " does not exist in the directory " + identities.tenantId() + ".");
        }
        String scope = request.path().scope();
        String id = request.path().resourceId();
        for (Assignment a : all()) {
            if (key(a.id()).equals(key(id))) {
                if (a.role() == role && a.principalId().equals(principalId)) {
                    return ArmResponse.ok(body(a));
                }
                throw ArmException.conflict("RoleAssignmentUpdateNotPermitted",
                        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.");
            }
            if (a.role() == role && a.principalId().equals(principalId) && key(a.scope()).equals(key(scope))) {
                throw ArmException.conflict("RoleAssignmentExists", "The role assignment already exists.");
            }
        }
        return ArmResponse.created(body(assign(scope, name, role, principalId)));
    }

    public ArmResponse getAssignment(ArmRequest request) {
        String id = key(request.path().resourceId());
        return all().stream().filter(a -> key(a.id()).equals(id)).findFirst()
                .map(a -> ArmResponse.ok(body(a)))
                .orElseThrow(() -> new ArmException(404, "RoleAssignmentNotFound",
                        "The role assignment '" + request.path().name() + "' is not found."));
    }

    public ArmResponse deleteAssignment(ArmRequest request) {
        String id = key(request.path().resourceId());
        var found = all().stream().filter(a -> key(a.id()).equals(id)).findFirst();
        if (found.isEmpty()) {
            return ArmResponse.noContent();
        }
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM role_assignments WHERE id_key = :k").bind("k", id).execute());
        return ArmResponse.ok(body(found.get()));
    }

    /** Assignments that apply at the scope (at or above it) and those below it, as Azure lists them. */
    public ArmResponse listAssignments(ArmRequest request) {
        String scope = key(request.path().scope());
        ArrayNode value = Json.MAPPER.createArrayNode();
        for (Assignment a : all()) {
            String s = key(a.scope());
            if (covers(s, scope) || covers(scope, s)) {
                value.add(body(a));
            }
        }
        ObjectNode list = Json.object();
        list.set("value", value);
        return ArmResponse.ok(list);
    }

    public ArmResponse listRoleDefinitions(ArmRequest request) {
        ArrayNode value = Json.MAPPER.createArrayNode();
        for (BuiltInRole role : BuiltInRole.values()) {
            value.add(definition(request.path().scope(), role));
        }
        ObjectNode list = Json.object();
        list.set("value", value);
        return ArmResponse.ok(list);
    }

    public ArmResponse getRoleDefinition(ArmRequest request) {
        BuiltInRole role = BuiltInRole.find(request.path().name()).orElseThrow(() -> new ArmException(404,
                "RoleDefinitionDoesNotExist", "The role definition '" + request.path().name() + "' does not exist."));
        return ArmResponse.ok(definition(request.path().scope(), role));
    }

    private static ObjectNode definition(String scope, BuiltInRole role) {
        ObjectNode body = Json.object();
        body.put("id", (scope.equals("/") ? "" : scope) + "/providers/Microsoft.Authorization/roleDefinitions/" + role.id());
        body.put("name", role.id());
        body.put("type", "Microsoft.Authorization/roleDefinitions");
        ObjectNode props = body.putObject("properties");
        props.put("roleName", role.roleName());
        props.put("type", "BuiltInRole");
        ObjectNode permission = props.putArray("permissions").addObject();
        role.actions().forEach(permission.putArray("actions")::add);
        role.notActions().forEach(permission.putArray("notActions")::add);
        props.putArray("assignableScopes").add("/");
        return body;
    }

    private static ObjectNode body(Assignment a) {
        ObjectNode body = Json.object();
        body.put("id", a.id());
        body.put("name", a.name());
        body.put("type", "Microsoft.Authorization/roleAssignments");
        ObjectNode props = body.putObject("properties");
        props.put("roleDefinitionId", (a.scope().startsWith("/subscriptions/") ? "/subscriptions/"
                + a.scope().split("/")[2] : "") + "/providers/Microsoft.Authorization/roleDefinitions/" + a.role().id());
        props.put("roleName", a.role().roleName());
        props.put("principalId", a.principalId());
        props.put("principalType", "ServicePrincipal");
        props.put("scope", a.scope());
        props.put("createdOn", Json.time(a.createdAt()));
        return body;
    }

    private static String key(String scope) {
        return scope.toLowerCase(Locale.ROOT);
    }
}
