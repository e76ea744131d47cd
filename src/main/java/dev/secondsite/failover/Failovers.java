package dev.secondsite.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.auth.Principal;
import dev.secondsite.cloud.Regions;
import dev.secondsite.cloud.network.NetworkTypes;
import dev.secondsite.jobs.JobContext;
import dev.secondsite.jobs.JobStore;
import dev.secondsite.jobs.JobsApi;
import dev.secondsite.jobs.Workflow;
import dev.secondsite.protection.AgentStore;
import dev.secondsite.protection.EnableFacts;
import dev.secondsite.protection.Exporter;
import dev.secondsite.protection.ItemOperations;
import dev.secondsite.protection.ItemView;
import dev.secondsite.protection.ProtectedItems;
import dev.secondsite.protection.ProtectionModule;
import dev.secondsite.protection.ProtectionStore;
import dev.secondsite.protection.RecoveryPointsApi;
import dev.secondsite.protection.RecoveryPointsApi.MachinePoint;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.NetworkFacts;
import dev.secondsite.rules.Operation;
import dev.secondsite.vault.ReplicationTypes;
import dev.secondsite.vault.VaultScope;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static dev.secondsite.jobs.Workflow.task;
import static dev.secondsite.protection.ProtectionStore.*;

/**
 * Test failover, test failover cleanup, planned and unplanned failover and failover commit of a protected item
 * (reference §3.7–3.12), each a job whose tasks are idempotent and whose rollback removes what a failed run
 * built. The recovered VM is built by {@link RecoveryVms} in the item's Azure target (resource group, network,
 * size chosen at enable) in the vault's region, from a recovery point chosen by the user.
 *
 * <p>The item's state moves by compare-and-set ({@link ProtectionStore#updateFailover}) in each job's first and
 * last task, so two operations can't move one item at once; the first task recognises its own earlier run
 * (after a crash) by the job id it recorded in the item's failover document.
 */
public final class Failovers implements ProtectedItems.DisableHook {
    /** Recovery point choices (ASR's recoveryPointType of plan failovers, also accepted per item here). */
    static final List<String> POINT_TYPES = List.of("Latest", "LatestProcessed", "LatestApplicationConsistent",
            "LatestCrashConsistent");
    private static final Duration DRAIN_WAIT = Duration.ofSeconds(60);
    private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(120);
    /** An agent silent this long can't be asked to shut down: the failover goes on without waiting for it. */
    private static final Duration AGENT_SILENT = Duration.ofSeconds(90);

    private final ResourceStore resources;
    private final ProtectedItems items;
    private final ProtectionStore store;
    private final AgentStore agents;
    private final ProtectionModule protection;
    private final RecoveryPointsApi points;
    private final ItemView view;
    private final JobsApi jobs;
    private final EnableFacts facts;
    private final RecoveryVms vms;
    private final Reprotection reprotection;
    private final Clock clock;

    private final Workflow testFailover = new Workflow("TestFailover", "Test failover", List.of(
            task("PrerequisitesCheck", "Prerequisites check for test failover", this::beginTestFailover),
            task("ChooseRecoveryPoint", "Choose the recovery point", ctx -> choosePoint(ctx, "test")),
            task("CreateDisks", "Create the disks from the recovery point", ctx -> createDisks(ctx, "test")),
            task("CreateNetworkInterface", "Create the network interface", ctx -> createNic(ctx, "test")),
            task("StartVirtualMachine", "Start the virtual machine", ctx -> createVm(ctx, "test")),
            task("CompleteTestFailover", "Complete test failover", this::completeTestFailover)),
            this::rollbackTestFailover);
    private final Workflow cleanup = new Workflow("TestFailoverCleanup", "Cleanup test failover", List.of(
            task("PrerequisitesCheck", "Prerequisites check for test failover cleanup", this::beginCleanup),
            task("DeleteTestResources", "Delete the test failover virtual machine, disks and network interface",
                    this::deleteTestResources),
            task("RecordNotes", "Record the notes and complete the test", this::completeCleanup)));
    private final Workflow plannedFailover = failoverWorkflow("PlannedFailover", "Planned failover");
    private final Workflow unplannedFailover = failoverWorkflow("UnplannedFailover", "Failover");
    private final Workflow commit = new Workflow("FailoverCommit", "Commit", List.of(
            task("PrerequisitesCheck", "Prerequisites check for commit", this::beginCommit),
            task("CommitFailover", "Commit the failover", this::commitFailover)),
            this::rollbackCommit);

    public Failovers(ResourceStore resources, ProtectionModule protection, JobsApi jobs, EnableFacts facts,
                     RecoveryVms vms, Reprotection reprotection, Clock clock) {
        this.reprotection = reprotection;
        this.resources = resources;
        this.protection = protection;
        this.items = protection.items();
        this.store = protection.store();
        this.agents = protection.agents();
        this.points = protection.points();
        this.view = protection.view();
        this.jobs = jobs;
        this.facts = facts;
        this.vms = vms;
        this.clock = clock;
        items.disableHook(this);
    }

