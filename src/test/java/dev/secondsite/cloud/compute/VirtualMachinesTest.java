package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.store.Database;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.TestServer;
import dev.secondsite.vault.ReplicationTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;

/** Virtual machines through the public API: disks, NICs, trusted launch, power, update and delete rules. */
class VirtualMachinesTest {
    private static TestServer server;
    private ComputeFixture fx;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @BeforeEach
    void group() throws Exception {
        fx = new ComputeFixture(server);
        fx.createGroup("rg", "eastus");
    }

    private JsonNode disk(String name) throws Exception {
        return fx.arm.getOk(ComputeFixture.disk(fx.diskId("rg", name)));
    }

    private String attachOsBody(String size, String diskId, String extra) {
        return "{\"location\":\"eastus\",\"properties\":{\"hardwareProfile\":{\"vmSize\":\"" + size + "\"},"
                + "\"storageProfile\":{\"osDisk\":{\"createOption\":\"Attach\",\"osType\":\"Windows\",\"managedDisk\":"
                + "{\"id\":\"" + diskId + "\"}}}" + (extra.isEmpty() ? "" : "," + extra) + "}}";
    }

    @Test
    void createsAVmWithItsDisksAndReportsPowerState() throws Exception {
        JsonNode vm = fx.putOk(ComputeFixture.vm(fx.vmId("rg", "web1")), ComputeFixture.vmBody("eastus", "Standard_D2s_v3",
                "\"osProfile\":{\"computerName\":\"web1\",\"adminUsername\":\"azureuser\",\"adminPassword\":\"S3cret!pass\"}")
                .replace("\"diskSizeGB\":30}", "\"diskSizeGB\":30,\"deleteOption\":\"Delete\"},\"dataDisks\":[{\"lun\":0,"
                        + "\"createOption\":\"Empty\",\"diskSizeGB\":16},{\"lun\":3,\"createOption\":\"Empty\",\"diskSizeGB\":"
                        + "8,\"managedDisk\":{\"storageAccountType\":\"StandardSSD_LRS\"}}]"));
        JsonNode p = vm.path("properties");
        assertThat(p.path("provisioningState").asText()).isEqualTo("Succeeded");
        assertThat(p.path("vmId").asText()).hasSize(36);
        assertThat(p.has("instanceView")).as("instance view only on $expand").isFalse();
        assertThat(vm.toString()).doesNotContain("S3cret");
        JsonNode os = p.path("storageProfile").path("osDisk");
        assertThat(os.path("name").asText()).startsWith("web1_OsDisk_1_");
        assertThat(os.path("osType").asText()).isEqualTo("Linux");
        assertThat(os.path("managedDisk").path("storageAccountType").asText()).isEqualTo("Premium_LRS");
        assertThat(p.path("storageProfile").path("dataDisks")).hasSize(2);

        JsonNode osDisk = fx.arm.getOk(ComputeFixture.disk(os.path("managedDisk").path("id").asText()));
        assertThat(osDisk.path("managedBy").asText()).isEqualTo(vm.path("id").asText());
        assertThat(osDisk.path("properties").path("diskState").asText()).isEqualTo("Attached");
        assertThat(osDisk.path("properties").path("diskSizeGB").asInt()).isEqualTo(30);
        assertThat(Files.exists(fx.fileOf(osDisk))).isTrue();
        JsonNode data3 = fx.arm.getOk(ComputeFixture.disk(p.path("storageProfile").path("dataDisks").get(1)
                .path("managedDisk").path("id").asText()));
        assertThat(data3.path("sku").path("name").asText()).isEqualTo("StandardSSD_LRS");

        JsonNode expanded = fx.arm.getOk(ComputeFixture.vm(fx.vmId("rg", "web1")) + "&$expand=instanceView");
        assertThat(expanded.path("properties").path("instanceView").path("statuses").toString()).contains("PowerState/running");
        JsonNode list = fx.arm.getOk("/subscriptions/" + fx.subscription
                + "/providers/Microsoft.Compute/virtualMachines?api-version=" + ComputeFixture.VM_API);
        assertThat(list.path("value")).hasSize(1);

        // Power: stop keeps the hardware, restart needs running, deallocate makes the disks Reserved.
        fx.lro(fx.arm.post(ComputeFixture.action(fx.vmId("rg", "web1"), "powerOff", ComputeFixture.VM_API), null));
        Arm.assertError(fx.arm.post(ComputeFixture.action(fx.vmId("rg", "web1"), "restart", ComputeFixture.VM_API), null),
                409, "OperationNotAllowed");
        fx.lro(fx.arm.post(ComputeFixture.action(fx.vmId("rg", "web1"), "deallocate", ComputeFixture.VM_API), null));
        assertThat(fx.arm.getOk(ComputeFixture.disk(osDisk.path("id").asText())).path("properties").path("diskState")
                .asText()).isEqualTo("Reserved");
        fx.lro(fx.arm.post(ComputeFixture.action(fx.vmId("rg", "web1"), "start", ComputeFixture.VM_API), null));
        fx.lro(fx.arm.post(ComputeFixture.action(fx.vmId("rg", "web1"), "restart", ComputeFixture.VM_API), null));
        JsonNode view = fx.arm.getOk(fx.vmId("rg", "web1") + "/instanceView?api-version=" + ComputeFixture.VM_API);
        assertThat(view.path("statuses").toString()).contains("PowerState/running");
        assertThat(view.path("disks")).hasSize(3);
        assertThat(view.path("hyperVGeneration").asText()).isEqualTo("V1");

        // A running VM's disk can't be exported, resized or deleted.
        Arm.assertError(fx.arm.post(ComputeFixture.action(osDisk.path("id").asText(), "beginGetAccess",
                ComputeFixture.DISK_API), "{\"access\":\"Read\",\"durationInSeconds\":60}"), 409, "OperationNotAllowed");
        Arm.assertError(fx.arm.patch(ComputeFixture.disk(osDisk.path("id").asText()), "{\"properties\":{\"diskSizeGB\":64}}"),
                409, "OperationNotAllowed");
        Arm.assertError(fx.arm.delete(ComputeFixture.disk(osDisk.path("id").asText())), 409, "OperationNotAllowed");

        // Delete: the OS disk (deleteOption Delete) goes with its file; data disks (Detach) stay, unattached.
        assertThat(fx.arm.delete(ComputeFixture.vm(fx.vmId("rg", "web1"))).statusCode()).isEqualTo(200);
        Arm.assertError(fx.arm.get(ComputeFixture.disk(osDisk.path("id").asText())), 404, "ResourceNotFound");
        assertThat(Files.exists(fx.fileOf(osDisk))).isFalse();
        JsonNode kept = fx.arm.getOk(ComputeFixture.disk(data3.path("id").asText()));
        assertThat(kept.path("properties").path("diskState").asText()).isEqualTo("Unattached");
        assertThat(kept.has("managedBy")).isFalse();
        assertThat(fx.usage("eastus", "cores")).isZero();
    }

