package dev.secondsite.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRouter;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.compute.Compute;
import dev.secondsite.jobs.JobContext;
import dev.secondsite.jobs.Workflow;
import dev.secondsite.protection.AgentStore;
import dev.secondsite.protection.ProtectionModule;
import dev.secondsite.protection.ProtectionStore;
import dev.secondsite.protection.ReplicationEngine;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.ReplicationTypes;
import dev.secondsite.vault.VaultScope;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.jobs.Workflow.task;
import static dev.secondsite.protection.ProtectionStore.*;

/**
 * Reprotect and failback of a machine replicated by its agent (InMageAzureV2), after a committed failover:
 * <ol>
 *   <li><b>Reprotect</b> (active location Recovery): the recovered VM's disks replicate back into the item's
 *       recovery store ({@link ReverseReplication}, a delta from the failover's point) under the
 *       {@code <policy>-failback} policy, towards a failback machine: the original one when its agent is still
 *       registered with the same disks, or a registered machine the user names (any site of the vault — a
 *       different site than the original), which then gets every chunk (a full sync, said on the job).</li>
 *   <li><b>Failback</b> ({@code plannedFailover} while replicating back): the Azure VM is deallocated, a last
 *       reverse pass makes the newest point, and the failback machine's agent writes that point onto its disks,
 *       fetching only the chunks that differ (agent-protocol "Failback"). The item is then active on Primary.</li>
 *   <li><b>Commit</b> of a failback deletes the recovered VM, its NIC and disks (the data is back on the primary
 *       and in the recovery points); <b>reprotect</b> from Primary then resumes replication by the agent, whose
 *       ledger the write-back left at the replica's sequence, so only what changed since travels.</li>
 * </ol>
 * Seed 001's "no direct failback after moving VMs between Government and public regions" is the REPROTECT rule
 * of the catalogue, judged by {@link Failovers} before any of this.
 */
public final class Reprotection {
    private static final Duration WRITE_BACK_WAIT = Duration.ofMinutes(30);
    private static final Duration PASS_EVERY = Duration.ofSeconds(60);
    private static final String COMPUTE_API = "2024-07-01";

    private final ResourceStore resources;
    private final ProtectionModule protection;
    private final ProtectionStore store;
    private final AgentStore agents;
    private final Compute compute;
    private final ArmRouter arm;
    private final RecoveryVms vms;
    private final ReverseReplication reverse;
    private final Clock clock;
    private ScheduledExecutorService passes;

    final Workflow reprotectBack = new Workflow("ReverseReplicate", "Reprotect", List.of(
            task("PrerequisitesCheck", "Prerequisites check for reprotect", this::beginReprotect),
            task("StartReverseReplication", "Start replication from the recovered virtual machine", this::startReverse),
            task("InitialReverseSync", "Synchronize the changes of the recovered virtual machine", this::initialSync),
            task("CompleteReprotect", "Complete reprotect", this::completeReverse)),
            this::rollbackReprotect);
    final Workflow reprotectForward = new Workflow("ReverseReplicateToRecovery", "Reprotect", List.of(
            task("PrerequisitesCheck", "Prerequisites check for reprotect", this::beginReprotect),
            task("ResumeReplication", "Resume replication from the primary machine", this::resumeForward)),
            this::rollbackReprotect);
    final Workflow failback = new Workflow("Failback", "Failback", List.of(
            task("PrerequisitesCheck", "Prerequisites check for failback", this::beginFailback),
            task("ShutdownRecoveredVm", "Shut down the recovered virtual machine", this::shutdownRecoveredVm),
            task("FinalSync", "Synchronize the last changes", ctx -> sync(ctx, "failback:" + ctx.job().id())),
            task("WriteBackToPrimary", "Write the recovery point to the primary machine's disks", this::writeBack),
            task("CompleteFailback", "Complete failback", this::completeFailback)),
            this::rollbackFailback);

    public Reprotection(ResourceStore resources, ProtectionModule protection, Compute compute, ArmRouter arm,
                        RecoveryVms vms, Clock clock) {
        this.vms = vms;
        this.resources = resources;
        this.protection = protection;
        this.store = protection.store();
        this.agents = protection.agents();
        this.compute = compute;
        this.arm = arm;
        this.reverse = new ReverseReplication(protection, clock);
        this.clock = clock;
    }

    public List<Workflow> workflows() {
        return List.of(reprotectBack, reprotectForward, failback);
    }

    // =========================================================================== accepting

