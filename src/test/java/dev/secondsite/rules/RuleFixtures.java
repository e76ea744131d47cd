package dev.secondsite.rules;

import dev.secondsite.auth.BuiltInRole;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static dev.secondsite.rules.Limits.GIB;

/**
 * Valid baseline facts, one per scenario and operation. Each passes every rule of its operation; the rule
 * cases change one thing to break exactly one rule.
 */
final class RuleFixtures {
    private RuleFixtures() {}

    static Region region(String name) {
        return Regions.find(name).orElseThrow();
    }

    static final Region EAST_US = region("eastus");
    static final Region WEST_US_2 = region("westus2");
    static final Region WEST_EUROPE = region("westeurope");
    static final Region US_GOV_VIRGINIA = region("usgovvirginia");

    static final VmSize D2S_V3 = new VmSize("Standard_D2s_v3", 2, 8192);
    static final VmSize D4S_V3 = new VmSize("Standard_D4s_v3", 4, 16384);

    static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");

    static String storageId(String name) {
        return "/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + name;
    }

    static NetworkFacts vnet(String name, Region region) {
        return new NetworkFacts("/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/" + name, region);
    }

    static StorageAccountFacts standard(String name, Region region) {
        return StorageAccountFacts.of(storageId(name), region, StorageAccountFacts.Kind.STORAGE_V2, StorageAccountFacts.Sku.STANDARD_LRS);
    }

    static TargetCapacity capacity(VmSize... sizes) {
        return new TargetCapacity(true, 100, List.of(sizes));
    }

    // ---------------------------------------------------------------- Azure to Azure (seeds 000, 003, 004)

    /** A Windows Server VM replicating East US → West US 2 with the vault, storage and network in West US 2. */
    static ReplicationFacts a2a() {
        VmFacts vm = VmFacts.builder("web01").osType(VmFacts.OsType.WINDOWS).osName("Windows Server 2022 Datacenter")
                .generation(2).size(D2S_V3).managedDisks(true).latestRootCertificates(true)
                .disk(DiskFacts.os("web01-os", 127 * GIB)).disk(DiskFacts.data("web01-data", 512 * GIB))
                .nic(NicFacts.ipv4("web01-nic", "10.0.0.4"))
                .build();
        return ReplicationFacts.builder(Scenario.A2A)
                .vault(new VaultFacts("dr-vault", WEST_US_2, 0, VaultFacts.Identity.SYSTEM_ASSIGNED, 0, false))
                .source(SourceFacts.azure(EAST_US).with(s -> s.outboundConnectivity(true).cacheStorage(standard("cacheeus", EAST_US))))
                .vm(vm)
                .policy(new PolicyFacts(Scenario.A2A, "24-hour-retention-policy", Duration.ofHours(24), Duration.ofHours(4)))
                .target(TargetFacts.in(WEST_US_2, capacity(D2S_V3, D4S_V3))
                        .with(t -> t.storageAccount(standard("targetwus2", WEST_US_2)).network(vnet("vnet-wus2", WEST_US_2))))
                .build();
    }

    /** A2A with a trusted launch Windows VM (seed 000's happy path). */
    static ReplicationFacts a2aTrustedLaunch() {
        return a2a().with(r -> r.vm(v -> v.securityType(VmFacts.SecurityType.TRUSTED_LAUNCH).secureBoot(true).vTpm(true)));
    }

    /** A2A through a vault with private endpoints; the vault identity holds the roles on the cache account. */
    static ReplicationFacts a2aPrivateEndpoints() {
        ReplicationFacts base = a2a();
        return base.with(r -> r.vault(base.vault().withPrivateEndpoints(2))
                .source(s -> s.cacheStorage(base.source().cacheStorage().with(c -> c.firewallEnabled(true).trustedServicesAllowed(true)
                        .vaultIdentityRoles(Set.of(BuiltInRole.CONTRIBUTOR, BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR))))));
    }

