package dev.secondsite.cloud.privatelink;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.network.ArmResources;
import dev.secondsite.cloud.network.Transactions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.VaultScope;
import org.jdbi.v3.core.Jdbi;

import java.util.List;
import java.util.Optional;

/**
 * The target side of private endpoints: {target}/privateEndpointConnections/{name} under a vault or a storage
 * account. A connection row is the one record of a link's approval state; the endpoint reads it when rendered
 * (so an endpoint whose connection the owner deleted shows Disconnected). The owner approves or rejects with a
 * PUT, or deletes. A vault also carries the list in {@code properties.privateEndpointConnections} and a summary
 * in {@code privateEndpointStateForSiteRecovery}, as the vault API returns them; {@link #sync} rewrites both
 * after every change, so they never disagree with the rows.
 */
public final class PrivateEndpointConnections {
    private static final List<String> OWNER_DECISIONS = List.of(PrivateLinkTypes.APPROVED, PrivateLinkTypes.REJECTED);

    private final ResourceStore resources;
    private final Jdbi jdbi;

    public PrivateEndpointConnections(ResourceStore resources, Jdbi jdbi) {
        this.resources = resources;
        this.jdbi = jdbi;
    }

    /** The connection id of an endpoint to a target: Azure names it {endpoint}.{endpoint's resourceGuid}. */
    public static String connectionId(String targetId, String endpointName, String endpointGuid) {
        return targetId + "/" + PrivateLinkTypes.CONNECTIONS + "/" + endpointName + "." + endpointGuid;
    }

    /** Writes the connection of a new endpoint (inside the caller's transaction). */
    void create(PrivateLinkTargets.Target target, String connectionId, String endpointId, String status,
                String description) {
        StoredResource parent = target.resource();
        ObjectNode c = Json.object();
        c.put("id", connectionId);
        c.put("name", connectionId.substring(connectionId.lastIndexOf('/') + 1));
        c.put("type", PrivateLinkTypes.connectionType(target.type()));
        c.put("location", parent.body().path("location").asText());
        ObjectNode p = c.putObject("properties");
        p.put("provisioningState", "Succeeded");
        p.putObject("privateEndpoint").put("id", endpointId);
        p.putArray("groupIds").add(target.groupId());
        state(p, status, description);
        resources.put(connectionId, parent.id(), PrivateLinkTypes.connectionType(target.type()), c.path("name").asText(),
                parent.id().split("/")[2], c);
        sync(parent.id());
    }

    /** The connection's state for the endpoint to show: Disconnected once the target side deleted it. */
    ObjectNode stateOf(String connectionId) {
        return find(connectionId).map(c -> (ObjectNode) c.properties().path("privateLinkServiceConnectionState").deepCopy())
                .orElseGet(() -> state(Json.object(), PrivateLinkTypes.DISCONNECTED,
                        "The private endpoint connection was deleted by the owner of the private link resource."));
    }

    /** Deletes an endpoint's connection when its endpoint goes (inside the caller's transaction). */
    void remove(String connectionId) {
        Optional<StoredResource> c = find(connectionId);
        if (c.isPresent()) {
            resources.delete(c.get().id());
            sync(parentOf(c.get().id()));
        }
    }

    // ---- ARM handlers: {vault or storage account}/privateEndpointConnections[/{name}] ----

    public ArmResponse get(ArmRequest request) {
        requireParent(request);
        return ArmResponse.ok(require(request).bodyCopy());
    }

    public ArmResponse list(ArmRequest request) {
        StoredResource parent = requireParent(request);
        return ArmResponse.ok(ArmResources.collection(resources.children(parent.id(), request.path().typeName())
                .stream().map(StoredResource::bodyCopy).toList()));
    }

    /**
     * Approve or reject: properties.privateLinkServiceConnectionState.status Approved or Rejected. A rejected
     * connection stays rejected (Azure: the requester creates a new endpoint), and only existing connections can
     * be written: they are created by their endpoint.
     */
    public ArmResponse put(ArmRequest request) {
        StoredResource parent = requireParent(request);
        Fields state = Fields.of(request.bodyObject(), "").object("properties").object("privateLinkServiceConnectionState");
        String status = state.oneOf("status", OWNER_DECISIONS).orElseThrow(() -> ArmException.missingField(
                "properties.privateLinkServiceConnectionState.status"));
        return Transactions.run(jdbi, h -> {
            Transactions.lock(h, parent.id()); // decisions on one target are serialized, like syncs
            return decide(require(request), status, state.string("description").orElse(null));
        });
    }

