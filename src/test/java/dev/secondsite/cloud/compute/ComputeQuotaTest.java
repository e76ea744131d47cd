package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * vCPU quotas: usages, the Microsoft.Quota API, and VMs refused (atomically: no VM, no disk, no file) beyond a
 * limit, also when requests race, on both stores (PostgreSQL: the region's row lock).
 */
class ComputeQuotaTest {
    @Nested
    class Embedded extends Scenarios {
        Embedded() {
            super(TestServer.Store.EMBEDDED);
        }
    }

    @Nested
    class Postgres extends Scenarios {
        Postgres() {
            super(TestServer.Store.POSTGRES);
        }
    }

    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    abstract static class Scenarios {
        private final TestServer.Store store;
        private TestServer server;
        private ComputeFixture fx;

        Scenarios(TestServer.Store store) {
            this.store = store;
        }

        @BeforeAll
        void start() throws Exception {
            server = TestServer.start(store);
        }

        @AfterAll
        void stop() throws Exception {
            if (server != null) {
                server.close();
            }
        }

        @BeforeEach
        void group() throws Exception {
            fx = new ComputeFixture(server);
            fx.createGroup("rg", "eastus");
        }

        @Test
        void sizesAndUsagesAreServedTheAzureWay() throws Exception {
            JsonNode sizes = fx.arm.getOk("/subscriptions/" + fx.subscription
                    + "/providers/Microsoft.Compute/locations/eastus/vmSizes?api-version=2024-03-01");
            assertThat(sizes.path("value").size()).isGreaterThanOrEqualTo(12);
            JsonNode d2s = null;
            for (JsonNode s : sizes.path("value")) {
                if (s.path("name").asText().equals("Standard_D2s_v3")) {
                    d2s = s;
                }
            }
            assertThat(d2s).isNotNull();
            assertThat(d2s.path("numberOfCores").asInt()).isEqualTo(2);
            assertThat(d2s.path("memoryInMB").asInt()).isEqualTo(8192);
            assertThat(d2s.path("maxDataDiskCount").asInt()).isEqualTo(4);
            assertThat(d2s.path("osDiskSizeInMB").asInt()).isEqualTo(1047552);

            JsonNode skus = fx.arm.getOk("/subscriptions/" + fx.subscription
                    + "/providers/Microsoft.Compute/skus?api-version=2021-07-01&$filter=location%20eq%20'eastus'");
            assertThat(skus.toString()).contains("\"HyperVGenerations\"").contains("\"TrustedLaunchDisabled\"");

            JsonNode usages = fx.arm.getOk(fx.usagesPath("eastus"));
            JsonNode first = usages.path("value").get(0);
            assertThat(Arm.fieldNames(first)).contains("unit", "currentValue", "limit", "name");
            assertThat(first.path("name").path("value").asText()).isEqualTo("cores");
            assertThat(first.path("name").path("localizedValue").asText()).isEqualTo("Total Regional vCPUs");
            assertThat(first.path("limit").asInt()).isEqualTo(Quotas.DEFAULT_REGIONAL_LIMIT);
            assertThat(first.path("unit").asText()).isEqualTo("Count");
            assertThat(usages.toString()).contains("\"standardDSv3Family\"").contains("Standard DSv3 Family vCPUs");

            Arm.assertError(fx.arm.get("/subscriptions/" + fx.subscription
                    + "/providers/Microsoft.Compute/locations/atlantis/usages?api-version=2024-03-01"), 400,
                    "LocationNotAvailableForResourceType");
            Arm.assertError(fx.arm.get("/subscriptions/" + fx.subscription
                    + "/providers/Microsoft.Compute/locations/eastus/usages?api-version=2015-01-01"), 400,
                    "InvalidApiVersionParameter");
        }

        @Test
        void vmBeyondQuotaIsRefusedAndLeavesNothingBehind() throws Exception {
            fx.setQuota("eastus", "standardDSv3Family", 10);
            fx.createVm("rg", "vm1", "eastus", "Standard_D4s_v3");
            fx.createVm("rg", "vm2", "eastus", "Standard_D4s_v3");
            assertThat(fx.usage("eastus", "standardDSv3Family")).isEqualTo(8);
            assertThat(fx.usage("eastus", "cores")).isEqualTo(8);
            List<String> disksBefore = fx.diskNames("rg");
            int filesBefore = fx.diskFiles().size();

            HttpResponse<String> refused = fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "vm3")), ComputeFixture.vmBody(
                    "eastus", "Standard_D4s_v3", "\"networkProfile\":{\"networkInterfaces\":[]}").replace(
                    "\"osDisk\":{\"createOption\":\"FromImage\",\"diskSizeGB\":30}",
                    "\"osDisk\":{\"createOption\":\"FromImage\",\"diskSizeGB\":30},\"dataDisks\":[{\"lun\":0,"
                            + "\"createOption\":\"Empty\",\"diskSizeGB\":8}]"));
            JsonNode error = Arm.assertError(refused, 409, "OperationNotAllowed");
            assertThat(error.path("message").asText()).startsWith("Operation could not be completed as it results in "
                    + "exceeding approved standardDSv3Family Cores quota. Additional details - Deployment Model: Resource "
                    + "Manager, Location: eastus, Current Limit: 10, Current Usage: 8, Additional Required: 4, (Minimum) "
                    + "New Limit Required: 12.");

            Arm.assertError(fx.arm.get(ComputeFixture.vm(fx.vmId("rg", "vm3"))), 404, "ResourceNotFound");
            assertThat(fx.diskNames("rg")).containsExactlyInAnyOrderElementsOf(disksBefore);
            assertThat(fx.diskFiles()).hasSize(filesBefore);
            assertThat(fx.usage("eastus", "standardDSv3Family")).isEqualTo(8);
            assertThat(fx.usage("eastus", "virtualMachines")).isEqualTo(2);

            // Another family still fits; the regional total is the next wall (default 40 -> set 12).
            fx.setQuota("eastus", "cores", 12);
            fx.createVm("rg", "f1", "eastus", "Standard_F2s_v2");
            JsonNode regional = Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "f2")),
                    ComputeFixture.vmBody("eastus", "Standard_F4s_v2", "")), 409, "OperationNotAllowed");
            assertThat(regional.path("message").asText()).contains("exceeding approved Total Regional Cores quota")
                    .contains("Current Limit: 12, Current Usage: 10, Additional Required: 4, (Minimum) New Limit Required: 14");

            // Raising the limit through Microsoft.Quota lets it in.
            fx.setQuota("eastus", "cores", 14);
            fx.createVm("rg", "f2", "eastus", "Standard_F4s_v2");
            JsonNode quota = fx.arm.getOk(fx.quotaPath("eastus", "cores"));
            assertThat(quota.path("properties").path("limit").path("value").asInt()).isEqualTo(14);
            assertThat(quota.path("type").asText()).isEqualTo("Microsoft.Quota/Quotas");

            // A limit below what is in use is refused.
            Arm.assertError(fx.arm.put(fx.quotaPath("eastus", "standardDSv3Family"),
                    "{\"properties\":{\"limit\":{\"value\":4}}}"), 409, "QuotaLimitBelowUsage");
            Arm.assertError(fx.arm.get(fx.quotaPath("eastus", "standardNoSuchFamily")), 404, "ResourceNotFound");
        }

        @Test
        void deallocationFreesCoresAndStartNeedsThemBack() throws Exception {
            fx.setQuota("eastus", "standardBSFamily", 4);
            fx.createVm("rg", "b1", "eastus", "Standard_B2s");
            fx.createVm("rg", "b2", "eastus", "Standard_B2s");
            assertThat(fx.usage("eastus", "standardBSFamily")).isEqualTo(4);

            fx.lro(fx.arm.post(ComputeFixture.action(fx.vmId("rg", "b1"), "powerOff", ComputeFixture.VM_API), null));
            assertThat(fx.usage("eastus", "standardBSFamily")).as("a stopped VM keeps its cores").isEqualTo(4);
            fx.lro(fx.arm.post(ComputeFixture.action(fx.vmId("rg", "b1"), "deallocate", ComputeFixture.VM_API), null));
            assertThat(fx.usage("eastus", "standardBSFamily")).isEqualTo(2);

            fx.createVm("rg", "b3", "eastus", "Standard_B2s");
            JsonNode error = Arm.assertError(fx.arm.post(ComputeFixture.action(fx.vmId("rg", "b1"), "start",
                    ComputeFixture.VM_API), null), 409, "OperationNotAllowed");
            assertThat(error.path("message").asText()).contains("standardBSFamily Cores quota")
                    .contains("Current Limit: 4, Current Usage: 4, Additional Required: 2");
            JsonNode view = fx.arm.getOk(fx.vmId("rg", "b1") + "/instanceView?api-version=" + ComputeFixture.VM_API);
            assertThat(view.path("statuses").toString()).contains("PowerState/deallocated");

            // Resizing a running VM into a family without room is refused; a deallocated VM may be resized, and then
            // starting it needs the new family's cores.
            fx.setQuota("eastus", "standardDSv3Family", 2);
            JsonNode resize = Arm.assertError(fx.arm.patch(ComputeFixture.vm(fx.vmId("rg", "b2")),
                    "{\"properties\":{\"hardwareProfile\":{\"vmSize\":\"Standard_D4s_v3\"}}}"), 409, "OperationNotAllowed");
            assertThat(resize.path("message").asText()).contains("standardDSv3Family Cores quota");
            fx.lro(fx.arm.post(ComputeFixture.action(fx.vmId("rg", "b2"), "deallocate", ComputeFixture.VM_API), null));
            HttpResponse<String> resized = fx.arm.patch(ComputeFixture.vm(fx.vmId("rg", "b2")),
                    "{\"properties\":{\"hardwareProfile\":{\"vmSize\":\"Standard_D4s_v3\"}}}");
            assertThat(resized.statusCode()).as(resized.body()).isEqualTo(200);
            Arm.assertError(fx.arm.post(ComputeFixture.action(fx.vmId("rg", "b2"), "start", ComputeFixture.VM_API), null),
                    409, "OperationNotAllowed");
            fx.setQuota("eastus", "standardDSv3Family", 4);
            fx.lro(fx.arm.post(ComputeFixture.action(fx.vmId("rg", "b2"), "start", ComputeFixture.VM_API), null));
            assertThat(fx.usage("eastus", "standardDSv3Family")).isEqualTo(4);
        }

        @Test
        void concurrentCreatesNeverPassTheLimit() throws Exception {
            fx.setQuota("eastus", "standardFSv2Family", 6);
            ExecutorService pool = Executors.newFixedThreadPool(6);
            try {
                List<Future<HttpResponse<String>>> calls = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    String name = "race" + i;
                    calls.add(pool.submit(() -> fx.arm.put(ComputeFixture.vm(fx.vmId("rg", name)),
                            ComputeFixture.vmBody("eastus", "Standard_F2s_v2", ""))));
                }
                int created = 0;
                for (Future<HttpResponse<String>> call : calls) {
                    HttpResponse<String> r = call.get();
                    if (r.statusCode() == 201) {
                        created++;
                    } else {
                        Arm.assertError(r, 409, "OperationNotAllowed");
                    }
                }
                assertThat(created).isEqualTo(3);
            } finally {
                pool.shutdownNow();
            }
            assertThat(fx.usage("eastus", "standardFSv2Family")).isEqualTo(6);
            assertThat(fx.diskNames("rg")).hasSize(3);
        }

        @Test
        void deletingTheGroupRemovesVmsDisksFilesAndFreesQuota() throws Exception {
            fx.createGroup("doomed", "eastus");
            fx.putOk(ComputeFixture.vm(fx.vmId("doomed", "vm1")), ComputeFixture.vmBody("eastus", "Standard_D2s_v3",
                    "").replace("\"diskSizeGB\":30}", "\"diskSizeGB\":30},\"dataDisks\":[{\"lun\":0,\"createOption\":"
                    + "\"Empty\",\"diskSizeGB\":4}]"));
            fx.emptyDisk("doomed", "loose", "eastus", 2, "");
            JsonNode snapshot = fx.putOk(ComputeFixture.disk(fx.snapshotId("doomed", "snap")), "{\"location\":\"eastus\","
                    + "\"properties\":{\"creationData\":{\"createOption\":\"Copy\",\"sourceResourceId\":\""
                    + fx.diskId("doomed", "loose") + "\"}}}");
            List<Path> files = new ArrayList<>();
            for (JsonNode d : fx.arm.getOk(fx.groupPath("doomed") + "/providers/Microsoft.Compute/disks?api-version="
                    + ComputeFixture.DISK_API).path("value")) {
                files.add(fx.fileOf(d));
            }
            files.add(fx.fileOf(snapshot));
            assertThat(files).hasSize(4).allMatch(Files::exists);
            assertThat(fx.usage("eastus", "cores")).isEqualTo(2);

            HttpResponse<String> deleted = fx.arm.delete(fx.groupPath("doomed") + "?api-version=2021-04-01");
            assertThat(deleted.statusCode()).as(deleted.body()).isIn(200, 202);
            assertThat(fx.usage("eastus", "cores")).isZero();
            assertThat(fx.usage("eastus", "virtualMachines")).isZero();
            ComputeFixture.awaitTrue("disk files of the deleted group to be removed", Duration.ofSeconds(30),
                    () -> files.stream().noneMatch(Files::exists));
        }

        @Test
        void aFailureHalfwayLeavesNoDiskBehind() throws Exception {
            fx.emptyDisk("rg", "taken", "eastus", 1, "");
            List<String> before = fx.diskNames("rg");
            int files = fx.diskFiles().size();
            // The OS disk is created first; the data disk's name is taken: the whole VM rolls back.
            Arm.assertError(fx.arm.put(ComputeFixture.vm(fx.vmId("rg", "half")), ComputeFixture.vmBody("eastus",
                    "Standard_D2s_v3", "").replace("\"diskSizeGB\":30}", "\"diskSizeGB\":30},\"dataDisks\":[{\"lun\":0,"
                    + "\"name\":\"taken\",\"createOption\":\"Empty\",\"diskSizeGB\":1}]")), 409, "ConflictingUserInput");
            assertThat(fx.diskNames("rg")).containsExactlyInAnyOrderElementsOf(before);
            assertThat(fx.diskFiles()).hasSize(files);
            Arm.assertError(fx.arm.get(ComputeFixture.vm(fx.vmId("rg", "half"))), 404, "ResourceNotFound");
            assertThat(fx.usage("eastus", "cores")).isZero();
        }
    }
}