    /** A2A through a private-endpoint vault with unmanaged disks: source, cache and target accounts all need roles. */
    static ReplicationFacts a2aPrivateEndpointsUnmanaged() {
        ReplicationFacts base = a2aPrivateEndpoints();
        Set<BuiltInRole> standardRoles = Set.of(BuiltInRole.CONTRIBUTOR, BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR);
        StorageAccountFacts classicSource = standard("classicsrc", EAST_US).with(s -> s
                .deploymentModel(StorageAccountFacts.DeploymentModel.CLASSIC)
                .vaultIdentityRoles(Set.of(BuiltInRole.CLASSIC_STORAGE_ACCOUNT_CONTRIBUTOR, BuiltInRole.CLASSIC_STORAGE_ACCOUNT_KEY_OPERATOR)));
        StorageAccountFacts premiumTarget = StorageAccountFacts.of(storageId("premwus2"), WEST_US_2, StorageAccountFacts.Kind.STORAGE_V2,
                StorageAccountFacts.Sku.PREMIUM_LRS).with(s -> s.vaultIdentityRoles(Set.of(BuiltInRole.CONTRIBUTOR, BuiltInRole.STORAGE_BLOB_DATA_OWNER)));
        return base.with(r -> r.vm(v -> v.managedDisks(false))
                .source(s -> s.storageAccounts(List.of(classicSource)))
                .target(t -> t.managedDisks(false).storageAccounts(List.of(premiumTarget,
                        standard("stdwus2", WEST_US_2).with(s -> s.vaultIdentityRoles(standardRoles))))));
    }

    // ---------------------------------------------------------------- Hyper-V to Azure (seed 002)

    /** A generation 2 Windows Server 2019 VM on a Hyper-V host (no VMM) replicating to West Europe. */
    static ReplicationFacts hyperV() {
        VmFacts vm = VmFacts.builder("hv-app01").osType(VmFacts.OsType.WINDOWS).osName("Windows Server 2019 Standard")
                .generation(2).size(VmSize.of(4, 16384))
                .disk(DiskFacts.os("hv-os", 127 * GIB).with(d -> d.location("scsi0:0").partitions(4)))
                .disk(DiskFacts.data("hv-data1", 256 * GIB).with(d -> d.location("scsi0:1").format(DiskFacts.Format.VHD)))
                .disk(DiskFacts.data("hv-excluded", 40 * Limits.TIB).with(d -> d.location("scsi0:2")
                        .trait(DiskFacts.Trait.EXCLUDED, DiskFacts.Trait.SHARED, DiskFacts.Trait.DYNAMIC)))
                .nic(NicFacts.ipv4("eth0", "192.168.1.20"))
                .build();
        return ReplicationFacts.builder(Scenario.HYPERV_TO_AZURE)
                .vault(new VaultFacts("hv-vault", WEST_EUROPE, 3, VaultFacts.Identity.NONE, 0, false))
                .source(SourceFacts.onPremises().with(s -> s.providerVersion("5.1.8095.0")))
                .vm(vm)
                .policy(new PolicyFacts(Scenario.HYPERV_TO_AZURE, "hv-policy", Duration.ofHours(24), Duration.ofHours(1)))
                .target(TargetFacts.in(WEST_EUROPE, capacity(D4S_V3))
                        .with(t -> t.storageAccount(StorageAccountFacts.of(storageId("hvtarget"), WEST_EUROPE,
                                StorageAccountFacts.Kind.STORAGE, StorageAccountFacts.Sku.STANDARD_GRS)).network(vnet("vnet-weu", WEST_EUROPE))))
                .build();
    }

