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
import java.util.Map;
import java.util.Optional;

import static dev.secondsite.jobs.Workflow.task;

/**
 * Protection container mappings: pair a source container with a recovery container (or "Microsoft Azure")
 * under a policy. The policy's scenario must fit the source fabric: A2A pairs two Azure regions,
 * HyperVReplicaAzure a Hyper-V site with Azure, InMageAzureV2/InMageRcm a VMware/physical site with Azure.
 */
public final class ContainerMappings {
    /** Which source fabric types each policy scenario replicates from. */
    private static final Map<String, List<String>> SOURCE_FABRICS = Map.of(
            "A2A", List.of("Azure"),
            "HyperVReplicaAzure", List.of("HyperVSite", "VMM"),
            "InMageAzureV2", List.of("VMware"),
            "InMageRcm", List.of("InMageRcm", "VMware"),
            "VMwareCbt", List.of("VMwareV2"),
            "InMage", List.of("Azure"),
            "InMageRcmFailback", List.of("Azure"));

    private final ResourceStore resources;
    private final Containers containers;
    private final VaultScope scope;
    private final JobsApi jobs;
    private final Workflow create = new Workflow("ConfigureProtection", "Create protection container mapping",
            List.of(task("PrerequisitesCheck", "Prerequisites check for the container mapping", this::checkCreate),
                    task("PairContainers", "Pair protection containers", this::applyCreate),
                    task("AssociatePolicy", "Associate replication policy", ctx -> { })));
    private final Workflow update = new Workflow("UpdateProtectionContainerMapping",
            "Update protection container mapping", List.of(
                    task("UpdateMapping", "Update protection container mapping", this::applyUpdate)));
    private final Workflow remove = new Workflow("RemoveProtectionContainerMapping",
            "Remove protection container mapping", List.of(
                    task("PrerequisitesCheck", "Prerequisites check for removing the mapping", this::checkRemove),
                    task("UnpairContainers", "Unpair protection containers", this::applyRemove)));

    public ContainerMappings(ResourceStore resources, Containers containers, VaultScope scope, JobsApi jobs) {
        this.resources = resources;
        this.containers = containers;
        this.scope = scope;
        this.jobs = jobs;
    }

    public List<Workflow> workflows() {
        return List.of(create, update, remove);
    }

    public ArmResponse put(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource source = containers.require(request);
        String name = request.path().name();
        AsrResource.checkName("container mapping", name);
        Fields props = Fields.of(request.bodyObject(), "").object("properties");
        String policyId = props.requiredString("policyId");
        String targetId = props.requiredString("targetProtectionContainerId");
        Fields specific = props.object("providerSpecificInput");
        ObjectNode details = Json.object();
        if (specific.present()) {
            String type = specific.oneOf("instanceType", List.of("A2A", "VMwareCbt",
                            "ReplicationProviderSpecificContainerMappingInput"))
                    .orElseThrow(() -> ArmException.missingField("properties.providerSpecificInput.instanceType"));
            details.put("instanceType", type);
            if (type.equals("A2A")) {
                details.put("agentAutoUpdateStatus", specific.oneOf("agentAutoUpdateStatus",
                        List.of("Enabled", "Disabled")).orElse("Disabled"));
                specific.string("automationAccountArmId").ifPresent(v -> details.put("automationAccountArmId", v));
                details.put("automationAccountAuthenticationType", specific.oneOf("automationAccountAuthenticationType",
                        List.of("RunAsAccount", "SystemAssignedIdentity")).orElse("RunAsAccount"));
            }
        }
        ObjectNode input = Json.object();
        input.put("id", source.id() + "/replicationProtectionContainerMappings/" + name);
        input.put("name", name);
        input.put("sourceId", source.id());
        input.put("policyId", policyId);
        input.put("targetId", targetId);
        input.set("details", details);
        validate(vault.id(), input);
        return jobs.accept(request, new JobStore.NewJob(vault.id(), create, input.path("id").asText(), name,
                "ProtectionContainerMapping", input, request.principal().clientId()));
    }

    public ArmResponse patch(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource mapping = require(request);
        Fields specific = Fields.of(request.bodyObject(), "").object("properties").object("providerSpecificInput");
        if (!specific.present()) {
            throw ArmException.missingField("properties.providerSpecificInput");
        }
        String type = specific.oneOf("instanceType", List.of("A2A", "InMageRcm"))
                .orElseThrow(() -> ArmException.missingField("properties.providerSpecificInput.instanceType"));
        ObjectNode details = ((ObjectNode) mapping.properties().path("providerSpecificDetails")).deepCopy();
        details.put("instanceType", type);
        specific.oneOf("agentAutoUpdateStatus", List.of("Enabled", "Disabled"))
                .ifPresent(v -> details.put("agentAutoUpdateStatus", v));
        specific.string("automationAccountArmId").ifPresent(v -> details.put("automationAccountArmId", v));
        specific.booleanString("enableAgentAutoUpgrade").ifPresent(v -> details.put("enableAgentAutoUpgrade", v));
        ObjectNode input = Json.object();
        input.put("id", mapping.id());
        input.set("details", details);
        return jobs.accept(request, new JobStore.NewJob(vault.id(), update, mapping.id(), mapping.name(),
                "ProtectionContainerMapping", input, request.principal().clientId()));
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(require(request).bodyCopy());
    }

