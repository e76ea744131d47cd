package dev.secondsite.vault;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Pattern;

/** Subscriptions and resource groups (Microsoft.Resources). Deleting a group deletes all it holds. */
public final class ResourceGroups {
    private static final Pattern GUID = Pattern.compile("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$");
    /** Azure's rule: 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'. */
    private static final Pattern GROUP_NAME = Pattern.compile("^[-\\w._()]{0,89}[-\\w_()]$");

    private final ResourceStore resources;
    private final String tenantId;

    public ResourceGroups(ResourceStore resources, String tenantId) {
        this.resources = resources;
        this.tenantId = tenantId;
    }

    public static void checkSubscription(String subscriptionId) {
        if (subscriptionId == null || !GUID.matcher(subscriptionId).matches()) {
            throw ArmException.badRequest("InvalidSubscriptionId",
                    "The provided subscription identifier '" + subscriptionId + "' is malformed or invalid; it must be a GUID.");
        }
    }

    public ArmResponse put(ArmRequest request) {
        String subscription = request.path().name(0);
        checkSubscription(subscription);
        String name = request.path().name();
        if (!GROUP_NAME.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidResourceGroupName", "Resource group name '" + name
                    + "' is invalid: use 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'.");
        }
        Fields body = Fields.of(request.bodyObject(), "");
        String location = Locations.normalize(body.string("location")
                .orElseThrow(() -> new ArmException(400, "LocationRequired",
                        "The location property is required for this definition.", "location", java.util.List.of())));
        String id = VaultScope.groupId(subscription, name);
        var existing = resources.find(id);
        if (existing.isPresent() && !existing.get().body().path("location").asText().equals(location)) {
            throw new ArmException(409, "InvalidResourceGroupLocation", "Invalid resource group location '" + location
                    + "'. The Resource group already exists in location '"
                    + existing.get().body().path("location").asText() + "'.");
        }
        String storedId = existing.map(StoredResource::id).orElse(id);
        ObjectNode rg = Json.object();
        rg.put("id", storedId);
        rg.put("name", existing.map(StoredResource::name).orElse(name));
        rg.put("type", "Microsoft.Resources/resourceGroups");
        rg.put("location", location);
        rg.set("tags", Tags.read(body));
        rg.putObject("properties").put("provisioningState", "Succeeded");
        StoredResource stored = resources.put(storedId, "/subscriptions/" + subscription, VaultScope.GROUP_TYPE,
                rg.path("name").asText(), subscription, rg);
        return existing.isPresent() ? ArmResponse.ok(stored.bodyCopy()) : ArmResponse.created(stored.bodyCopy());
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(require(request).bodyCopy());
    }

    public ArmResponse delete(ArmRequest request) {
        checkSubscription(request.path().name(0));
        var group = resources.find(request.path().resourceId());
        if (group.isEmpty()) {
            return ArmResponse.noContent();
        }
        resources.delete(group.get().id());
        return ArmResponse.ok(null);
    }

    public ArmResponse list(ArmRequest request) {
        String subscription = request.path().name(0);
        checkSubscription(subscription);
        return ArmResponse.ok(collection(resources.bySubscription(subscription, VaultScope.GROUP_TYPE)));
    }

    public ArmResponse getSubscription(ArmRequest request) {
        String subscription = request.path().name();
        checkSubscription(subscription);
        return ArmResponse.ok(subscription(subscription));
    }

    /** Subscriptions exist implicitly: every one that holds a resource group is listed. */
    public ArmResponse listSubscriptions(ArmRequest request) {
        Set<String> ids = new LinkedHashSet<>();
        for (StoredResource group : resources.allOfType(VaultScope.GROUP_TYPE)) {
            ids.add(group.id().split("/")[2]);
        }
        ArrayNode value = Json.MAPPER.createArrayNode();
        ids.forEach(s -> value.add(subscription(s)));
        ObjectNode list = Json.object();
        list.set("value", value);
        return ArmResponse.ok(list);
    }

    private ObjectNode subscription(String id) {
        ObjectNode body = Json.object();
        body.put("id", "/subscriptions/" + id);
        body.put("subscriptionId", id);
        body.put("tenantId", tenantId);
        body.put("displayName", "SecondSite subscription " + id);
        body.put("state", "Enabled");
        return body;
    }

    private StoredResource require(ArmRequest request) {
        checkSubscription(request.path().name(0));
        return resources.find(request.path().resourceId()).orElseThrow(() -> new ArmException(404,
                "ResourceGroupNotFound", "Resource group '" + request.path().name() + "' could not be found."));
    }

    public static ObjectNode collection(Iterable<StoredResource> items) {
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        for (StoredResource r : items) {
            value.add(r.bodyCopy());
        }
        return list;
    }
}