    private Workflow failoverWorkflow(String scenario, String friendlyName) {
        return new Workflow(scenario, friendlyName, List.of(
                task("PrerequisitesCheck", "Prerequisites check for failover", this::beginFailover),
                task("ShutdownSource", "Shut down the source machine", this::shutdownSource),
                task("ChooseRecoveryPoint", "Choose the recovery point", ctx -> choosePoint(ctx, "failover")),
                task("StopReplication", "Stop replication of the source", this::stopReplication),
                task("CreateDisks", "Create the disks from the recovery point", ctx -> createDisks(ctx, "failover")),
                task("CreateNetworkInterface", "Create the network interface", ctx -> createNic(ctx, "failover")),
                task("StartVirtualMachine", "Start the virtual machine", ctx -> createVm(ctx, "failover")),
                task("CompleteFailover", "Complete failover", this::completeFailover)),
                this::rollbackFailover);
    }

    public List<Workflow> workflows() {
        List<Workflow> all = new ArrayList<>(List.of(testFailover, cleanup, plannedFailover, unplannedFailover, commit));
        all.addAll(reprotection.workflows());
        return all;
    }

    // =========================================================================== an item's part in a recovery plan

    /** The per-item operations a recovery plan's job runs for each of its items. */
    public enum ItemAction {
        TEST_FAILOVER(ItemOperations.TEST_FAILOVER), TEST_FAILOVER_CLEANUP(ItemOperations.TEST_FAILOVER_CLEANUP),
        PLANNED_FAILOVER(ItemOperations.PLANNED_FAILOVER), UNPLANNED_FAILOVER(ItemOperations.UNPLANNED_FAILOVER),
        COMMIT(ItemOperations.COMMIT);

        /** The ReplicationProtectedItemOperation name (allowedOperations, action failoverTypes). */
        public final String operation;

        ItemAction(String operation) {
            this.operation = operation;
        }
    }

    /** A plan's choices for all its items: test network, recovery point type, source shutdown, cleanup notes. */
    public record PlanChoices(String networkId, String recoveryPointType, boolean shutdownSource, String comments) {}

    /**
     * Checks that the item can do {@code action} now, as its own API would (409 naming its state, seed rules, the
     * test network), and returns the input its steps run with. Changes nothing.
     */
    public ObjectNode prepare(ItemAction action, String itemId, Principal as, PlanChoices choices) {
        StoredResource item = resources.find(itemId)
                .filter(r -> r.typeKey().equals(ResourceStore.key(ReplicationTypes.PROTECTED_ITEM)))
                .orElseThrow(() -> ArmException.conflict("ProtectedItemNotFound", "Protected item '" + itemId
                        + "' no longer exists. Remove it from the recovery plan's groups (PATCH) first."));
        ProtectionStore.Item row = requireRow(item);
        ItemOperations.require(row, item.properties(), action.operation);
        if (row.activeLocation().equals("Recovery") && row.state().equals(PROTECTED)) { // replicating back
            throw ArmException.conflict("PlanFailbackNotSupported", "'" + item.name() + "' runs on the recovery site and "
                    + "replicates back; a recovery plan does not fail back yet. Fail it back on its own "
                    + "(plannedFailover of the item).");
        }
        ObjectNode input = switch (action) {
            case TEST_FAILOVER -> testFailoverInput(item, as, choices.networkId());
            case TEST_FAILOVER_CLEANUP -> cleanupInput(item, as, choices.comments());
            case PLANNED_FAILOVER -> plannedInput(item, row, as);
            case UNPLANNED_FAILOVER -> failoverInput(as, item, row);
            case COMMIT -> baseInput(as, item);
        };
        if (action == ItemAction.TEST_FAILOVER || action == ItemAction.UNPLANNED_FAILOVER) {
            input.put("recoveryPointType", choices.recoveryPointType());
        }
        if (action == ItemAction.UNPLANNED_FAILOVER) {
            input.put("shutdown", choices.shutdownSource());
            input.put("planned", false);
        }
        return input;
    }

    /**
     * Runs the item's steps of {@code action} synchronously inside the running task of another job (a recovery
     * plan's), each shown as a child task. Steps are the per-item workflow's own, so they are idempotent and
     * recognise their earlier run by the job id; a re-run starts again at the first step.
     */
    public void run(ItemAction action, JobContext ctx, ObjectNode itemInput) throws Exception {
        JobContext item = ctx.withInput(itemInput);
        item.clearChildren();
        for (Workflow.Task step : workflow(action).tasks()) {
            item.runChild(step);
        }
    }

    /** Undoes an unfinished run of the item's steps in this job; nothing when its part finished or never began. */
    public void rollback(ItemAction action, JobContext ctx, ObjectNode itemInput) throws Exception {
        Workflow workflow = workflow(action);
        if (workflow.rollback() != null) {
            workflow.rollback().run(ctx.withInput(itemInput));
        }
    }

    private Workflow workflow(ItemAction action) {
        return switch (action) {
            case TEST_FAILOVER -> testFailover;
            case TEST_FAILOVER_CLEANUP -> cleanup;
            case PLANNED_FAILOVER -> plannedFailover;
            case UNPLANNED_FAILOVER -> unplannedFailover;
            case COMMIT -> commit;
        };
    }

    // =========================================================================== ARM handlers