    public ArmResponse listByContainer(ArmRequest request) {
        StoredResource container = containers.require(request);
        return ArmResponse.ok(ResourceGroups.collection(resources.children(container.id(), ReplicationTypes.MAPPING)));
    }

    public ArmResponse listByVault(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        return ArmResponse.ok(ResourceGroups.collection(resources.descendants(vault.id(), ReplicationTypes.MAPPING)));
    }

    /** DELETE (purge) and POST remove: both unpair; refused while items replicate through the mapping. */
    public ArmResponse remove(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        Optional<StoredResource> mapping = find(request);
        if (mapping.isEmpty()) {
            if (request.method().equals("DELETE")) {
                return ArmResponse.noContent();
            }
            throw ArmException.notFound(request.path().resourceId());
        }
        ensureUnused(mapping.get());
        ObjectNode input = Json.object();
        input.put("id", mapping.get().id());
        return jobs.accept(request, new JobStore.NewJob(vault.id(), remove, mapping.get().id(), mapping.get().name(),
                "ProtectionContainerMapping", input, request.principal().clientId()));
    }

    private Optional<StoredResource> find(ArmRequest request) {
        StoredResource container = containers.require(request);
        return resources.find(container.id() + "/replicationProtectionContainerMappings/" + request.path().name(3));
    }

    private StoredResource require(ArmRequest request) {
        return find(request).orElseThrow(() -> ArmException.notFound(request.path().resourceId()));
    }

    /** Checks the policy, the target and their fit with the source; returns nothing, throws ARM errors. */
    private void validate(String vaultId, ObjectNode input) {
        String vaultKey = ResourceStore.key(vaultId);
        String policyId = input.path("policyId").asText();
        StoredResource policy = resources.find(policyId)
                .filter(p -> ResourceStore.key(p.id()).startsWith(vaultKey + "/"))
                .orElseThrow(() -> new ArmException(400, "PolicyNotFound", "Policy '" + policyId
                        + "' does not exist in this vault. Create it first.", "properties.policyId", List.of()));
        StoredResource source = resources.require(input.path("sourceId").asText());
        String targetId = input.path("targetId").asText();
        String policyType = policy.properties().path("providerSpecificDetails").path("instanceType").asText();
        String sourceFabricType = source.properties().path("fabricType").asText();
        List<String> fits = SOURCE_FABRICS.getOrDefault(policyType, List.of());
        if (!fits.contains(sourceFabricType)) {
            throw new ArmException(400, "PolicyNotApplicableToFabric", "Policy '" + policy.name() + "' ("
                    + policyType + ") replicates from " + String.join(" or ", fits) + " sites, but container '"
                    + source.name() + "' is in a " + sourceFabricType + " site. Choose a policy of the matching "
                    + "scenario.", "properties.policyId", List.of());
        }
        boolean toAzure = targetId.equalsIgnoreCase(ReplicationTypes.MICROSOFT_AZURE);
        boolean a2a = policyType.equals("A2A") || policyType.startsWith("InMageRcmFailback") || policyType.equals("InMage");
        if (toAzure == a2a) {
            throw new ArmException(400, "InvalidTargetProtectionContainer", a2a
                    ? "A " + policyType + " mapping needs the id of a recovery protection container in another fabric "
                    + "of this vault, not '" + ReplicationTypes.MICROSOFT_AZURE + "'."
                    : "A " + policyType + " mapping replicates to Azure: set targetProtectionContainerId to '"
                    + ReplicationTypes.MICROSOFT_AZURE + "'.", "properties.targetProtectionContainerId", List.of());
        }
        if (!toAzure) {
            StoredResource target = resources.find(targetId)
                    .filter(t -> ResourceStore.key(t.id()).startsWith(vaultKey + "/"))
                    .filter(t -> t.typeKey().equals(ResourceStore.key(ReplicationTypes.CONTAINER)))
                    .orElseThrow(() -> new ArmException(400, "TargetProtectionContainerNotFound",
                            "Protection container '" + targetId + "' does not exist in this vault.",
                            "properties.targetProtectionContainerId", List.of()));
            String sourceFabric = ResourceStore.key(source.id()).split("/replicationprotectioncontainers/")[0];
            String targetFabric = ResourceStore.key(target.id()).split("/replicationprotectioncontainers/")[0];
            if (sourceFabric.equals(targetFabric)) {
                throw new ArmException(400, "InvalidTargetProtectionContainer", "The recovery container must be in "
                        + "another fabric than the source container '" + source.name() + "'.",
                        "properties.targetProtectionContainerId", List.of());
            }
        }
    }

