package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.Operation;
import dev.secondsite.rules.RuleCatalogue;
import dev.secondsite.rules.ServerRegistrationFacts;
import dev.secondsite.vault.ReplicationTypes;
import dev.secondsite.vault.VaultScope;

import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Agent registration (agent-protocol §1-3): the ARM action that generates a registration key, the agent's
 * register call, and its heartbeats. A registered agent appears in the ARM API as a recovery services
 * provider of the fabric and as a protectable item of the fabric's first container.
 */
public final class Registrations {
    /** Fabric types agents register with: a configuration-server/physical site or a Hyper-V site. */
    static final List<String> AGENT_FABRICS = List.of("VMware", "HyperVSite");
    static final int DISKS_MAX = 64;
    private static final Pattern MACHINE_NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$");
    private static final Pattern DISK_NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$");
    private static final List<String> OS_TYPES = List.of("Windows", "Linux");

    private final ResourceStore resources;
    private final VaultScope scope;
    private final AgentStore agents;
    private final ProtectionStore store;
    private final ReplicationEngine engine;
    private final RegistrationKeys keys;
    private final Clock clock;

    public Registrations(ResourceStore resources, VaultScope scope, AgentStore agents, ProtectionStore store,
                         ReplicationEngine engine, RegistrationKeys keys, Clock clock) {
        this.resources = resources;
        this.scope = scope;
        this.agents = agents;
        this.store = store;
        this.engine = engine;
        this.keys = keys;
        this.clock = clock;
    }

    // ---- ARM: POST F/generateRegistrationKey ----

    public ArmResponse generateKey(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        String fabricName = request.path().name(1);
        StoredResource fabric = resources.require(vault.id() + "/replicationFabrics/" + fabricName);
        String type = fabric.properties().path("customDetails").path("instanceType").asText();
        if (!AGENT_FABRICS.contains(type)) {
            throw ArmException.badRequest("FabricTypeNotSupportedForRegistration", "Fabric '" + fabric.name()
                    + "' is a " + type + " fabric; agents register with a configuration server / physical site "
                    + "(instanceType VMware) or a Hyper-V site (HyperVSite).");
        }
        Instant issued = clock.instant();
        ObjectNode body = Json.object();
        body.put("registrationKey", keys.generate(vault.id(), fabric.id()));
        body.put("expiresAt", keys.expiresAt(issued).toString());
        body.put("fabricId", fabric.id());
        body.put("vaultId", vault.id());
        return ArmResponse.ok(body);
    }

    // ---- agent: POST /agent/v1/register ----

    /** Registers (or re-registers) an agent; returns the answer of agent-protocol §2. */
    public ObjectNode register(JsonNode bodyNode) {
        Fields body = Fields.of(bodyNode, "");
        RegistrationKeys.Key key = keys.verify(body.string("registrationKey").orElse(null));
        Instant now = clock.instant();
        Instant agentTime = time(body, "agentTime").orElseThrow(() -> ArmException.missingField("agentTime"));
        RuleCatalogue.enforce(Operation.REGISTER_SERVER, ServerRegistrationFacts.builder(
                        ServerRegistrationFacts.ServerType.PROCESS_SERVER, now, key.issuedAt(), agentTime)
                .ipv4Connectivity(true).build());
        StoredResource fabric = resources.find(key.fabricId()).orElseThrow(() -> new ArmException(404, "FabricNotFound",
                "The fabric this registration key was generated for no longer exists. Generate a key for an "
                        + "existing fabric."));
        StoredResource vault = resources.find(key.vaultId()).orElseThrow(() -> new ArmException(404, "VaultNotFound",
                "The vault this registration key was generated for no longer exists."));
        String machineName = body.requiredString("machineName");
        if (!MACHINE_NAME.matcher(machineName).matches()) {
            throw ArmException.invalidField("machineName", "'" + machineName + "' must be 1-63 letters, digits, "
                    + "'-', '_' or '.', starting with a letter or digit.");
        }
        String osType = body.oneOf("osType", OS_TYPES).orElseThrow(() -> ArmException.missingField("osType"));
        String agentVersion = body.string("agentVersion").orElse("1.0.0");
        ArrayNode disks = disks(body, true);
        // A machine that is an Azure VM (seed 001 moves Azure VMs between clouds as physical servers) says where.
        String azureRegion = body.string("azureRegion").map(r -> dev.secondsite.cloud.Regions.require(r, "azureRegion")
                .name()).orElse(null);

        StoredResource container = containerFor(fabric);
        String secret = AgentStore.newSecret();
        AgentStore.Agent agent = agents.register(UUID.randomUUID().toString(), secret, vault.id(), fabric.id(),
                container.id(), machineName, osType, agentVersion, disks, azureRegion, now.toEpochMilli());
        String providerId = putProvider(fabric, agent);
        String itemId = putProtectableItem(container, agent, providerId);

        ObjectNode answer = Json.object();
        answer.put("agentId", agent.id());
        answer.put("agentSecret", secret);
        answer.put("serverTime", now.toString());
        answer.put("vaultId", vault.id());
        answer.put("fabricId", fabric.id());
        answer.put("containerId", container.id());
        answer.put("providerId", providerId);
        answer.put("protectableItemId", itemId);
        return answer;
    }

