package dev.secondsite.vault;

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
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;

import java.util.List;
import java.util.Optional;

import static dev.secondsite.jobs.Workflow.task;

/** Protection containers (a cloud / an Azure region's container) inside a fabric. Removal is POST remove only. */
public final class Containers {
    private final ResourceStore resources;
    private final Fabrics fabrics;
    private final VaultScope scope;
    private final JobsApi jobs;
    private final Workflow create = new Workflow("CreateProtectionContainer", "Create protection container", List.of(
            task("CreateContainer", "Create protection container", this::applyCreate)));
    private final Workflow remove = new Workflow("RemoveProtectionContainer", "Remove protection container", List.of(
            task("PrerequisitesCheck", "Prerequisites check for removing the container", this::checkRemove),
            task("RemoveContainer", "Remove protection container", this::applyRemove)));

    public Containers(ResourceStore resources, Fabrics fabrics, VaultScope scope, JobsApi jobs) {
        this.resources = resources;
        this.fabrics = fabrics;
        this.scope = scope;
        this.jobs = jobs;
    }

    public List<Workflow> workflows() {
        return List.of(create, remove);
    }

    public ArmResponse put(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource fabric = fabrics.require(request);
        String name = request.path().name();
        AsrResource.checkName("protection container", name);
        JsonNode specific = Fields.of(request.bodyObject(), "").object("properties").raw("providerSpecificInput");
        ArrayNode inputs = Json.MAPPER.createArrayNode();
        if (!specific.isMissingNode() && !specific.isNull()) {
            if (!specific.isArray()) {
                throw ArmException.invalidField("properties.providerSpecificInput", "must be an array of {instanceType}.");
            }
            for (int i = 0; i < specific.size(); i++) {
                Fields item = Fields.of(specific.get(i), "properties.providerSpecificInput[" + i + "]");
                item.oneOf("instanceType", List.of("A2A", "A2ACrossClusterMigration", "VMwareCbt",
                                "ReplicationProviderSpecificContainerCreationInput"))
                        .orElseThrow(() -> ArmException.missingField(item.path("instanceType")));
                inputs.add(specific.get(i));
            }
        }
        ObjectNode input = Json.object();
        input.put("id", fabric.id() + "/replicationProtectionContainers/" + name);
        input.put("name", name);
        input.put("fabricId", fabric.id());
        return jobs.accept(request, new JobStore.NewJob(vault.id(), create, input.path("id").asText(), name,
                "ProtectionContainer", input, request.principal().clientId()));
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(require(request).bodyCopy());
    }

    public ArmResponse listByFabric(ArmRequest request) {
        StoredResource fabric = fabrics.require(request);
        return ArmResponse.ok(ResourceGroups.collection(resources.children(fabric.id(), ReplicationTypes.CONTAINER)));
    }

    public ArmResponse listByVault(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        return ArmResponse.ok(ResourceGroups.collection(resources.descendants(vault.id(), ReplicationTypes.CONTAINER)));
    }

    public ArmResponse remove(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource container = require(request);
        ensureEmpty(container);
        ObjectNode input = Json.object();
        input.put("id", container.id());
        return jobs.accept(request, new JobStore.NewJob(vault.id(), remove, container.id(), container.name(),
                "ProtectionContainer", input, request.principal().clientId()));
    }

    StoredResource require(ArmRequest request) {
        StoredResource fabric = fabrics.require(request);
        String name = request.path().name(2);
        return resources.require(fabric.id() + "/replicationProtectionContainers/" + name);
    }

    private void ensureEmpty(StoredResource container) {
        int mappings = resources.children(container.id(), ReplicationTypes.MAPPING).size();
        int items = resources.children(container.id(), ReplicationTypes.PROTECTED_ITEM).size();
        if (mappings + items > 0) {
            throw ArmException.conflict("ProtectionContainerNotEmpty", "Protection container '" + container.name()
                    + "' has " + mappings + " mappings and " + items + " protected items. Disable replication and "
                    + "remove its mappings before removing it.");
        }
    }

    // ---- job steps ----

    private void applyCreate(JobContext ctx) {
        ObjectNode in = ctx.input();
        String id = in.path("id").asText();
        StoredResource fabric = resources.require(in.path("fabricId").asText());
        Optional<StoredResource> existing = resources.find(id);
        ObjectNode body = existing.map(StoredResource::bodyCopy).orElseGet(() -> {
            ObjectNode b = AsrResource.body(id, in.path("name").asText(), ReplicationTypes.CONTAINER,
                    fabric.body().path("location").asText(null));
            ObjectNode p = (ObjectNode) b.path("properties");
            String fabricType = fabric.properties().path("customDetails").path("instanceType").asText();
            p.put("fabricFriendlyName", fabric.properties().path("friendlyName").asText());
            p.put("friendlyName", in.path("name").asText());
            p.put("fabricType", fabricType);
            p.put("protectedItemCount", 0);
            p.put("pairingStatus", "NotPaired");
            p.put("role", "Primary");
            p.putObject("fabricSpecificDetails").put("instanceType", fabricType);
            return b;
        });
        resources.put(id, fabric.id(), ReplicationTypes.CONTAINER, in.path("name").asText(),
                fabric.id().split("/")[2], body);
        ctx.result(id);
    }

    private void checkRemove(JobContext ctx) {
        resources.find(ctx.input().path("id").asText()).ifPresent(this::ensureEmpty);
    }

    private void applyRemove(JobContext ctx) {
        resources.delete(ctx.input().path("id").asText());
    }
}