    /** Hyper-V edge cases that pass: sizes at the limits, 32-bit Windows Server 2008, IPv6 without VMM, 512e disks. */
    static ReplicationFacts hyperVAtLimits() {
        ReplicationFacts base = hyperV();
        return base.with(r -> r.recoveryVmName("a".repeat(62) + "9")
                .vm(v -> {
                    v.generation(1).architecture(VmFacts.Architecture.X86).osName("Windows Server 2008 Standard")
                            .nics(List.of(new NicFacts("eth0", "10.1.0.5", true, false)))
                            .disks(List.of(DiskFacts.os("os", Limits.HYPERV_OS_DISK_MAX_GEN1).with(d -> d.partitions(8))));
                    for (int i = 0; i < Limits.HYPERV_DATA_DISKS_MAX; i++) {
                        long size = i == 0 ? Limits.HYPERV_DATA_DISK_MAX : GIB;
                        v.disk(DiskFacts.data("d" + i, size).with(d -> d.sectors(DiskFacts.SECTOR_4K, DiskFacts.SECTOR_512)));
                    }
                })
                .policy(base.policy().withAppConsistentFrequency(Duration.ZERO))
                .target(t -> t.storageAccounts(List.of(StorageAccountFacts.of(storageId("hvprem"), WEST_EUROPE,
                        StorageAccountFacts.Kind.STORAGE_V2, StorageAccountFacts.Sku.PREMIUM_LRS)))
                        .diskEncryption(TargetFacts.DiskEncryption.DOUBLE)));
    }

    /** A Hyper-V host managed by VMM, gen 2 with four partitions on a 4 TiB OS disk; dynamic data disk with a crash-consistent policy. */
    static ReplicationFacts hyperVWithVmm() {
        ReplicationFacts base = hyperV();
        return base.with(r -> r.source(s -> s.vmmManaged(true))
                .vm(v -> v.replaceDisk("hv-os", d -> d.sizeBytes(Limits.HYPERV_OS_DISK_MAX_GEN2))
                        .replaceDisk("hv-data1", d -> d.trait(DiskFacts.Trait.DYNAMIC)))
                .policy(base.policy().withAppConsistentFrequency(Duration.ZERO)));
    }

    // ---------------------------------------------------------------- Physical / Government move (seed 001)

    /** An Azure VM in US Gov Virginia moved as a physical server to East US, vault in East US. */
    static ReplicationFacts physicalMove() {
        VmFacts vm = VmFacts.builder("gov-web01").osType(VmFacts.OsType.WINDOWS).osName("Windows Server 2019 Datacenter")
                .generation(1).size(D2S_V3).managedDisks(true)
                .disk(DiskFacts.os("gov-web01-os", 127 * GIB)).nic(NicFacts.ipv4("nic0", "10.20.0.4"))
                .build();
        return ReplicationFacts.builder(Scenario.PHYSICAL_TO_AZURE)
                .vault(new VaultFacts("ContosoVMVault", EAST_US, 1, VaultFacts.Identity.NONE, 0, false))
                .source(SourceFacts.azure(US_GOV_VIRGINIA).with(s -> s.configurationServerRegistered(true)
                        .installAccount(new InstallAccount("CONTOSO\\asr-install", true, false))))
                .vm(vm)
                .policy(new PolicyFacts(Scenario.PHYSICAL_TO_AZURE, "rep-policy", Duration.ofHours(48), Duration.ofHours(1)))
                .target(TargetFacts.in(EAST_US, capacity(D2S_V3))
                        .with(t -> t.storageAccount(standard("moveeus", EAST_US)).network(vnet("vnet-eus", EAST_US))))
                .build();
    }

    /** An on-premises Linux server pushed with root and a premium target at 24 hours' retention. */
    static ReplicationFacts physicalOnPremisesLinux() {
        ReplicationFacts base = physicalMove();
        return base.with(r -> r.source(s -> s.region(null).installAccount(new InstallAccount("root", false, false)))
                .vm(v -> v.name("db01").osType(VmFacts.OsType.LINUX).osName("Red Hat Enterprise Linux 9").size(VmSize.of(2, 8192)))
                .policy(base.policy().withRetention(Limits.RETENTION_MAX_PREMIUM))
                .target(t -> t.storageAccounts(List.of(StorageAccountFacts.of(storageId("premeus"), EAST_US,
                        StorageAccountFacts.Kind.STORAGE_V2, StorageAccountFacts.Sku.PREMIUM_LRS)))));
    }