    /** The fabric's first container, created as "{fabric}-container" when it has none. */
    private StoredResource containerFor(StoredResource fabric) {
        List<StoredResource> containers = resources.children(fabric.id(), ReplicationTypes.CONTAINER);
        if (!containers.isEmpty()) {
            return containers.getFirst();
        }
        String name = fabric.name() + "-container";
        String id = fabric.id() + "/replicationProtectionContainers/" + name;
        String fabricType = fabric.properties().path("customDetails").path("instanceType").asText();
        ObjectNode body = Json.object();
        body.put("id", id);
        body.put("name", name);
        body.put("type", ReplicationTypes.CONTAINER);
        if (fabric.body().hasNonNull("location")) {
            body.put("location", fabric.body().path("location").asText());
        }
        ObjectNode p = body.putObject("properties");
        p.put("fabricFriendlyName", fabric.properties().path("friendlyName").asText(fabric.name()));
        p.put("friendlyName", name);
        p.put("fabricType", fabricType);
        p.put("protectedItemCount", 0);
        p.put("pairingStatus", "NotPaired");
        p.put("role", "Primary");
        p.putObject("fabricSpecificDetails").put("instanceType", fabricType);
        return resources.put(id, fabric.id(), ReplicationTypes.CONTAINER, name, fabric.id().split("/")[2], body);
    }

    private String putProvider(StoredResource fabric, AgentStore.Agent agent) {
        String id = fabric.id() + "/replicationRecoveryServicesProviders/" + agent.machineName();
        ObjectNode body = Json.object();
        body.put("id", id);
        body.put("name", agent.machineName());
        body.put("type", ReplicationTypes.PROVIDER);
        ObjectNode p = body.putObject("properties");
        p.put("fabricType", fabric.properties().path("customDetails").path("instanceType").asText());
        p.put("friendlyName", agent.machineName());
        p.put("providerVersion", agent.agentVersion());
        p.put("serverVersion", agent.agentVersion());
        p.put("providerVersionState", "Latest");
        p.putNull("providerVersionExpiryDate");
        p.put("fabricFriendlyName", fabric.properties().path("friendlyName").asText(fabric.name()));
        p.putArray("allowedScenarios");
        p.putArray("healthErrorDetails");
        p.put("draIdentifier", agent.id());
        p.put("machineId", agent.id());
        p.put("machineName", agent.machineName());
        p.put("biosId", "");
        p.putNull("authenticationIdentityDetails");
        p.putNull("resourceAccessIdentityDetails");
        p.putNull("dataPlaneAuthenticationIdentityDetails");
        ObjectNode version = p.putObject("providerVersionDetails");
        version.put("version", agent.agentVersion());
        version.putNull("expiryDate");
        version.put("status", "Supported");
        resources.put(id, fabric.id(), ReplicationTypes.PROVIDER, agent.machineName(), fabric.id().split("/")[2], body);
        return id;
    }

    private String putProtectableItem(StoredResource container, AgentStore.Agent agent, String providerId) {
        String id = container.id() + "/replicationProtectableItems/" + agent.machineName();
        ObjectNode body = Json.object();
        body.put("id", id);
        body.put("name", agent.machineName());
        body.put("type", ReplicationTypes.PROTECTABLE_ITEM);
        ObjectNode p = body.putObject("properties");
        p.put("friendlyName", agent.machineName());
        p.put("recoveryServicesProviderId", providerId);
        p.putArray("protectionReadinessErrors");
        p.putArray("supportedReplicationProviders").add("InMageAzureV2");
        ObjectNode custom = p.putObject("customDetails");
        custom.put("instanceType", "VMwareVirtualMachine");
        custom.put("agentGeneratedId", agent.id());
        resources.put(id, container.id(), ReplicationTypes.PROTECTABLE_ITEM, agent.machineName(),
                container.id().split("/")[2], body);
        return id;
    }

