package dev.secondsite.vault;

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
import java.util.UUID;

import static dev.secondsite.jobs.Workflow.task;

/**
 * Fabrics: the sites replication runs between. An Azure fabric is a region (A2A); a Hyper-V site holds
 * Hyper-V hosts; a VMware/physical fabric is a configuration server (seed 001). DELETE purges a fabric
 * and all it holds; POST remove is the clean removal, refused while it still protects anything.
 */
public final class Fabrics {
    static final List<String> CREATION_TYPES =
            List.of("Azure", "HyperVSite", "FabricSpecificCreationInput", "VMware", "VMwareV2", "InMageRcm");

    private final ResourceStore resources;
    private final VaultScope scope;
    private final JobsApi jobs;
    private final Workflow create = new Workflow("CreateFabric", "Create site", List.of(
            task("CreateFabric", "Create site", this::applyCreate)));
    private final Workflow remove = new Workflow("RemoveFabric", "Remove site", List.of(
            task("PrerequisitesCheck", "Prerequisites check for removing the site", this::checkRemove),
            task("RemoveFabric", "Remove site", this::applyRemove)));
    private final Workflow purge = new Workflow("PurgeFabric", "Delete site", List.of(
            task("RemoveFabric", "Delete site and everything it holds", this::applyRemove)));

    public Fabrics(ResourceStore resources, VaultScope scope, JobsApi jobs) {
        this.resources = resources;
        this.scope = scope;
        this.jobs = jobs;
    }

    public List<Workflow> workflows() {
        return List.of(create, remove, purge);
    }

    public ArmResponse put(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        String name = request.path().name();
        AsrResource.checkName("fabric", name);
        Fields custom = Fields.of(request.bodyObject(), "").object("properties").object("customDetails");
        String type = custom.present()
                ? custom.oneOf("instanceType", CREATION_TYPES)
                        .orElseThrow(() -> ArmException.missingField("properties.customDetails.instanceType"))
                : "HyperVSite";
        ObjectNode details = Json.object();
        switch (type) {
            case "Azure" -> {
                details.put("instanceType", "Azure");
                details.put("location", Locations.normalize(custom.string("location")
                        .orElseThrow(() -> ArmException.missingField("properties.customDetails.location"))));
                details.putArray("containerIds");
                details.putArray("zones");
                details.putArray("extendedLocations");
                details.putArray("locationDetails");
            }
            case "HyperVSite", "FabricSpecificCreationInput" -> {
                details.put("instanceType", "HyperVSite");
                details.putArray("hyperVHosts");
            }
            case "VMware" -> {
                details.put("instanceType", "VMware");
                details.putArray("processServers");
                details.putArray("masterTargetServers");
                details.putArray("runAsAccounts");
            }
            case "VMwareV2" -> {
                details.put("instanceType", "VMwareV2");
                details.put("migrationSolutionId", custom.requiredString("migrationSolutionId"));
                custom.string("vmwareSiteId").ifPresent(v -> details.put("vmwareSiteId", v));
                custom.string("physicalSiteId").ifPresent(v -> details.put("physicalSiteId", v));
            }
            case "InMageRcm" -> {
                details.put("instanceType", "InMageRcm");
                details.put("vmwareSiteId", custom.requiredString("vmwareSiteId"));
                details.put("physicalSiteId", custom.requiredString("physicalSiteId"));
                Fields identity = custom.object("sourceAgentIdentity");
                if (!identity.present()) {
                    throw ArmException.missingField("properties.customDetails.sourceAgentIdentity");
                }
                ObjectNode agent = details.putObject("sourceAgentIdentityDetails");
                for (String f : List.of("tenantId", "applicationId", "objectId", "audience", "aadAuthority")) {
                    agent.put(f, identity.requiredString(f));
                }
                details.putArray("processServers");
                details.putArray("agentDetails");
            }
            default -> throw new IllegalStateException(type);
        }
        String id = vault.id() + "/replicationFabrics/" + name;
        Optional<StoredResource> existing = resources.find(id);
        if (existing.isPresent()) {
            String currentType = existing.get().properties().path("customDetails").path("instanceType").asText();
            if (!currentType.equals(details.path("instanceType").asText())) {
                throw ArmException.conflict("FabricTypeMismatch", "Fabric '" + name + "' already exists as '"
                        + currentType + "'; delete it before creating a '" + details.path("instanceType").asText() + "' fabric.");
            }
        }
        ObjectNode input = Json.object();
        input.put("id", id);
        input.put("name", name);
        input.set("details", details);
        return jobs.accept(request, new JobStore.NewJob(vault.id(), create, id, name, "Fabric", input,
                request.principal().clientId()));
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(require(request).bodyCopy());
    }

