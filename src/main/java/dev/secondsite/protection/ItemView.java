package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.vault.VaultScope;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.ReplicationTypes;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ARM body of a protected item (ASR ReplicationProtectedItem, reference §4.2 / §4.3 InMageAzureV2) and
 * its stored snapshot. The resource row holds what never changes (names, ids, policy); state, health and
 * the live replication figures come from the protection tables and the engine, merged in at every GET.
 * {@link #refresh} writes the merged body back to the row when the state changes, so the operation-result
 * URL of a job (which reads the row) shows a current body too.
 */
public final class ItemView {
    /** An agent silent this long is shown Disconnected (and the item gets a Warning). */
    public static final Duration DISCONNECTED_AFTER = Duration.ofMinutes(15);
    static final double MB = 1024.0 * 1024.0;
    private static final String NONE_TIME = "1753-01-01T00:00:00Z";

    private final ResourceStore resources;
    private final ProtectionStore store;
    private final AgentStore agents;
    private final ReplicationEngine engine;
    private final Clock clock;
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    public ItemView(ResourceStore resources, ProtectionStore store, AgentStore agents, ReplicationEngine engine, Clock clock) {
        this.resources = resources;
        this.store = store;
        this.agents = agents;
        this.engine = engine;
        this.clock = clock;
    }

    /** Target settings stored at enable (EnableFacts) that every render keeps. */
    static final List<String> TARGET_FIELDS = List.of("recoveryAzureStorageAccount", "selectedRecoveryAzureNetworkId",
            "selectedTfoAzureNetworkId", "selectedRecoveryAzureSubnetId", "recoveryAzureSubnetName", "recoveryAzureVMSize",
            "recoveryAzureResourceGroupId");

    /** The static part of a new item's body. */
    static ObjectNode newBody(String id, String name, String machineName, StoredResource fabric, StoredResource container,
                              StoredResource policy, String protectableItemId, String providerId) {
        ObjectNode body = Json.object();
        body.put("id", id);
        body.put("name", name);
        body.put("type", ReplicationTypes.PROTECTED_ITEM);
        ObjectNode p = body.putObject("properties");
        p.put("friendlyName", machineName);
        p.put("protectedItemType", "");
        p.put("protectableItemId", protectableItemId);
        p.put("recoveryServicesProviderId", providerId);
        p.put("primaryFabricFriendlyName", fabric.properties().path("friendlyName").asText(fabric.name()));
        p.put("primaryFabricProvider", fabric.properties().path("customDetails").path("instanceType").asText());
        p.put("recoveryFabricFriendlyName", ReplicationTypes.MICROSOFT_AZURE);
        p.put("recoveryFabricId", ReplicationTypes.MICROSOFT_AZURE);
        p.put("primaryProtectionContainerFriendlyName", container.properties().path("friendlyName").asText(container.name()));
        p.put("recoveryProtectionContainerFriendlyName", ReplicationTypes.MICROSOFT_AZURE);
        p.put("activeLocation", "Primary");
        p.put("testFailoverState", "None");
        p.put("testFailoverStateDescription", "None");
        p.put("failoverHealth", "Normal");
        p.put("policyId", policy.id());
        p.put("policyFriendlyName", policy.properties().path("friendlyName").asText(policy.name()));
        p.putNull("lastSuccessfulFailoverTime");
        p.putNull("lastSuccessfulTestFailoverTime");
        p.putNull("failoverRecoveryPointId");
        p.put("recoveryContainerId", ReplicationTypes.MICROSOFT_AZURE);
        p.put("eventCorrelationId", java.util.UUID.nameUUIDFromBytes(ResourceStore.key(id).getBytes()).toString());
        p.putObject("providerSpecificDetails").put("instanceType", "InMageAzureV2");
        return body;
    }

    /** The current body of a stored item resource. */
    public ObjectNode render(StoredResource resource) {
        ObjectNode body = resource.bodyCopy();
        Optional<ProtectionStore.Item> item = store.item(resource.id());
        if (item.isEmpty()) {
            return body; // no replication state (being purged): the stored snapshot is all there is
        }
        ProtectionStore.Item row = item.get();
        List<ProtectionStore.Disk> disks = store.disksOf(resource.id());
        Optional<AgentStore.Agent> agent = agents.find(row.agentId());
        Optional<StoredResource> policy = resources.find(row.policyId());
        long now = clock.millis();
        ObjectNode p = (ObjectNode) body.path("properties");

        p.put("protectionState", row.state());
        p.put("protectionStateDescription", describe(row.state()));
        ArrayNode allowed = p.putArray("allowedOperations");
        ItemOperations.allowed(row, p).forEach(allowed::add);
        ObjectNode doc = row.failover();
        p.put("activeLocation", row.activeLocation());
        p.put("testFailoverState", row.testFailoverState());
        p.put("testFailoverStateDescription", switch (row.testFailoverState()) {
            case ProtectionStore.TFO_WAITING -> "Waiting for user input";
            case ProtectionStore.TFO_CLEANING -> "Cleaning up test environment";
            case ProtectionStore.TFO_IN_PROGRESS -> "Test failover in progress";
            default -> "None";
        });
        p.put("lastSuccessfulFailoverTime", doc.path("lastSuccessfulFailoverTime").asText(null));
        p.put("lastSuccessfulTestFailoverTime", doc.path("lastSuccessfulTestFailoverTime").asText(null));
        p.put("failoverRecoveryPointId", doc.path("failoverRecoveryPointId").asText(null));
        ObjectNode scenario = p.putObject("currentScenario");
        JsonNode current = doc.path("scenario");
        scenario.put("scenarioName", current.path("scenarioName").asText("None"));
        scenario.put("jobId", current.path("jobId").asText(VaultScope.vaultIdOf(row.itemId())
                + "/replicationJobs/None"));
        scenario.put("startTime", current.path("startTime").asText(NONE_TIME));

        JsonNode storedDetails = p.path("providerSpecificDetails").deepCopy();
        ObjectNode details = Json.object();
        details.put("instanceType", "InMageAzureV2");
        details.putNull("infrastructureVmId");
        details.putNull("vCenterInfrastructureId");
        details.put("protectionStage", describe(row.state()));
        details.put("vmId", row.agentId());
        details.put("vmProtectionState", row.state());
        details.put("vmProtectionStateDescription", describe(row.state()));

        ArrayNode health = Json.MAPPER.createArrayNode();
        ArrayNode diskNodes = Json.MAPPER.createArrayNode();
        double dataRate = 0;
        double uploadRate = 0;
        long uploadedTotal = 0;
        Long itemRpo = disks.isEmpty() ? null : 0L;
        Long lastUpdate = null;
        java.time.Instant lastPoint = null;
        boolean resized = false;
        boolean resyncing = false;
        double resyncProgress = 0;
        for (ProtectionStore.Disk disk : disks) {
            DiskFigures f = DiskFigures.of(disk, engine.runtime(disk.diskId()), now);
            dataRate += f.dataBytesPerSecond();
            uploadRate += f.uploadBytesPerSecond();
            uploadedTotal += disk.bytesUploaded();
            if (itemRpo != null) {
                itemRpo = f.rpoSeconds().isPresent() ? Math.max(itemRpo, f.rpoSeconds().get()) : null;
            }
            if (disk.lastUploadAt() != null) {
                lastUpdate = lastUpdate == null ? disk.lastUploadAt() : Math.max(lastUpdate, disk.lastUploadAt());
            }
            if (f.lastPoint().isPresent() && (lastPoint == null || f.lastPoint().get().isAfter(lastPoint))) {
                lastPoint = f.lastPoint().get();
            }
            resized |= disk.diskResized();
            resyncing |= disk.resyncRequired();
            resyncProgress += resyncProgress(disk);
            diskNodes.add(diskNode(disk, f, now));
            if (disk.healthError() != null) {
                health.add(disk.healthError());
            }
            if (disk.diskResized()) {
                health.add(HealthErrors.error("DiskResized", HealthErrors.WARNING, "A replicated disk was resized",
                        "Disk '" + disk.name() + "' is now a different size than when replication was enabled ("
                                + disk.capacityBytes() + " bytes); the replica keeps the original size.",
                        "The disk was extended or shrunk on the source machine.",
                        "Disable replication and enable it again to replicate the disk at its new size.",
                        disk.diskId().toString(), now));
            }
        }
        boolean replicating = row.state().equals(ProtectionStore.INITIAL_REPLICATION)
                || row.state().equals(ProtectionStore.PROTECTED) || row.state().equals(ProtectionStore.RESYNCHRONIZING);
        if (!replicating) {
            itemRpo = null; // failed over (or disabling): there is no replication whose RPO to show
        }
        long lastContact = agent.map(AgentStore.Agent::lastContact).orElse(0L);
        if (replicating && now - lastContact > DISCONNECTED_AFTER.toMillis()) {
            health.add(HealthErrors.error("AgentNotConnected", HealthErrors.WARNING,
                    "The mobility agent has not contacted the server",
                    "No heartbeat from the agent of '" + agent.map(AgentStore.Agent::machineName).orElse(row.agentId())
                            + "' since " + Json.time(lastContact) + ".",
                    "The machine or its agent is stopped, or it can't reach the server.",
                    "Start the agent and check that it reaches the server over HTTPS.", row.agentId(), now));
        }
        int thresholdMinutes = policy.map(pl -> pl.properties().path("providerSpecificDetails")
                .path("recoveryPointThresholdInMinutes").asInt(15)).orElse(15);
        if (row.state().equals(ProtectionStore.PROTECTED) && itemRpo != null && itemRpo > thresholdMinutes * 60L) {
            health.add(HealthErrors.error("RpoThresholdExceeded", HealthErrors.WARNING, "RPO threshold exceeded",
                    "The newest recovery point of every disk is " + itemRpo + " seconds old; the policy's threshold is "
                            + thresholdMinutes + " minutes.",
                    "The agent can't upload changes as fast as the disk changes, or the server applies them slowly.",
                    "Check the agent's network, the churn (set churnMode High for high-churn machines) and the "
                            + "server's storage.", row.itemId(), now));
        }
        p.put("replicationHealth", HealthErrors.health(health));
        p.set("healthErrors", health);

        // The item's resync progress: the mean of its disks' (a disk not resyncing counts as done).
        number(details, "resyncProgressPercentage", resyncing ? Math.round(resyncProgress / disks.size()) : null);
        number(details, "rpoInSeconds", itemRpo);
        details.put("compressedDataRateInMB", uploadRate / MB);
        details.put("uncompressedDataRateInMB", dataRate / MB);
        details.putNull("ipAddress");
        details.put("agentVersion", agent.map(AgentStore.Agent::agentVersion).orElse(null));
        details.putNull("agentExpiryDate");
        details.put("isAgentUpdateRequired", "false");
        details.put("isRebootAfterUpdateRequired", "false");
        details.put("lastHeartbeat", agent.map(a -> Json.time(a.lastContact())).orElse(null));
        details.putNull("processServerId");
        details.put("processServerName", "SecondSite");
        details.put("multiVmGroupId", row.itemId());
        details.put("multiVmGroupName", body.path("name").asText());
        details.put("multiVmSyncStatus", policy.map(pl -> pl.properties().path("providerSpecificDetails")
                .path("multiVmSyncStatus").asText("Enable")).orElse("Enable"));
        details.set("protectedDisks", diskNodes);
        details.put("diskResized", Boolean.toString(resized));
        details.putNull("masterTargetId");
        details.put("osType", agent.map(AgentStore.Agent::osType).orElse(null));
        details.put("vhdName", disks.isEmpty() ? null : disks.getFirst().name());
        details.put("osDiskId", disks.isEmpty() ? null : disks.getFirst().diskId().toString());
        details.putArray("azureVMDiskDetails");
        details.put("recoveryAzureVMName", storedDetails.path("recoveryAzureVMName").asText(p.path("friendlyName").asText()));
        for (String field : TARGET_FIELDS) { // the Azure target accepted at enable (ProtectedItems)
            if (storedDetails.hasNonNull(field)) {
                details.set(field, storedDetails.get(field).deepCopy());
            }
        }
        details.putArray("vmNics");
        details.put("discoveryType", "PhysicalMachine");
        // The VM a failover recovered into, and a pending test failover's VM (SecondSite: testFailoverVmId).
        details.put("targetVmId", doc.path("failover").path("vmId").asText(null));
        details.put("testFailoverVmId", doc.path("test").path("vmId").asText(null));
        if (doc.path("reverse").isObject()) { // reprotected: replicating back from the recovered VM (SecondSite)
            ObjectNode reverse = details.putObject("reverseReplication");
            reverse.put("recoveredVmId", doc.path("reverse").path("vmId").asText());
            reverse.put("failbackMachineName", doc.path("reverse").path("machineName").asText());
            reverse.put("fullSync", doc.path("reverse").path("fullSync").asBoolean());
            reverse.put("policyId", doc.path("reverse").path("policyId").asText());
            if (doc.path("reverse").path("lastPass").isObject()) {
                reverse.set("lastPass", doc.path("reverse").path("lastPass").deepCopy());
            }
        }
        details.putArray("validationErrors");
        details.put("lastRpoCalculatedTime", Json.time(now));
        details.put("lastUpdateReceivedTime", lastUpdate == null ? null : Json.time(lastUpdate));
        details.put("replicaId", row.enableJobId());
        details.put("lastRecoveryPointReceived", lastPoint == null ? null : lastPoint.toString());
        details.put("totalDataTransferred", uploadedTotal);
        details.put("totalProgressHealth", row.state().equals(ProtectionStore.INITIAL_REPLICATION) ? "InProgress" : "None");
        // SecondSite visibility fields (not in ASR's model).
        number(details, "currentRpoSeconds", itemRpo);
        details.put("churnMode", row.churnMode());
        p.set("providerSpecificDetails", details);
        return body;
    }

    /**
     * How far a disk's resync has come: while resync is required, the agent's progress through its resync
     * (or full-resend) pass as its heartbeats reported it (ProtectionStore.recordAgentStats), 0 before that pass
     * starts; 100 for a disk not resyncing.
     */
    static double resyncProgress(ProtectionStore.Disk disk) {
        if (!disk.resyncRequired()) {
            return 100;
        }
        return disk.agentProgressPercent() == null ? 0 : disk.agentProgressPercent();
    }

    private static ObjectNode diskNode(ProtectionStore.Disk disk, DiskFigures f, long now) {
        ObjectNode d = Json.object();
        d.put("diskId", disk.diskId().toString());
        d.put("diskName", disk.name());
        d.put("protectionStage", f.lastPoint().isPresent() ? "Protected" : "InitialReplication");
        d.put("healthErrorCode", disk.healthError() == null ? null : disk.healthError().path("errorCode").asText());
        number(d, "rpoInSeconds", f.rpoSeconds().orElse(null));
        d.put("resyncRequired", Boolean.toString(disk.resyncRequired()));
        number(d, "resyncProgressPercentage", disk.resyncRequired() ? Math.round(resyncProgress(disk)) : null);
        number(d, "resyncDurationInSeconds", disk.resyncRequired() && disk.resyncStartedAt() != null
                ? (now - disk.resyncStartedAt()) / 1000 : null);
        d.put("resyncStartTime", disk.resyncStartedAt() == null ? null : Json.time(disk.resyncStartedAt()));
        d.put("agentActivity", disk.agentActivity()); // SecondSite: what the agent's pass is doing
        d.put("diskCapacityInBytes", disk.capacityBytes());
        d.put("capacityInBytes", disk.capacityBytes());
        d.putNull("fileSystemCapacityInBytes");
        d.put("sourceDataInMegaBytes", f.pendingUploadBytes() / MB);
        d.put("psDataInMegaBytes", f.pendingUploadBytes() / MB);
        d.put("targetDataInMegaBytes", f.pendingApplyBytes() / MB);
        d.put("diskResized", Boolean.toString(disk.diskResized()));
        d.put("lastRpoCalculatedTime", Json.time(now));
        // SecondSite visibility fields.
        d.put("pendingUploadBytes", f.pendingUploadBytes());
        d.put("pendingApplyBytes", f.pendingApplyBytes());
        d.put("churnMBps", f.churnBytesPerSecond() / MB);
        d.put("cacheBytes", f.cacheBytes());
        number(d, "recoveryStoreBytes", f.recoveryStoreBytes() < 0 ? null : f.recoveryStoreBytes());
        number(d, "recoveryPointCount", f.recoveryPoints() < 0 ? null : f.recoveryPoints());
        d.put("lastRecoveryPointTime", f.lastPoint().map(Object::toString).orElse(null));
        d.put("lastAppConsistentPointTime", f.lastAppPoint().map(Object::toString).orElse(null));
        d.put("lastAppliedSequence", f.lastAppliedSequence());
        d.put("nextSequence", f.nextSequence());
        return d;
    }

    static String describe(String state) {
        return switch (state) {
            case ProtectionStore.ENABLING -> "Enabling protection";
            case ProtectionStore.INITIAL_REPLICATION -> "Initial replication in progress";
            case ProtectionStore.PROTECTED -> "Protected";
            case ProtectionStore.RESYNCHRONIZING -> "Resynchronization in progress";
            case ProtectionStore.DISABLING -> "Disabling protection";
            case ProtectionStore.FAILOVER_IN_PROGRESS -> "Failover in progress";
            case ProtectionStore.PLANNED_FAILOVER_COMMIT_REQUIRED -> "Planned failover finished";
            case ProtectionStore.UNPLANNED_FAILOVER_COMMIT_PENDING -> "Failover completed";
            case ProtectionStore.COMMIT_IN_PROGRESS -> "Commit in progress";
            case ProtectionStore.FAILOVER_COMMITTED -> "Planned failover committed";
            default -> state;
        };
    }

    /** Re-renders the item and stores the result as its resource row (no-op when the resource is gone). */
    public void refresh(String itemId) {
        synchronized (locks.computeIfAbsent(ResourceStore.key(itemId), k -> new Object())) {
            resources.find(itemId).ifPresent(resource -> resources.put(resource.id(), null, ReplicationTypes.PROTECTED_ITEM,
                    resource.name(), resource.id().split("/")[2], render(resource)));
        }
    }

    /** The figures of every disk of an item. */
    public List<DiskFigures> figures(String itemId) {
        long now = clock.millis();
        List<DiskFigures> out = new ArrayList<>();
        for (ProtectionStore.Disk disk : store.disksOf(itemId)) {
            out.add(DiskFigures.of(disk, engine.runtime(disk.diskId()), now));
        }
        return out;
    }

    /** Puts a number, or null. */
    static void number(ObjectNode node, String field, Number value) {
        if (value == null) {
            node.putNull(field);
        } else if (value instanceof Integer i) {
            node.put(field, i);
        } else {
            node.put(field, value.longValue());
        }
    }
}