    /** POST P/testFailover {properties: {failoverDirection, networkType, networkId, providerSpecificDetails}}. */
    public ArmResponse testFailover(ArmRequest request) {
        StoredResource item = items.requireItem(request);
        ItemOperations.require(requireRow(item), item.properties(), ItemOperations.TEST_FAILOVER);
        Fields props = Fields.of(request.bodyObject(), "").object("properties");
        direction(props);
        props.oneOf("networkType", List.of("VmNetworkAsInput")).orElse("VmNetworkAsInput");
        String networkId = props.requiredString("networkId");
        ObjectNode input = testFailoverInput(item, request.principal(), networkId);
        pointChoice(props.object("providerSpecificDetails"), item, input);
        return submit(request, item, testFailover, input);
    }

    /** The job input of an item's test failover into {@code networkId}; 400/409 when the item can't do it. */
    private ObjectNode testFailoverInput(StoredResource item, Principal as, String networkId) {
        ProtectionStore.Item row = requireRow(item);
        StoredResource vnet = resources.find(networkId)
                .filter(v -> v.typeKey().equals(ResourceStore.key(NetworkTypes.VNET)))
                .orElseThrow(() -> new ArmException(400, "TestNetworkNotFound", "Virtual network '" + networkId
                        + "' (properties.networkId) does not exist. Create an isolated network for the test first.",
                        "properties.networkId", List.of()));
        ObjectNode target = requireAzureTarget(item);
        String vaultRegion = vaultOf(item).body().path("location").asText();
        if (!Regions.require(vnet.body().path("location").asText(), "location").name().equals(vaultRegion)) {
            throw new ArmException(400, "TestNetworkNotInTargetRegion", "Test network '" + vnet.name() + "' is in "
                    + vnet.body().path("location").asText() + "; the VM is recovered in the vault's region " + vaultRegion
                    + ". Use a network in " + vaultRegion + ".", "properties.networkId", List.of());
        }
        String subnetId = subnetFor(vnet, target.path("recoveryAzureSubnetName").asText(null));
        // Seed rules at TEST_FAILOVER: the production network is refused, target capacity is judged again.
        judge(item, row).withTarget(b -> b.testNetwork(new NetworkFacts(vnet.id(),
                Regions.require(vnet.body().path("location").asText(), "location")))).enforce(Operation.TEST_FAILOVER);
        ObjectNode input = baseInput(as, item);
        input.put("networkId", vnet.id());
        input.put("subnetId", subnetId);
        ObjectNode details = input.putObject("customDetails");
        details.put("instanceType", "TestFailoverJobDetails");
        details.put("networkName", vnet.name());
        details.put("networkType", "VmNetworkAsInput");
        details.put("networkFriendlyName", vnet.name());
        return input;
    }

    /** POST P/testFailoverCleanup {properties: {comments}}. */
    public ArmResponse testFailoverCleanup(ArmRequest request) {
        StoredResource item = items.requireItem(request);
        ItemOperations.require(requireRow(item), item.properties(), ItemOperations.TEST_FAILOVER_CLEANUP);
        Fields props = Fields.of(request.bodyObject(), "").object("properties");
        String comments = props.string("comments").orElse("");
        if (comments.length() > 1024) {
            throw ArmException.invalidField("properties.comments", "must be at most 1024 characters; it has "
                    + comments.length() + ".");
        }
        return submit(request, item, cleanup, cleanupInput(item, request.principal(), comments));
    }

    private ObjectNode cleanupInput(StoredResource item, Principal as, String comments) {
        ObjectNode input = baseInput(as, item);
        ObjectNode details = input.putObject("customDetails");
        details.put("instanceType", "TestFailoverJobDetails");
        details.put("comments", comments);
        return input;
    }

    /** POST P/plannedFailover: the source is shut down first, then the VM is recovered from the latest point. */
    public ArmResponse plannedFailover(ArmRequest request) {
        StoredResource item = items.requireItem(request);
        ProtectionStore.Item row = requireRow(item);
        ItemOperations.require(row, item.properties(), ItemOperations.PLANNED_FAILOVER);
        Fields props = Fields.of(request.bodyObject(), "").object("properties");
        if (row.activeLocation().equals("Recovery")) { // replicating back after reprotect: this is the failback
            String direction = props.string("failoverDirection").orElse("RecoveryToPrimary");
            if (!direction.equalsIgnoreCase("RecoveryToPrimary")) {
                throw ArmException.invalidField("properties.failoverDirection", "'" + direction + "': the item runs on "
                        + "the recovery site and replicates back; only RecoveryToPrimary (failback) is possible now.");
            }
            return submit(request, item, reprotection.failback, baseInput(request.principal(), item));
        }
        direction(props);
        return submit(request, item, plannedFailover, plannedInput(item, row, request.principal()));
    }

    private ObjectNode plannedInput(StoredResource item, ProtectionStore.Item row, Principal as) {
        ObjectNode input = failoverInput(as, item, row);
        input.put("shutdown", true);
        input.put("recoveryPointType", "Latest"); // nothing written before the shutdown may be lost
        input.put("planned", true);
        return input;
    }

    /**
     * POST P/unplannedFailover {properties: {failoverDirection, sourceSiteOperations Required|NotRequired,
     * providerSpecificDetails {recoveryPointId | recoveryPointType}}}; Required tries to shut the source down.
     */
    public ArmResponse unplannedFailover(ArmRequest request) {
        StoredResource item = items.requireItem(request);
        ProtectionStore.Item row = requireRow(item);
        ItemOperations.require(row, item.properties(), ItemOperations.UNPLANNED_FAILOVER);
        Fields props = Fields.of(request.bodyObject(), "").object("properties");
        direction(props);
        String siteOps = props.oneOf("sourceSiteOperations", List.of("Required", "NotRequired")).orElse("NotRequired");
        ObjectNode input = failoverInput(request.principal(), item, row);
        pointChoice(props.object("providerSpecificDetails"), item, input);
        input.put("shutdown", siteOps.equals("Required"));
        input.put("planned", false);
        return submit(request, item, unplannedFailover, input);
    }