    /** A Windows server pushed with a local account after LocalAccountTokenFilterPolicy=1. */
    static ReplicationFacts physicalLocalAccount() {
        return physicalMove().with(r -> r.source(s -> s.installAccount(new InstallAccount("Administrator", false, true))));
    }

    // ---------------------------------------------------------------- lifecycle variants

    /** The item after protection was enabled: the protected VM and target storage recorded. */
    static ReplicationFacts protectedItem(ReplicationFacts base) {
        VmFacts vm = base.vm().with(v -> v.protectedByAsr(true));
        return base.with(r -> r.vm(vm).protectedItem(new ProtectedItemFacts(vm,
                base.target().storageAccounts().stream().map(StorageAccountFacts::id).toList())));
    }

    /** A protected item about to run a test failover into an isolated network in the vault's region. */
    static ReplicationFacts testFailover(ReplicationFacts base) {
        ReplicationFacts p = protectedItem(base);
        return p.with(r -> r.target(t -> t.testNetwork(vnet("vnet-test", p.vault().region()))));
    }

    // ---------------------------------------------------------------- other operations

    static VmUpdateFacts vmUpdate() {
        return new VmUpdateFacts(a2a().vm(), VmFacts.SecurityType.TRUSTED_LAUNCH);
    }

    static PrivateEndpointFacts vaultEndpoint() {
        VaultFacts vault = new VaultFacts("pe-vault", WEST_US_2, 0, VaultFacts.Identity.SYSTEM_ASSIGNED, 0, false);
        return PrivateEndpointFacts.forVault(vault, new SubnetFacts("source-subnet", Limits.PRIVATE_ENDPOINT_MIN_FREE_IPS),
                new SubnetFacts("recovery-subnet", Limits.PRIVATE_ENDPOINT_MIN_FREE_IPS), false);
    }

    static PrivateEndpointFacts storageEndpoint() {
        VaultFacts vault = new VaultFacts("pe-vault", WEST_US_2, 4, VaultFacts.Identity.SYSTEM_AND_USER_ASSIGNED, 2, false);
        return PrivateEndpointFacts.forStorage(vault, standard("cacheeus", EAST_US), new SubnetFacts("source-subnet", 1));
    }

    /** Two endpoints of a vault (source and recovery subnets), each needing the pairing's two links. */
    static ReplicationLinkFacts replicationLinks(int sourceFree, int recoveryFree) {
        return new ReplicationLinkFacts("pe-vault", EAST_US, WEST_US_2, List.of(
                new ReplicationLinkFacts.SubnetNeed(new SubnetFacts("source-subnet", sourceFree), List.of("pe-source"),
                        Limits.PRIVATE_ENDPOINT_REPLICATION_LINKS),
                new ReplicationLinkFacts.SubnetNeed(new SubnetFacts("recovery-subnet", recoveryFree), List.of("pe-recovery"),
                        Limits.PRIVATE_ENDPOINT_REPLICATION_LINKS)));
    }

    static ServerRegistrationFacts configurationServer() {
        return ServerRegistrationFacts.builder(ServerRegistrationFacts.ServerType.CONFIGURATION_SERVER, NOW,
                        NOW.minus(Limits.REGISTRATION_KEY_VALIDITY), NOW.minus(Limits.MAX_CLOCK_SKEW).plusSeconds(1))
                .runAsAdministrator(true).osRelease(ServerRelease.R2016).ipv4Connectivity(true).build();
    }

    static ServerRegistrationFacts hyperVHost() {
        return ServerRegistrationFacts.builder(ServerRegistrationFacts.ServerType.HYPERV_HOST, NOW,
                        NOW.minus(Duration.ofHours(1)), NOW.plusSeconds(30))
                .osRelease(ServerRelease.R2022).serverCore(true).dotNetVersion("4.8").ipv4Connectivity(true)
                .proxyUrl("http://proxy.contoso.local:3128").vaultTenantId("tenant-a").registeredTenantId("tenant-a").build();
    }