    @Test
    void enforcesDiskAttachmentRules() throws Exception {
        fx.emptyDisk("rg", "os1", "eastus", 32, "\"osType\":\"Windows\"");
        fx.emptyDisk("rg", "os2", "eastus", 32, "\"osType\":\"Windows\"");
        fx.emptyDisk("rg", "data", "eastus", 8, "");
        fx.emptyDisk("rg", "shared", "eastus", 256, "\"maxShares\":2");
        String dataAt0 = "\"dataDisks\":[{\"lun\":0,\"createOption\":\"Attach\",\"managedDisk\":{\"id\":\""
                + fx.diskId("rg", "data") + "\"}}]";

        fx.putOk(ComputeFixture.vm(fx.vmId("rg", "a")), attachOsBody("Standard_D2s_v3", fx.diskId("rg", "os1"), "")
                .replace("}}}}", "}}," + dataAt0 + "}}"));
        assertThat(disk("data").path("managedBy").asText()).isEqualTo(fx.vmId("rg", "a"));
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "b")), attachOsBody("Standard_D2s_v3",
                fx.diskId("rg", "os2"), "").replace("}}}}", "}}," + dataAt0 + "}}")), 409, "ConflictingUserInput");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "b")), attachOsBody("Standard_D2s_v3",
                fx.diskId("rg", "os1"), "")), 409, "ConflictingUserInput");

        // A shared disk (maxShares 2) goes to two VMs, not three.
        String shared = "\"dataDisks\":[{\"lun\":1,\"createOption\":\"Attach\",\"managedDisk\":{\"id\":\""
                + fx.diskId("rg", "shared") + "\"}}]";
        HttpResponse<String> patched = fx.arm.patch(ComputeFixture.vm(fx.vmId("rg", "a")), "{\"properties\":{"
                + "\"storageProfile\":{\"dataDisks\":[{\"lun\":0,\"createOption\":\"Attach\",\"managedDisk\":{\"id\":\""
                + fx.diskId("rg", "data") + "\"}},{\"lun\":1,\"createOption\":\"Attach\",\"managedDisk\":{\"id\":\""
                + fx.diskId("rg", "shared") + "\"}}]}}}");
        assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
        fx.putOk(ComputeFixture.vm(fx.vmId("rg", "b")), attachOsBody("Standard_D2s_v3", fx.diskId("rg", "os2"), "")
                .replace("}}}}", "}}," + shared + "}}"));
        assertThat(disk("shared").path("managedByExtended")).hasSize(2);
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "c")), ComputeFixture.vmBody("eastus",
                "Standard_D2s_v3", "").replace("\"diskSizeGB\":30}", "\"diskSizeGB\":30}," + shared)), 409,
                "ConflictingUserInput");
        Arm.assertError(fx.arm.put(ComputeFixture.disk(fx.diskId("rg", "small-shared")), "{\"location\":\"eastus\","
                + "\"sku\":{\"name\":\"Premium_LRS\"},\"properties\":{\"creationData\":{\"createOption\":\"Empty\"},"
                + "\"diskSizeGB\":128,\"maxShares\":2}}"), 400, "InvalidParameter");

        // Detaching by PATCH (the list without it) frees the disk.
        HttpResponse<String> detached = fx.arm.patch(ComputeFixture.vm(fx.vmId("rg", "a")),
                "{\"properties\":{\"storageProfile\":{\"dataDisks\":[]}}}");
        assertThat(detached.statusCode()).as(detached.body()).isEqualTo(200);
        assertThat(disk("data").path("properties").path("diskState").asText()).isEqualTo("Unattached");
        assertThat(disk("shared").path("managedByExtended")).hasSize(1);

        // Limits: data disks per size, LUNs, premium storage, uploads in progress.
        String threeDisks = "\"dataDisks\":[{\"lun\":0,\"createOption\":\"Empty\",\"diskSizeGB\":1},{\"lun\":1,"
                + "\"createOption\":\"Empty\",\"diskSizeGB\":1},{\"lun\":2,\"createOption\":\"Empty\",\"diskSizeGB\":1}]";
        JsonNode tooMany = Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "tiny")), ComputeFixture.vmBody(
                "eastus", "Standard_B1s", "").replace("\"diskSizeGB\":30}", "\"diskSizeGB\":30}," + threeDisks)), 409,
                "OperationNotAllowed");
        assertThat(tooMany.path("message").asText()).contains("The maximum number of data disks allowed to be attached "
                + "to a VM of this size is 2.");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "dup")), ComputeFixture.vmBody("eastus",
                "Standard_D2s_v3", "").replace("\"diskSizeGB\":30}", "\"diskSizeGB\":30},\"dataDisks\":[{\"lun\":0,"
                + "\"createOption\":\"Empty\",\"diskSizeGB\":1},{\"lun\":0,\"createOption\":\"Empty\",\"diskSizeGB\":1}]")),
                400, "InvalidParameter");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "av2")), attachOsBody("Standard_A2_v2",
                fx.diskId("rg", "os1"), "").replace(fx.diskId("rg", "os1"), fx.diskId("rg", "data"))), 400,
                "PremiumStorageNotSupportedForVmSize");
        fx.putOk(ComputeFixture.disk(fx.diskId("rg", "uploading")), "{\"location\":\"eastus\",\"properties\":{"
                + "\"creationData\":{\"createOption\":\"Upload\",\"uploadSizeBytes\":20972032}}}");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "up")), ComputeFixture.vmBody("eastus",
                "Standard_D2s_v3", "").replace("\"diskSizeGB\":30}", "\"diskSizeGB\":30},\"dataDisks\":[{\"lun\":0,"
                + "\"createOption\":\"Attach\",\"managedDisk\":{\"id\":\"" + fx.diskId("rg", "uploading") + "\"}}]")),
                409, "OperationNotAllowed");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "ghost")), attachOsBody("Standard_D2s_v3",
                fx.diskId("rg", "nope"), "")), 400, "InvalidResourceReference");
    }

    @Test
    void trustedLaunchNeedsAGen2DiskAndASizeThatSupportsIt() throws Exception {
        String tl = "\"securityProfile\":{\"securityType\":\"TrustedLaunch\"}";
        JsonNode vm = fx.putOk(ComputeFixture.vm(fx.vmId("rg", "tl1")), ComputeFixture.vmBody("eastus",
                "Standard_D2s_v5", tl));
        JsonNode security = vm.path("properties").path("securityProfile");
        assertThat(security.path("securityType").asText()).isEqualTo("TrustedLaunch");
        assertThat(security.path("uefiSettings").path("secureBootEnabled").asBoolean()).isTrue();
        assertThat(security.path("uefiSettings").path("vTpmEnabled").asBoolean()).isTrue();
        JsonNode osDisk = fx.arm.getOk(ComputeFixture.disk(vm.path("properties").path("storageProfile").path("osDisk")
                .path("managedDisk").path("id").asText()));
        assertThat(osDisk.path("properties").path("hyperVGeneration").asText()).isEqualTo("V2");
        assertThat(osDisk.path("properties").path("securityProfile").path("securityType").asText()).isEqualTo("TrustedLaunch");

        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "dc")), ComputeFixture.vmBody("eastus",
                "Standard_DC2s_v2", tl)), 400, "VmSizeDoesNotSupportTrustedLaunch");
        JsonNode gen = Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "av2")), ComputeFixture.vmBody("eastus",
                "Standard_A2_v2", tl)), 400, "VmSizeDoesNotSupportHyperVGeneration");
        assertThat(gen.path("message").asText()).contains("cannot boot Hypervisor Generation '2'");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "uefi")), ComputeFixture.vmBody("eastus",
                "Standard_D2s_v3", "\"securityProfile\":{\"uefiSettings\":{\"secureBootEnabled\":true}}")), 400,
                "UefiSettingsRequireTrustedLaunch");

        fx.emptyDisk("rg", "gen1", "eastus", 32, "\"osType\":\"Windows\",\"hyperVGeneration\":\"V1\"");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "g1")), attachOsBody("Standard_D2s_v3",
                fx.diskId("rg", "gen1"), tl)), 400, "TrustedLaunchRequiresGeneration2");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "g1dc")), attachOsBody("Standard_DC2s_v2",
                fx.diskId("rg", "gen1"), "")), 400, "VmSizeDoesNotSupportHyperVGeneration");
        fx.emptyDisk("rg", "tldisk", "eastus", 32, "\"osType\":\"Windows\",\"hyperVGeneration\":\"V2\","
                + "\"securityProfile\":{\"securityType\":\"TrustedLaunch\"}");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "std")), attachOsBody("Standard_D2s_v3",
                fx.diskId("rg", "tldisk"), "")), 400, "TrustedLaunchDiskRequiresTrustedLaunchVm");
        Arm.assertError(fx.arm.put(ComputeFixture.disk(fx.diskId("rg", "badtl")), "{\"location\":\"eastus\",\"properties\":"
                + "{\"osType\":\"Windows\",\"hyperVGeneration\":\"V1\",\"securityProfile\":{\"securityType\":\"TrustedLaunch\"},"
                + "\"creationData\":{\"createOption\":\"Empty\"},\"diskSizeGB\":4}}"), 400, "InvalidParameter");

        JsonNode windows = Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "a-very-long-windows-name")),
                ComputeFixture.vmBody("eastus", "Standard_D2s_v3", "\"osProfile\":{\"adminUsername\":\"admin1\","
                        + "\"windowsConfiguration\":{}}")), 400, "InvalidParameter");
        assertThat(windows.path("message").asText()).startsWith("Windows computer name cannot be more than 15 characters");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "-bad")), ComputeFixture.vmBody("eastus",
                "Standard_D2s_v3", "")), 400, "InvalidResourceName");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "nosize")), ComputeFixture.vmBody("eastus",
                "Standard_Z99", "")), 400, "InvalidParameter");
    }

    @Test
    void convertingToTrustedLaunchIsBlockedWhileSiteRecoveryProtectsTheVm() throws Exception {
        fx.emptyDisk("rg", "g2", "eastus", 64, "\"osType\":\"Windows\",\"hyperVGeneration\":\"V2\"");
        String vmId = fx.vmId("rg", "gen2vm");
        fx.putOk(ComputeFixture.vm(vmId), attachOsBody("Standard_D2s_v3", fx.diskId("rg", "g2"), ""));
        String toTrusted = "{\"properties\":{\"securityProfile\":{\"securityType\":\"TrustedLaunch\"}}}";

        Arm.assertError(fx.arm.patch(ComputeFixture.vm(vmId), toTrusted), 409, "OperationNotAllowed");
        fx.lro(fx.arm.post(ComputeFixture.action(vmId, "deallocate", ComputeFixture.VM_API), null));

        // A replication protected item that names the VM: Site Recovery protects it (seed 000).
        String itemId = protectedItemNaming(vmId);
        JsonNode blocked = Arm.assertError(fx.arm.patch(ComputeFixture.vm(vmId), toTrusted), 409,
                "TrustedLaunchUpgradeOfProtectedVmNotSupported");
        assertThat(blocked.path("message").asText()).contains("disable Site Recovery replication");

        deleteResource(itemId);
        HttpResponse<String> converted = fx.arm.patch(ComputeFixture.vm(vmId), toTrusted);
        assertThat(converted.statusCode()).as(converted.body()).isEqualTo(200);
        assertThat(Arm.json(converted).path("properties").path("securityProfile").path("securityType").asText())
                .isEqualTo("TrustedLaunch");
        // And back (trusted launch can be rolled back to a Standard generation 2 VM while deallocated).
        HttpResponse<String> back = fx.arm.patch(ComputeFixture.vm(vmId),
                "{\"properties\":{\"securityProfile\":{\"securityType\":\"Standard\"}}}");
        assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
    }

    @Test
    void networkInterfacesAreJoinedAndReleased() throws Exception {
        String vnet = fx.groupPath("rg") + "/providers/Microsoft.Network/virtualNetworks/vnet1";
        HttpResponse<String> created = fx.arm.put(vnet + "?api-version=2024-05-01", "{\"location\":\"eastus\","
                + "\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.1.0.0/16\"]},\"subnets\":[{\"name\":"
                + "\"default\",\"properties\":{\"addressPrefix\":\"10.1.0.0/24\"}}]}}");
        org.junit.jupiter.api.Assumptions.assumeTrue(created.statusCode() == 200 || created.statusCode() == 201,
                "virtual networks are not served: " + created.body());
        String nic1 = createNic("nic1", "eastus", vnet);
        String nic2 = createNic("nic2", "eastus", vnet);
        String nics = "\"networkProfile\":{\"networkInterfaces\":[{\"id\":\"" + nic1 + "\",\"properties\":{\"primary\":"
                + "true}},{\"id\":\"" + nic2 + "\",\"properties\":{\"primary\":false,\"deleteOption\":\"Delete\"}}]}";

        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "one-nic")), ComputeFixture.vmBody("eastus",
                "Standard_B1s", "\"networkProfile\":{\"networkInterfaces\":[{\"id\":\"" + nic1 + "\"},{\"id\":\"" + nic2
                        + "\"},{\"id\":\"" + nic1.replace("nic1", "nic3") + "\"}]}")), 400, "NetworkInterfaceCountExceeded");
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "noprimary")), ComputeFixture.vmBody("eastus",
                "Standard_D2s_v3", nics.replace("\"primary\":true", "\"primary\":false"))), 400,
                "VirtualMachineMustHaveOneNetworkInterfaceAsPrimary");

        fx.putOk(ComputeFixture.vm(fx.vmId("rg", "netvm")), ComputeFixture.vmBody("eastus", "Standard_D2s_v3", nics));
        JsonNode nic = fx.arm.getOk(nic1 + "?api-version=2024-05-01");
        assertThat(nic.path("properties").path("virtualMachine").path("id").asText()).isEqualTo(fx.vmId("rg", "netvm"));
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "thief")), ComputeFixture.vmBody("eastus",
                "Standard_D2s_v3", "\"networkProfile\":{\"networkInterfaces\":[{\"id\":\"" + nic1 + "\"}]}")), 400,
                "NicInUse");
        // Adding or removing NICs needs the VM deallocated.
        Arm.assertError(fx.arm.patch(ComputeFixture.vm(fx.vmId("rg", "netvm")), "{\"properties\":{\"networkProfile\":"
                + "{\"networkInterfaces\":[{\"id\":\"" + nic1 + "\"}]}}}"), 409, "OperationNotAllowed");

        assertThat(fx.arm.delete(ComputeFixture.vm(fx.vmId("rg", "netvm"))).statusCode()).isEqualTo(200);
        JsonNode freed = fx.arm.getOk(nic1 + "?api-version=2024-05-01");
        assertThat(freed.path("properties").has("virtualMachine")).isFalse();
        assertThat(fx.arm.get(nic2 + "?api-version=2024-05-01").statusCode()).as("deleteOption Delete").isEqualTo(404);

        fx.createGroup("west", "westus");
        String westVnet = fx.groupPath("west") + "/providers/Microsoft.Network/virtualNetworks/vnetw";
        fx.putOk(westVnet + "?api-version=2024-05-01", "{\"location\":\"westus\",\"properties\":{\"addressSpace\":"
                + "{\"addressPrefixes\":[\"10.2.0.0/16\"]},\"subnets\":[{\"name\":\"default\",\"properties\":"
                + "{\"addressPrefix\":\"10.2.0.0/24\"}}]}}");
        String westNic = createNicIn("west", "nicw", "westus", westVnet);
        Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "far")), ComputeFixture.vmBody("eastus",
                "Standard_D2s_v3", "\"networkProfile\":{\"networkInterfaces\":[{\"id\":\"" + westNic + "\"}]}")), 400,
                "InvalidResourceReference");
    }

    private String createNic(String name, String location, String vnet) throws Exception {
        return createNicIn("rg", name, location, vnet);
    }

    private String createNicIn(String group, String name, String location, String vnet) throws Exception {
        String id = fx.groupPath(group) + "/providers/Microsoft.Network/networkInterfaces/" + name;
        fx.putOk(id + "?api-version=2024-05-01", "{\"location\":\"" + location + "\",\"properties\":{\"ipConfigurations\":"
                + "[{\"name\":\"ipconfig1\",\"properties\":{\"subnet\":{\"id\":\"" + vnet + "/subnets/default\"}}}]}}");
        return id;
    }

    /**
     * Writes a replication protected item naming the VM straight into the store (the same H2 database the
     * server uses: one database per file in this JVM), as Site Recovery's enable-replication would.
     */
    private String protectedItemNaming(String vmId) {
        String vault = fx.groupPath("rg") + "/providers/Microsoft.RecoveryServices/vaults/v1";
        String container = vault + "/replicationFabrics/f1/replicationProtectionContainers/c1";
        String item = container + "/replicationProtectedItems/item1";
        try (Database db = Database.embedded(server.dataDir())) {
            ObjectNode body = (ObjectNode) Json.parse("{\"id\":\"" + item + "\",\"name\":\"item1\",\"type\":\""
                    + ReplicationTypes.PROTECTED_ITEM + "\",\"properties\":{\"providerSpecificDetails\":{\"instanceType\":"
                    + "\"A2A\",\"fabricObjectId\":\"" + vmId + "\"}}}");
            new ResourceStore(db.jdbi()).put(item, container, ReplicationTypes.PROTECTED_ITEM, "item1", fx.subscription, body);
        }
        return item;
    }

    private void deleteResource(String id) {
        try (Database db = Database.embedded(server.dataDir())) {
            new ResourceStore(db.jdbi()).delete(id);
        }
    }
}