    /** POST P/failoverCommit (no body). */
    public ArmResponse failoverCommit(ArmRequest request) {
        StoredResource item = items.requireItem(request);
        ItemOperations.require(requireRow(item), item.properties(), ItemOperations.COMMIT);
        return submit(request, item, commit, baseInput(request.principal(), item));
    }

    /**
     * POST P/reProtect: after a committed failover, replicate the recovered VM back towards the primary site (or,
     * after a committed failback, resume replication from the primary machine). Seed 001's rule first: a VM moved
     * between Government and public regions has no direct failback.
     */
    public ArmResponse reprotect(ArmRequest request) {
        StoredResource item = items.requireItem(request);
        ProtectionStore.Item row = requireRow(item);
        ItemOperations.require(row, item.properties(), ItemOperations.REVERSE_REPLICATE);
        if (row.activeLocation().equals("Recovery")) {
            judge(item, row).enforce(Operation.REPROTECT);
        }
        Fields specific = Fields.of(request.bodyObject(), "").object("properties").object("providerSpecificDetails");
        if (specific.present()) {
            specific.oneOf("instanceType", List.of("InMageAzureV2"));
        }
        ObjectNode input = baseInput(request.principal(), item);
        return submit(request, item, reprotection.prepareReprotect(item, row, specific, input), input);
    }

    private ObjectNode failoverInput(Principal as, StoredResource item, ProtectionStore.Item row) {
        ObjectNode target = requireAzureTarget(item);
        judge(item, row).enforce(Operation.FAILOVER);
        ObjectNode input = baseInput(as, item);
        String subnetId = target.path("selectedRecoveryAzureSubnetId").asText("");
        if (subnetId.isEmpty() && !target.path("selectedRecoveryAzureNetworkId").asText("").isEmpty()) {
            StoredResource vnet = resources.find(target.path("selectedRecoveryAzureNetworkId").asText())
                    .orElseThrow(() -> ArmException.conflict("RecoveryNetworkNotFound", "The recovery network chosen at "
                            + "enable (" + target.path("selectedRecoveryAzureNetworkId").asText() + ") no longer exists."));
            subnetId = subnetFor(vnet, null);
        }
        input.put("subnetId", subnetId); // empty: no network was chosen at enable, RecoveryVms creates one
        return input;
    }

    private static void direction(Fields props) {
        String direction = props.string("failoverDirection").orElse("PrimaryToRecovery");
        if (!direction.equalsIgnoreCase("PrimaryToRecovery")) {
            throw ArmException.invalidField("properties.failoverDirection", "'" + direction + "': the item replicates "
                    + "from its primary site; only PrimaryToRecovery is possible now.");
        }
    }

    /** Reads recoveryPointId (an ARM id of one of the item's points) or recoveryPointType into the job input. */
    private void pointChoice(Fields specific, StoredResource item, ObjectNode input) {
        if (specific.present()) {
            specific.oneOf("instanceType", List.of("InMageAzureV2"));
        }
        Optional<String> pointId = specific.string("recoveryPointId").filter(s -> !s.isBlank());
        String type = specific.oneOf("recoveryPointType", POINT_TYPES).orElse("LatestProcessed");
        if (pointId.isPresent()) {
            String prefix = ResourceStore.key(item.id()) + "/recoverypoints/";
            String key = ResourceStore.key(pointId.get());
            String name = key.startsWith(prefix) ? pointId.get().substring(prefix.length()) : null;
            MachinePoint point = name == null ? null : points.points(item.id()).stream()
                    .filter(p -> p.name().equalsIgnoreCase(name)).findFirst().orElse(null);
            if (point == null) {
                throw new ArmException(400, "RecoveryPointNotFound", "Recovery point '" + pointId.get() + "' is not a "
                        + "recovery point of '" + item.name() + "' (or retention removed it). List the item's "
                        + "recoveryPoints and use one of their ids.", "properties.providerSpecificDetails.recoveryPointId",
                        List.of());
            }
            input.put("recoveryPointName", point.name());
        } else {
            input.put("recoveryPointType", type);
        }
    }

    private static ObjectNode baseInput(Principal principal, StoredResource item) {
        ObjectNode input = Json.object();
        input.put("id", item.id());
        JobContext.putPrincipal(input, principal);
        return input;
    }

    private ArmResponse submit(ArmRequest request, StoredResource item, Workflow workflow, ObjectNode input) {
        return jobs.accept(request, new JobStore.NewJob(VaultScope.vaultIdOf(item.id()), workflow, item.id(), item.name(),
                "ProtectionEntity", input, request.principal().clientId()));
    }

    // =========================================================================== test failover tasks

    private void beginTestFailover(JobContext ctx) {
        begin(ctx, "TestFailover", PROTECTED, TFO_NONE, null, TFO_IN_PROGRESS);
    }