    // ---- agent: POST /agent/v1/heartbeat ----

    /** Records a heartbeat and answers with what each disk should do (agent-protocol §3). */
    public ObjectNode heartbeat(AgentStore.Agent agent, JsonNode bodyNode) {
        Fields body = Fields.of(bodyNode, "");
        Instant now = clock.instant();
        Instant agentTime = time(body, "agentTime").orElse(now);
        ArrayNode reported = body.has("disks") ? disks(body, false) : agent.disks();
        agents.heartbeat(agent.id(), now.toEpochMilli(), agentTime.toEpochMilli(), reported);

        Map<String, JsonNode> byName = new LinkedHashMap<>();
        reported.forEach(d -> byName.put(d.path("name").asText(), d));
        Fields stats = body.object("stats");
        List<ProtectionStore.Disk> protectedDisks = store.disksOfAgent(agent.id());
        Map<String, ProtectionStore.Disk> protectedByName = new LinkedHashMap<>();
        protectedDisks.forEach(d -> protectedByName.put(d.name(), d));
        Optional<ProtectionStore.Item> item = store.itemsOfAgent(agent.id()).stream().findFirst();
        JsonNode policy = item.flatMap(i -> resources.find(i.policyId()))
                .map(pl -> pl.properties().path("providerSpecificDetails")).orElse(Json.object());

        Set<String> names = new java.util.LinkedHashSet<>(byName.keySet());
        names.addAll(protectedByName.keySet());
        ObjectNode answer = Json.object();
        answer.put("serverTime", now.toString());
        // Directives (agent-protocol §3 "Shutdown", "Failback"): the agent's report, then the standing request.
        for (String kind : List.of(AgentStore.SHUTDOWN, AgentStore.FAILBACK)) {
            Fields report = body.object(kind);
            if (report.present()) {
                agents.report(agent.id(), kind, report.requiredString("requestId"), report.oneOf("status",
                        List.of("Completed", "Failed")).orElseThrow(() -> ArmException.missingField(kind + ".status")),
                        report.string("message").orElse(null));
            }
        }
        agents.directive(agent.id()).ifPresent(d -> {
            ObjectNode request = d.request().deepCopy();
            request.remove("server"); // what the server keeps for itself (the points to write back)
            answer.set(d.kind(), request);
        });
        // The agent replicates only while its machine is the active (primary) location.
        boolean primaryActive = item.map(i -> i.activeLocation().equals("Primary")).orElse(true);
        ArrayNode disks = answer.putArray("disks");
        for (String name : names) {
            ObjectNode d = disks.addObject();
            d.put("name", name);
            ProtectionStore.Disk disk = protectedByName.get(name);
            Optional<ReplicationEngine.DiskRuntime> rt = disk == null ? Optional.empty() : engine.runtime(disk.diskId());
            boolean replicate = disk != null && disk.replicating() && rt.isPresent() && rt.get().active() && primaryActive;
            if (disk == null) {
                d.putNull("diskId");
                d.put("replicate", false);
                continue;
            }
            d.put("diskId", disk.diskId().toString());
            d.put("replicate", replicate);
            // Durable, not merely received: an agent that starts again resends what the server only holds in memory.
            d.put("nextSequence", rt.map(ReplicationEngine.DiskRuntime::durableNext).orElse(disk.nextSequence()));
            d.put("chunkBytes", disk.chunkBytes());
            d.put("resync", disk.resyncRequired());
            if (disk.resyncRequired()) {
                d.put("resyncId", disk.resyncId());
                d.put("resyncFull", disk.resyncFull());
            }
            d.put("crashConsistentSeconds", policy.path("crashConsistentFrequencyInMinutes").asInt(5) * 60);
            d.put("appConsistentSeconds", policy.path("appConsistentFrequencyInMinutes").asInt(60) * 60);
            d.put("churnMode", item.map(ProtectionStore.Item::churnMode).orElse("Normal"));
            JsonNode now_ = byName.get(name);
            if (now_ != null && now_.path("sizeBytes").asLong() != disk.capacityBytes() && !disk.diskResized()) {
                store.setResized(disk.diskId(), true);
            }
            Fields s = stats.object(name);
            if (s.present()) {
                long pending = s.raw("pendingBytes").asLong(0);
                double churn = s.raw("churnBytesPerSecond").asDouble(0);
                if (pending < 0 || churn < 0 || !Double.isFinite(churn)) {
                    throw ArmException.invalidField("stats." + name, "pendingBytes and churnBytesPerSecond must be >= 0.");
                }
                String activity = s.raw("activity").isTextual() ? s.raw("activity").asText() : null;
                if (activity != null && !activity.matches("[A-Za-z]{1,32}")) {
                    throw ArmException.invalidField("stats." + name + ".activity", "must be a word of 1 to 32 letters"
                            + " such as Resync.");
                }
                Double progress = s.raw("scanProgressPercent").isNumber() ? s.raw("scanProgressPercent").asDouble() : null;
                if (progress != null && !(progress >= 0 && progress <= 100)) {
                    throw ArmException.invalidField("stats." + name + ".scanProgressPercent", "must be 0 to 100.");
                }
                store.recordAgentStats(disk.diskId(), pending, churn, activity, resyncProgress(disk, activity, progress,
                        s.raw("completedResyncId").asText(null)));
            }
        }
        return answer;
    }