    private void ensureUnused(StoredResource mapping) {
        String container = mapping.id().substring(0,
                ResourceStore.key(mapping.id()).indexOf("/replicationprotectioncontainermappings/"));
        long items = resources.children(container, ReplicationTypes.PROTECTED_ITEM).stream()
                .filter(i -> ResourceStore.key(i.properties().path("policyId").asText())
                        .equals(ResourceStore.key(mapping.properties().path("policyId").asText())))
                .count();
        if (items > 0) {
            throw ArmException.conflict("ProtectionContainerMappingInUse", "Mapping '" + mapping.name() + "' is used by "
                    + items + " protected items. Disable their replication first.");
        }
    }

    // ---- job steps ----

    private void checkCreate(JobContext ctx) {
        validate(ctx.job().vaultId(), ctx.input());
    }

    private void applyCreate(JobContext ctx) {
        ObjectNode in = ctx.input();
        String id = in.path("id").asText();
        StoredResource source = resources.find(in.path("sourceId").asText()).orElseThrow();
        StoredResource policy = resources.find(in.path("policyId").asText()).orElseThrow();
        String targetId = in.path("targetId").asText();
        Optional<StoredResource> target = targetId.equalsIgnoreCase(ReplicationTypes.MICROSOFT_AZURE)
                ? Optional.empty() : resources.find(targetId);
        ObjectNode body = AsrResource.body(id, in.path("name").asText(), ReplicationTypes.MAPPING, null);
        ObjectNode p = (ObjectNode) body.path("properties");
        p.put("targetProtectionContainerId", target.map(StoredResource::id).orElse(ReplicationTypes.MICROSOFT_AZURE));
        p.put("targetProtectionContainerFriendlyName", target.map(t -> t.properties().path("friendlyName").asText())
                .orElse(ReplicationTypes.MICROSOFT_AZURE));
        ObjectNode details = ((ObjectNode) in.path("details")).deepCopy();
        if (!details.has("instanceType")) {
            details.put("instanceType", policy.properties().path("providerSpecificDetails").path("instanceType").asText());
        }
        p.set("providerSpecificDetails", details);
        p.put("health", "Normal");
        p.putArray("healthErrorDetails");
        p.put("policyId", policy.id());
        p.put("policyFriendlyName", policy.properties().path("friendlyName").asText());
        p.put("state", "Paired");
        p.put("sourceProtectionContainerFriendlyName", source.properties().path("friendlyName").asText());
        p.put("sourceFabricFriendlyName", source.properties().path("fabricFriendlyName").asText());
        p.put("targetFabricFriendlyName", target.map(t -> t.properties().path("fabricFriendlyName").asText())
                .orElse(ReplicationTypes.MICROSOFT_AZURE));
        resources.put(id, source.id(), ReplicationTypes.MAPPING, in.path("name").asText(), source.id().split("/")[2], body);
        setPairing(source.id());
        target.ifPresent(t -> setPairing(t.id()));
        ctx.result(id);
    }

    private void applyUpdate(JobContext ctx) {
        String id = ctx.input().path("id").asText();
        StoredResource mapping = resources.require(id);
        ObjectNode body = mapping.bodyCopy();
        ((ObjectNode) body.path("properties")).set("providerSpecificDetails", ctx.input().path("details"));
        resources.put(id, null, ReplicationTypes.MAPPING, mapping.name(), id.split("/")[2], body);
        ctx.result(id);
    }

    private void checkRemove(JobContext ctx) {
        resources.find(ctx.input().path("id").asText()).ifPresent(this::ensureUnused);
    }

    private void applyRemove(JobContext ctx) {
        String id = ctx.input().path("id").asText();
        Optional<StoredResource> mapping = resources.find(id);
        resources.delete(id);
        mapping.ifPresent(m -> {
            setPairing(id.substring(0, ResourceStore.key(id).indexOf("/replicationprotectioncontainermappings/")));
            String target = m.properties().path("targetProtectionContainerId").asText();
            if (!target.equalsIgnoreCase(ReplicationTypes.MICROSOFT_AZURE)) {
                setPairing(target);
            }
        });
    }

    /** A container is "Paired" while any mapping starts or ends at it. */
    private void setPairing(String containerId) {
        resources.find(containerId).ifPresent(container -> {
            String vaultId = VaultScope.vaultIdOf(container.id());
            String key = ResourceStore.key(container.id());
            boolean paired = resources.descendants(vaultId, ReplicationTypes.MAPPING).stream().anyMatch(m ->
                    ResourceStore.key(m.id()).startsWith(key + "/")
                            || ResourceStore.key(m.properties().path("targetProtectionContainerId").asText()).equals(key));
            ObjectNode body = container.bodyCopy();
            ((ObjectNode) body.path("properties")).put("pairingStatus", paired ? "Paired" : "NotPaired");
            resources.put(container.id(), null, ReplicationTypes.CONTAINER, container.name(),
                    container.id().split("/")[2], body);
        });
    }
}