    public ArmResponse list(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        return ArmResponse.ok(ResourceGroups.collection(resources.children(vault.id(), ReplicationTypes.FABRIC)));
    }

    /** DELETE: purge the fabric and everything under it. */
    public ArmResponse purge(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        Optional<StoredResource> fabric = resources.find(vault.id() + "/replicationFabrics/" + request.path().name());
        if (fabric.isEmpty()) {
            return ArmResponse.noContent();
        }
        return jobs.accept(request, removal(request, vault, fabric.get(), purge));
    }

    /** POST remove: the clean removal, refused while the fabric still protects anything. */
    public ArmResponse remove(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource fabric = require(request);
        ensureEmpty(fabric);
        return jobs.accept(request, removal(request, vault, fabric, remove));
    }

    private static JobStore.NewJob removal(ArmRequest request, StoredResource vault, StoredResource fabric, Workflow w) {
        ObjectNode input = Json.object();
        input.put("id", fabric.id());
        return new JobStore.NewJob(vault.id(), w, fabric.id(), fabric.name(), "Fabric", input,
                request.principal().clientId());
    }

    StoredResource require(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        String name = request.path().name(1);
        return resources.require(vault.id() + "/replicationFabrics/" + name);
    }

    private void ensureEmpty(StoredResource fabric) {
        int items = resources.descendants(fabric.id(), ReplicationTypes.PROTECTED_ITEM).size();
        int mappings = resources.descendants(fabric.id(), ReplicationTypes.MAPPING).size();
        if (items + mappings > 0) {
            throw ArmException.conflict("FabricNotEmpty", "Site '" + fabric.name() + "' still has " + items
                    + " protected items and " + mappings + " container mappings. Disable replication and remove the "
                    + "mappings first, or delete the site (DELETE) to purge everything it holds.");
        }
    }

    // ---- job steps ----

    private void applyCreate(JobContext ctx) {
        ObjectNode in = ctx.input();
        String vaultId = ctx.job().vaultId();
        StoredResource vault = resources.require(vaultId);
        String id = in.path("id").asText();
        Optional<StoredResource> existing = resources.find(id);
        ObjectNode body = existing.map(StoredResource::bodyCopy).orElseGet(() -> {
            ObjectNode b = AsrResource.body(id, in.path("name").asText(), ReplicationTypes.FABRIC,
                    vault.body().path("location").asText());
            ObjectNode p = (ObjectNode) b.path("properties");
            p.put("friendlyName", in.path("name").asText());
            p.putObject("encryptionDetails").put("kekState", "None");
            p.putObject("rolloverEncryptionDetails").put("kekState", "None");
            p.put("internalIdentifier", UUID.randomUUID().toString());
            p.put("bcdrState", "Valid");
            p.putArray("healthErrorDetails");
            p.put("health", "Normal");
            p.set("customDetails", in.path("details"));
            return b;
        });
        resources.put(id, vaultId, ReplicationTypes.FABRIC, in.path("name").asText(), vaultId.split("/")[2], body);
        ctx.result(id);
    }

    private void checkRemove(JobContext ctx) {
        resources.find(ctx.input().path("id").asText()).ifPresent(this::ensureEmpty);
    }

    private void applyRemove(JobContext ctx) {
        resources.delete(ctx.input().path("id").asText());
    }
}