    private void completeTestFailover(JobContext ctx) {
        String id = itemId(ctx);
        ObjectNode doc = row(id).failover();
        ObjectNode test = (ObjectNode) doc.path("test");
        long now = clock.millis();
        doc.put("lastSuccessfulTestFailoverTime", Json.time(now));
        doc.put("failoverRecoveryPointId", test.path("recoveryPointId").asText());
        test.put("completedAt", Json.time(now));
        doc.remove("scenario");
        store.updateFailover(id, PROTECTED, TFO_IN_PROGRESS, null, null, TFO_WAITING, doc);
        view.refresh(id);
        ctx.result(id);
    }

    private void rollbackTestFailover(JobContext ctx) throws IOException {
        String id = itemId(ctx);
        Optional<ProtectionStore.Item> row = store.item(id);
        if (row.isEmpty() || !ownedBy(row.get(), ctx)) {
            return;
        }
        ObjectNode doc = row.get().failover();
        deleteBuiltBy(ctx, doc, "test");
        doc.remove("scenario");
        store.updateFailover(id, PROTECTED, TFO_IN_PROGRESS, null, null, TFO_NONE, doc);
        view.refresh(id);
    }

    // =========================================================================== cleanup tasks

    private void beginCleanup(JobContext ctx) {
        begin(ctx, "TestFailoverCleanup", PROTECTED, TFO_WAITING, null, TFO_CLEANING);
    }

    private void deleteTestResources(JobContext ctx) throws IOException {
        JsonNode plan = row(itemId(ctx)).failover().path("test").path("plan");
        if (plan.isObject()) {
            vms.delete(RecoveryVms.Plan.fromJson(plan), ctx.principal());
        }
    }

    private void completeCleanup(JobContext ctx) {
        String id = itemId(ctx);
        ObjectNode doc = row(id).failover();
        if (doc.path("test").isObject()) {
            ObjectNode last = ((ObjectNode) doc.path("test")).deepCopy();
            last.remove("plan");
            last.put("cleanedUpAt", Json.time(clock.millis()));
            last.put("comments", ctx.input().path("customDetails").path("comments").asText(""));
            doc.set("lastTestFailover", last);
            doc.remove("test");
        }
        doc.remove("scenario");
        store.updateFailover(id, PROTECTED, TFO_CLEANING, null, null, TFO_NONE, doc);
        view.refresh(id);
        ctx.result(id);
    }

    // =========================================================================== failover tasks

    private void beginFailover(JobContext ctx) {
        boolean planned = ctx.input().path("planned").asBoolean();
        String scenario = planned ? "PlannedFailover" : "UnplannedFailover";
        // An unplanned failover may also start while the item resynchronizes (the source may be gone).
        if (!begin(ctx, scenario, PROTECTED, TFO_NONE, FAILOVER_IN_PROGRESS, null, !planned)) {
            begin(ctx, scenario, RESYNCHRONIZING, TFO_NONE, FAILOVER_IN_PROGRESS, null);
        }
    }

    /**
     * Asks the agent to shut its machine down (a last pass first, so every write is in a point) and waits for
     * its report. A failure, a silent agent or no report in time is a warning on the job, not a failure: ASR
     * "attempts to shut down the source virtual machine... Failover continues even if shutdown fails."
     */
    private void shutdownSource(JobContext ctx) throws InterruptedException {
        if (!ctx.input().path("shutdown").asBoolean()) {
            return;
        }
        ProtectionStore.Item row = row(itemId(ctx));
        AgentStore.Agent agent = agents.find(row.agentId()).orElse(null);
        if (agent == null || clock.millis() - agent.lastContact() > AGENT_SILENT.toMillis()) {
            ctx.warn("SourceShutdownFailed", "The source machine's agent has not been in contact"
                    + (agent == null ? "" : " since " + Json.time(agent.lastContact()))
                    + ", so the machine could not be shut down. The failover continued with the latest recovery point; "
                    + "writes the agent did not send are not in it.");
            return;
        }
        String requestId = ctx.job().id();
        ObjectNode request = Json.object();
        request.put("requestId", requestId);
        agents.issue(agent.id(), AgentStore.SHUTDOWN, request);
        Optional<AgentStore.Directive> report = agents.awaitReport(agent.id(), requestId, SHUTDOWN_WAIT, clock);
        if (report.isPresent() && report.get().status() != null) {
            if (report.get().status().equals("Failed")) {
                ctx.warn("SourceShutdownFailed", "The agent reported that the source machine could not be shut "
                        + "down: " + report.get().message() + ". The failover continued.");
            }
            return;
        }
        ctx.warn("SourceShutdownFailed", "The source machine did not report a shutdown within "
                + SHUTDOWN_WAIT.toSeconds() + " seconds. The failover continued with the latest recovery point.");
    }

    private void stopReplication(JobContext ctx) {
        String id = itemId(ctx);
        store.setReplicating(id, false);
        protection.engine().setActive(store.diskIdsOf(id), false);
    }

