package dev.secondsite.vault;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.jobs.JobStore;
import dev.secondsite.jobs.JobsApi;
import dev.secondsite.jobs.Workflow;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;

import dev.secondsite.rules.Operation;
import dev.secondsite.rules.PolicyFacts;
import dev.secondsite.rules.RuleCatalogue;
import dev.secondsite.rules.Scenario;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static dev.secondsite.jobs.Workflow.task;

/**
 * Replication policies. Each replication scenario has its own settings (instanceType); a policy for a
 * physical/VMware-like scenario (InMageAzureV2, InMageRcm) also gets its failback policy
 * "{name}-failback", which is used only when failing back from Azure (seed 001).
 */
public final class Policies {
    static final String FAILBACK_SUFFIX = "-failback";
    /**
     * The widest retention any scenario's field accepts (A2A and the modernized stack: 15 days), in
     * minutes. Scenario limits (seed 001: 72 hours for the configuration-server scenarios) are rules of
     * the catalogue, checked by {@link #checkRules}.
     */
    static final int RETENTION_MINUTES_MAX = 15 * 24 * 60;
    static final int APP_CONSISTENT_MINUTES_MAX = 12 * 60;

    private final ResourceStore resources;
    private final VaultScope scope;
    private final JobsApi jobs;
    private final Workflow create = new Workflow("AddProtectionProfile", "Create replication policy", List.of(
            task("PrerequisitesCheck", "Prerequisites check for creating the replication policy", this::checkCreate),
            task("CreatePolicy", "Create replication policy", this::applyCreate)));
    private final Workflow update = new Workflow("UpdateProtectionProfile", "Update replication policy", List.of(
            task("UpdatePolicy", "Update replication policy", this::applyCreate)));
    private final Workflow delete = new Workflow("RemoveProtectionProfile", "Delete replication policy", List.of(
            task("PrerequisitesCheck", "Prerequisites check for deleting the replication policy", this::checkDelete),
            task("DeletePolicy", "Delete replication policy", this::applyDelete)));

    public Policies(ResourceStore resources, VaultScope scope, JobsApi jobs) {
        this.resources = resources;
        this.scope = scope;
        this.jobs = jobs;
    }

    public List<Workflow> workflows() {
        return List.of(create, update, delete);
    }

    public ArmResponse put(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        String name = request.path().name();
        AsrResource.checkName("policy", name);
        Fields input = Fields.of(request.bodyObject(), "").object("properties").object("providerSpecificInput");
        ObjectNode details = details(input, "properties.providerSpecificInput", null);
        String id = vault.id() + "/replicationPolicies/" + name;
        Optional<StoredResource> existing = resources.find(id);
        checkRules(existing.isPresent() ? Operation.UPDATE_POLICY : Operation.CREATE_POLICY, name, details);
        existing.ifPresent(p -> sameType(p, details, "properties.providerSpecificInput.instanceType"));
        checkFailbackName(vault, name, details);
        return jobs.accept(request, new JobStore.NewJob(vault.id(), existing.isPresent() ? update : create, id, name,
                "ProtectionProfile", change(id, name, details), request.principal().clientId()));
    }

    public ArmResponse patch(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        StoredResource policy = require(vault, request.path().name());
        Fields input = Fields.of(request.bodyObject(), "").object("properties").object("replicationProviderSettings");
        ObjectNode current = (ObjectNode) policy.properties().path("providerSpecificDetails");
        ObjectNode details = details(input, "properties.replicationProviderSettings", current);
        sameType(policy, details, "properties.replicationProviderSettings.instanceType");
        checkRules(Operation.UPDATE_POLICY, policy.name(), details);
        return jobs.accept(request, new JobStore.NewJob(vault.id(), update, policy.id(), policy.name(),
                "ProtectionProfile", change(policy.id(), policy.name(), details), request.principal().clientId()));
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(require(scope.requireVault(request), request.path().name()).bodyCopy());
    }

    public ArmResponse list(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        return ArmResponse.ok(ResourceGroups.collection(resources.children(vault.id(), ReplicationTypes.POLICY)));
    }

    public ArmResponse delete(ArmRequest request) {
        StoredResource vault = scope.requireVault(request);
        Optional<StoredResource> policy = resources.find(vault.id() + "/replicationPolicies/" + request.path().name());
        if (policy.isEmpty()) {
            return ArmResponse.noContent();
        }
        ensureUnused(vault.id(), policy.get());
        ObjectNode input = Json.object();
        input.put("id", policy.get().id());
        return jobs.accept(request, new JobStore.NewJob(vault.id(), delete, policy.get().id(), policy.get().name(),
                "ProtectionProfile", input, request.principal().clientId()));
    }

