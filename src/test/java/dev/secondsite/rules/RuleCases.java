package dev.secondsite.rules;

import dev.secondsite.auth.BuiltInRole;
import dev.secondsite.cloud.Region;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.secondsite.rules.Limits.GIB;
import static dev.secondsite.rules.Limits.TIB;
import static dev.secondsite.rules.Operation.ADD_REPLICATION_PRIVATE_LINKS;
import static dev.secondsite.rules.Operation.CREATE_POLICY;
import static dev.secondsite.rules.Operation.CREATE_PRIVATE_ENDPOINT;
import static dev.secondsite.rules.Operation.ENABLE_REPLICATION;
import static dev.secondsite.rules.Operation.MOVE_RESOURCE;
import static dev.secondsite.rules.Operation.REGISTER_SERVER;
import static dev.secondsite.rules.Operation.REPROTECT;
import static dev.secondsite.rules.Operation.TEST_FAILOVER;
import static dev.secondsite.rules.Operation.UPDATE_PROTECTED_ITEM;
import static dev.secondsite.rules.Operation.UPDATE_VM;
import static dev.secondsite.rules.RuleFixtures.EAST_US;
import static dev.secondsite.rules.RuleFixtures.NOW;
import static dev.secondsite.rules.RuleFixtures.US_GOV_VIRGINIA;
import static dev.secondsite.rules.RuleFixtures.WEST_EUROPE;
import static dev.secondsite.rules.RuleFixtures.a2a;
import static dev.secondsite.rules.RuleFixtures.a2aPrivateEndpoints;
import static dev.secondsite.rules.RuleFixtures.a2aTrustedLaunch;
import static dev.secondsite.rules.RuleFixtures.configurationServer;
import static dev.secondsite.rules.RuleFixtures.hyperV;
import static dev.secondsite.rules.RuleFixtures.hyperVHost;
import static dev.secondsite.rules.RuleFixtures.physicalMove;
import static dev.secondsite.rules.RuleFixtures.protectedItem;
import static dev.secondsite.rules.RuleFixtures.region;
import static dev.secondsite.rules.RuleFixtures.replicationLinks;
import static dev.secondsite.rules.RuleFixtures.standard;
import static dev.secondsite.rules.RuleFixtures.storageEndpoint;
import static dev.secondsite.rules.RuleFixtures.storageId;
import static dev.secondsite.rules.RuleFixtures.testFailover;
import static dev.secondsite.rules.RuleFixtures.vaultEndpoint;
import static dev.secondsite.rules.RuleFixtures.vmmServer;
import static dev.secondsite.rules.RuleFixtures.vnet;

/** For every rule code: an operation and facts that break that rule and no other. */
final class RuleCases {
    private RuleCases() {}

    record Case(Operation op, Facts facts) {}