    private ArmResponse decide(StoredResource current, String status, String description) {
        String before = current.properties().at("/privateLinkServiceConnectionState/status").asText();
        if (before.equals(PrivateLinkTypes.REJECTED) && status.equals(PrivateLinkTypes.APPROVED)) {
            throw ArmException.conflict("PrivateEndpointConnectionRejected", "Private endpoint connection '"
                    + current.name() + "' was rejected and cannot be approved; the requester must create a new "
                    + "private endpoint.");
        }
        ObjectNode body = current.bodyCopy();
        state((ObjectNode) body.path("properties"), status, description != null ? description
                : status.equals(PrivateLinkTypes.APPROVED) ? "Approved by the owner." : "Rejected by the owner.");
        StoredResource stored = resources.put(current.id(), parentOf(current.id()), current.typeKey(), current.name(),
                current.id().split("/")[2], body);
        sync(parentOf(current.id()));
        return ArmResponse.ok(stored.bodyCopy());
    }

    public ArmResponse delete(ArmRequest request) {
        requireParent(request);
        return Transactions.run(jdbi, h -> {
            Optional<StoredResource> c = resources.find(request.path().resourceId());
            if (c.isEmpty()) {
                return ArmResponse.noContent();
            }
            resources.delete(c.get().id());
            sync(parentOf(c.get().id()));
            return ArmResponse.ok(null);
        });
    }

    /**
     * Rewrites a vault's properties.privateEndpointConnections from its connection rows, and
     * privateEndpointStateForSiteRecovery: Enabled once one connection is approved, else None. Storage
     * accounts carry no such copy.
     */
    void sync(String parentId) {
        // The vault's row lock serializes syncs: two endpoints created at once must not each write a list
        // that lacks the other's connection. Inside an endpoint's transaction this joins it (network lock first).
        Transactions.run(jdbi, h -> {
            Transactions.lock(h, parentId);
            syncLocked(parentId);
            return null;
        });
    }

    private void syncLocked(String parentId) {
        resources.find(parentId).filter(r -> r.typeKey().equalsIgnoreCase(VaultScope.VAULT_TYPE)).ifPresent(vault -> {
            ObjectNode body = vault.bodyCopy();
            ObjectNode props = (ObjectNode) body.path("properties");
            ArrayNode list = props.putArray("privateEndpointConnections");
            boolean approved = false;
            for (StoredResource c : resources.children(vault.id(), PrivateLinkTypes.connectionType(VaultScope.VAULT_TYPE))) {
                // The vault API's PrivateEndpointConnectionVaultProperties: id, name, type, location, properties.
                ObjectNode entry = list.addObject();
                entry.put("id", c.id());
                entry.put("name", c.name());
                entry.put("type", c.body().path("type").asText());
                entry.put("location", c.body().path("location").asText());
                entry.set("properties", c.properties().deepCopy());
                approved |= PrivateLinkTypes.APPROVED.equals(c.properties().at("/privateLinkServiceConnectionState/status")
                        .asText());
            }
            props.put("privateEndpointStateForSiteRecovery", approved ? "Enabled" : "None");
            resources.put(vault.id(), parentOf(vault.id()), VaultScope.VAULT_TYPE, vault.name(),
                    vault.id().split("/")[2], body);
        });
    }

    /** Sets props.privateLinkServiceConnectionState; returns it. */
    private static ObjectNode state(ObjectNode props, String status, String description) {
        ObjectNode s = props.putObject("privateLinkServiceConnectionState");
        s.put("status", status);
        s.put("description", description);
        s.put("actionsRequired", "None");
        return s;
    }

    private Optional<StoredResource> find(String connectionId) {
        return resources.find(connectionId);
    }

    private StoredResource requireParent(ArmRequest request) {
        return resources.require(request.path().parentId());
    }

    private StoredResource require(ArmRequest request) {
        return resources.find(request.path().resourceId()).orElseThrow(() -> new ArmException(404,
                "PrivateEndpointConnectionNotFound", "Private endpoint connection '" + request.path().name()
                        + "' was not found."));
    }

    /** The parent id of a child resource id ({parent}/{type}/{name}). */
    static String parentOf(String id) {
        String withoutName = id.substring(0, id.lastIndexOf('/'));
        return withoutName.substring(0, withoutName.lastIndexOf('/'));
    }
}
