package dev.secondsite.auth;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Json;

/**
 * Service principals, managed through {@code /providers/SecondSite.Identity/servicePrincipals/{name}}:
 * the part of Entra ID a self-hosted server needs so an admin can hand out narrower credentials.
 * The secret is shown once, in the create response.
 */
public final class ServicePrincipals {
    private final IdentityService identities;

    public ServicePrincipals(IdentityService identities) {
        this.identities = identities;
    }

    public ArmResponse put(ArmRequest request) {
        String name = request.path().name();
        if (!name.matches("^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")) {
            throw ArmException.badRequest("InvalidServicePrincipalName", "Service principal name '" + name
                    + "' is invalid: use 1-120 letters, digits, '.', '_' or '-'.");
        }
        if (identities.findByName(name).isPresent()) {
            throw ArmException.conflict("ServicePrincipalExists", "A service principal named '" + name
                    + "' already exists. Delete it first to get a new secret.");
        }
        IdentityService.Created created = identities.create(name);
        ObjectNode body = body(new IdentityService.Summary(created.clientId(), created.objectId(), name,
                System.currentTimeMillis()));
        ((ObjectNode) body.path("properties")).put("clientSecret", created.secret());
        return ArmResponse.created(body);
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(body(require(request.path().name())));
    }

    public ArmResponse list(ArmRequest request) {
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        identities.list().forEach(s -> value.add(body(s)));
        return ArmResponse.ok(list);
    }

    public ArmResponse delete(ArmRequest request) {
        var found = identities.findByName(request.path().name());
        if (found.isEmpty()) {
            return ArmResponse.noContent();
        }
        if (found.get().clientId().equals(request.principal().clientId())) {
            throw ArmException.conflict("CannotDeleteSelf", "A service principal cannot delete itself.");
        }
        identities.delete(found.get().clientId());
        return ArmResponse.ok(null);
    }

    private IdentityService.Summary require(String name) {
        return identities.findByName(name).orElseThrow(() -> new ArmException(404, "ServicePrincipalNotFound",
                "Service principal '" + name + "' was not found."));
    }

    private ObjectNode body(IdentityService.Summary s) {
        ObjectNode body = Json.object();
        body.put("id", "/providers/SecondSite.Identity/servicePrincipals/" + s.displayName());
        body.put("name", s.displayName());
        body.put("type", "SecondSite.Identity/servicePrincipals");
        ObjectNode p = body.putObject("properties");
        p.put("clientId", s.clientId());
        p.put("objectId", s.objectId());
        p.put("tenantId", identities.tenantId());
        p.put("createdOn", Json.time(s.createdAt()));
        return body;
    }
}
