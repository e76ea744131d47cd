package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.jobs.JobContext;
import dev.secondsite.jobs.JobStore;
import dev.secondsite.jobs.JobsApi;
import dev.secondsite.jobs.Workflow;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.Violation;
import dev.secondsite.vault.ReplicationTypes;
import dev.secondsite.vault.VaultScope;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import static dev.secondsite.jobs.Workflow.task;

/**
 * Replication of registered machines ({@code replicationProtectedItems}, reference §2.8 / §3.5): enable
 * (PUT, InMageAzureV2), get/list, PATCH (churn mode), repairReplication (resync), remove (disable) and
 * DELETE (purge). Every mutation is validated synchronously and carried out by a job whose tasks are
 * idempotent. Also the replication engine's listener: it moves items to Protected when every disk has its
 * first recovery point, and back from Resynchronizing when every disk's resync has landed.
 */
public final class ProtectedItems implements ReplicationEngine.Listener {
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9_.()\\- ]{0,259}$");
    static final List<String> CHURN_MODES = List.of("Normal", "High");
    private static final List<String> OTHER_PROVIDERS = List.of("A2A", "HyperVReplicaAzure", "InMageRcm", "InMage",
            "A2ACrossClusterMigration", "VMwareCbt");

    private final ResourceStore resources;
    private final VaultScope scope;
    private final JobsApi jobs;
    private final AgentStore agents;
    private final ProtectionStore store;
    private final ReplicationEngine engine;
    private final ItemView view;
    private final Clock clock;
    private volatile EnableFacts targets;
    private volatile DisableHook disableHook;
    private volatile EnableHook enableHook;

    /** What failover orchestration does when replication is disabled (it owns the test failover's resources). */
    public interface DisableHook {
        void beforeDisable(String itemId, dev.secondsite.auth.Principal as) throws IOException;
    }

    public void disableHook(DisableHook hook) {
        this.disableHook = hook;
    }

    /**
     * What enabling replication does outside the vault, after the seed rules passed and before the job is queued:
     * the private endpoints' region-pairing links (seed 003, cloud.privatelink.ReplicationLinks). May refuse the
     * enable with an ARM error; then nothing is queued.
     */
    public interface EnableHook {
        void beforeEnable(StoredResource vault, dev.secondsite.rules.ReplicationFacts facts);

        /** What {@link #beforeEnable} would refuse, for the validate action (nothing is changed). */
        List<Violation> check(StoredResource vault, dev.secondsite.rules.ReplicationFacts facts);
    }

    public void enableHook(EnableHook hook) {
        this.enableHook = hook;
    }

    private final Workflow enable = new Workflow("EnableProtection", "Enable protection", List.of(
            task("PrerequisitesCheck", "Prerequisites check for protection", this::checkEnable),
            task("EnableProtection", "Enable protection", this::applyEnable),
            task("StartInitialReplication", "Start initial replication", this::startInitialReplication),
            task("FinalizeProtection", "Finalize protection", this::finalizeProtection)));
    private final Workflow disable = new Workflow("DisableProtection", "Disable protection", List.of(
            task("StopReplication", "Stop replication", this::stopReplication),
            task("CleanupTestFailover", "Delete the resources of a pending test failover", this::cleanupTestFailover),
            task("DeleteReplicaData", "Delete recovery points and cached data", this::deleteReplicaData),
            task("RemoveProtectedItem", "Remove the protected item", this::removeItem)));
    private final Workflow purge = new Workflow("PurgeProtection", "Purge protection", List.of(
            task("StopReplication", "Stop replication", this::stopReplication),
            task("CleanupTestFailover", "Delete the resources of a pending test failover", this::cleanupTestFailover),
            task("DeleteReplicaData", "Delete recovery points and cached data", this::deleteReplicaData),
            task("RemoveProtectedItem", "Remove the protected item", this::removeItem)));
    private final Workflow resync = new Workflow("RepairReplication", "Resynchronize", List.of(
            task("PrerequisitesCheck", "Prerequisites check for resynchronization", this::checkResync),
            task("StartResynchronization", "Start resynchronization", this::startResync)));
    private final Workflow update = new Workflow("UpdateProtectedItem", "Update the virtual machine", List.of(
            task("UpdateReplicationSettings", "Update replication settings", this::applyUpdate)));

    public ProtectedItems(ResourceStore resources, VaultScope scope, JobsApi jobs, AgentStore agents,
                          ProtectionStore store, ReplicationEngine engine, ItemView view, Clock clock) {
        this.resources = resources;
        this.scope = scope;
        this.jobs = jobs;
        this.agents = agents;
        this.store = store;
        this.engine = engine;
        this.view = view;
        this.clock = clock;
        this.targets = new EnableFacts(resources, null, null);
    }

    public List<Workflow> workflows() {
        return List.of(enable, disable, purge, resync, update);
    }

    // ---- ARM handlers ----

    /** PUT P: enable replication of a registered machine. */
    public ArmResponse put(ArmRequest request) {
        EnableRequest r = parseEnable(request);
        Optional<StoredResource> existing = resources.find(r.id());
        if (existing.isPresent()) {
            if (!ResourceStore.key(existing.get().properties().path("protectableItemId").asText())
                    .equals(ResourceStore.key(r.protectableItemId()))) {
                throw ArmException.conflict("ProtectedItemAlreadyExists", "Protected item '" + r.name() + "' already "
                        + "replicates another machine. Choose another name or disable its replication first.");
            }
            List<String> changed = changedSettings(existing.get(), r, resolveEnable(r, false));
            if (!changed.isEmpty()) {
                throw ArmException.conflict("ProtectionAlreadyEnabled", "Protected item '" + r.name() + "' is "
                        + "already enabled with other settings (" + String.join(", ", changed) + "). Disable its "
                        + "replication first to enable it with these, or change what the update operation (PATCH) "
                        + "allows.");
            }
            return ArmResponse.ok(view.render(existing.get())); // the same enable again: nothing to do
        }
        Resolved resolved = resolveEnable(r, true);
        // Seed rules (RuleCatalogue, ENABLE_REPLICATION) before any job or resource exists: a violation is a
        // synchronous 400/409 and nothing is stored.
        resolved.judged().enforce();
        EnableHook hook = enableHook;
        if (hook != null) {
            hook.beforeEnable(r.vault(), resolved.judged().facts());
        }
        ObjectNode input = Json.object();
        input.put("id", r.id());
        input.put("name", r.name());
        input.put("containerId", r.container().id());
        input.put("policyId", resolved.policy().id());
        input.put("protectableItemId", resolved.protectable().id());
        input.put("agentId", resolved.agent().id());
        input.set("disks", resolved.disks());
        input.set("target", resolved.judged().targetDetails());
        return jobs.accept(request, new JobStore.NewJob(r.vault().id(), enable, r.id(), r.name(), "ProtectionEntity",
                input, request.principal().clientId()));
    }

    /**
     * The request fields of an enable PUT on an existing item that ask for something other than what the item was
     * enabled with: the policy, the Azure target as resolved at enable, and the disks when disksToInclude is given
     * (without it, an enable takes every disk discovered then).
     */
    private List<String> changedSettings(StoredResource item, EnableRequest r, Resolved asked) {
        List<String> changed = new ArrayList<>();
        JsonNode props = item.properties();
        if (!ResourceStore.key(props.path("policyId").asText()).equals(ResourceStore.key(asked.policy().id()))) {
            changed.add("policyId");
        }
        JsonNode had = props.path("providerSpecificDetails");
        ObjectNode wants = asked.judged().targetDetails(); // empty when the recovery store is the target
        for (TargetField field : ENABLE_TARGET_FIELDS) {
            // The item always shows a recovery VM name: the machine's own unless the enable named one (ItemView).
            String shown = field.stored().equals("recoveryAzureVMName") ? props.path("friendlyName").asText() : "";
            if (!had.path(field.stored()).asText("").equalsIgnoreCase(wants.path(field.stored()).asText(shown))) {
                changed.add(field.requested());
            }
        }
        JsonNode include = r.specific().raw("disksToInclude");
        if (!include.isMissingNode() && !include.isNull()) {
            Set<String> protectedDisks = new HashSet<>();
            store.disksOf(item.id()).forEach(d -> protectedDisks.add(d.name().toLowerCase(Locale.ROOT)));
            Set<String> askedDisks = new HashSet<>();
            asked.disks().forEach(d -> askedDisks.add(d.path("name").asText().toLowerCase(Locale.ROOT)));
            if (!protectedDisks.equals(askedDisks)) {
                changed.add("disksToInclude");
            }
        }
        return changed;
    }

    /** A target setting as the item stores it (EnableFacts) and the enable field it comes from. */
    private record TargetField(String stored, String requested) {}

    private static final List<TargetField> ENABLE_TARGET_FIELDS = List.of(
            new TargetField("recoveryAzureStorageAccount", "storageAccountId"),
            new TargetField("selectedRecoveryAzureNetworkId", "targetAzureNetworkId"),
            new TargetField("selectedRecoveryAzureSubnetId", "targetAzureSubnetId"),
            new TargetField("recoveryAzureResourceGroupId", "targetAzureV2ResourceGroupId"),
            new TargetField("recoveryAzureVMName", "targetAzureVmName"),
            new TargetField("recoveryAzureVMSize", "targetVmSize"));

    /**
     * POST P/validate (SecondSite extension): the enable PUT's body judged against every seed rule at once.
     * 200 {@code {valid, violations: [{code, message, seed, seeds, status}]}}; malformed input and ids that name
     * nothing are still 400, and a machine that is replicated already 409 ProtectableItemAlreadyProtected. Nothing
     * is stored.
     */
    public ArmResponse validate(ArmRequest request) {
        EnableRequest r = parseEnable(request);
        Resolved resolved = resolveEnable(r, true); // a machine replicated already: 409, as the enable would be
        List<Violation> found = new java.util.ArrayList<>(resolved.judged().violations());
        EnableHook hook = enableHook;
        if (hook != null) {
            found.addAll(hook.check(r.vault(), resolved.judged().facts()));
        }
        ObjectNode out = Json.object();
        out.put("valid", found.isEmpty());
        ArrayNode list = out.putArray("violations");
        for (Violation v : found) {
            ObjectNode entry = list.addObject();
            entry.put("code", v.code());
            entry.put("message", v.message());
            entry.put("seed", v.rule().seed());
            ArrayNode seeds = entry.putArray("seeds");
            v.rule().seeds().forEach(seeds::add);
            entry.put("status", v.status());
        }
        return ArmResponse.ok(out);
    }

    /** Sets where target resources are resolved (storage, networks, RBAC, compute quotas of the local cloud). */
    public void targets(EnableFacts targets) {
        this.targets = targets;
    }

    private record EnableRequest(StoredResource vault, StoredResource container, String name, String id,
                                 Fields specific, String policyId, String protectableItemId, EnableFacts.Target target) {}

    private record Resolved(StoredResource policy, StoredResource protectable, AgentStore.Agent agent, ArrayNode disks,
                            EnableFacts.Judged judged) {}

    /** The enable body, checked for shape (no lookups beyond vault and container). */
    private EnableRequest parseEnable(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource container = requireContainer(request);
        String name = request.path().name(3);
        if (!NAME.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidResourceName", "The protected item name '" + name
                    + "' is invalid: use up to 260 letters, digits, spaces, '_', '.', '-', '(' or ')', starting with a "
                    + "letter or digit.");
        }
        Fields props = Fields.of(request.bodyObject(), "").object("properties");
        Fields specific = props.object("providerSpecificDetails");
        String instanceType = specific.requiredString("instanceType");
        if (OTHER_PROVIDERS.stream().anyMatch(t -> t.equalsIgnoreCase(instanceType))) {
            throw new ArmException(400, "ReplicationProviderNotSupported", "SecondSite replicates machines whose "
                    + "mobility agent is registered with the vault (instanceType InMageAzureV2); '" + instanceType
                    + "' is not supported yet.", "properties.providerSpecificDetails.instanceType", List.of());
        }
        if (!instanceType.equalsIgnoreCase("InMageAzureV2")) {
            throw ArmException.invalidField("properties.providerSpecificDetails.instanceType", "'" + instanceType
                    + "' is not one of InMageAzureV2.");
        }
        String policyId = props.requiredString("policyId");
        String protectableItemId = props.requiredString("protectableItemId");
        EnableFacts.Target target = EnableFacts.Target.parse(specific);
        String id = container.id() + "/replicationProtectedItems/" + name;
        return new EnableRequest(vault, container, name, id, specific, policyId, protectableItemId, target);
    }

    /** Policy, machine, disks and target resolved to real resources, and the facts the seed rules judge. */
    private Resolved resolveEnable(EnableRequest r, boolean refuseProtected) {
        StoredResource policy = requirePolicy(r.vault(), r.container(), r.policyId());
        StoredResource protectable = resources.find(r.protectableItemId())
                .filter(p -> p.typeKey().equals(ResourceStore.key(ReplicationTypes.PROTECTABLE_ITEM)))
                .filter(p -> ResourceStore.key(p.id()).startsWith(ResourceStore.key(r.container().id()) + "/"))
                .orElseThrow(() -> new ArmException(400, "ProtectableItemNotFound", "Protectable item '"
                        + r.protectableItemId() + "' is not in container '" + r.container().name() + "'. Register the "
                        + "machine's agent with this fabric and use the id of its protectable item.",
                        "properties.protectableItemId", List.of()));
        AgentStore.Agent agent = agents.find(protectable.properties().path("customDetails").path("agentGeneratedId").asText())
                .orElseThrow(() -> new ArmException(409, "ConfigurationServerNotRegistered", "The agent of '"
                        + protectable.name() + "' is no longer registered. Register it again, then enable replication."));
        if (refuseProtected && !store.itemsOfAgent(agent.id()).isEmpty()) {
            throw ArmException.conflict("ProtectableItemAlreadyProtected", "Machine '" + agent.machineName()
                    + "' is already replicated by " + store.itemsOfAgent(agent.id()).getFirst().itemId() + ".");
        }
        ArrayNode disks = selectDisks(agent, r.specific());
        EnableFacts.Judged judged = targets.judge(r.vault(), policy, agent, disks, r.target());
        return new Resolved(policy, protectable, agent, disks, judged);
    }

    /** The disks to protect: all discovered, or those named in disksToInclude [{diskId: name}] or [name]. */
    private static ArrayNode selectDisks(AgentStore.Agent agent, Fields specific) {
        ArrayNode discovered = agent.disks();
        if (discovered.isEmpty()) {
            throw ArmException.badRequest("NoDisksDiscovered", "The agent of '" + agent.machineName()
                    + "' reported no disks. Check the agent's disk configuration.");
        }
        JsonNode include = specific.raw("disksToInclude");
        ArrayNode selected = Json.MAPPER.createArrayNode();
        if (include.isMissingNode() || include.isNull()) {
            discovered.forEach(d -> selected.add(d.deepCopy()));
        } else {
            if (!include.isArray() || include.isEmpty()) {
                throw ArmException.invalidField("properties.providerSpecificDetails.disksToInclude",
                        "must be a non-empty array of {diskId} naming discovered disks.");
            }
            Set<String> seen = new HashSet<>();
            for (JsonNode entry : include) {
                String diskName = entry.isTextual() ? entry.asText() : entry.path("diskId").asText("");
                JsonNode disk = null;
                for (JsonNode d : discovered) {
                    if (d.path("name").asText().equalsIgnoreCase(diskName)) {
                        disk = d;
                    }
                }
                if (disk == null) {
                    throw ArmException.invalidField("properties.providerSpecificDetails.disksToInclude",
                            "disk '" + diskName + "' was not discovered on '" + agent.machineName() + "'.");
                }
                if (seen.add(diskName.toLowerCase(Locale.ROOT))) {
                    selected.add(disk.deepCopy());
                }
            }
        }
        for (JsonNode d : selected) {
            try {
                DiskGeometry.withDefaultChunks(d.path("sizeBytes").asLong());
            } catch (IllegalArgumentException e) {
                throw ArmException.badRequest("DiskSizeNotSupported", "Disk '" + d.path("name").asText() + "': "
                        + e.getMessage());
            }
        }
        return selected;
    }

    private StoredResource requirePolicy(StoredResource vault, StoredResource container, String policyId) {
        StoredResource policy = resources.find(policyId)
                .filter(p -> ResourceStore.key(p.id()).startsWith(ResourceStore.key(vault.id()) + "/"))
                .filter(p -> p.typeKey().equals(ResourceStore.key(ReplicationTypes.POLICY)))
                .orElseThrow(() -> new ArmException(400, "PolicyNotFound", "Policy '" + policyId
                        + "' does not exist in this vault.", "properties.policyId", List.of()));
        String type = policy.properties().path("providerSpecificDetails").path("instanceType").asText();
        if (!type.equals("InMageAzureV2")) {
            throw new ArmException(400, "PolicyNotApplicable", "Policy '" + policy.name() + "' is a " + type
                    + " policy; replicating a registered machine needs an InMageAzureV2 policy.", "properties.policyId",
                    List.of());
        }
        boolean mapped = resources.children(container.id(), ReplicationTypes.MAPPING).stream()
                .anyMatch(m -> ResourceStore.key(m.properties().path("policyId").asText()).equals(ResourceStore.key(policy.id())));
        if (!mapped) {
            throw new ArmException(400, "PolicyNotAssociatedWithContainer", "Policy '" + policy.name()
                    + "' is not associated with protection container '" + container.name() + "'. Create a container "
                    + "mapping with this policy first.", "properties.policyId", List.of());
        }
        return policy;
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(view.render(requireItem(request)));
    }

    public ArmResponse listByContainer(ArmRequest request) {
        StoredResource container = requireContainer(request);
        return ArmResponse.ok(collection(resources.children(container.id(), ReplicationTypes.PROTECTED_ITEM)));
    }

    public ArmResponse listByVault(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        return ArmResponse.ok(collection(resources.descendants(vault.id(), ReplicationTypes.PROTECTED_ITEM)));
    }

    private ObjectNode collection(List<StoredResource> items) {
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        items.forEach(i -> value.add(view.render(i)));
        return list;
    }

    /**
     * PATCH P: SecondSite's one updatable replication setting, the churn mode, in
     * {@code properties.providerSpecificDetails.churnMode} (Normal | High).
     */
    public ArmResponse patch(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource item = requireItem(request);
        Fields specific = Fields.of(request.bodyObject(), "").object("properties").object("providerSpecificDetails");
        if (specific.present()) {
            specific.oneOf("instanceType", List.of("InMageAzureV2"));
        }
        String churnMode = specific.oneOf("churnMode", CHURN_MODES).orElse(null);
        ObjectNode input = Json.object();
        input.put("id", item.id());
        input.put("churnMode", churnMode);
        return jobs.accept(request, new JobStore.NewJob(vault.id(), update, item.id(), item.name(), "ProtectionEntity",
                input, request.principal().clientId()));
    }

    /** POST P/repairReplication: resync every disk. */
    public ArmResponse repair(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource item = requireItem(request);
        requireResyncable(item.id(), item.properties());
        ObjectNode input = Json.object();
        input.put("id", item.id());
        return jobs.accept(request, new JobStore.NewJob(vault.id(), resync, item.id(), item.name(), "ProtectionEntity",
                input, request.principal().clientId()));
    }

    /** POST P/remove: disable replication (deletes its recovery points and cached data). */
    public ArmResponse remove(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource item = requireItem(request);
        store.item(item.id()).ifPresent(row -> ItemOperations.require(row, item.properties(), ItemOperations.DISABLE));
        return jobs.accept(request, removal(request, vault, item, disable));
    }

    /** DELETE P: purge. */
    public ArmResponse purge(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource container = requireContainer(request);
        Optional<StoredResource> item = resources.find(container.id() + "/replicationProtectedItems/" + request.path().name());
        if (item.isEmpty()) {
            return ArmResponse.noContent();
        }
        return jobs.accept(request, removal(request, vault, item.get(), purge));
    }

    private static JobStore.NewJob removal(ArmRequest request, StoredResource vault, StoredResource item, Workflow w) {
        ObjectNode input = Json.object();
        input.put("id", item.id());
        input.put("containerId", item.id().substring(0, ResourceStore.key(item.id()).indexOf("/replicationprotecteditems/")));
        JobContext.putPrincipal(input, request.principal());
        return new JobStore.NewJob(vault.id(), w, item.id(), item.name(), "ProtectionEntity", input,
                request.principal().clientId());
    }

    // ---- enable tasks ----

    private void checkEnable(JobContext ctx) {
        ObjectNode in = ctx.input();
        StoredResource container = resources.require(in.path("containerId").asText());
        StoredResource vault = resources.require(ctx.job().vaultId());
        requirePolicy(vault, container, in.path("policyId").asText());
        if (agents.find(in.path("agentId").asText()).isEmpty()) {
            throw new ArmException(409, "ConfigurationServerNotRegistered", "The machine's agent is no longer registered.");
        }
        Optional<ProtectionStore.Item> other = store.itemsOfAgent(in.path("agentId").asText()).stream()
                .filter(i -> !ResourceStore.key(i.itemId()).equals(ResourceStore.key(in.path("id").asText())))
                .findFirst();
        if (other.isPresent()) {
            throw ArmException.conflict("ProtectableItemAlreadyProtected", "The machine is already replicated by "
                    + other.get().itemId() + ".");
        }
    }

    private void applyEnable(JobContext ctx) throws IOException {
        ObjectNode in = ctx.input();
        String id = in.path("id").asText();
        long now = clock.millis();
        ProtectionStore.Item item = store.createItem(id, ctx.job().vaultId(), in.path("agentId").asText(),
                in.path("policyId").asText(), ctx.job().id(), now);
        for (JsonNode d : in.path("disks")) {
            String diskName = d.path("name").asText();
            // Deterministic per item: a re-run task (or a second enable job) names the same disk the same.
            UUID diskId = UUID.nameUUIDFromBytes((item.enableJobId() + "/" + diskName).getBytes(StandardCharsets.UTF_8));
            ProtectionStore.Disk disk = store.createDisk(diskId, id, item.agentId(), diskName, d.path("sizeBytes").asLong(),
                    DiskGeometry.CHUNK_BYTES_DEFAULT, now);
            engine.track(disk);
        }
        if (resources.find(id).isEmpty()) {
            StoredResource container = resources.find(in.path("containerId").asText()).orElseThrow();
            String fabricId = container.id().substring(0, ResourceStore.key(container.id()).indexOf("/replicationprotectioncontainers/"));
            StoredResource fabric = resources.find(fabricId).orElseThrow();
            StoredResource policy = resources.find(in.path("policyId").asText()).orElseThrow();
            AgentStore.Agent agent = agents.find(item.agentId()).orElseThrow();
            String providerId = fabric.id() + "/replicationRecoveryServicesProviders/" + agent.machineName();
            ObjectNode body = ItemView.newBody(id, in.path("name").asText(), agent.machineName(), fabric, container,
                    policy, in.path("protectableItemId").asText(), providerId);
            // The accepted Azure target (ASR's InMageAzureV2ReplicationDetails names), kept for failover.
            if (in.path("target").isObject()) {
                ((ObjectNode) body.path("properties").path("providerSpecificDetails")).setAll((ObjectNode) in.path("target"));
            }
            resources.put(id, container.id(), ReplicationTypes.PROTECTED_ITEM, in.path("name").asText(),
                    id.split("/")[2], body);
        }
        view.refresh(id);
        updateContainerCount(in.path("containerId").asText());
        ctx.result(id);
    }

    private void startInitialReplication(JobContext ctx) {
        String id = ctx.input().path("id").asText();
        store.setReplicating(id, true);
        List<UUID> diskIds = store.diskIdsOf(id);
        engine.setActive(diskIds, true);
        store.transition(id, List.of(ProtectionStore.ENABLING), ProtectionStore.INITIAL_REPLICATION);
        pointsCreated(id); // disks that already hold points (a re-run after a crash) complete at once
        view.refresh(id);
    }

    private void finalizeProtection(JobContext ctx) {
        String id = ctx.input().path("id").asText();
        view.refresh(id);
        ctx.result(id);
    }

    // ---- disable / purge tasks ----

    private void stopReplication(JobContext ctx) {
        String id = ctx.input().path("id").asText();
        // Any resting state: a purge (DELETE) also ends an item stuck in a failover state.
        store.transition(id, List.of(ProtectionStore.ENABLING, ProtectionStore.INITIAL_REPLICATION,
                ProtectionStore.PROTECTED, ProtectionStore.RESYNCHRONIZING, ProtectionStore.PLANNED_FAILOVER_COMMIT_REQUIRED,
                ProtectionStore.UNPLANNED_FAILOVER_COMMIT_PENDING, ProtectionStore.FAILOVER_COMMITTED,
                ProtectionStore.FAILOVER_IN_PROGRESS, ProtectionStore.COMMIT_IN_PROGRESS), ProtectionStore.DISABLING);
        store.setReplicating(id, false);
        engine.setActive(store.diskIdsOf(id), false);
        // A shutdown or failback directive of a failover of this item ends with it: the agent may replicate again.
        store.item(id).ifPresent(item -> agents.directive(item.agentId())
                .ifPresent(d -> agents.withdraw(item.agentId(), d.requestId())));
        view.refresh(id);
    }

    private void cleanupTestFailover(JobContext ctx) throws IOException {
        if (disableHook != null && ctx.input().path("principal").isObject()) {
            disableHook.beforeDisable(ctx.input().path("id").asText(), ctx.principal());
        }
    }

    private void deleteReplicaData(JobContext ctx) throws IOException {
        String id = ctx.input().path("id").asText();
        List<UUID> diskIds = new ArrayList<>(store.diskIdsOf(id));
        engine.discard(diskIds);
    }

    private void removeItem(JobContext ctx) {
        String id = ctx.input().path("id").asText();
        store.deleteItem(id);
        resources.delete(id);
        updateContainerCount(ctx.input().path("containerId").asText());
    }

    /** Cleans up replication rows whose item resource is gone (its fabric or container was purged). */
    public void reconcileOrphans() {
        for (ProtectionStore.Item item : store.items()) {
            if (resources.find(item.itemId()).isEmpty() && clock.millis() - item.createdAt() > 60_000) {
                try {
                    engine.discard(store.diskIdsOf(item.itemId()));
                    store.deleteItem(item.itemId());
                } catch (IOException e) {
                    org.slf4j.LoggerFactory.getLogger(ProtectedItems.class)
                            .warn("cleaning up orphaned item {} failed: {}", item.itemId(), e.toString());
                }
            }
        }
    }

    // ---- resync and update tasks ----

    /** {@code properties}: the item's, for the operations a 409 lists (null at job time: the state's). */
    private void requireResyncable(String id, JsonNode properties) {
        ProtectionStore.Item item = store.item(id).orElseThrow(() -> ArmException.notFound(id));
        ItemOperations.require(item, properties, ItemOperations.REPAIR);
    }

    private void checkResync(JobContext ctx) {
        requireResyncable(ctx.input().path("id").asText(), null);
    }

    private void startResync(JobContext ctx) {
        String id = ctx.input().path("id").asText();
        long now = clock.millis();
        for (ProtectionStore.Disk disk : store.disksOf(id)) {
            String resyncId = UUID.nameUUIDFromBytes((ctx.job().id() + "/" + disk.diskId())
                    .getBytes(StandardCharsets.UTF_8)).toString();
            if (!resyncId.equals(disk.resyncId())) {
                // A full resync pending (after a corrupt segment) stays full.
                store.requestResync(disk.diskId(), resyncId, disk.resyncRequired() && disk.resyncFull(), now);
            }
        }
        store.transition(id, List.of(ProtectionStore.PROTECTED), ProtectionStore.RESYNCHRONIZING);
        view.refresh(id);
        ctx.result(id);
    }

    private void applyUpdate(JobContext ctx) {
        String id = ctx.input().path("id").asText();
        if (store.item(id).isEmpty()) {
            throw ArmException.notFound(id);
        }
        String churnMode = ctx.input().path("churnMode").asText(null);
        if (churnMode != null) {
            store.setChurnMode(id, churnMode);
        }
        view.refresh(id);
        ctx.result(id);
    }

    // ---- engine listener ----

    @Override
    public void pointsCreated(String itemId) {
        List<ProtectionStore.Disk> disks = store.disksOf(itemId);
        boolean all = !disks.isEmpty() && disks.stream().allMatch(d -> engine.runtime(d.diskId())
                .flatMap(ReplicationEngine.DiskRuntime::lastPoint).isPresent());
        if (all && store.transition(itemId, List.of(ProtectionStore.INITIAL_REPLICATION), ProtectionStore.PROTECTED)) {
            view.refresh(itemId);
        }
    }

    @Override
    public void resyncCompleted(String itemId) {
        boolean done = store.disksOf(itemId).stream().noneMatch(ProtectionStore.Disk::resyncRequired);
        if (done) {
            store.transition(itemId, List.of(ProtectionStore.RESYNCHRONIZING), ProtectionStore.PROTECTED);
        }
        view.refresh(itemId);
    }

    @Override
    public void healthChanged(String itemId) {
        view.refresh(itemId);
    }

    /** After a restart: transitions whose trigger happened before the crash but whose update did not. */
    public void reconcileStates() {
        for (ProtectionStore.Item item : store.items()) {
            if (item.state().equals(ProtectionStore.INITIAL_REPLICATION)) {
                pointsCreated(item.itemId());
            } else if (item.state().equals(ProtectionStore.RESYNCHRONIZING)) {
                resyncCompleted(item.itemId());
            }
        }
    }

    // ---- lookups ----

    private void updateContainerCount(String containerId) {
        resources.find(containerId).ifPresent(c -> {
            ObjectNode body = c.bodyCopy();
            ((ObjectNode) body.path("properties")).put("protectedItemCount",
                    resources.children(c.id(), ReplicationTypes.PROTECTED_ITEM).size());
            resources.put(c.id(), null, ReplicationTypes.CONTAINER, c.name(), c.id().split("/")[2], body);
        });
    }

    StoredResource requireContainer(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        String fabricName = request.path().name(1);
        StoredResource fabric = resources.require(vault.id() + "/replicationFabrics/" + fabricName);
        String name = request.path().name(2);
        return resources.require(fabric.id() + "/replicationProtectionContainers/" + name);
    }

    public StoredResource requireItem(ArmRequest request) {
        StoredResource container = requireContainer(request);
        String name = request.path().name(3);
        return resources.require(container.id() + "/replicationProtectedItems/" + name);
    }
}