    private void completeFailover(JobContext ctx) {
        String id = itemId(ctx);
        ObjectNode doc = row(id).failover();
        ObjectNode failover = (ObjectNode) doc.path("failover");
        long now = clock.millis();
        doc.put("lastSuccessfulFailoverTime", Json.time(now));
        doc.put("failoverRecoveryPointId", failover.path("recoveryPointId").asText());
        failover.put("completedAt", Json.time(now));
        failover.put("type", ctx.input().path("planned").asBoolean() ? "Planned" : "Unplanned");
        doc.remove("scenario");
        String next = ctx.input().path("planned").asBoolean() ? PLANNED_FAILOVER_COMMIT_REQUIRED
                : UNPLANNED_FAILOVER_COMMIT_PENDING;
        store.updateFailover(id, FAILOVER_IN_PROGRESS, null, next, "Recovery", null, doc);
        view.refresh(id);
        ctx.result(id);
    }

    /** Deletes what this job built for {@code kind} ("test" or "failover") and forgets it; nothing if it built none. */
    private void deleteBuiltBy(JobContext ctx, ObjectNode doc, String kind) throws IOException {
        JsonNode plan = doc.path(kind).path("plan");
        if (plan.isObject() && ctx.job().id().equals(plan.path("jobId").asText())) {
            vms.delete(RecoveryVms.Plan.fromJson(plan), ctx.principal());
            doc.remove(kind);
        }
    }

    /** Undoes a failed or cancelled failover: removes what it built and lets the source replicate again. */
    private void rollbackFailover(JobContext ctx) throws IOException {
        String id = itemId(ctx);
        Optional<ProtectionStore.Item> row = store.item(id);
        if (row.isEmpty() || !ownedBy(row.get(), ctx)) {
            return;
        }
        ObjectNode doc = row.get().failover();
        deleteBuiltBy(ctx, doc, "failover");
        doc.remove("failover");
        String before = doc.path("scenario").path("stateBefore").asText(PROTECTED);
        doc.remove("scenario");
        agents.withdraw(row.get().agentId(), ctx.job().id());
        store.setReplicating(id, true);
        protection.engine().setActive(store.diskIdsOf(id), true);
        store.updateFailover(id, FAILOVER_IN_PROGRESS, null, before, "Primary", null, doc);
        view.refresh(id);
    }

    // =========================================================================== commit tasks

    private void beginCommit(JobContext ctx) {
        ProtectionStore.Item row = row(itemId(ctx));
        if (!ownedBy(row, ctx)) {
            String from = row.state();
            if (!from.equals(PLANNED_FAILOVER_COMMIT_REQUIRED) && !from.equals(UNPLANNED_FAILOVER_COMMIT_PENDING)) {
                ItemOperations.require(row, ItemOperations.COMMIT);
            }
            begin(ctx, "FailoverCommit", from, null, COMMIT_IN_PROGRESS, null);
        }
    }

    private void commitFailover(JobContext ctx) {
        String id = itemId(ctx);
        ProtectionStore.Item row = row(id);
        ObjectNode doc = row.failover();
        JsonNode plan = doc.path("failover").path("plan");
        if (row.activeLocation().equals("Primary") && doc.path("failback").isObject()) {
            reprotection.commitFailback(ctx, row); // back on the primary machine: the recovered VM goes
            doc.remove("failover");
            doc.remove("reverse");
        } else if (plan.isObject()) {
            vms.release(RecoveryVms.Plan.fromJson(plan), ctx.principal()); // the VM is the user's from now on
            ((ObjectNode) doc.path("failover")).put("committedAt", Json.time(clock.millis()));
            // The source's cached writes after the recovery point will never be wanted: the product cleans them up.
            protection.engine().dropPending(store.diskIdsOf(id));
        }
        agents.withdraw(row.agentId(), doc.path("failover").path("jobId").asText());
        doc.remove("scenario");
        store.updateFailover(id, COMMIT_IN_PROGRESS, null, FAILOVER_COMMITTED, null, null, doc);
        view.refresh(id);
        ctx.result(id);
    }

    private void rollbackCommit(JobContext ctx) {
        String id = itemId(ctx);
        Optional<ProtectionStore.Item> row = store.item(id);
        if (row.isEmpty() || !ownedBy(row.get(), ctx)) {
            return;
        }
        ObjectNode doc = row.get().failover();
        String before = doc.path("scenario").path("stateBefore").asText(PLANNED_FAILOVER_COMMIT_REQUIRED);
        doc.remove("scenario");
        store.updateFailover(id, COMMIT_IN_PROGRESS, null, before, null, null, doc);
        view.refresh(id);
    }

    // =========================================================================== shared build tasks

