package dev.secondsite.failover;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.protection.ItemOperations;
import dev.secondsite.protection.ProtectionStore;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A recovery plan as stored and as shown. What depends on its items is derived when shown:
 * {@code allowedOperations} (an operation is allowed when every item allows it now, see {@link ItemOperations})
 * and {@code replicationProviders} (the items' replication scenarios).
 */
final class PlanState {
    static final String TYPE = "Microsoft.RecoveryServices/vaults/replicationRecoveryPlans";
    /** The item operations a plan runs, in the order ASR lists them. */
    static final List<String> PLAN_OPERATIONS = List.of(ItemOperations.PLANNED_FAILOVER,
            ItemOperations.UNPLANNED_FAILOVER, ItemOperations.TEST_FAILOVER, ItemOperations.TEST_FAILOVER_CLEANUP,
            ItemOperations.COMMIT);
    static final String IN_PROGRESS = "InProgress";

    private final ResourceStore resources;
    private final ProtectionStore items;

    PlanState(ResourceStore resources, ProtectionStore items) {
        this.resources = resources;
        this.items = items;
    }

    Optional<StoredResource> find(String planId) {
        return resources.find(planId).filter(r -> r.typeKey().equals(ResourceStore.key(TYPE)));
    }

    /** The plan's body as GET returns it, with the derived fields of now. */
    ObjectNode view(StoredResource plan) {
        ObjectNode body = plan.bodyCopy();
        derive((ObjectNode) body.path("properties"));
        return body;
    }

    /** What every item of the plan allows now; nothing when the plan has no items or one of them is gone. */
    List<String> allowed(ObjectNode properties) {
        List<String> ids = PlanGroups.itemIds(properties.path("groups"));
        if (ids.isEmpty()) {
            return List.of();
        }
        List<String> allowed = new ArrayList<>(PLAN_OPERATIONS);
        for (String id : ids) {
            Optional<ProtectionStore.Item> row = items.item(id);
            Optional<StoredResource> item = resources.find(id);
            if (row.isEmpty() || item.isEmpty()) {
                return List.of();
            }
            allowed.retainAll(ItemOperations.allowed(row.get(), item.get().properties()));
        }
        return allowed;
    }

    /** Saves a change to the stored plan (read, change, write, with the derived fields refreshed). */
    void update(String planId, Consumer<ObjectNode> change) {
        find(planId).ifPresent(plan -> {
            ObjectNode body = plan.bodyCopy();
            ObjectNode properties = (ObjectNode) body.path("properties");
            change.accept(properties);
            derive(properties);
            save(plan.id(), body);
        });
    }

    void save(String planId, ObjectNode body) {
        derive((ObjectNode) body.path("properties"));
        String vaultId = planId.substring(0, ResourceStore.key(planId).indexOf("/replicationrecoveryplans/"));
        resources.put(planId, vaultId, TYPE, body.path("name").asText(), planId.split("/")[2], body);
    }

    void delete(String planId) {
        resources.delete(planId);
    }

    static boolean inProgress(ObjectNode properties) {
        return IN_PROGRESS.equals(properties.path("currentScenarioStatus").asText());
    }

    private void derive(ObjectNode properties) {
        ArrayNode allowed = properties.putArray("allowedOperations");
        allowed(properties).forEach(allowed::add);
        Set<String> providers = new LinkedHashSet<>();
        for (String id : PlanGroups.itemIds(properties.path("groups"))) {
            resources.find(id).map(r -> r.properties().path("providerSpecificDetails").path("instanceType").asText(""))
                    .filter(s -> !s.isEmpty()).ifPresent(providers::add);
        }
        ArrayNode list = properties.putArray("replicationProviders");
        providers.forEach(list::add);
    }
}
