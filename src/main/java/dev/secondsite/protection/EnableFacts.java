package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Fields;
import dev.secondsite.auth.BuiltInRole;
import dev.secondsite.auth.Rbac;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;
import dev.secondsite.cloud.compute.ComputeSize;
import dev.secondsite.cloud.compute.Quotas;
import dev.secondsite.cloud.compute.VmSizes;
import dev.secondsite.cloud.network.NetworkTypes;
import dev.secondsite.cloud.privatelink.VaultLinks;
import dev.secondsite.cloud.storage.StorageAccounts;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.DiskFacts;
import dev.secondsite.rules.NetworkFacts;
import dev.secondsite.rules.Operation;
import dev.secondsite.rules.PolicyFacts;
import dev.secondsite.rules.ReplicationFacts;
import dev.secondsite.rules.RuleCatalogue;
import dev.secondsite.rules.Scenario;
import dev.secondsite.rules.SourceFacts;
import dev.secondsite.rules.StorageAccountFacts;
import dev.secondsite.rules.TargetCapacity;
import dev.secondsite.rules.TargetFacts;
import dev.secondsite.rules.VaultFacts;
import dev.secondsite.rules.Violation;
import dev.secondsite.rules.VmFacts;
import dev.secondsite.rules.VmSize;
import dev.secondsite.vault.ReplicationTypes;
import dev.secondsite.vault.VaultScope;