    static ServerRegistrationFacts vmmServer() {
        return ServerRegistrationFacts.builder(ServerRegistrationFacts.ServerType.VMM_SERVER, NOW, NOW, NOW)
                .osRelease(ServerRelease.R2019).vmmRelease(ServerRelease.R2019).serverCore(true)
                .managedHostReleases(List.of(ServerRelease.R2016, ServerRelease.R2019))
                .dotNetVersion(Limits.DOTNET_MIN_VERSION).ipv4Connectivity(true).vaultTenantId("tenant-a").build();
    }

    static MoveFacts vaultMove() {
        return new MoveFacts(MoveFacts.Kind.VAULT, "/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/dr-vault",
                Set.of(Scenario.A2A));
    }

    /** Baselines that must pass every rule checked at the operation. */
    static List<Facts> baselines(Operation op) {
        return switch (op) {
            case ENABLE_REPLICATION -> List.of(a2a(), a2aTrustedLaunch(), a2aPrivateEndpoints(), a2aPrivateEndpointsUnmanaged(),
                    hyperV(), hyperVAtLimits(), hyperVWithVmm(), physicalMove(), physicalOnPremisesLinux(), physicalLocalAccount());
            case UPDATE_PROTECTED_ITEM, FAILOVER -> List.of(protectedItem(a2a()), protectedItem(a2aTrustedLaunch()),
                    protectedItem(hyperV()), protectedItem(hyperVWithVmm()), protectedItem(physicalMove()));
            case TEST_FAILOVER -> List.of(testFailover(a2a()), testFailover(hyperV()), testFailover(physicalMove()));
            case REPROTECT -> List.of(protectedItem(a2a()), protectedItem(hyperV()), protectedItem(physicalOnPremisesLinux()));
            case UPDATE_VM -> List.of(vmUpdate(),
                    new VmUpdateFacts(a2aTrustedLaunch().vm().with(v -> v.protectedByAsr(true)), VmFacts.SecurityType.TRUSTED_LAUNCH),
                    new VmUpdateFacts(a2a().vm().with(v -> v.protectedByAsr(true)), VmFacts.SecurityType.STANDARD));
            case CREATE_POLICY, UPDATE_POLICY -> List.of(a2a().policy(), hyperV().policy(),
                    physicalMove().policy().withRetention(Limits.RETENTION_MAX_STANDARD),
                    new PolicyFacts(Scenario.VMWARE_TO_AZURE, "vmware-policy", Duration.ofHours(72), Duration.ZERO));
            case LINK_PRIVATE_DNS_ZONE -> List.of(vaultEndpoint(), storageEndpoint().withDnsZoneUsedByVaultEndpoint(true),
                    PrivateEndpointFacts.forStorage(null, standard("nolinkedvault", EAST_US), new SubnetFacts("s", 1)));
            case CREATE_PRIVATE_ENDPOINT -> List.of(vaultEndpoint(),
                    vaultEndpoint().withCacheStoragePrivateEndpoint(true).withSubnets(new SubnetFacts("s", 10), new SubnetFacts("r", 10)),
                    vaultEndpoint().withSubnets(new SubnetFacts("hub", 9), null), storageEndpoint(),
                    storageEndpoint().withIpAllocation(PrivateEndpointFacts.IpAllocation.STATIC));
            case ADD_REPLICATION_PRIVATE_LINKS -> List.of(replicationLinks(2, 4),
                    new ReplicationLinkFacts("pe-vault", EAST_US, WEST_US_2, List.of(new ReplicationLinkFacts.SubnetNeed(
                            new SubnetFacts("links-present", 0), List.of("pe"), 0))),
                    new ReplicationLinkFacts("no-endpoints", EAST_US, WEST_US_2, List.of()));
            case REGISTER_SERVER -> List.of(configurationServer(), hyperVHost(), vmmServer());
            case MOVE_RESOURCE -> List.of(vaultMove(), new MoveFacts(MoveFacts.Kind.STORAGE_ACCOUNT, storageId("x"), Set.of()),
                    new MoveFacts(MoveFacts.Kind.VIRTUAL_MACHINE, "vm", Set.of(Scenario.A2A)));
        };
    }
}