    /** Picks the recovery point (draining pending data first for "Latest") and records the build plan. */
    private void choosePoint(JobContext ctx, String kind) throws InterruptedException {
        String id = itemId(ctx);
        ProtectionStore.Item row = row(id);
        ObjectNode doc = row.failover();
        if (doc.path(kind).path("plan").path("jobId").asText().equals(ctx.job().id())) {
            return; // chosen before a restart: keep the same point
        }
        String type = ctx.input().path("recoveryPointType").asText("LatestProcessed");
        if (ctx.input().hasNonNull("recoveryPointName")) {
            type = null;
        } else if (type.equals("Latest")) {
            drain(id);
        }
        MachinePoint point = choose(id, ctx.input().path("recoveryPointName").asText(null), type);
        StoredResource item = resources.require(id);
        JsonNode target = item.properties().path("providerSpecificDetails");
        AgentStore.Agent agent = agents.find(row.agentId()).orElseThrow(() -> ArmException.conflict(
                "ConfigurationServerNotRegistered", "The machine's agent is no longer registered."));
        String vmName = target.path("recoveryAzureVMName").asText(agent.machineName()) + (kind.equals("test") ? "-test" : "");
        List<RecoveryVms.Plan.Disk> disks = new ArrayList<>();
        for (ProtectionStore.Disk d : store.disksOf(id)) {
            RecoveryPointManifest m = point.disks().get(d.diskId());
            disks.add(new RecoveryVms.Plan.Disk(d.diskId().toString(), d.name(), m.blobName()));
        }
        String size = target.path("recoveryAzureVMSize").asText("Standard_D2s_v3");
        RecoveryVms.Plan plan = new RecoveryVms.Plan(ctx.job().id(), item.name(),
                target.path("recoveryAzureResourceGroupId").asText(), vaultOf(item).body().path("location").asText(),
                vmName, size, agent.osType(), ctx.input().path("subnetId").asText(), disks);
        ObjectNode record = doc.putObject(kind);
        record.put("jobId", ctx.job().id());
        record.put("recoveryPointId", id + "/recoveryPoints/" + point.name());
        record.put("recoveryPointTime", point.time().toString());
        record.put("recoveryPointType", point.type());
        record.put("vmId", plan.vmId());
        if (ctx.input().hasNonNull("networkId")) {
            record.put("networkId", ctx.input().path("networkId").asText());
        }
        record.set("plan", plan.toJson());
        store.updateFailover(id, row.state(), null, null, null, null, doc);
    }

    private void createDisks(JobContext ctx, String kind) throws IOException {
        RecoveryVms.Plan plan = plan(ctx, kind);
        vms.createDisks(plan, ctx.principal(), (disk, target) -> protection.engine().withPointsStable(() -> {
            RecoveryPointManifest manifest = protection.engine().recovery().points().read(disk.manifest())
                    .orElseThrow(() -> new ArmException(409, "RecoveryPointNotFound", "The recovery point chosen for "
                            + "this failover was removed (retention or disable) before its disks were built."));
            return Exporter.export(protection.engine().recovery(), manifest, "vhd", target);
        }));
    }

    private void createNic(JobContext ctx, String kind) {
        vms.createNic(plan(ctx, kind), ctx.principal());
    }

    private void createVm(JobContext ctx, String kind) {
        vms.createVm(plan(ctx, kind), ctx.principal());
    }

    private RecoveryVms.Plan plan(JobContext ctx, String kind) {
        JsonNode plan = row(itemId(ctx)).failover().path(kind).path("plan");
        if (!plan.isObject() || !ctx.job().id().equals(plan.path("jobId").asText())) {
            throw ArmException.conflict("FailoverPlanMissing", "This job's recovery plan for the item is gone "
                    + "(another operation replaced it).");
        }
        return RecoveryVms.Plan.fromJson(plan);
    }

    /** The point of a failover: a named one, or the newest of the type asked for. */
    private MachinePoint choose(String itemId, String name, String type) {
        List<MachinePoint> all = points.points(itemId);
        if (name != null) {
            return all.stream().filter(p -> p.name().equalsIgnoreCase(name)).findFirst()
                    .orElseThrow(() -> ArmException.conflict("RecoveryPointNotFound", "Recovery point '" + name
                            + "' was removed by retention before the failover started. Choose another."));
        }
        boolean app = type.equals("LatestApplicationConsistent");
        boolean crash = type.equals("LatestCrashConsistent");
        return all.reversed().stream().filter(p -> (!app || p.appConsistent()) && (!crash || !p.appConsistent())).findFirst()
                .orElseThrow(() -> ArmException.conflict(app ? "NoAppConsistentRecoveryPoint" : "NoRecoveryPoint",
                        app ? "The item has no app-consistent recovery point. Choose LatestProcessed or a crash-consistent "
                                + "point, or wait for the next app-consistent point."
                                : "The item has no recovery point yet. Wait for initial replication to finish."));
    }

    /** "Latest": waits (bounded) until everything the agent uploaded has been applied, so the newest point is current. */
    private void drain(String itemId) throws InterruptedException {
        long deadline = clock.millis() + DRAIN_WAIT.toMillis();
        while (clock.millis() < deadline) {
            boolean pending = store.disksOf(itemId).stream().anyMatch(d -> protection.engine().runtime(d.diskId())
                    .map(rt -> rt.pendingApplyBytes() > 0).orElse(false));
            if (!pending) {
                return;
            }
            protection.engine().signal();
            Thread.sleep(200);
        }
    }

    // =========================================================================== state helpers

    /**
     * The first task of a job: moves the item from {@code from} (and test state {@code fromTfo}) to the job's
     * state, recording the job as the item's current scenario. A re-run of the same job passes; any other state
     * is a 409 naming it.
     */
    private void begin(JobContext ctx, String scenario, String from, String fromTfo, String to, String toTfo) {
        begin(store, view, clock, ctx, scenario, from, fromTfo, to, toTfo, false);
    }

    private boolean begin(JobContext ctx, String scenario, String from, String fromTfo, String to, String toTfo,
                          boolean quiet) {
        return begin(store, view, clock, ctx, scenario, from, fromTfo, to, toTfo, quiet);
    }

