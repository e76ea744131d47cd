package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Json;
import dev.secondsite.jobs.JobContext;
import dev.secondsite.jobs.JobStore;
import dev.secondsite.jobs.JobsApi;
import dev.secondsite.jobs.Workflow;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.ReplicationTypes;
import dev.secondsite.vault.VaultScope;

import java.time.Clock;
import java.util.List;
import java.util.Optional;

import static dev.secondsite.jobs.Workflow.task;

/**
 * Registered agents as ARM resources: recovery services providers (with "Last Contact At": lastHeartBeat
 * and connectionStatus) and the protectable items they discovered (with their disks). Both are stored rows
 * whose changing parts are filled in from the agents table at every GET.
 */
public final class Providers {
    private final ResourceStore resources;
    private final VaultScope scope;
    private final AgentStore agents;
    private final ProtectionStore store;
    private final JobsApi jobs;
    private final Clock clock;
    private final Workflow remove = new Workflow("RemoveRecoveryServicesProvider", "Unregister server", List.of(
            task("PrerequisitesCheck", "Prerequisites check for unregistering the server", this::checkRemove),
            task("UnregisterServer", "Unregister server", this::applyRemove)));

    public Providers(ResourceStore resources, VaultScope scope, AgentStore agents, ProtectionStore store, JobsApi jobs,
                     Clock clock) {
        this.resources = resources;
        this.scope = scope;
        this.agents = agents;
        this.store = store;
        this.jobs = jobs;
        this.clock = clock;
    }

    public List<Workflow> workflows() {
        return List.of(remove);
    }