    static Map<String, Case> all() {
        Map<String, Case> c = new LinkedHashMap<>();

        // ---- seed 000
        c.put("TrustedLaunchScenarioNotSupported", new Case(ENABLE_REPLICATION,
                physicalMove().with(r -> r.vm(v -> v.securityType(VmFacts.SecurityType.TRUSTED_LAUNCH)))));
        c.put("TrustedLaunchLinuxNotSupported", new Case(ENABLE_REPLICATION,
                a2aTrustedLaunch().with(r -> r.vm(v -> v.osType(VmFacts.OsType.LINUX).osName("Ubuntu 22.04 LTS")))));
        Region usDodEast = region("usdodeast");
        c.put("TrustedLaunchCrossCloudNotSupported", new Case(ENABLE_REPLICATION, a2aTrustedLaunch().with(r -> r
                .source(s -> s.region(US_GOV_VIRGINIA))
                .vault(a2a().vault().withRegion(usDodEast))
                .target(t -> t.region(usDodEast).storageAccounts(List.of(standard("dod", usDodEast))).network(vnet("vnet-dod", usDodEast))))));
        c.put("TrustedLaunchSharedDiskNotSupported", new Case(ENABLE_REPLICATION,
                a2aTrustedLaunch().with(r -> r.vm(v -> v.replaceDisk("web01-data", d -> d.trait(DiskFacts.Trait.SHARED))))));
        c.put("TrustedLaunchVaultPrivateEndpointsPredatePreview", new Case(ENABLE_REPLICATION, a2aPrivateEndpoints().with(r -> r
                .vm(v -> v.securityType(VmFacts.SecurityType.TRUSTED_LAUNCH))
                .vault(a2aPrivateEndpoints().vault().withCreatedBeforeTrustedLaunchPreview(true)))));
        c.put("TrustedLaunchUpgradeOfProtectedVmNotSupported", new Case(UPDATE_VM, new VmUpdateFacts(
                a2a().vm().with(v -> v.generation(1).protectedByAsr(true)), VmFacts.SecurityType.TRUSTED_LAUNCH)));

        // ---- seed 001
        c.put("CrossCloudAzureToAzureNotSupported", new Case(ENABLE_REPLICATION, a2a().with(r -> r.source(s -> s.region(US_GOV_VIRGINIA)))));
        c.put("VaultInSourceRegion", new Case(ENABLE_REPLICATION, physicalMove().with(r -> r.source(s -> s.region(EAST_US)))));
        c.put("TargetStorageNotInVaultRegion", new Case(ENABLE_REPLICATION,
                a2a().with(r -> r.target(t -> t.storageAccounts(List.of(standard("targeteus", EAST_US)))))));
        c.put("TargetNetworkNotInVaultRegion", new Case(ENABLE_REPLICATION, a2a().with(r -> r.target(t -> t.network(vnet("vnet-eus", EAST_US))))));
        c.put("TargetStorageAccountRequired", new Case(ENABLE_REPLICATION, physicalMove().with(r -> r.target(t -> t.storageAccounts(List.of())))));
        c.put("ConfigurationServerNotRegistered", new Case(ENABLE_REPLICATION,
                physicalMove().with(r -> r.source(s -> s.configurationServerRegistered(false)))));
        c.put("PolicyRetentionTooLong", new Case(CREATE_POLICY, physicalMove().policy().withRetention(Duration.ofHours(73))));
        c.put("PremiumStorageRetentionTooLong", new Case(ENABLE_REPLICATION, physicalMove().with(r -> r.target(t -> t.storageAccounts(List.of(
                standard("moveeus", EAST_US).with(s -> s.sku(StorageAccountFacts.Sku.PREMIUM_LRS))))))));
        c.put("MobilityServiceAccountRemoteUacEnabled", new Case(ENABLE_REPLICATION,
                physicalMove().with(r -> r.source(s -> s.installAccount(new InstallAccount("Administrator", false, false))))));
        c.put("MobilityServiceAccountNotRoot", new Case(ENABLE_REPLICATION, physicalMove().with(r -> r
                .vm(v -> v.osType(VmFacts.OsType.LINUX).osName("Red Hat Enterprise Linux 9"))
                .source(s -> s.installAccount(new InstallAccount("azureuser", false, false))))));
        c.put("RegistrationKeyExpired", new Case(REGISTER_SERVER, configurationServer().with(s -> s
                .keyIssuedAt(NOW.minus(Limits.REGISTRATION_KEY_VALIDITY).minusSeconds(1)))));
        c.put("ServerClockSkewTooLarge", new Case(REGISTER_SERVER, configurationServer().with(s -> s.serverClock(NOW.plus(Limits.MAX_CLOCK_SKEW)))));
        c.put("ConfigurationServerSetupNotAdministrator", new Case(REGISTER_SERVER, configurationServer().with(s -> s.runAsAdministrator(false))));
        ReplicationFacts sameNetwork = testFailover(a2a());
        c.put("TestFailoverNetworkIsProductionNetwork", new Case(TEST_FAILOVER,
                sameNetwork.with(r -> r.target(t -> t.testNetwork(sameNetwork.target().network())))));
        c.put("ReprotectAfterMoveNotSupported", new Case(REPROTECT, protectedItem(physicalMove())));

        // ---- seed 004
        Region centralIndia = region("centralindia");
        c.put("PremiumReplicationNotAvailableInRegion", new Case(ENABLE_REPLICATION, a2a().with(r -> r
                .vault(a2a().vault().withRegion(centralIndia))
                .target(t -> t.region(centralIndia).network(vnet("vnet-inc", centralIndia)).storageAccounts(List.of(
                        standard("preminc", centralIndia).with(s -> s.sku(StorageAccountFacts.Sku.PREMIUM_LRS))))))));
        c.put("TargetRegionNotEnabledForVms", new Case(ENABLE_REPLICATION, a2a().with(r -> r.target(t -> t.capacity(
                new TargetCapacity(false, 100, a2a().target().capacity().availableSizes()))))));
        c.put("InsufficientTargetQuota", new Case(ENABLE_REPLICATION, a2a().with(r -> r.target(t -> t.capacity(
                new TargetCapacity(true, 1, a2a().target().capacity().availableSizes()))))));
        c.put("TargetVmSizeNotAvailable", new Case(ENABLE_REPLICATION, a2a().with(r -> r.target(t -> t.capacity(
                new TargetCapacity(true, 100, List.of(new VmSize("Standard_B1s", 1, 1024), new VmSize("Standard_E2s_v3", 2, 4096))))))));
        c.put("VmRootCertificatesOutdated", new Case(ENABLE_REPLICATION, a2a().with(r -> r.vm(v -> v.latestRootCertificates(false)))));
        c.put("SiteRecoveryOutboundConnectivityBlocked", new Case(ENABLE_REPLICATION,
                a2a().with(r -> r.source(s -> s.outboundConnectivity(false)))));

        // ---- seed 003
        c.put("PrivateEndpointRequiresNewVault", new Case(CREATE_PRIVATE_ENDPOINT, vaultEndpoint().withVault(vaultEndpoint().vault().withRegisteredItems(1))));
        c.put("VaultSystemAssignedIdentityRequired", new Case(CREATE_PRIVATE_ENDPOINT,
                vaultEndpoint().withVault(vaultEndpoint().vault().withIdentity(VaultFacts.Identity.USER_ASSIGNED))));
        c.put("PrivateEndpointStaticIpNotSupported", new Case(CREATE_PRIVATE_ENDPOINT,
                vaultEndpoint().withIpAllocation(PrivateEndpointFacts.IpAllocation.STATIC)));
        c.put("InsufficientSubnetIpsForPrivateEndpoint", new Case(CREATE_PRIVATE_ENDPOINT, vaultEndpoint().withCacheStoragePrivateEndpoint(true)));
        c.put("InsufficientSubnetIpsForReplicationPrivateLinks", new Case(ADD_REPLICATION_PRIVATE_LINKS, replicationLinks(9, 1)));
        c.put("StoragePrivateEndpointRequiresGeneralPurposeV2", new Case(CREATE_PRIVATE_ENDPOINT,
                storageEndpoint().withStorage(storageEndpoint().storage().with(s -> s.kind(StorageAccountFacts.Kind.STORAGE)))));
        c.put("PrivateDnsZoneAlreadyUsedByVault", new Case(CREATE_PRIVATE_ENDPOINT, vaultEndpoint().withDnsZoneUsedByVaultEndpoint(true)));
        c.put("VaultIdentityMissingStorageRoles", new Case(ENABLE_REPLICATION, a2aPrivateEndpoints().with(r -> r.source(s -> s.cacheStorage(
                a2aPrivateEndpoints().source().cacheStorage().with(c2 -> c2.vaultIdentityRoles(Set.of(BuiltInRole.CONTRIBUTOR))))))));
        c.put("TrustedMicrosoftServicesNotAllowed", new Case(ENABLE_REPLICATION, a2aPrivateEndpoints().with(r -> r.source(s -> s.cacheStorage(
                a2aPrivateEndpoints().source().cacheStorage().with(c2 -> c2.trustedServicesAllowed(false)))))));

        // ---- seed 002: protection
        c.put("HyperVVmNameInvalid", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.recoveryVmName("hv_app01"))));
        c.put("HyperVOsDiskCountInvalid", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.disk(DiskFacts.os("hv-os2", 64 * GIB))))));
        c.put("HyperVOsDiskTooLarge", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.generation(1)
                .replaceDisk("hv-os", d -> d.sizeBytes(Limits.HYPERV_OS_DISK_MAX_GEN1 + GIB))))));
        c.put("HyperVTooManyDataDisks", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> {
            for (int i = 0; i < Limits.HYPERV_DATA_DISKS_MAX; i++) v.disk(DiskFacts.data("extra" + i, GIB));
        }))));
        c.put("HyperVDataDiskTooLarge", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.replaceDisk("hv-data1",
                d -> d.sizeBytes(Limits.HYPERV_DATA_DISK_MAX + 1))))));
        c.put("HyperVLargeDiskProviderTooOld", new Case(ENABLE_REPLICATION, hyperV().with(r -> r
                .source(s -> s.providerVersion(Limits.HYPERV_LARGE_DISK_PROVIDER_AFTER))
                .vm(v -> v.replaceDisk("hv-data1", d -> d.sizeBytes(2 * TIB))))));
        c.put("HyperVLargeDiskRequiresManagedDisks", new Case(ENABLE_REPLICATION, hyperV().with(r -> r
                .target(t -> t.managedDisks(false))
                .vm(v -> v.replaceDisk("hv-data1", d -> d.sizeBytes(TIB + 1))))));
        c.put("HyperVSharedDiskNotSupported", dataDisk(d -> d.trait(DiskFacts.Trait.SHARED)));
        c.put("HyperVFibreChannelDiskNotSupported", dataDisk(d -> d.trait(DiskFacts.Trait.FIBRE_CHANNEL)));
        c.put("HyperVBitLockerNotSupported", dataDisk(d -> d.trait(DiskFacts.Trait.BITLOCKER)));
        c.put("HyperVEncryptedDiskNotSupported", dataDisk(d -> d.trait(DiskFacts.Trait.ENCRYPTED)));
        c.put("HyperV4KNativeDiskNotSupported", dataDisk(d -> d.sectors(DiskFacts.SECTOR_4K, DiskFacts.SECTOR_4K)));
        c.put("HyperVDiskFormatNotSupported", dataDisk(d -> d.format(DiskFacts.Format.RAW)));
        c.put("HyperVLvmOnOsDiskNotSupported", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.osType(VmFacts.OsType.LINUX)
                .osName("Ubuntu 20.04").generation(1).replaceDisk("hv-os", d -> d.trait(DiskFacts.Trait.LVM))
                .replaceDisk("hv-data1", d -> d.trait(DiskFacts.Trait.LVM))))));
        c.put("HyperVStorageSpacesNotSupported", dataDisk(d -> d.trait(DiskFacts.Trait.STORAGE_SPACES)));
        c.put("HyperVDynamicDiskRequiresCrashConsistentPolicy", dataDisk(d -> d.trait(DiskFacts.Trait.DYNAMIC)));
        c.put("HyperVNanoServerNotSupported", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.osName("Windows Server 2016 Nano Server")))));
        c.put("HyperVGuestArchitectureNotSupported", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.generation(1)
                .architecture(VmFacts.Architecture.X86).osName("Windows Server 2008 R2 Standard")))));
        c.put("HyperVSecureBootNotSupported", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.secureBoot(true)))));
        c.put("HyperVGen2OsDiskNotBasic", new Case(ENABLE_REPLICATION, hyperV().with(r -> r
                .vm(v -> v.replaceDisk("hv-os", d -> d.trait(DiskFacts.Trait.DYNAMIC)))
                .policy(hyperV().policy().withAppConsistentFrequency(Duration.ZERO)))));
        c.put("HyperVGen2OsDiskTooManyPartitions", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.replaceDisk("hv-os",
                d -> d.partitions(Limits.HYPERV_GEN2_OS_PARTITIONS_MAX + 1))))));
        c.put("HyperVGen2GuestOsNotSupported", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.osName("Windows Server 2008 R2 Datacenter")))));
        c.put("HyperVGuestNicTeamingNotSupported", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.nics(List.of(
                new NicFacts("team0", "192.168.1.21", false, true)))))));
        c.put("HyperVGuestIpv6NotSupportedWithVmm", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.source(s -> s.vmmManaged(true))
                .vm(v -> v.nics(List.of(new NicFacts("eth0", "192.168.1.20", true, false)))))));
        c.put("HyperVApipaAddressNotSupported", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.nics(List.of(
                NicFacts.ipv4("eth0", "169.254.10.1")))))));
        c.put("HyperVZoneRedundantStorageNotSupported", targetStorage(s -> s.sku(StorageAccountFacts.Sku.STANDARD_ZRS)));
        c.put("HyperVCoolStorageNotSupported", targetStorage(s -> s.kind(StorageAccountFacts.Kind.STORAGE_V2).accessTier(StorageAccountFacts.AccessTier.COOL)));
        c.put("HyperVHotStorageNotSupported", targetStorage(s -> s.kind(StorageAccountFacts.Kind.STORAGE_V2).accessTier(StorageAccountFacts.AccessTier.HOT)));
        c.put("HyperVBlockBlobStorageNotSupported", targetStorage(s -> s.kind(StorageAccountFacts.Kind.BLOCK_BLOB_STORAGE).sku(StorageAccountFacts.Sku.PREMIUM_LRS)));
        c.put("HyperVEncryptionAtHostNotSupported", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.target(t -> t.encryptionAtHost(true)))));
        c.put("HyperVCustomerKeyRequiresManagedDisks", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.target(t -> t.managedDisks(false)
                .diskEncryption(TargetFacts.DiskEncryption.CUSTOMER_KEY)))));
        c.put("HyperVAvailabilityZoneNotSupported", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.target(t -> t.availabilityZone("1")))));
        c.put("HyperVAcceleratedNetworkingNotSupported", new Case(ENABLE_REPLICATION, hyperV().with(r -> r.target(t -> t.acceleratedNetworking(true)))));

        // ---- seed 002: changes to a protected item
        ReplicationFacts hv = protectedItem(hyperV());
        c.put("HyperVDiskResizeNotSupported", new Case(UPDATE_PROTECTED_ITEM, hv.with(r -> r.vm(v -> v.replaceDisk("hv-data1", d -> d.sizeBytes(512 * GIB))))));
        c.put("HyperVDiskAddNotSupported", new Case(UPDATE_PROTECTED_ITEM, hv.with(r -> r.vm(v -> v.disk(DiskFacts.data("hv-data2", 64 * GIB)
                .with(d -> d.location("scsi0:3")))))));
        c.put("HyperVDiskRemoveNotSupported", new Case(UPDATE_PROTECTED_ITEM, hv.with(r -> r.vm(v -> v.disks(
                hv.vm().disks().stream().filter(d -> !d.id().equals("hv-data1")).toList())))));
        c.put("HyperVDiskIdentityChanged", new Case(UPDATE_PROTECTED_ITEM, hv.with(r -> r.vm(v -> v.replaceDisk("hv-data1", d -> d.id("hv-data1-new"))))));
        c.put("HyperVTargetStorageChangeNotSupported", new Case(UPDATE_PROTECTED_ITEM, hv.with(r -> r.target(t -> t.storageAccounts(List.of(
                StorageAccountFacts.of(storageId("hvtarget2"), WEST_EUROPE, StorageAccountFacts.Kind.STORAGE, StorageAccountFacts.Sku.STANDARD_LRS)))))));

        // ---- seed 002: vault and resource moves
        c.put("HyperVVaultMoveNotSupported", new Case(MOVE_RESOURCE, new MoveFacts(MoveFacts.Kind.VAULT, "hv-vault",
                Set.of(Scenario.HYPERV_TO_AZURE, Scenario.A2A))));
        c.put("HyperVReplicationResourceMoveNotSupported", new Case(MOVE_RESOURCE, new MoveFacts(MoveFacts.Kind.STORAGE_ACCOUNT,
                storageId("hvtarget"), Set.of(Scenario.HYPERV_TO_AZURE))));

        // ---- seed 002: server registration
        c.put("HyperVHostOsNotSupported", new Case(REGISTER_SERVER, hyperVHost().with(s -> s.osRelease(ServerRelease.R2012))));
        c.put("HyperVVmmVersionNotSupported", new Case(REGISTER_SERVER, vmmServer().with(s -> s.vmmRelease(ServerRelease.R2012)
                .managedHostReleases(List.of()))));
        c.put("HyperVVmmServerCoreNotSupported", new Case(REGISTER_SERVER, vmmServer().with(s -> s.vmmRelease(ServerRelease.R2022))));
        c.put("HyperVHostNewerThanVmm", new Case(REGISTER_SERVER, vmmServer().with(s -> s.vmmRelease(ServerRelease.R2016))));
        c.put("HyperVDotNetFrameworkTooOld", new Case(REGISTER_SERVER, hyperVHost().with(s -> s.dotNetVersion("4.6.1"))));
        c.put("HyperVHostAzureBackupConflict", new Case(REGISTER_SERVER, hyperVHost().with(s -> s.azureBackupConfigured(true))));
        c.put("HyperVHttpsProxyNotSupported", new Case(REGISTER_SERVER, hyperVHost().with(s -> s.proxyUrl("HTTPS://proxy.contoso.local:8443"))));
        c.put("HyperVHostIpv4Required", new Case(REGISTER_SERVER, hyperVHost().with(s -> s.ipv4Connectivity(false))));
        c.put("HyperVSiteRegisteredToAnotherTenant", new Case(REGISTER_SERVER, hyperVHost().with(s -> s.registeredTenantId("tenant-b"))));
        return c;
    }

    private static Case dataDisk(java.util.function.Consumer<DiskFacts.Builder> change) {
        return new Case(ENABLE_REPLICATION, hyperV().with(r -> r.vm(v -> v.replaceDisk("hv-data1", change))));
    }

    private static Case targetStorage(java.util.function.Consumer<StorageAccountFacts.Builder> change) {
        ReplicationFacts base = hyperV();
        return new Case(ENABLE_REPLICATION, base.with(r -> r.target(t -> t.storageAccounts(List.of(
                base.target().storageAccounts().getFirst().with(change))))));
    }
}