    /**
     * The job input of a reprotect (validated now: 409 when there is nothing to replicate back from or to). From
     * Recovery: {@code providerSpecificDetails.failbackProtectableItemId} may name another registered machine.
     */
    Workflow prepareReprotect(StoredResource item, ProtectionStore.Item row, Fields specific, ObjectNode input) {
        if (row.activeLocation().equals("Primary")) {
            if (!row.failover().path("failback").path("agentId").asText(row.agentId()).equals(row.agentId())) {
                throw ArmException.conflict("ReprotectToRecoveryNotSupported", "'" + item.name() + "' failed back to "
                        + "another machine than the one it replicated from. Disable replication and enable it for that "
                        + "machine to protect it again.");
            }
            return reprotectForward;
        }
        JsonNode failover = row.failover().path("failover");
        StoredResource vm = resources.find(failover.path("vmId").asText()).orElseThrow(() -> ArmException.conflict(
                "RecoveredVmNotFound", "The recovered VM " + failover.path("vmId").asText() + " no longer exists, so "
                        + "there is nothing to replicate back. Enable replication again for the machine you want to protect."));
        AgentStore.Agent original = agents.find(row.agentId()).orElse(null);
        String chosen = specific.string("failbackProtectableItemId").orElse(null);
        AgentStore.Agent target;
        boolean full;
        if (chosen != null) {
            StoredResource protectable = resources.find(chosen)
                    .filter(p -> p.typeKey().equals(ResourceStore.key(ReplicationTypes.PROTECTABLE_ITEM)))
                    .filter(p -> ResourceStore.key(p.id()).startsWith(ResourceStore.key(VaultScope.vaultIdOf(item.id())) + "/"))
                    .orElseThrow(() -> new ArmException(400, "FailbackMachineNotFound", "'" + chosen + "' is not a "
                            + "registered machine of this vault.", "properties.providerSpecificDetails."
                            + "failbackProtectableItemId", List.of()));
            target = agents.find(protectable.properties().path("customDetails").path("agentGeneratedId").asText())
                    .orElseThrow(() -> ArmException.conflict("FailbackMachineNotRegistered", "The agent of '"
                            + protectable.name() + "' is no longer registered."));
            full = original == null || !target.id().equals(original.id());
        } else if (original != null) {
            target = original;
            full = false;
        } else {
            throw ArmException.conflict("FailbackMachineNotAvailable", "The machine '" + item.properties()
                    .path("friendlyName").asText() + "' is no longer registered, so its disks can't receive the failback. "
                    + "Register a machine with disks at least as large and give its protectable item id as "
                    + "properties.providerSpecificDetails.failbackProtectableItemId (it gets a full copy).");
        }
        ArrayNode disks = Json.MAPPER.createArrayNode();
        for (ProtectionStore.Disk d : store.disksOf(item.id())) {
            JsonNode reported = null;
            for (JsonNode r : target.disks()) {
                if (r.path("name").asText().equalsIgnoreCase(d.name())) {
                    reported = r;
                }
            }
            if (reported == null || reported.path("sizeBytes").asLong() < d.capacityBytes()) {
                throw ArmException.conflict("FailbackDiskMismatch", "Machine '" + target.machineName() + "' has no disk '"
                        + d.name() + "' of at least " + d.capacityBytes() + " bytes to receive the failback.");
            }
            ObjectNode disk = disks.addObject();
            disk.put("diskId", d.diskId().toString());
            disk.put("name", reported.path("name").asText());
            disk.put("sizeBytes", d.capacityBytes());
            disk.put("chunkBytes", d.chunkBytes());
            disk.put("managedDiskId", managedDiskOf(vm, store.disksOf(item.id()).indexOf(d)));
        }
        ObjectNode back = input.putObject("reverse");
        back.put("vmId", vm.id());
        back.put("agentId", target.id());
        back.put("machineName", target.machineName());
        back.put("fullSync", full);
        back.put("policyId", row.policyId() + "-failback");
        back.set("disks", disks);
        return reprotectBack;
    }

    private static String managedDiskOf(StoredResource vm, int index) {
        JsonNode storage = vm.properties().path("storageProfile");
        JsonNode d = index == 0 ? storage.path("osDisk") : storage.path("dataDisks").path(index - 1);
        return d.path("managedDisk").path("id").asText();
    }

    // =========================================================================== reprotect tasks

    private void beginReprotect(JobContext ctx) {
        Failovers.begin(store, protection.view(), clock, ctx, "Reprotect", FAILOVER_COMMITTED, null, REPROTECTING, null,
                false);
    }

    private void startReverse(JobContext ctx) {
        String id = itemId(ctx);
        ObjectNode doc = row(id).failover();
        ObjectNode reverse = ctx.input().path("reverse").deepCopy();
        reverse.put("jobId", ctx.job().id());
        doc.set("reverse", reverse);
        store.updateFailover(id, REPROTECTING, null, null, null, null, doc);
        if (reverse.path("fullSync").asBoolean()) {
            ctx.warn("FullSyncRequired", "Failback goes to machine '" + reverse.path("machineName").asText() + "', not the "
                    + "one that failed over: its disks will receive every chunk of the recovered VM (a full sync).");
        }
        protection.engine().setActive(store.diskIdsOf(id), true);
    }