    private StoredResource require(StoredResource vault, String name) {
        return resources.require(vault.id() + "/replicationPolicies/" + name);
    }

    // ---- job steps ----

    private void checkCreate(dev.secondsite.jobs.JobContext ctx) {
        String vaultId = ctx.job().vaultId();
        if (resources.find(vaultId).isEmpty()) {
            throw ArmException.notFound(vaultId);
        }
    }

    private void applyCreate(dev.secondsite.jobs.JobContext ctx) {
        ObjectNode in = ctx.input();
        String vaultId = ctx.job().vaultId();
        StoredResource vault = resources.require(vaultId);
        ObjectNode details = (ObjectNode) in.path("details");
        save(vault, in.path("id").asText(), in.path("name").asText(), details);
        failbackDetails(details).ifPresent(fb -> save(vault, in.path("id").asText() + FAILBACK_SUFFIX,
                in.path("name").asText() + FAILBACK_SUFFIX, fb));
        ctx.result(in.path("id").asText());
    }

    private void checkDelete(dev.secondsite.jobs.JobContext ctx) {
        resources.find(ctx.input().path("id").asText()).ifPresent(p -> ensureUnused(ctx.job().vaultId(), p));
    }

    private void applyDelete(dev.secondsite.jobs.JobContext ctx) {
        String id = ctx.input().path("id").asText();
        resources.delete(id);
        resources.find(id + FAILBACK_SUFFIX).filter(this::unused).ifPresent(fb -> resources.delete(fb.id()));
    }

    private void save(StoredResource vault, String id, String name, ObjectNode details) {
        ObjectNode body = AsrResource.body(id, name, ReplicationTypes.POLICY, null);
        ObjectNode properties = (ObjectNode) body.path("properties");
        properties.put("friendlyName", name);
        properties.set("providerSpecificDetails", details);
        resources.put(id, vault.id(), ReplicationTypes.POLICY, name, vault.id().split("/")[2], body);
    }

    private void ensureUnused(String vaultId, StoredResource policy) {
        for (StoredResource mapping : resources.descendants(vaultId, ReplicationTypes.MAPPING)) {
            if (ResourceStore.key(mapping.properties().path("policyId").asText()).equals(ResourceStore.key(policy.id()))) {
                throw ArmException.conflict("PolicyInUse", "Policy '" + policy.name() + "' is associated with protection "
                        + "container mapping '" + mapping.name() + "'. Remove the mapping before deleting the policy.");
            }
        }
    }

    private boolean unused(StoredResource policy) {
        String vaultId = policy.id().substring(0, policy.id().toLowerCase().indexOf("/replicationpolicies/"));
        return resources.descendants(vaultId, ReplicationTypes.MAPPING).stream()
                .noneMatch(m -> ResourceStore.key(m.properties().path("policyId").asText())
                        .equals(ResourceStore.key(policy.id())));
    }

    private static ObjectNode change(String id, String name, ObjectNode details) {
        ObjectNode input = Json.object();
        input.put("id", id);
        input.put("name", name);
        input.set("details", details);
        return input;
    }

    private static void sameType(StoredResource policy, ObjectNode details, String field) {
        String current = policy.properties().path("providerSpecificDetails").path("instanceType").asText();
        if (!current.equals(details.path("instanceType").asText())) {
            throw ArmException.invalidField(field, "policy '" + policy.name() + "' is of type '" + current
                    + "'; its type cannot change to '" + details.path("instanceType").asText() + "'.");
        }
    }

    private void checkFailbackName(StoredResource vault, String name, ObjectNode details) {
        if (failbackDetails(details).isEmpty()) {
            return;
        }
        resources.find(vault.id() + "/replicationPolicies/" + name + FAILBACK_SUFFIX).ifPresent(existing -> {
            String type = existing.properties().path("providerSpecificDetails").path("instanceType").asText();
            if (!type.equals(failbackDetails(details).get().path("instanceType").asText())) {
                throw ArmException.conflict("FailbackPolicyNameTaken", "Policy '" + name + FAILBACK_SUFFIX
                        + "' already exists with type '" + type + "', so the failback policy of '" + name
                        + "' cannot be created. Rename or delete it first.");
            }
        });
    }