    // ---- providers ----

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(renderProvider(requireProvider(request)));
    }

    public ArmResponse listByFabric(ArmRequest request) {
        StoredResource fabric = requireFabric(request);
        return ArmResponse.ok(collection(resources.children(fabric.id(), ReplicationTypes.PROVIDER), true));
    }

    public ArmResponse listByVault(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        return ArmResponse.ok(collection(resources.descendants(vault.id(), ReplicationTypes.PROVIDER), true));
    }

    /** DELETE (purge) and POST remove: unregister the agent; refused while it replicates a machine. */
    public ArmResponse remove(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource fabric = requireFabric(request);
        Optional<StoredResource> provider = resources.find(fabric.id() + "/replicationRecoveryServicesProviders/"
                + request.path().name(2));
        if (provider.isEmpty()) {
            if (request.method().equals("DELETE")) {
                return ArmResponse.noContent();
            }
            throw ArmException.notFound(request.path().resourceId());
        }
        ensureUnused(provider.get());
        ObjectNode input = Json.object();
        input.put("id", provider.get().id());
        input.put("agentId", provider.get().properties().path("machineId").asText());
        return jobs.accept(request, new JobStore.NewJob(vault.id(), remove, provider.get().id(), provider.get().name(),
                "RecoveryServicesProvider", input, request.principal().clientId()));
    }

    private void ensureUnused(StoredResource provider) {
        String agentId = provider.properties().path("machineId").asText();
        if (!store.itemsOfAgent(agentId).isEmpty()) {
            throw ArmException.conflict("ProviderHasProtectedItems", "Server '" + provider.name()
                    + "' still replicates a machine. Disable its replication first.");
        }
    }

    private void checkRemove(JobContext ctx) {
        resources.find(ctx.input().path("id").asText()).ifPresent(this::ensureUnused);
    }

    private void applyRemove(JobContext ctx) {
        String agentId = ctx.input().path("agentId").asText();
        Optional<AgentStore.Agent> agent = agents.find(agentId);
        agent.ifPresent(a -> resources.delete(a.containerId() + "/replicationProtectableItems/" + a.machineName()));
        resources.delete(ctx.input().path("id").asText());
        agents.delete(agentId);
    }

    ObjectNode renderProvider(StoredResource provider) {
        ObjectNode body = provider.bodyCopy();
        ObjectNode p = (ObjectNode) body.path("properties");
        Optional<AgentStore.Agent> agent = agents.find(p.path("machineId").asText());
        long now = clock.millis();
        if (agent.isPresent()) {
            long last = agent.get().lastContact();
            p.put("lastHeartBeat", Json.time(last));
            p.put("connectionStatus", now - last <= ItemView.DISCONNECTED_AFTER.toMillis() ? "Connected" : "Disconnected");
            p.put("protectedItemCount", store.itemsOfAgent(agent.get().id()).size());
            p.put("providerVersion", agent.get().agentVersion());
            p.put("serverVersion", agent.get().agentVersion());
        } else {
            p.putNull("lastHeartBeat");
            p.put("connectionStatus", "Disconnected");
            p.put("protectedItemCount", 0);
        }
        return body;
    }

    // ---- protectable items ----

    public ArmResponse getProtectable(ArmRequest request) {
        StoredResource container = requireContainer(request);
        String name = request.path().name(3);
        StoredResource item = resources.require(container.id() + "/replicationProtectableItems/" + name);
        return ArmResponse.ok(renderProtectable(item));
    }

    public ArmResponse listProtectable(ArmRequest request) {
        StoredResource container = requireContainer(request);
        String stateFilter = filterState(request.query().get("$filter"));
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        for (StoredResource item : resources.children(container.id(), ReplicationTypes.PROTECTABLE_ITEM)) {
            ObjectNode body = renderProtectable(item);
            String status = body.path("properties").path("protectionStatus").asText();
            if (stateFilter == null || stateFilter.equalsIgnoreCase(status)) {
                value.add(body);
            }
        }
        return ArmResponse.ok(list);
    }

    ObjectNode renderProtectable(StoredResource item) {
        ObjectNode body = item.bodyCopy();
        ObjectNode p = (ObjectNode) body.path("properties");
        ObjectNode custom = (ObjectNode) p.path("customDetails");
        Optional<AgentStore.Agent> agent = agents.find(custom.path("agentGeneratedId").asText());
        Optional<ProtectionStore.Item> protectedItem = agent.flatMap(a -> store.itemsOfAgent(a.id()).stream().findFirst());
        p.put("protectionStatus", protectedItem.isPresent() ? "Protected" : "Unprotected");
        p.put("replicationProtectedItemId", protectedItem.map(ProtectionStore.Item::itemId).orElse(null));
        if (agent.isPresent()) {
            AgentStore.Agent a = agent.get();
            custom.put("agentInstalled", "true");
            custom.put("osType", a.osType());
            custom.put("agentVersion", a.agentVersion());
            custom.putNull("ipAddress");
            custom.put("poweredOn", Boolean.toString(clock.millis() - a.lastContact()
                    <= ItemView.DISCONNECTED_AFTER.toMillis()));
            custom.putNull("vCenterInfrastructureId");
            custom.put("discoveryType", "PhysicalMachine");
            custom.put("diskCount", a.disks().size());
            ArrayNode details = custom.putArray("diskDetails");
            for (JsonNode d : a.disks()) {
                ObjectNode detail = details.addObject();
                detail.put("maxSizeMB", d.path("sizeBytes").asLong() / (1024 * 1024));
                detail.put("vhdType", d.path("format").asText());
                detail.put("vhdId", d.path("name").asText());
                detail.put("vhdName", d.path("name").asText());
            }
            custom.putArray("validationErrors");
            custom.put("lastDiscoveryTimeInUtc", Json.time(a.lastContact()));
            custom.set("disks", a.disks().deepCopy());
        }
        return body;
    }

    // ---- lookups ----

    private StoredResource requireFabric(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        String name = request.path().name(1);
        return resources.require(vault.id() + "/replicationFabrics/" + name);
    }

    private StoredResource requireContainer(ArmRequest request) {
        StoredResource fabric = requireFabric(request);
        String name = request.path().name(2);
        return resources.require(fabric.id() + "/replicationProtectionContainers/" + name);
    }

    private StoredResource requireProvider(ArmRequest request) {
        StoredResource fabric = requireFabric(request);
        String name = request.path().name(2);
        return resources.require(fabric.id() + "/replicationRecoveryServicesProviders/" + name);
    }

    private ObjectNode collection(List<StoredResource> rows, boolean providers) {
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        rows.forEach(r -> value.add(providers ? renderProvider(r) : renderProtectable(r)));
        return list;
    }

    /** Reads "state eq 'Unprotected'" from a $filter. */
    private static String filterState(String filter) {
        if (filter == null) {
            return null;
        }
        var m = java.util.regex.Pattern.compile("state\\s+eq\\s+'([^']*)'", java.util.regex.Pattern.CASE_INSENSITIVE)
                .matcher(filter);
        return m.find() ? m.group(1) : null;
    }
}
