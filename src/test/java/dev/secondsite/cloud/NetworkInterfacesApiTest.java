package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.cloud.network.NetworkInterfaces;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.store.Database;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.TestServer;
import dev.secondsite.vault.VaultScope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.cloud.CloudApi.nic;
import static dev.secondsite.cloud.CloudApi.nicBody;
import static dev.secondsite.cloud.CloudApi.subnetId;
import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.assertNamesField;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Network interfaces and private IP allocation through the public HTTPS API, on both stores: the sequence
 * (first usable is .4), static addresses, reserved and taken addresses, full subnets, concurrent creation
 * (no address is ever given twice), and freeing by NIC and group deletion.
 */
class NetworkInterfacesApiTest {

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
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    abstract static class Scenarios {
        private final TestServer.Store store;
        private TestServer server;
        private ArmClient api;
        private CloudApi cloud;

        Scenarios(TestServer.Store store) {
            this.store = store;
        }

        @BeforeAll
        void start() throws Exception {
            server = TestServer.start(store);
            api = ArmClient.of(server).asAdmin();
            cloud = new CloudApi(api);
        }

        @AfterAll
        void stop() throws Exception {
            server.close();
        }

        private static String ip(JsonNode nic) {
            return nic.at("/properties/ipConfigurations/0/properties/privateIPAddress").asText();
        }

        @Test
        void createReadUpdateListDelete() throws Exception {
            String rg = cloud.newGroup("westus");
            cloud.putVnet(rg, "vn", "westus", "10.0.0.0/16", "s=10.0.1.0/24");
            HttpResponse<String> created = api.put(nic(rg, "nic1"), "{\"location\":\"westus\",\"tags\":{\"t\":\"1\"},"
                    + "\"properties\":{\"enableAcceleratedNetworking\":true,\"dnsSettings\":{\"dnsServers\":[\"10.0.0.53\"]},"
                    + "\"ipConfigurations\":[{\"name\":\"ipconfig1\",\"properties\":{\"subnet\":{\"id\":\""
                    + subnetId(rg, "vn", "s") + "\"}}}]}}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            JsonNode n = json(created);
            assertThat(n.path("id").asText()).isEqualTo(CloudApi.nicId(rg, "nic1"));
            assertThat(n.path("type").asText()).isEqualTo("Microsoft.Network/networkInterfaces");
            assertThat(n.path("location").asText()).isEqualTo("westus");
            assertThat(n.at("/properties/provisioningState").asText()).isEqualTo("Succeeded");
            assertThat(n.at("/properties/macAddress").asText()).matches("00-0D-3A-[0-9A-F]{2}-[0-9A-F]{2}-[0-9A-F]{2}");
            assertThat(n.at("/properties/enableAcceleratedNetworking").asBoolean()).isTrue();
            assertThat(n.at("/properties/dnsSettings/dnsServers/0").asText()).isEqualTo("10.0.0.53");
            JsonNode cfg = n.at("/properties/ipConfigurations/0");
            assertThat(cfg.path("id").asText()).isEqualTo(CloudApi.nicId(rg, "nic1") + "/ipConfigurations/ipconfig1");
            assertThat(cfg.at("/properties/privateIPAddress").asText()).isEqualTo("10.0.1.4");
            assertThat(cfg.at("/properties/privateIPAllocationMethod").asText()).isEqualTo("Dynamic");
            assertThat(cfg.at("/properties/primary").asBoolean()).isTrue();
            assertThat(cfg.at("/properties/subnet/id").asText()).isEqualTo(subnetId(rg, "vn", "s"));
            assertThat(api.getOk(nic(rg, "nic1"))).isEqualTo(n);
            assertThat(api.getOk(CloudApi.nicId(rg, "nic1") + "/ipConfigurations/ipconfig1?" + CloudApi.NETWORK_VERSION)
                    .at("/properties/privateIPAddress").asText()).isEqualTo("10.0.1.4");

            // An update of a dynamic NIC keeps its address; the round-tripped body is accepted as is.
            cloud.newNic(rg, "nic2", "westus", subnetId(rg, "vn", "s"));
            HttpResponse<String> updated = api.put(nic(rg, "nic1"), created.body().replace("\"t\":\"1\"", "\"t\":\"2\""));
            assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
            assertThat(ip(json(updated))).isEqualTo("10.0.1.4");
            assertThat(json(updated).at("/tags/t").asText()).isEqualTo("2");
            assertThat(json(updated).at("/properties/macAddress").asText()).isEqualTo(n.at("/properties/macAddress").asText());
            // Switching to a static address moves it.
            HttpResponse<String> moved = api.put(nic(rg, "nic1"), nicBody("westus", subnetId(rg, "vn", "s"), "10.0.1.200"));
            assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
            assertThat(ip(json(moved))).isEqualTo("10.0.1.200");
            assertThat(api.getOk(CloudApi.vnetId(rg, "vn") + "/CheckIPAddressAvailability?" + CloudApi.NETWORK_VERSION
                    + "&ipAddress=10.0.1.4").path("available").asBoolean()).as("the old address is free").isTrue();

            assertThat(api.getOk(CloudApi.group(rg) + "/providers/Microsoft.Network/networkInterfaces?"
                    + CloudApi.NETWORK_VERSION).path("value")).extracting(x -> x.path("name").asText())
                    .containsExactly("nic1", "nic2");
            assertThat(api.getOk("/subscriptions/" + CloudApi.SUB + "/providers/Microsoft.Network/networkInterfaces?"
                    + CloudApi.NETWORK_VERSION).path("value")).extracting(x -> x.path("name").asText())
                    .contains("nic1", "nic2");

            assertThat(api.delete(nic(rg, "nic1")).statusCode()).isEqualTo(200);
            assertError(api.get(nic(rg, "nic1")), 404, "ResourceNotFound");
            assertThat(api.delete(nic(rg, "nic1")).statusCode()).isEqualTo(204);
            assertThat(cloud.freeIps(rg, "vn", "s")).isEqualTo(251 - 1);
        }

        @Test
        void dynamicAddressesStartAtDotFourAndReuseTheLowestFree() throws Exception {
            String rg = cloud.newGroup("westus");
            cloud.putVnet(rg, "vn", "westus", "10.1.0.0/16", "s=10.1.0.0/24");
            String subnet = subnetId(rg, "vn", "s");
            assertThat(cloud.newNic(rg, "a", "westus", subnet)).isEqualTo("10.1.0.4");
            assertThat(cloud.newNic(rg, "b", "westus", subnet)).isEqualTo("10.1.0.5");
            assertThat(cloud.newNic(rg, "c", "westus", subnet)).isEqualTo("10.1.0.6");
            assertThat(cloud.freeIps(rg, "vn", "s")).isEqualTo(248);
            assertThat(api.delete(nic(rg, "b")).statusCode()).isEqualTo(200);
            assertThat(cloud.freeIps(rg, "vn", "s")).isEqualTo(249);
            assertThat(cloud.newNic(rg, "d", "westus", subnet)).as("the freed address is reused").isEqualTo("10.1.0.5");
            assertThat(cloud.newNic(rg, "e", "westus", subnet)).isEqualTo("10.1.0.7");
        }

        @Test
        void staticAddressesAreValidated() throws Exception {
            String rg = cloud.newGroup("westus");
            cloud.putVnet(rg, "vn", "westus", "10.2.0.0/16", "s=10.2.0.0/24");
            String subnet = subnetId(rg, "vn", "s");
            HttpResponse<String> fixed = cloud.putNic(rg, "fixed", "westus", subnet, "10.2.0.10");
            assertThat(fixed.statusCode()).as(fixed.body()).isEqualTo(201);
            assertThat(json(fixed).at("/properties/ipConfigurations/0/properties/privateIPAllocationMethod").asText())
                    .isEqualTo("Static");

            for (String reserved : List.of("10.2.0.0", "10.2.0.1", "10.2.0.2", "10.2.0.3", "10.2.0.255")) {
                assertNamesField(assertError(cloud.putNic(rg, "r", "westus", subnet, reserved), 400,
                        "PrivateIPAddressInReservedRange"), "properties.ipConfigurations[0].properties.privateIPAddress");
            }
            assertNamesField(assertError(cloud.putNic(rg, "r", "westus", subnet, "10.2.1.10"), 400,
                    "PrivateIPAddressNotInSubnet"), "properties.ipConfigurations[0].properties.privateIPAddress");
            JsonNode inUse = assertError(cloud.putNic(rg, "r", "westus", subnet, "10.2.0.10"), 409,
                    "PrivateIPAddressInUse");
            assertThat(inUse.path("message").asText()).contains(CloudApi.nicId(rg, "fixed"));
            assertNamesField(inUse, "properties.ipConfigurations[0].properties.privateIPAddress");
            assertNamesField(assertError(cloud.putNic(rg, "r", "westus", subnet, "10.2.0.300"), 400,
                    "InvalidPrivateIPAddressFormat"), "properties.ipConfigurations[0].properties.privateIPAddress");
            assertError(api.get(nic(rg, "r")), 404, "ResourceNotFound");
            // Dynamic allocation goes around the static one.
            for (int i = 4; i < 10; i++) {
                cloud.newNic(rg, "d" + i, "westus", subnet);
            }
            assertThat(cloud.newNic(rg, "d10", "westus", subnet)).isEqualTo("10.2.0.11");
        }

        @Test
        void aFullSubnetRefusesMoreAddresses() throws Exception {
            String rg = cloud.newGroup("westus");
            cloud.putVnet(rg, "vn", "westus", "10.3.0.0/16", "tiny=10.3.0.0/29");
            String subnet = subnetId(rg, "vn", "tiny");
            List<String> ips = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ips.add(cloud.newNic(rg, "n" + i, "westus", subnet));
            }
            assertThat(ips).containsExactly("10.3.0.4", "10.3.0.5", "10.3.0.6");
            assertThat(cloud.freeIps(rg, "vn", "tiny")).isZero();
            JsonNode full = assertError(cloud.putNic(rg, "n3", "westus", subnet, null), 409, "SubnetIsFull");
            assertThat(full.path("message").asText()).contains("tiny", "10.3.0.0/29");
            assertNamesField(full, "properties.ipConfigurations[0].properties.subnet.id");
            assertError(api.get(nic(rg, "n3")), 404, "ResourceNotFound");
        }

        @Test
        void concurrentCreatesNeverShareAnAddress() throws Exception {
            String rg = cloud.newGroup("westus");
            cloud.putVnet(rg, "vn", "westus", "10.4.0.0/16", "s=10.4.0.0/27");
            String subnet = subnetId(rg, "vn", "s");
            int requests = 30;
            ExecutorService pool = Executors.newFixedThreadPool(requests);
            CountDownLatch go = new CountDownLatch(1);
            try {
                List<Future<HttpResponse<String>>> futures = new ArrayList<>();
                for (int i = 0; i < requests; i++) {
                    String name = "nic" + i;
                    futures.add(pool.submit((Callable<HttpResponse<String>>) () -> {
                        go.await();
                        return cloud.putNic(rg, name, "westus", subnet, null);
                    }));
                }
                go.countDown();
                Set<String> ips = new HashSet<>();
                int created = 0;
                int full = 0;
                for (Future<HttpResponse<String>> f : futures) {
                    HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
                    if (r.statusCode() == 201) {
                        created++;
                        ips.add(ip(json(r)));
                    } else {
                        assertError(r, 409, "SubnetIsFull");
                        full++;
                    }
                }
                // A /27 has 32 addresses; Azure reserves 5, so 27 NICs fit.
                assertThat(created).isEqualTo(27);
                assertThat(full).isEqualTo(3);
                assertThat(ips).hasSize(27);
                for (int host = 4; host <= 30; host++) {
                    assertThat(ips).contains("10.4.0." + host);
                }
                assertThat(cloud.freeIps(rg, "vn", "s")).isZero();
                JsonNode listed = api.getOk(CloudApi.group(rg) + "/providers/Microsoft.Network/networkInterfaces?"
                        + CloudApi.NETWORK_VERSION);
                assertThat(listed.path("value")).hasSize(27);
            } finally {
                pool.shutdownNow();
            }
        }

        @Test
        void deletingAGroupFreesItsAddressesEvenInAnotherGroupsSubnet() throws Exception {
            String netGroup = cloud.newGroup("westus");
            String nicGroup = cloud.newGroup("westus");
            cloud.putVnet(netGroup, "vn", "westus", "10.5.0.0/16", "s=10.5.0.0/28");
            String subnet = subnetId(netGroup, "vn", "s");
            for (int i = 0; i < 5; i++) {
                cloud.newNic(nicGroup, "n" + i, "westus", subnet);
            }
            cloud.newNic(netGroup, "local", "westus", subnet);
            assertThat(cloud.freeIps(netGroup, "vn", "s")).isEqualTo(11 - 6);
            assertError(api.delete(CloudApi.vnet(netGroup, "vn")), 409, "InUseSubnetCannotBeDeleted");

            assertThat(api.delete(CloudApi.group(nicGroup) + "?api-version=2021-04-01").statusCode()).isEqualTo(200);
            assertThat(cloud.freeIps(netGroup, "vn", "s")).isEqualTo(10);
            assertThat(api.getOk(CloudApi.subnet(netGroup, "vn", "s")).at("/properties/ipConfigurations"))
                    .extracting(x -> x.path("id").asText()).containsExactly(CloudApi.nicId(netGroup, "local")
                            + "/ipConfigurations/ipconfig1");
            assertThat(cloud.newNic(netGroup, "again", "westus", subnet)).isEqualTo("10.5.0.4");

            // The group of the network goes with its NICs, network and addresses; a new one starts afresh.
            assertThat(api.delete(CloudApi.group(netGroup) + "?api-version=2021-04-01").statusCode()).isEqualTo(200);
            String reborn = cloud.newGroup("westus");
            cloud.putVnet(reborn, "vn", "westus", "10.5.0.0/16", "s=10.5.0.0/28");
            assertThat(cloud.freeIps(reborn, "vn", "s")).isEqualTo(11);
        }

        @Test
        void nicAndNetworkMustShareARegion() throws Exception {
            String rg = cloud.newGroup("westus");
            cloud.putVnet(rg, "vn", "eastus", "10.6.0.0/16", "s=10.6.0.0/24");
            JsonNode error = assertError(cloud.putNic(rg, "n", "westus", subnetId(rg, "vn", "s"), null), 400,
                    "InvalidResourceReference");
            assertThat(error.path("message").asText()).contains("eastus", "westus");
            assertNamesField(error, "properties.ipConfigurations[0].properties.subnet.id");
            assertThat(cloud.freeIps(rg, "vn", "s")).isEqualTo(251);
            assertThat(cloud.newNic(rg, "n", "eastus", subnetId(rg, "vn", "s"))).isEqualTo("10.6.0.4");
            assertError(cloud.putNic(rg, "n", "westus", subnetId(rg, "vn", "s"), null), 400, "InvalidResourceReference");
        }

        @Test
        void invalidBodiesNameTheField() throws Exception {
            String rg = cloud.newGroup("westus");
            cloud.putVnet(rg, "vn", "westus", "10.7.0.0/16", "s=10.7.0.0/24", "t=10.7.1.0/24");
            cloud.putVnet(rg, "wn", "westus", "10.8.0.0/16", "s=10.8.0.0/24");
            String s = subnetId(rg, "vn", "s");
            String cfg = "{\"name\":\"%s\",\"properties\":{\"subnet\":{\"id\":\"%s\"}%s}}";
            record Case(String body, int status, String code, String field) {}
            List<Case> cases = List.of(
                    new Case("{\"properties\":{\"ipConfigurations\":[" + cfg.formatted("c", s, "") + "]}}", 400,
                            "LocationRequired", "location"),
                    new Case("{\"location\":\"westus\",\"properties\":{}}", 400, "MissingRequiredProperty",
                            "properties.ipConfigurations"),
                    new Case("{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":[]}}", 400,
                            "InvalidRequestContent", "properties.ipConfigurations"),
                    new Case("{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":[{\"name\":\"c\","
                            + "\"properties\":{}}]}}", 400, "MissingRequiredProperty",
                            "properties.ipConfigurations[0].properties.subnet.id"),
                    new Case("{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":["
                            + cfg.formatted("c", "/subscriptions/x/nope", "") + "]}}", 400, "InvalidRequestContent",
                            "properties.ipConfigurations[0].properties.subnet.id"),
                    new Case("{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":["
                            + cfg.formatted("c", subnetId(rg, "vn", "missing"), "") + "]}}", 400,
                            "InvalidResourceReference", "properties.ipConfigurations[0].properties.subnet.id"),
                    new Case("{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":["
                            + cfg.formatted("c", s, ",\"privateIPAllocationMethod\":\"Sticky\"") + "]}}", 400,
                            "InvalidRequestContent", "properties.ipConfigurations[0].properties.privateIPAllocationMethod"),
                    new Case("{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":["
                            + cfg.formatted("c", s, ",\"privateIPAllocationMethod\":\"Static\"") + "]}}", 400,
                            "PrivateIPAddressRequiredForStaticAllocation",
                            "properties.ipConfigurations[0].properties.privateIPAddress"),
                    new Case("{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":["
                            + cfg.formatted("c", s, ",\"privateIPAddressVersion\":\"IPv6\"") + "]}}", 400,
                            "InvalidRequestContent", "properties.ipConfigurations[0].properties.privateIPAddressVersion"),
                    new Case("{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":["
                            + cfg.formatted("c", s, "") + "," + cfg.formatted("C", subnetId(rg, "vn", "t"), "") + "]}}",
                            400, "DuplicateResourceName", "properties.ipConfigurations[1].name"),
                    new Case("{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":["
                            + cfg.formatted("c", s, "") + "," + cfg.formatted("d", subnetId(rg, "vn", "t"), "") + "]}}",
                            400, "InvalidRequestContent", "properties.ipConfigurations"),
                    new Case("{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":["
                            + cfg.formatted("c", s, ",\"primary\":true") + ","
                            + cfg.formatted("d", subnetId(rg, "wn", "s"), "") + "]}}",
                            400, "IpConfigurationsOfNicInDifferentVnets", "properties.ipConfigurations[1].properties.subnet.id"),
                    new Case("{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":["
                            + cfg.formatted("bad name", s, "") + "]}}", 400, "InvalidResourceName",
                            "properties.ipConfigurations[0].name"));
            for (Case c : cases) {
                JsonNode error = assertError(api.put(nic(rg, "n"), c.body()), c.status(), c.code());
                assertNamesField(error, c.field());
            }
            assertError(api.get(nic(rg, "n")), 404, "ResourceNotFound");
            assertThat(cloud.freeIps(rg, "vn", "s")).isEqualTo(251);

            HttpResponse<String> two = api.put(nic(rg, "n"), "{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":["
                    + cfg.formatted("c", s, ",\"primary\":true") + "," + cfg.formatted("d", subnetId(rg, "vn", "t"), "")
                    + "]}}");
            assertThat(two.statusCode()).as(two.body()).isEqualTo(201);
            assertThat(json(two).at("/properties/ipConfigurations")).extracting(x -> x.at("/properties/privateIPAddress")
                    .asText()).containsExactly("10.7.0.4", "10.7.1.4");
        }

        @Test
        void aNicAttachedToAVmCannotBeDeleted() throws Exception {
            String rg = cloud.newGroup("westus");
            cloud.putVnet(rg, "vn", "westus", "10.9.0.0/16", "s=10.9.0.0/24");
            cloud.newNic(rg, "vmnic", "westus", subnetId(rg, "vn", "s"));
            String vmId = CloudApi.group(rg) + "/providers/Microsoft.Compute/virtualMachines/vm1";
            // A second API node over the same store, as the VM side will use it.
            try (Database db = store == TestServer.Store.POSTGRES ? Database.postgres(server.db(), null)
                    : Database.embedded(server.dataDir())) {
                ResourceStore resources = new ResourceStore(db.jdbi());
                NetworkInterfaces nics = new NetworkInterfaces(resources, db.jdbi(), new VaultScope(resources), null);
                nics.attach(CloudApi.nicId(rg, "vmnic"), vmId);
                assertThat(api.getOk(nic(rg, "vmnic")).at("/properties/virtualMachine/id").asText()).isEqualTo(vmId);
                JsonNode error = assertError(api.delete(nic(rg, "vmnic")), 409, "NicInUse");
                assertThat(error.path("message").asText()).contains(vmId);
                // A PUT from a client does not drop the attachment (virtualMachine is read-only).
                assertThat(cloud.putNic(rg, "vmnic", "westus", subnetId(rg, "vn", "s"), null).statusCode()).isEqualTo(200);
                assertThat(api.getOk(nic(rg, "vmnic")).at("/properties/virtualMachine/id").asText()).isEqualTo(vmId);
                nics.detach(CloudApi.nicId(rg, "vmnic"), vmId);
            }
            assertThat(api.delete(nic(rg, "vmnic")).statusCode()).isEqualTo(200);
            assertThat(cloud.freeIps(rg, "vn", "s")).isEqualTo(251);
        }
    }
}