    /**
     * The policy's providerSpecificDetails from its input, checked field by field. Fields not given keep
     * their current value (PATCH) or ASR's default (create).
     */
    static ObjectNode details(Fields input, String path, ObjectNode current) {
        if (!input.present()) {
            throw ArmException.missingField(path);
        }
        String type = input.oneOf("instanceType", List.of("A2A", "HyperVReplicaAzure", "InMageAzureV2", "InMageRcm",
                        "InMage", "InMageRcmFailback", "VMwareCbt"))
                .orElseThrow(() -> ArmException.missingField(path + ".instanceType"));
        ObjectNode base = current != null ? current : Json.object();
        ObjectNode d = Json.object();
        d.put("instanceType", type);
        switch (type) {
            case "A2A" -> {
                int history = input.integer("recoveryPointHistory", 0, RETENTION_MINUTES_MAX)
                        .orElse(base.path("recoveryPointHistory").asInt(1440));
                d.put("recoveryPointThresholdInMinutes", base.path("recoveryPointThresholdInMinutes").asInt(60));
                d.put("recoveryPointHistory", history);
                d.put("appConsistentFrequencyInMinutes", appConsistent(input, base, history, "recoveryPointHistory", path));
                d.put("crashConsistentFrequencyInMinutes", input.integer("crashConsistentFrequencyInMinutes", 1, 60)
                        .orElse(base.path("crashConsistentFrequencyInMinutes").asInt(5)));
                d.put("multiVmSyncStatus", multiVmSync(input, base, path));
            }
            case "InMageAzureV2", "InMage" -> {
                int history = input.integer("recoveryPointHistory", 0, RETENTION_MINUTES_MAX)
                        .orElse(base.path("recoveryPointHistory").asInt(1440));
                d.put("recoveryPointThresholdInMinutes", input.integer("recoveryPointThresholdInMinutes", 1, 1440)
                        .orElse(base.path("recoveryPointThresholdInMinutes").asInt(15)));
                d.put("recoveryPointHistory", history);
                d.put("appConsistentFrequencyInMinutes", appConsistent(input, base, history, "recoveryPointHistory", path));
                if (type.equals("InMageAzureV2")) {
                    d.put("crashConsistentFrequencyInMinutes", input.integer("crashConsistentFrequencyInMinutes", 1, 60)
                            .orElse(base.path("crashConsistentFrequencyInMinutes").asInt(5)));
                }
                d.put("multiVmSyncStatus", multiVmSync(input, base, path));
            }
            case "InMageRcm", "VMwareCbt" -> {
                int history = input.integer("recoveryPointHistoryInMinutes", 0, RETENTION_MINUTES_MAX)
                        .orElse(base.path("recoveryPointHistoryInMinutes").asInt(4320));
                d.put("recoveryPointHistoryInMinutes", history);
                d.put("appConsistentFrequencyInMinutes",
                        appConsistent(input, base, history, "recoveryPointHistoryInMinutes", path));
                d.put("crashConsistentFrequencyInMinutes", input.integer("crashConsistentFrequencyInMinutes", 1, 60)
                        .orElse(base.path("crashConsistentFrequencyInMinutes").asInt(5)));
                if (type.equals("InMageRcm")) {
                    d.put("enableMultiVmSync", input.booleanString("enableMultiVmSync")
                            .orElse(base.path("enableMultiVmSync").asText("true")));
                }
            }
            case "InMageRcmFailback" -> {
                d.put("crashConsistentFrequencyInMinutes", input.integer("crashConsistentFrequencyInMinutes", 1, 60)
                        .orElse(base.path("crashConsistentFrequencyInMinutes").asInt(5)));
                d.put("appConsistentFrequencyInMinutes", input.integer("appConsistentFrequencyInMinutes", 0,
                        APP_CONSISTENT_MINUTES_MAX).orElse(base.path("appConsistentFrequencyInMinutes").asInt(60)));
            }
            case "HyperVReplicaAzure" -> {
                int hours = input.integer("recoveryPointHistoryDuration", 0, 72)
                        .orElse(base.path("recoveryPointHistoryDurationInHours").asInt(24));
                int appHours = input.integer("applicationConsistentSnapshotFrequencyInHours", 0, 12)
                        .orElse(base.path("applicationConsistentSnapshotFrequencyInHours").asInt(4));
                if (hours > 0 && appHours > hours) {
                    throw ArmException.invalidField(path + ".applicationConsistentSnapshotFrequencyInHours",
                            "must not exceed the recovery point retention (" + hours + " hours).");
                }
                int interval = input.integer("replicationInterval", 30, 900)
                        .orElse(base.path("replicationInterval").asInt(300));
                if (interval != 30 && interval != 300 && interval != 900) {
                    throw ArmException.invalidField(path + ".replicationInterval",
                            "must be 30, 300 or 900 seconds, got " + interval + ".");
                }
                d.put("recoveryPointHistoryDurationInHours", hours);
                d.put("applicationConsistentSnapshotFrequencyInHours", appHours);
                d.put("replicationInterval", interval);
                input.string("onlineReplicationStartTime")
                        .or(() -> Optional.ofNullable(base.path("onlineReplicationStartTime").textValue()))
                        .ifPresent(v -> d.put("onlineReplicationStartTime", v));
                d.put("encryption", "Disabled");
                var accounts = input.raw("storageAccounts");
                if (!accounts.isMissingNode() && !accounts.isNull()) {
                    if (!accounts.isArray()) {
                        throw ArmException.invalidField(path + ".storageAccounts", "must be an array of storage account ids.");
                    }
                    d.set("storageAccounts", accounts);
                    d.put("activeStorageAccountId", accounts.isEmpty() ? null : accounts.get(0).asText());
                }
            }
            default -> throw new IllegalStateException(type);
        }
        return d;
    }

