package dev.secondsite.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.failover.Failovers.ItemAction;
import dev.secondsite.failover.Failovers.PlanChoices;
import dev.secondsite.jobs.JobStore;
import dev.secondsite.jobs.JobsApi;
import dev.secondsite.jobs.Workflow;
import dev.secondsite.protection.ProtectionStore;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.ReplicationTypes;
import dev.secondsite.vault.VaultScope;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@code Microsoft.RecoveryServices/vaults/replicationRecoveryPlans} (reference §2.13, §3.15): create (PUT),
 * update of the groups (PATCH), get, list, delete, and the plan operations testFailover, testFailoverCleanup,
 * plannedFailover, unplannedFailover and failoverCommit. Every handler checks its input synchronously (400 naming
 * the field, 409 naming an item that can't do the operation now) and answers 202 with the job that does the work
 * ({@link PlanRunner}).
 */
public final class RecoveryPlans {
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}$");

    private final ResourceStore resources;
    private final VaultScope scope;
    private final JobsApi jobs;
    private final Failovers failovers;
    private final PlanState plans;
    private final PlanGroups groups;
    private final PlanRunner runner;

    public RecoveryPlans(ResourceStore resources, VaultScope scope, JobsApi jobs, ProtectionStore items,
                         Failovers failovers, Clock clock) {
        this.resources = resources;
        this.scope = scope;
        this.jobs = jobs;
        this.failovers = failovers;
        this.plans = new PlanState(resources, items);
        this.groups = new PlanGroups(resources);
        this.runner = new PlanRunner(plans, failovers, clock);
    }

    public List<Workflow> workflows() {
        return runner.workflows();
    }

    // =========================================================================== the resource

    /** PUT RP {properties: {primaryFabricId, recoveryFabricId, failoverDeploymentModel, groups, providerSpecificInput}}. */
    public ArmResponse put(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        String name = request.path().name();
        if (!NAME.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidResourceName", "The recovery plan name '" + name + "' is invalid: "
                    + "use up to 64 letters, digits, '_', '.' or '-', starting with a letter or digit.");
        }
        String id = vault.id() + "/replicationRecoveryPlans/" + name;
        Optional<StoredResource> existing = plans.find(id);
        existing.ifPresent(this::requireIdle);
        Fields props = Fields.of(request.bodyObject(), "").object("properties");
        if (!props.present()) {
            throw ArmException.missingField("properties");
        }
        StoredResource primary = fabric(vault, props.requiredString("primaryFabricId"), "properties.primaryFabricId");
        String recoveryFabricId = props.requiredString("recoveryFabricId");
        StoredResource recovery = recoveryFabricId.equalsIgnoreCase(ReplicationTypes.MICROSOFT_AZURE) ? null
                : fabric(vault, recoveryFabricId, "properties.recoveryFabricId");
        String model = props.oneOf("failoverDeploymentModel", List.of("NotApplicable", "Classic", "ResourceManager"))
                .orElse("ResourceManager");
        if (model.equals("Classic")) {
            throw ArmException.invalidField("properties.failoverDeploymentModel", "Classic deployments don't exist "
                    + "here; recovered VMs are Resource Manager VMs. Use ResourceManager.");
        }
        ArrayNode checked = groups.read(props.raw("groups"), "properties.groups", vault.id(), primary.id());
        JsonNode specific = props.raw("providerSpecificInput");
        if (!specific.isMissingNode() && !specific.isNull() && !(specific.isArray() && specific.isEmpty())) {
            throw ArmException.invalidField("properties.providerSpecificInput", "the only plan settings ASR defines "
                    + "are A2A zones and extended locations, and this vault's items are not Azure-to-Azure. Omit it.");
        }
        ObjectNode p = Json.object();
        p.put("friendlyName", name);
        p.put("primaryFabricId", primary.id());
        p.put("primaryFabricFriendlyName", friendlyName(primary));
        p.put("recoveryFabricId", recovery == null ? ReplicationTypes.MICROSOFT_AZURE : recovery.id());
        p.put("recoveryFabricFriendlyName", recovery == null ? ReplicationTypes.MICROSOFT_AZURE : friendlyName(recovery));
        p.put("failoverDeploymentModel", model);
        p.putArray("replicationProviders");
        p.putArray("allowedOperations");
        p.set("groups", checked);
        p.putArray("providerSpecificDetails");
        return submit(request, vault.id(), existing.isPresent() ? runner.update() : runner.create(), id, name, p);
    }

    /** PATCH RP {properties: {groups}}: only the groups change. */
    public ArmResponse patch(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource plan = require(vault, request.path().name());
        requireIdle(plan);
        Fields props = Fields.of(request.bodyObject(), "").object("properties");
        ArrayNode checked = groups.read(props.raw("groups"), "properties.groups", vault.id(),
                plan.properties().path("primaryFabricId").asText());
        ObjectNode p = plan.properties().deepCopy();
        p.set("groups", checked);
        return submit(request, vault.id(), runner.update(), plan.id(), plan.name(), p);
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(plans.view(require(scope.requireVault(request), request.path().name())));
    }

    public ArmResponse list(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        resources.children(vault.id(), PlanState.TYPE).forEach(p -> value.add(plans.view(p)));
        return ArmResponse.ok(list);
    }

    /** DELETE RP: 202 with a DeleteRecoveryPlan job, 204 when there is no such plan. */
    public ArmResponse delete(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        Optional<StoredResource> plan = plans.find(vault.id() + "/replicationRecoveryPlans/" + request.path().name());
        if (plan.isEmpty()) {
            return ArmResponse.noContent();
        }
        requireIdle(plan.get());
        ObjectNode input = Json.object();
        input.put("id", plan.get().id());
        return jobs.accept(request, new JobStore.NewJob(vault.id(), runner.delete(), plan.get().id(),
                plan.get().name(), "RecoveryPlan", input, request.principal().clientId()));
    }

    // =========================================================================== plan operations

    /** POST RP/testFailover {properties: {failoverDirection*, networkType*, networkId, providerSpecificDetails [≤1]}}. */
    public ArmResponse testFailover(ArmRequest request) {
        Fields props = properties(request);
        String direction = direction(props);
        props.oneOf("networkType", List.of("VmNetworkAsInput"))
                .orElseThrow(() -> ArmException.missingField("properties.networkType"));
        String networkId = props.requiredString("networkId");
        PlanChoices choices = new PlanChoices(networkId, pointType(props), false, null);
        ObjectNode details = Json.object();
        details.put("instanceType", "TestFailoverJobDetails");
        details.put("networkType", "VmNetworkAsInput");
        details.put("networkName", networkId.substring(networkId.lastIndexOf('/') + 1));
        return operation(request, ItemAction.TEST_FAILOVER, direction, choices, details);
    }

    /** POST RP/testFailoverCleanup {properties: {comments}}: every item's test VM, disks and NIC are removed. */
    public ArmResponse testFailoverCleanup(ArmRequest request) {
        Fields props = properties(request);
        String comments = props.string("comments").orElse("");
        if (comments.length() > 1024) {
            throw ArmException.invalidField("properties.comments", "must be at most 1024 characters; it has "
                    + comments.length() + ".");
        }
        ObjectNode details = Json.object();
        details.put("instanceType", "TestFailoverJobDetails");
        details.put("comments", comments);
        return operation(request, ItemAction.TEST_FAILOVER_CLEANUP, "PrimaryToRecovery",
                new PlanChoices(null, null, false, comments), details);
    }

    /** POST RP/plannedFailover {properties: {failoverDirection*, providerSpecificDetails []}}. */
    public ArmResponse plannedFailover(ArmRequest request) {
        Fields props = properties(request);
        String direction = direction(props);
        pointType(props); // checked; a planned failover always uses the latest point after the source shut down
        return operation(request, ItemAction.PLANNED_FAILOVER, direction,
                new PlanChoices(null, "Latest", true, null), failoverDetails());
    }

    /** POST RP/unplannedFailover {properties: {failoverDirection*, sourceSiteOperations*, providerSpecificDetails}}. */
    public ArmResponse unplannedFailover(ArmRequest request) {
        Fields props = properties(request);
        String direction = direction(props);
        String siteOps = props.oneOf("sourceSiteOperations", List.of("Required", "NotRequired"))
                .orElseThrow(() -> ArmException.missingField("properties.sourceSiteOperations"));
        return operation(request, ItemAction.UNPLANNED_FAILOVER, direction,
                new PlanChoices(null, pointType(props), siteOps.equals("Required"), null), failoverDetails());
    }

    /** POST RP/failoverCommit (no body). */
    public ArmResponse failoverCommit(ArmRequest request) {
        return operation(request, ItemAction.COMMIT, "PrimaryToRecovery", new PlanChoices(null, null, false, null),
                failoverDetails());
    }

    /**
     * Checks the plan and each of its items (as each item's own API would), then queues one job with the plan's
     * steps. Nothing runs when any item can't do the operation now.
     */
    private ArmResponse operation(ArmRequest request, ItemAction action, String direction, PlanChoices choices,
                                  ObjectNode details) {
        StoredResource vault = scope.requireVault(request);
        StoredResource plan = require(vault, request.path().name());
        requireIdle(plan);
        JsonNode planGroups = plan.properties().path("groups");
        List<String> ids = PlanGroups.itemIds(planGroups);
        if (ids.isEmpty()) {
            throw ArmException.conflict("RecoveryPlanHasNoItems", "Recovery plan '" + plan.name() + "' has no "
                    + "protected items. Add items to a Boot group (PATCH the plan's groups) first.");
        }
        Map<String, ObjectNode> inputs = new LinkedHashMap<>();
        for (String id : ids) {
            inputs.put(id, failovers.prepare(action, id, request.principal(), choices));
        }
        ObjectNode input = Json.object();
        input.put("planId", plan.id());
        input.put("planName", plan.name());
        input.put("action", action.name());
        input.put("direction", direction);
        input.set("steps", PlanRunner.steps(action, direction, planGroups, inputs));
        ArrayNode itemDetails = details.putArray("protectedItemDetails");
        ids.forEach(id -> itemDetails.addObject().put("name", id.substring(id.lastIndexOf('/') + 1)));
        input.set("customDetails", details);
        return jobs.accept(request, new JobStore.NewJob(vault.id(), runner.workflow(action), plan.id(), plan.name(),
                "RecoveryPlan", input, request.principal().clientId()));
    }

    // =========================================================================== helpers

    private ArmResponse submit(ArmRequest request, String vaultId, Workflow workflow, String id, String name,
                               ObjectNode properties) {
        ObjectNode input = Json.object();
        input.put("id", id);
        input.put("name", name);
        input.set("properties", properties);
        return jobs.accept(request, new JobStore.NewJob(vaultId, workflow, id, name, "RecoveryPlan", input,
                request.principal().clientId()));
    }

    private StoredResource require(StoredResource vault, String name) {
        String id = vault.id() + "/replicationRecoveryPlans/" + name;
        return plans.find(id).orElseThrow(() -> ArmException.notFound(id));
    }

    private void requireIdle(StoredResource plan) {
        if (PlanState.inProgress(plan.properties())) {
            throw PlanRunner.busy(plan.name(), plan.properties());
        }
    }

    private StoredResource fabric(StoredResource vault, String id, String field) {
        return resources.find(id)
                .filter(f -> f.typeKey().equals(ResourceStore.key(ReplicationTypes.FABRIC)))
                .filter(f -> ResourceStore.key(f.id()).startsWith(ResourceStore.key(vault.id()) + "/"))
                .orElseThrow(() -> new ArmException(400, "FabricNotFound", "Field '" + field + "': '" + id
                        + "' is not a replication fabric of this vault.", field, List.of()));
    }

    private static String friendlyName(StoredResource fabric) {
        return fabric.properties().path("friendlyName").asText(fabric.name());
    }

    private static Fields properties(ArmRequest request) {
        Fields props = Fields.of(request.bodyObject(), "").object("properties");
        if (!props.present()) {
            throw ArmException.missingField("properties");
        }
        return props;
    }

    private static String direction(Fields props) {
        String direction = props.oneOf("failoverDirection", PlanGroups.DIRECTIONS)
                .orElseThrow(() -> ArmException.missingField("properties.failoverDirection"));
        if (!direction.equals("PrimaryToRecovery")) {
            throw ArmException.invalidField("properties.failoverDirection", "'" + direction + "': the plan's items "
                    + "replicate from their primary site; only PrimaryToRecovery is possible now.");
        }
        return direction;
    }

    /** providerSpecificDetails: at most one InMageAzureV2 {recoveryPointType*, useMultiVmSyncPoint}; default LatestProcessed. */
    private static String pointType(Fields props) {
        JsonNode list = props.raw("providerSpecificDetails");
        String field = "properties.providerSpecificDetails";
        if (list.isMissingNode() || list.isNull()) {
            return "LatestProcessed";
        }
        if (!list.isArray() || list.size() > 1) {
            throw ArmException.invalidField(field, "must be an array of at most one provider input.");
        }
        if (list.isEmpty()) {
            return "LatestProcessed";
        }
        Fields f = Fields.of(list.get(0), field + "[0]");
        f.oneOf("instanceType", List.of("InMageAzureV2"))
                .orElseThrow(() -> ArmException.missingField(field + "[0].instanceType"));
        f.booleanString("useMultiVmSyncPoint");
        return f.oneOf("recoveryPointType", Failovers.POINT_TYPES)
                .orElseThrow(() -> ArmException.missingField(field + "[0].recoveryPointType"));
    }

    private static ObjectNode failoverDetails() {
        ObjectNode details = Json.object();
        details.put("instanceType", "FailoverJobDetails");
        return details;
    }
}