    /**
     * The disk's resync progress from a heartbeat, or null to keep the recorded one: 100 once the agent reports
     * the requested resync's pass acknowledged, the pass's scan progress while it runs (a full resend also
     * rereads the disk), else unchanged (0 from the request until the pass starts; kept when the agent goes
     * Idle between a pass and its marker being applied).
     */
    static Double resyncProgress(ProtectionStore.Disk disk, String activity, Double scanProgress, String completedResyncId) {
        if (!disk.resyncRequired()) {
            return null;
        }
        if (disk.resyncId() != null && disk.resyncId().equals(completedResyncId)) {
            return 100.0;
        }
        boolean rereading = "Resync".equals(activity) || "FullResend".equals(activity);
        return rereading ? scanProgress : null;
    }

    // ---- shared parsing ----

    private static Optional<Instant> time(Fields body, String field) {
        return body.string(field).map(text -> {
            try {
                return Instant.parse(text);
            } catch (DateTimeParseException e) {
                throw ArmException.invalidField(field, "'" + text + "' is not an ISO-8601 UTC time such as "
                        + "2026-11-23T12:00:00Z.");
            }
        });
    }

    /** The disks array of a register or heartbeat body, checked field by field. */
    static ArrayNode disks(Fields body, boolean required) {
        JsonNode raw = body.raw("disks");
        if (raw.isMissingNode() || raw.isNull()) {
            if (required) {
                throw ArmException.missingField("disks");
            }
            return Json.MAPPER.createArrayNode();
        }
        if (!raw.isArray()) {
            throw ArmException.invalidField("disks", "must be an array of {name, sizeBytes, ...}.");
        }
        if (raw.size() > DISKS_MAX) {
            throw ArmException.invalidField("disks", "has " + raw.size() + " disks; at most " + DISKS_MAX + " are supported.");
        }
        ArrayNode disks = Json.MAPPER.createArrayNode();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < raw.size(); i++) {
            Fields d = Fields.of(raw.get(i), "disks[" + i + "]");
            String name = d.requiredString("name");
            if (!DISK_NAME.matcher(name).matches()) {
                throw ArmException.invalidField(d.path("name"), "'" + name + "' must be 1-128 letters, digits, "
                        + "'-', '_', '.' or ':', starting with a letter or digit.");
            }
            if (!names.add(name.toLowerCase(Locale.ROOT))) {
                throw ArmException.invalidField(d.path("name"), "disk '" + name + "' is listed twice.");
            }
            JsonNode size = d.raw("sizeBytes");
            if (!size.isIntegralNumber() || !size.canConvertToLong() || size.asLong() < 512
                    || size.asLong() > DiskGeometry.VIRTUAL_BYTES_MAX) {
                throw ArmException.invalidField(d.path("sizeBytes"), "must be a whole number of bytes between 512 and "
                        + DiskGeometry.VIRTUAL_BYTES_MAX + ", got " + size + ".");
            }
            ObjectNode disk = disks.addObject();
            disk.put("name", name);
            disk.put("path", d.string("path").orElse(null));
            disk.put("sizeBytes", size.asLong());
            disk.put("logicalSectorBytes", sector(d, "logicalSectorBytes"));
            disk.put("physicalSectorBytes", sector(d, "physicalSectorBytes"));
            disk.put("format", d.string("format").orElse("RAW"));
        }
        return disks;
    }

    private static int sector(Fields d, String field) {
        int value = d.integer(field, 512, 4096).orElse(512);
        if (value != 512 && value != 4096) {
            throw ArmException.invalidField(d.path(field), "must be 512 or 4096, got " + value + ".");
        }
        return value;
    }
}