    private void initialSync(JobContext ctx) throws IOException, InterruptedException {
        sync(ctx, "reprotect:" + ctx.job().id());
    }

    private void completeReverse(JobContext ctx) {
        String id = itemId(ctx);
        ObjectNode doc = row(id).failover();
        doc.remove("scenario");
        store.updateFailover(id, REPROTECTING, null, PROTECTED, "Recovery", null, doc);
        protection.view().refresh(id);
        ctx.result(id);
    }

    /**
     * From Primary after a failback: the agent replicates again. Its ledger was set to the written-back content at
     * the replica's sequence (agent-protocol §7), which is what the replica holds, so its next pass sends only what
     * changed since: the item is Protected at once, no resync needed.
     */
    private void resumeForward(JobContext ctx) {
        String id = itemId(ctx);
        ProtectionStore.Item row = row(id);
        ObjectNode doc = row.failover();
        agents.withdraw(row.agentId(), doc.path("failback").path("jobId").asText());
        store.setReplicating(id, true);
        protection.engine().setActive(store.diskIdsOf(id), true);
        doc.remove("scenario");
        doc.remove("reverse");
        doc.remove("failback");
        doc.remove("failover");
        store.updateFailover(id, REPROTECTING, null, PROTECTED, "Primary", null, doc);
        protection.view().refresh(id);
        ctx.result(id);
    }

    private void rollbackReprotect(JobContext ctx) {
        String id = itemId(ctx);
        Optional<ProtectionStore.Item> row = store.item(id);
        if (row.isEmpty() || !Failovers.ownedBy(row.get(), ctx)) {
            return;
        }
        ObjectNode doc = row.get().failover();
        doc.remove("scenario");
        if (doc.path("reverse").path("jobId").asText().equals(ctx.job().id())) {
            doc.remove("reverse");
            protection.engine().setActive(store.diskIdsOf(id), false);
        }
        store.updateFailover(id, REPROTECTING, null, FAILOVER_COMMITTED, null, null, doc);
        protection.view().refresh(id);
    }

    // =========================================================================== failback tasks

    private void beginFailback(JobContext ctx) {
        Failovers.begin(store, protection.view(), clock, ctx, "Failback", PROTECTED, TFO_NONE, FAILOVER_IN_PROGRESS,
                null, false);
    }

    private void shutdownRecoveredVm(JobContext ctx) {
        String vmId = row(itemId(ctx)).failover().path("reverse").path("vmId").asText();
        try {
            arm.call("POST", vmId + "/deallocate", Map.of("api-version", COMPUTE_API), ctx.principal(), null,
                    "https://localhost");
        } catch (ArmException e) {
            ctx.warn("RecoveredVmShutdownFailed", "The recovered VM could not be deallocated (" + e.getMessage()
                    + "); its last writes may be missing from the failback.");
        }
    }

    /** One reverse pass of every disk of the item, ending in points tagged {@code tag}; its figures go on the item. */
    private void sync(JobContext ctx, String tag) throws IOException, InterruptedException {
        passAndRecord(row(itemId(ctx)), tag);
    }

    private void passAndRecord(ProtectionStore.Item item, String tag) throws IOException, InterruptedException {
        long scanned = 0;
        long sent = 0;
        long bytes = 0;
        for (JsonNode d : item.failover().path("reverse").path("disks")) {
            ReverseReplication.PassResult r = reverse.pass(UUID.fromString(d.path("diskId").asText()),
                    diskFile(d.path("managedDiskId").asText()), tag);
            scanned += r.chunksScanned();
            sent += r.chunksSent();
            bytes += r.bytesSent();
        }
        ObjectNode doc = row(item.itemId()).failover();
        ObjectNode last = ((ObjectNode) doc.path("reverse")).putObject("lastPass");
        last.put("time", clock.instant().toString());
        last.put("chunksScanned", scanned);
        last.put("chunksSent", sent);
        last.put("bytesSent", bytes);
        store.updateFailover(item.itemId(), row(item.itemId()).state(), null, null, null, null, doc);
        protection.view().refresh(item.itemId());
    }

    private Path diskFile(String managedDiskId) {
        StoredResource disk = resources.find(managedDiskId).orElseThrow(() -> ArmException.conflict("RecoveredDiskNotFound",
                "The recovered VM's disk " + managedDiskId + " no longer exists."));
        return compute.diskFile(disk.body());
    }