    /** Runs the seed rules that judge a policy on its own (e.g. seed 001's 72-hour retention limit). */
    static void checkRules(Operation operation, String name, ObjectNode details) {
        Scenario scenario = switch (details.path("instanceType").asText()) {
            case "A2A" -> Scenario.A2A;
            case "HyperVReplicaAzure" -> Scenario.HYPERV_TO_AZURE;
            case "InMageAzureV2", "InMage" -> Scenario.PHYSICAL_TO_AZURE;
            default -> null;
        };
        if (scenario == null) {
            return;
        }
        Duration retention = details.has("recoveryPointHistoryDurationInHours")
                ? Duration.ofHours(details.path("recoveryPointHistoryDurationInHours").asInt())
                : Duration.ofMinutes(details.path("recoveryPointHistory").asInt());
        Duration appConsistent = details.has("applicationConsistentSnapshotFrequencyInHours")
                ? Duration.ofHours(details.path("applicationConsistentSnapshotFrequencyInHours").asInt())
                : Duration.ofMinutes(details.path("appConsistentFrequencyInMinutes").asInt());
        RuleCatalogue.enforce(operation, new PolicyFacts(scenario, name, retention, appConsistent));
    }

    /** The failback policy a physical/VMware-like policy brings along, or empty. */
    static Optional<ObjectNode> failbackDetails(ObjectNode details) {
        ObjectNode fb = Json.object();
        switch (details.path("instanceType").asText()) {
            case "InMageAzureV2" -> {
                fb.put("instanceType", "InMage");
                fb.put("recoveryPointThresholdInMinutes", details.path("recoveryPointThresholdInMinutes").asInt());
                fb.put("recoveryPointHistory", details.path("recoveryPointHistory").asInt());
                fb.put("appConsistentFrequencyInMinutes", details.path("appConsistentFrequencyInMinutes").asInt());
                fb.put("multiVmSyncStatus", details.path("multiVmSyncStatus").asText());
            }
            case "InMageRcm" -> {
                fb.put("instanceType", "InMageRcmFailback");
                fb.put("crashConsistentFrequencyInMinutes", details.path("crashConsistentFrequencyInMinutes").asInt());
                fb.put("appConsistentFrequencyInMinutes", details.path("appConsistentFrequencyInMinutes").asInt());
            }
            default -> {
                return Optional.empty();
            }
        }
        return Optional.of(fb);
    }

    private static int appConsistent(Fields input, ObjectNode base, int history, String historyField, String path) {
        int value = input.integer("appConsistentFrequencyInMinutes", 0, APP_CONSISTENT_MINUTES_MAX)
                .orElse(base.path("appConsistentFrequencyInMinutes").asInt(Math.min(60, history)));
        if (value > history) {
            throw ArmException.invalidField(path + ".appConsistentFrequencyInMinutes", "app-consistent snapshot "
                    + "frequency (" + value + " minutes) must not exceed the recovery point retention (" + historyField
                    + " = " + history + " minutes).");
        }
        return value;
    }

    private static String multiVmSync(Fields input, ObjectNode base, String path) {
        return input.oneOf("multiVmSyncStatus", List.of("Enable", "Disable"))
                .or(() -> Optional.ofNullable(base.path("multiVmSyncStatus").textValue()))
                .orElseThrow(() -> ArmException.missingField(path + ".multiVmSyncStatus"));
    }
}