    static boolean begin(ProtectionStore store, ItemView view, Clock clock, JobContext ctx, String scenario, String from,
                         String fromTfo, String to, String toTfo, boolean quiet) {
        String id = itemId(ctx);
        ProtectionStore.Item row = store.item(id).orElseThrow(() -> ArmException.notFound(id));
        if (ownedBy(row, ctx)) {
            return true;
        }
        ObjectNode doc = row.failover();
        ObjectNode current = doc.putObject("scenario");
        current.put("scenarioName", scenario);
        current.put("jobId", ctx.job().armId());
        current.put("startTime", Json.time(clock.millis()));
        current.put("stateBefore", row.state());
        if (store.updateFailover(id, from, fromTfo, to, null, toTfo, doc)) {
            view.refresh(id);
            return true;
        }
        if (quiet) {
            return false;
        }
        ProtectionStore.Item now = store.item(id).orElseThrow();
        throw ArmException.conflict("OperationNotAllowedInCurrentState", scenario + " can't start: '"
                + id.substring(id.lastIndexOf('/') + 1) + "' is " + now.state() + " (test failover "
                + now.testFailoverState() + ") after another operation changed it. Allowed now: "
                + String.join(", ", ItemOperations.allowed(now)) + ".");
    }

    /** True when the item's current scenario is this job (a task re-run after a restart). */
    static boolean ownedBy(ProtectionStore.Item row, JobContext ctx) {
        return ctx.job().armId().equals(row.failover().path("scenario").path("jobId").asText());
    }

    private ProtectionStore.Item row(String id) {
        return store.item(id).orElseThrow(() -> ArmException.notFound(id));
    }

    private ProtectionStore.Item requireRow(StoredResource item) {
        return row(item.id());
    }

    private static String itemId(JobContext ctx) {
        return ctx.input().path("id").asText();
    }


    /** The Azure target accepted at enable; failover needs one. */
    private static ObjectNode requireAzureTarget(StoredResource item) {
        if (!ItemOperations.hasAzureTarget(item.properties())) {
            throw ArmException.conflict("FailoverTargetNotConfigured", "'" + item.name() + "' was enabled without "
                    + "an Azure target resource group, so there is nothing to fail over into. Disable replication and "
                    + "enable it again with targetAzureV2ResourceGroupId (and targetAzureNetworkId, targetAzureSubnetId, "
                    + "targetVmSize) in providerSpecificDetails (CLI: item enable --target-resource-group ID --network ID"
                    + " --subnet NAME --storage-account ID); exportDisk (point export) restores a point without one.");
        }
        return (ObjectNode) item.properties().path("providerSpecificDetails");
    }

    /** The subnet named {@code preferred}, else the network's first subnet. */
    private String subnetFor(StoredResource vnet, String preferred) {
        List<StoredResource> subnets = resources.children(vnet.id(), NetworkTypes.SUBNET);
        if (subnets.isEmpty()) {
            throw ArmException.conflict("NetworkHasNoSubnet", "Virtual network '" + vnet.name() + "' has no subnet. Add "
                    + "one for the recovered VM's network interface.");
        }
        return subnets.stream().filter(s -> preferred != null && s.name().equalsIgnoreCase(preferred)).findFirst()
                .orElse(subnets.getFirst()).id();
    }

    /** The seed-rule facts of the item as enabled (vault, policy, machine, Azure target). */
    private EnableFacts.Judged judge(StoredResource item, ProtectionStore.Item row) {
        StoredResource vault = vaultOf(item);
        StoredResource policy = resources.find(row.policyId()).orElseThrow(() -> ArmException.conflict("PolicyNotFound",
                "The item's replication policy no longer exists."));
        AgentStore.Agent agent = agents.find(row.agentId()).orElseThrow(() -> ArmException.conflict(
                "ConfigurationServerNotRegistered", "The machine's agent is no longer registered."));
        ArrayNode disks = Json.MAPPER.createArrayNode();
        List<String> names = store.disksOf(item.id()).stream().map(d -> d.name().toLowerCase(Locale.ROOT)).toList();
        agent.disks().forEach(d -> {
            if (names.contains(d.path("name").asText().toLowerCase(Locale.ROOT))) {
                disks.add(d);
            }
        });
        JsonNode t = item.properties().path("providerSpecificDetails");
        EnableFacts.Target target = new EnableFacts.Target(text(t, "recoveryAzureStorageAccount"),
                text(t, "selectedRecoveryAzureNetworkId"), text(t, "selectedRecoveryAzureSubnetId"),
                text(t, "recoveryAzureVMName"), text(t, "recoveryAzureResourceGroupId"), text(t, "recoveryAzureVMSize"));
        return facts.judge(vault, policy, agent, disks, target);
    }

    private static String text(JsonNode node, String field) {
        String v = node.path(field).asText("");
        return v.isEmpty() ? null : v;
    }

    private StoredResource vaultOf(StoredResource item) {
        String vaultId = VaultScope.vaultIdOf(item.id());
        return resources.require(vaultId);
    }


    // =========================================================================== disable hook

    /** Disabling replication removes a pending test failover's VM too: nothing the test built is left behind. */
    @Override
    public void beforeDisable(String itemId, Principal as) throws IOException {
        Optional<ProtectionStore.Item> row = store.item(itemId);
        if (row.isEmpty()) {
            return;
        }
        JsonNode plan = row.get().failover().path("test").path("plan");
        if (plan.isObject()) {
            vms.delete(RecoveryVms.Plan.fromJson(plan), as);
        }
    }
}
