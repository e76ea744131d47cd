package dev.secondsite.rules;

import dev.secondsite.auth.BuiltInRole;
import dev.secondsite.cloud.Regions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Set;

import static dev.secondsite.rules.Limits.GIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The data and helpers around the catalogue: private-link names, roles, sizes, disk diffs, releases. */
class RuleSupportTest {

    @Test
    void privateEndpointFqdnFollowsTheSeedPatternWithTheRegionsGeoCode() {
        assertThat(PrivateLink.fqdn("5983817262134539345", "srs1", RuleFixtures.EAST_US))
                .isEqualTo("5983817262134539345-asr-pod01-srs1.eus.privatelink.siterecovery.windowsazure.com");
        assertThat(PrivateLink.fqdn("AbC-12", "ID1", Regions.find("usdodeast").orElseThrow()))
                .isEqualTo("abc-12-asr-pod01-id1.ude.privatelink.siterecovery.windowsazure.com");
        assertThat(PrivateLink.fqdn("v1", "tel1", RuleFixtures.WEST_US_2)).doesNotContain("-.");
    }

    @Test
    void aVaultEndpointGetsFiveNames() {
        assertThat(PrivateLink.vaultFqdns("123", RuleFixtures.WEST_EUROPE)).hasSize(PrivateLink.FQDNS_AT_CREATION)
                .allMatch(n -> n.startsWith("123-asr-pod01-") && n.endsWith(".we." + PrivateLink.DNS_ZONE))
                .doesNotHaveDuplicates();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-abc", "abc-", "a_b", "a.b"})
    void fqdnRefusesIdsThatAreNotDnsLabels(String id) {
        assertThatThrownBy(() -> PrivateLink.fqdn(id, "srs1", RuleFixtures.EAST_US)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void vaultIdentityRolesDependOnTheStorageType() {
        StorageAccountFacts standard = RuleFixtures.standard("std", RuleFixtures.EAST_US);
        assertThat(PrivateLink.requiredVaultRoles(standard))
                .containsExactlyInAnyOrder(BuiltInRole.CONTRIBUTOR, BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR);
        assertThat(PrivateLink.requiredVaultRoles(standard.with(s -> s.sku(StorageAccountFacts.Sku.PREMIUM_LRS))))
                .containsExactlyInAnyOrder(BuiltInRole.CONTRIBUTOR, BuiltInRole.STORAGE_BLOB_DATA_OWNER);
        assertThat(PrivateLink.requiredVaultRoles(standard.with(s -> s.deploymentModel(StorageAccountFacts.DeploymentModel.CLASSIC))))
                .containsExactlyInAnyOrder(BuiltInRole.CLASSIC_STORAGE_ACCOUNT_CONTRIBUTOR, BuiltInRole.CLASSIC_STORAGE_ACCOUNT_KEY_OPERATOR);
        assertThat(PrivateLink.missingVaultRoles(standard.with(s -> s.vaultIdentityRoles(Set.of(BuiltInRole.CONTRIBUTOR)))))
                .containsExactly(BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR);
    }

    @Test
    void rolesAreNeededOnCacheOnlyForManagedDisksAndOnEveryAccountForUnmanaged() {
        assertThat(PrivateLink.accountsNeedingVaultRoles(RuleFixtures.a2a())).isEmpty();
        assertThat(PrivateLink.accountsNeedingVaultRoles(RuleFixtures.a2aPrivateEndpoints())).extracting(StorageAccountFacts::id)
                .containsExactly(RuleFixtures.storageId("cacheeus"));
        assertThat(PrivateLink.accountsNeedingVaultRoles(RuleFixtures.a2aPrivateEndpointsUnmanaged())).extracting(StorageAccountFacts::id)
                .containsExactly(RuleFixtures.storageId("classicsrc"), RuleFixtures.storageId("cacheeus"),
                        RuleFixtures.storageId("premwus2"), RuleFixtures.storageId("stdwus2"));
    }

    @Test
    void privateEndpointApprovalIsAutomaticForTheVaultOwner() {
        assertThat(PrivateLink.approval(true)).isEqualTo(PrivateLink.Approval.AUTOMATIC);
        assertThat(PrivateLink.approval(false)).isEqualTo(PrivateLink.Approval.MANUAL);
    }

    @Test
    void subnetIpsNeededGrowWithACacheEndpoint() {
        assertThat(Limits.privateEndpointFreeIps(false)).isEqualTo(9);
        assertThat(Limits.privateEndpointFreeIps(true)).isEqualTo(10);
    }

    @Test
    void targetSizeIsTheSameOrTheClosestAtLeastAsLarge() {
        VmSize d2 = new VmSize("Standard_D2s_v3", 2, 8192);
        VmSize d2v5 = new VmSize("Standard_D2s_v5", 2, 8192);
        VmSize d4 = new VmSize("Standard_D4s_v3", 4, 16384);
        VmSize e2 = new VmSize("Standard_E2s_v3", 2, 16384);
        VmSize b1 = new VmSize("Standard_B1s", 1, 1024);

        assertThat(TargetSizes.pick(d2, List.of(d4, d2v5, new VmSize("standard_d2s_v3", 2, 8192)))).map(VmSize::name).contains("standard_d2s_v3");
        assertThat(TargetSizes.pick(d2, List.of(d4, d2v5))).contains(d2v5);
        assertThat(TargetSizes.pick(d2, List.of(d4, e2, b1))).contains(e2);
        assertThat(TargetSizes.pick(VmSize.of(3, 9000), List.of(d4, e2, b1))).contains(d4);
        assertThat(TargetSizes.pick(d4, List.of(d2, e2, b1))).isEmpty();
    }

    @Test
    void diskChangesTellResizeAddRemoveAndIdentityChangeApart() {
        DiskFacts os = DiskFacts.os("os", 100 * GIB).with(d -> d.location("0"));
        DiskFacts a = DiskFacts.data("a", 10 * GIB).with(d -> d.location("1"));
        DiskFacts b = DiskFacts.data("b", 10 * GIB).with(d -> d.location("2"));
        DiskFacts c = DiskFacts.data("c", 10 * GIB);

        assertThat(DiskChanges.between(List.of(os, a, b), List.of(os, a, b)).none()).isTrue();

        DiskChanges changes = DiskChanges.between(List.of(os, a, b, c),
                List.of(os.with(d -> d.sizeBytes(200 * GIB)), a.with(d -> d.id("a2")), DiskFacts.data("new", GIB).with(d -> d.location("9"))));
        assertThat(changes.resized()).extracting(DiskFacts::id).containsExactly("os");
        assertThat(changes.identityChanged()).extracting(DiskFacts::id).containsExactly("a2");
        assertThat(changes.added()).extracting(DiskFacts::id).containsExactly("new");
        assertThat(changes.removed()).extracting(DiskFacts::id).containsExactly("b", "c");
        assertThat(DiskChanges.replacedBy(List.of(os, a, b), changes.identityChanged().getFirst())).isEqualTo(a);
    }

    @ParameterizedTest
    @CsvSource({
            "Windows Server 2012 R2 Datacenter, R2012_R2",
            "Windows Server 2012 Standard, R2012",
            "Microsoft Windows Server 2008 R2, R2008_R2",
            "windows server 2019, R2019",
            "System Center Virtual Machine Manager 2022, R2022"})
    void serverReleasesParseFromProductNames(String name, ServerRelease release) {
        assertThat(ServerRelease.parse(name)).contains(release);
    }

    @Test
    void unknownReleasesParseToNothing() {
        assertThat(ServerRelease.parse("Ubuntu 22.04")).isEmpty();
        assertThat(ServerRelease.parse(null)).isEmpty();
        assertThat(ServerRelease.parse("Windows 10 build 20123")).isEmpty();
    }

    @Test
    void versionsCompareNumerically() {
        assertThat(Versions.isAfter("2.0.9214.1", "2.0.9214.0")).isTrue();
        assertThat(Versions.isAfter("2.0.9214.0", "2.0.9214.0")).isFalse();
        assertThat(Versions.isAfter("10.0", "2.0.9214.0")).isTrue();
        assertThat(Versions.isAfter(null, "2.0")).isFalse();
        assertThat(Versions.isAfter("5.x", "2.0")).isFalse();
        assertThat(Versions.isAtLeast("4.6.2", "4.6.2")).isTrue();
        assertThat(Versions.isAtLeast("4.8", "4.6.2")).isTrue();
        assertThat(Versions.isAtLeast("4.6", "4.6.2")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "vm-01", "A1", "9-9", "63"})
    void validVmNamesPass(String name) {
        if (name.equals("63")) name = "x" + "-".repeat(61) + "z";
        assertThat("x" + "-".repeat(61) + "z").hasSize(Limits.VM_NAME_MAX_LENGTH);
        String n = name;
        ReplicationFacts f = RuleFixtures.hyperV().with(r -> r.recoveryVmName(n));
        assertThat(RuleCatalogue.violations(Operation.ENABLE_REPLICATION, f)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-vm", "vm-", "vm_01", "vm 01", "vm.01", "64"})
    void invalidVmNamesFail(String name) {
        if (name.equals("64")) name = "x".repeat(Limits.VM_NAME_MAX_LENGTH + 1);
        String n = name;
        ReplicationFacts f = RuleFixtures.hyperV().with(r -> r.recoveryVmName(n));
        assertThat(RuleCatalogue.violations(Operation.UPDATE_PROTECTED_ITEM, f)).extracting(Violation::code)
                .containsExactly("HyperVVmNameInvalid");
    }

    @Test
    void replicaDisksGetPublicNetworkAccessByDefault() {
        assertThat(DocumentedDefaults.REPLICA_DISK_PUBLIC_NETWORK_ACCESS).isEqualTo("Enabled");
        assertThat(DocumentedDefaults.all()).anySatisfy(d -> {
            assertThat(d.key()).isEqualTo("ReplicaDiskPublicNetworkAccess");
            assertThat(d.seed()).isEqualTo("000");
            assertThat(d.value()).isEqualTo("Enabled");
        });
        assertThat(DocumentedDefaults.all()).extracting(DocumentedDefaults.DocumentedDefault::key).doesNotHaveDuplicates();
    }

    @Test
    void storageSkusNameAndClassifyThemselves() {
        assertThat(StorageAccountFacts.Sku.STANDARD_RAGRS.armName()).isEqualTo("Standard_RAGRS");
        assertThat(StorageAccountFacts.Sku.PREMIUM_ZRS.premium()).isTrue();
        assertThat(StorageAccountFacts.Sku.STANDARD_RAGZRS.zoneRedundant()).isTrue();
        assertThat(StorageAccountFacts.Sku.STANDARD_GRS.zoneRedundant()).isFalse();
    }

    @Test
    void bytesPrintExactly() {
        assertThat(Limits.bytes(2 * Limits.TIB)).isEqualTo("2 TiB");
        assertThat(Limits.bytes(2049 * GIB)).isEqualTo("2049 GiB");
        assertThat(Limits.bytes(Limits.TIB + 1)).isEqualTo("1099511627777 bytes");
    }

    @Test
    void factsValidateThemselves() {
        assertThatThrownBy(() -> VmFacts.builder("x").osType(VmFacts.OsType.WINDOWS).generation(3).size(VmSize.of(1, 1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("generation");
        assertThatThrownBy(() -> VmFacts.builder("x").generation(2).size(VmSize.of(1, 1)).build())
                .isInstanceOf(NullPointerException.class).hasMessageContaining("osType");
        assertThatThrownBy(() -> RuleFixtures.a2a().with(r -> r.policy(RuleFixtures.hyperV().policy())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("HYPERV_TO_AZURE");
        assertThatThrownBy(() -> new PrivateEndpointFacts(PrivateEndpointFacts.Target.STORAGE, RuleFixtures.vaultEndpoint().vault(),
                null, null, null, false, PrivateEndpointFacts.IpAllocation.DYNAMIC, false))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PrivateEndpointFacts.forVault(null, null, null, false))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("vault");
    }
}