    /** Asks the failback machine's agent to write the newest points onto its disks, and waits for its report. */
    private void writeBack(JobContext ctx) throws IOException, InterruptedException {
        String id = itemId(ctx);
        ProtectionStore.Item row = row(id);
        JsonNode back = row.failover().path("reverse");
        String agentId = back.path("agentId").asText();
        ObjectNode request = Json.object();
        request.put("requestId", ctx.job().id());
        ArrayNode disks = request.putArray("disks");
        ObjectNode server = request.putObject("server");
        for (JsonNode d : back.path("disks")) {
            UUID diskId = UUID.fromString(d.path("diskId").asText());
            RecoveryPointManifest point = protection.engine().recovery().points().latest(diskId).orElseThrow();
            ObjectNode disk = disks.addObject();
            disk.put("name", d.path("name").asText());
            disk.put("diskId", diskId.toString());
            disk.put("sizeBytes", d.path("sizeBytes").asLong());
            disk.put("chunkBytes", d.path("chunkBytes").asInt());
            // Where the replica stands: the agent resumes replication from here (a delta, agent-protocol §7).
            disk.put("nextSequence", protection.engine().runtime(diskId).map(ReplicationEngine.DiskRuntime::expectedNext)
                    .orElse(0L));
            server.put(diskId.toString(), point.blobName());
        }
        agents.issue(agentId, AgentStore.FAILBACK, request);
        Optional<AgentStore.Directive> d = agents.awaitReport(agentId, ctx.job().id(), WRITE_BACK_WAIT, clock);
        if (d.isEmpty()) {
            throw ArmException.conflict("FailbackWithdrawn", "The failback request to the machine was withdrawn.");
        }
        if ("Completed".equals(d.get().status())) {
            return;
        }
        if ("Failed".equals(d.get().status())) {
            throw ArmException.conflict("FailbackWriteFailed", "Machine '" + back.path("machineName").asText()
                    + "' could not write the recovery point to its disks: " + d.get().message());
        }
        throw ArmException.conflict("FailbackWriteTimedOut", "Machine '" + back.path("machineName").asText()
                + "' did not report writing the recovery point within " + WRITE_BACK_WAIT.toMinutes() + " minutes. Check "
                + "that its agent runs, then restart the job.");
    }

    private void completeFailback(JobContext ctx) {
        String id = itemId(ctx);
        ObjectNode doc = row(id).failover();
        ObjectNode failback = doc.putObject("failback");
        failback.put("jobId", ctx.job().id());
        failback.put("agentId", doc.path("reverse").path("agentId").asText());
        failback.put("completedAt", clock.instant().toString());
        doc.put("lastSuccessfulFailoverTime", clock.instant().toString());
        doc.remove("scenario");
        protection.engine().setActive(store.diskIdsOf(id), false);
        store.updateFailover(id, FAILOVER_IN_PROGRESS, null, PLANNED_FAILOVER_COMMIT_REQUIRED, "Primary", null, doc);
        protection.view().refresh(id);
        ctx.result(id);
    }

    private void rollbackFailback(JobContext ctx) {
        String id = itemId(ctx);
        Optional<ProtectionStore.Item> row = store.item(id);
        if (row.isEmpty() || !Failovers.ownedBy(row.get(), ctx)) {
            return;
        }
        ObjectNode doc = row.get().failover();
        agents.withdraw(doc.path("reverse").path("agentId").asText(), ctx.job().id());
        doc.remove("scenario");
        store.updateFailover(id, FAILOVER_IN_PROGRESS, null, PROTECTED, "Recovery", null, doc);
        protection.view().refresh(id);
    }

    /** Commit of a failback: the recovered VM, its NIC and disks go; the data is back on the primary machine. */
    void commitFailback(JobContext ctx, ProtectionStore.Item row) {
        JsonNode plan = row.failover().path("failover").path("plan");
        if (plan.isObject()) {
            vms.deleteReleased(RecoveryVms.Plan.fromJson(plan), ctx.principal());
        }
    }

    // =========================================================================== periodic passes

    /** Starts the background passes of every item replicating back (one per {@link #PASS_EVERY}). */
    public void start() {
        passes = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("reverse-replication").daemon(true)
                .factory());
        passes.scheduleWithFixedDelay(this::passAll, PASS_EVERY.toMillis(), PASS_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    public void stop() {
        if (passes != null) {
            passes.shutdownNow();
        }
    }

    private void passAll() {
        for (ProtectionStore.Item item : store.items()) {
            if (!item.state().equals(PROTECTED) || !item.activeLocation().equals("Recovery")) {
                continue;
            }
            try {
                passAndRecord(item, "reverse");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IOException | RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(Reprotection.class).warn("reverse replication of {} failed: {}",
                        item.itemId(), e.toString());
            }
        }
    }

    // =========================================================================== helpers

    private ProtectionStore.Item row(String id) {
        return store.item(id).orElseThrow(() -> ArmException.notFound(id));
    }

    private static String itemId(JobContext ctx) {
        return ctx.input().path("id").asText();
    }



}