import java.time.Duration;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Builds the {@link ReplicationFacts} of an enable-protection request (InMageAzureV2) from real resources, so
 * {@link RuleCatalogue} can judge it at {@link Operation#ENABLE_REPLICATION}.
 *
 * <h2>Two kinds of target</h2>
 * <ul>
 *   <li><b>No target fields</b> (the bodies SecondSite always accepted): the server's own recovery store is the
 *       target; no Azure storage account, network or VM is chosen at enable time. Rules about a chosen Azure target
 *       ({@link #AZURE_TARGET_ONLY}: TargetStorageAccountRequired, target quota/size/VM creation) are not
 *       applicable and are left out; the storage/network region rules find nothing to check.</li>
 *   <li><b>Any target field given</b> ({@code storageAccountId}, {@code targetAzureNetworkId},
 *       {@code targetAzureSubnetId}, {@code targetAzureVmName}, {@code targetAzureV2ResourceGroupId},
 *       {@code targetVmSize}): the target is Azure (the local cloud). Each id must name an existing resource (400
 *       naming the field otherwise) and every ENABLE_REPLICATION rule of the scenario applies, including
 *       TargetStorageAccountRequired (seed 001).</li>
 * </ul>
 *
 * <h2>Where the facts come from</h2>
 * Vault region, identity and approved private endpoint connections: the vault resource (as {@link VaultLinks}
 * reads it for private endpoints too). Scenario: the fabric type (VMware →
 * VMware to Azure, anything else → physical). Storage accounts: {@link StorageAccounts#facts} with the roles the
 * vault's system-assigned identity holds on (or above) the account in RBAC. Network: the vnet's location. Target
 * region: the vault's (InMageAzureV2 recovers into the vault's region). Capacity: compute usage and quota limits in
 * that region for the family of the chosen size (the lower of family and regional vCPUs left). VM: the agent's
 * reported machine name, OS type and disks (sizes, sector sizes, format; the first disk is the OS disk, disks left
 * out of disksToInclude carry EXCLUDED). Agents do not report vCPUs or memory: with {@code targetVmSize} the
 * machine's shape is that size's (so "same or closest" keeps it); without it the machine is taken as
 * {@link #ASSUMED_SHAPE} and the closest size is picked. A registered agent means the vault has a configuration
 * server (the SecondSite server plays that role); the Mobility service is installed by hand (no push account).
 */
public final class EnableFacts {
    /** Rules that judge a chosen Azure target; not applicable when the server's recovery store is the target. */
    public static final Set<String> AZURE_TARGET_ONLY = Set.of("TargetStorageAccountRequired",
            "InsufficientTargetQuota", "TargetVmSizeNotAvailable", "TargetRegionNotEnabledForVms");
    /** The shape assumed for a machine whose agent reports no vCPUs/memory, when no targetVmSize is given. */
    public static final VmSize ASSUMED_SHAPE = VmSize.of(1, 1024);

    private static final String SPECIFIC = "properties.providerSpecificDetails.";

    private final ResourceStore resources;
    private final Rbac rbac;
    private final Quotas quotas;

    /** {@code rbac} or {@code quotas} null: no role assignments known / the default quota limits with no usage. */
    public EnableFacts(ResourceStore resources, Rbac rbac, Quotas quotas) {
        this.resources = resources;
        this.rbac = rbac;
        this.quotas = quotas;
    }

    /** The target fields of an InMageAzureV2EnableProtectionInput, as given (ids not resolved yet). */
    public record Target(String storageAccountId, String networkId, String subnetId, String vmName,
                         String resourceGroupId, String vmSize) {
        static Target parse(Fields specific) {
            return new Target(text(specific, "storageAccountId"), text(specific, "targetAzureNetworkId"),
                    text(specific, "targetAzureSubnetId"), text(specific, "targetAzureVmName"),
                    text(specific, "targetAzureV2ResourceGroupId"), text(specific, "targetVmSize"));
        }

        private static String text(Fields specific, String field) {
            JsonNode raw = specific.raw(field);
            if (raw.isMissingNode() || raw.isNull()) return null;
            if (!raw.isTextual() || raw.asText().isBlank()) {
                throw ArmException.invalidField(SPECIFIC + field, "must be a non-empty string.");
            }
            return raw.asText().strip();
        }

        /** Any target field given: the target is Azure (the local cloud), not the server's recovery store. */
        public boolean azure() {
            return storageAccountId != null || networkId != null || subnetId != null || vmName != null
                    || resourceGroupId != null || vmSize != null;
        }
    }

    /** A request resolved against real resources: the facts to judge, and what to store on the item. */
    public record Judged(ReplicationFacts facts, boolean azureTarget, ObjectNode targetDetails) {
        /** Every violated ENABLE_REPLICATION rule that applies to this kind of target. */
        public List<Violation> violations() {
            return violations(Operation.ENABLE_REPLICATION);
        }

        /** Every violated rule of {@code operation} that applies to this kind of target. */
        public List<Violation> violations(Operation operation) {
            return RuleCatalogue.violations(operation, facts).stream()
                    .filter(v -> azureTarget || !AZURE_TARGET_ONLY.contains(v.code()))
                    .toList();
        }

        /** Throws the ARM error of the violations (one rule's own, or MultipleRuleViolations). */
        public void enforce() {
            enforce(Operation.ENABLE_REPLICATION);
        }

        public void enforce(Operation operation) {
            List<Violation> found = violations(operation);
            if (!found.isEmpty()) throw RuleCatalogue.toException(found);
        }

        /** The same facts with a change to the target (a test failover's network, for one). */
        public Judged withTarget(java.util.function.Consumer<TargetFacts.Builder> change) {
            ReplicationFacts changed = new ReplicationFacts(facts.scenario(), facts.vault(), facts.source(), facts.vm(),
                    facts.recoveryVmName(), facts.policy(), facts.target().with(change), facts.protectedItem());
            return new Judged(changed, azureTarget, targetDetails);
        }
    }

    /**
     * Resolves the target fields and builds the facts. 400 (naming the field) for ids that name nothing or a
     * resource of the wrong type; rule violations are not thrown here.
     */
    public Judged judge(StoredResource vault, StoredResource policy, AgentStore.Agent agent, ArrayNode selectedDisks,
                        Target target) {
        Region vaultRegion = Regions.require(vault.body().path("location").asText(), "location");
        StoredResource fabric = resources.require(agent.fabricId());
        // A machine that is an Azure VM (it reports its region) is replicated as a physical server (seed 001),
        // whatever the configuration-server fabric is called.
        Scenario scenario = agent.azureRegion() == null
                && "VMware".equalsIgnoreCase(fabric.properties().path("customDetails").path("instanceType").asText())
                ? Scenario.VMWARE_TO_AZURE : Scenario.PHYSICAL_TO_AZURE;

        // Vault.
        VaultFacts.Identity id = VaultLinks.identity(vault.body());
        int registered = resources.descendants(vault.id(), ReplicationTypes.PROTECTED_ITEM).size() + 1;
        // Only approved connections lock the vault down and make seed 003's storage role rules apply.
        VaultFacts vaultFacts = new VaultFacts(vault.name(), vaultRegion, registered, id,
                VaultLinks.approvedConnections(vault.body()), false);
        String principalId = id.systemAssigned() ? vault.body().path("identity").path("principalId").asText("") : "";

        // Storage account.
        ObjectNode details = dev.secondsite.arm.Json.object();
        List<StorageAccountFacts> storage = List.of();
        if (target.storageAccountId() != null) {
            StoredResource account = resources.find(target.storageAccountId())
                    .filter(r -> r.typeKey().equalsIgnoreCase(StorageAccounts.TYPE))
                    .orElseThrow(() -> notFound("storageAccountId", "TargetStorageAccountNotFound", "Storage account",
                            target.storageAccountId()));
            storage = List.of(StorageAccounts.facts(account.body(), rolesOn(principalId, account.id())));
            details.put("recoveryAzureStorageAccount", account.id());
        }

        // Network and subnet.
        NetworkFacts network = null;
        if (target.subnetId() != null && target.networkId() == null) {
            throw new ArmException(400, "MissingRequiredProperty", "Field '" + SPECIFIC + "targetAzureNetworkId' is "
                    + "required with targetAzureSubnetId.", SPECIFIC + "targetAzureNetworkId", List.of());
        }
        if (target.networkId() != null) {
            StoredResource vnet = resources.find(target.networkId())
                    .filter(r -> r.typeKey().equalsIgnoreCase(NetworkTypes.VNET))
                    .orElseThrow(() -> notFound("targetAzureNetworkId", "TargetNetworkNotFound", "Virtual network",
                            target.networkId()));
            network = new NetworkFacts(vnet.id(), Regions.require(vnet.body().path("location").asText(), "location"));
            details.put("selectedRecoveryAzureNetworkId", vnet.id());
            if (target.subnetId() != null) {
                String subnetId = target.subnetId().contains("/") ? target.subnetId()
                        : vnet.id() + "/subnets/" + target.subnetId();
                StoredResource subnet = resources.find(subnetId)
                        .filter(r -> r.typeKey().equalsIgnoreCase(NetworkTypes.SUBNET))
                        .filter(r -> ResourceStore.key(r.id()).startsWith(ResourceStore.key(vnet.id()) + "/subnets/"))
                        .orElseThrow(() -> notFound("targetAzureSubnetId", "TargetSubnetNotFound", "Subnet in network '"
                                + vnet.name() + "'", target.subnetId()));
                details.put("selectedRecoveryAzureSubnetId", subnet.id());
                details.put("recoveryAzureSubnetName", subnet.name());
            }
        }

        // Resource group.
        String subscription = vault.id().split("/")[2];
        if (target.resourceGroupId() != null) {
            StoredResource group = resources.find(target.resourceGroupId())
                    .filter(r -> r.typeKey().equalsIgnoreCase(VaultScope.GROUP_TYPE))
                    .orElseThrow(() -> notFound("targetAzureV2ResourceGroupId", "TargetResourceGroupNotFound",
                            "Resource group", target.resourceGroupId()));
            subscription = group.id().split("/")[2];
            details.put("recoveryAzureResourceGroupId", group.id());
        }

        // VM: the agent's machine and disks; its shape from targetVmSize (or assumed).
        VmSize shape = ASSUMED_SHAPE;
        if (target.vmSize() != null) {
            shape = VmSizes.require(target.vmSize(), SPECIFIC + "targetVmSize", vaultRegion.name()).toVmSize();
        }
        VmFacts vm = vmFacts(agent, selectedDisks, shape);
        String vmName = target.vmName() != null ? target.vmName() : agent.machineName();
        details.put("recoveryAzureVMName", vmName);

        // Capacity in the target (vault) region, for the family of the size that would be picked.
        ComputeSize picked = VmSizes.closest(shape).orElse(null);
        int vCpusLeft = Integer.MAX_VALUE;
        if (picked != null) {
            details.put("recoveryAzureVMSize", picked.name());
            if (quotas != null) {
                Quotas.Usage usage = quotas.usage(subscription, vaultRegion.name());
                long family = quotas.limit(subscription, vaultRegion.name(), picked.family()) - usage.family(picked.family());
                long regional = quotas.limit(subscription, vaultRegion.name(), Quotas.REGIONAL) - usage.total();
                vCpusLeft = (int) Math.max(0, Math.min(family, regional));
            } else {
                vCpusLeft = Math.min(Quotas.DEFAULT_FAMILY_LIMIT, Quotas.DEFAULT_REGIONAL_LIMIT);
            }
        }
        TargetCapacity capacity = new TargetCapacity(true, vCpusLeft, VmSizes.asRuleSizes());
        NetworkFacts net = network;
        List<StorageAccountFacts> accounts = storage;
        TargetFacts targetFacts = TargetFacts.in(vaultRegion, capacity).with(b -> b.storageAccounts(accounts).network(net));

        JsonNode p = policy.properties().path("providerSpecificDetails");
        PolicyFacts policyFacts = new PolicyFacts(scenario, policy.name(),
                Duration.ofMinutes(Math.max(0, p.path("recoveryPointHistory").asLong(1440))),
                Duration.ofMinutes(Math.max(0, p.path("appConsistentFrequencyInMinutes").asLong(0))));

        Region sourceRegion = agent.azureRegion() == null ? null : Regions.require(agent.azureRegion(), "azureRegion");
        SourceFacts source = SourceFacts.onPremises().with(b -> b.configurationServerRegistered(true).region(sourceRegion));
        ReplicationFacts facts = ReplicationFacts.builder(scenario).vault(vaultFacts).source(source).vm(vm)
                .recoveryVmName(target.vmName()).policy(policyFacts).target(targetFacts).build();
        return new Judged(facts, target.azure(), target.azure() ? details : dev.secondsite.arm.Json.object());
    }

    private static VmFacts vmFacts(AgentStore.Agent agent, ArrayNode selectedDisks, VmSize shape) {
        Set<String> selected = new HashSet<>();
        selectedDisks.forEach(d -> selected.add(d.path("name").asText().toLowerCase(Locale.ROOT)));
        VmFacts.Builder b = VmFacts.builder(agent.machineName())
                .osType("Windows".equalsIgnoreCase(agent.osType()) ? VmFacts.OsType.WINDOWS : VmFacts.OsType.LINUX)
                .generation(1).size(shape).managedDisks(false);
        boolean first = true;
        for (JsonNode d : agent.disks()) {
            String name = d.path("name").asText();
            EnumSet<DiskFacts.Trait> traits = EnumSet.noneOf(DiskFacts.Trait.class);
            if (!selected.contains(name.toLowerCase(Locale.ROOT))) traits.add(DiskFacts.Trait.EXCLUDED);
            b.disk(new DiskFacts(name, d.path("path").asText(null), first, d.path("sizeBytes").asLong(),
                    d.path("logicalSectorBytes").asInt(DiskFacts.SECTOR_512),
                    d.path("physicalSectorBytes").asInt(DiskFacts.SECTOR_512), format(d.path("format").asText("RAW")),
                    1, traits));
            first = false;
        }
        return b.build();
    }

    private static DiskFacts.Format format(String text) {
        try {
            return DiskFacts.Format.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return DiskFacts.Format.RAW;
        }
    }

    /** Roles the vault's identity holds at or above the account's scope. */
    private Set<BuiltInRole> rolesOn(String principalId, String accountId) {
        if (rbac == null || principalId.isEmpty()) return Set.of();
        String target = ResourceStore.key(accountId);
        Set<BuiltInRole> roles = EnumSet.noneOf(BuiltInRole.class);
        for (Rbac.Assignment a : rbac.forPrincipal(principalId)) {
            String scope = ResourceStore.key(a.scope());
            if (scope.equals("/") || target.equals(scope) || target.startsWith(scope + "/")) roles.add(a.role());
        }
        return roles;
    }

    private static ArmException notFound(String field, String code, String what, String id) {
        return new ArmException(400, code, what + " '" + id + "' (" + SPECIFIC + field + ") was not found. Create it "
                + "first or give the id of an existing one.", SPECIFIC + field, List.of());
    }
}
