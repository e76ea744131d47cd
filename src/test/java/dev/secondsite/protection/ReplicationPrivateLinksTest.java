package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.server.SecondSiteServer;
import dev.secondsite.testing.TestDirs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.protection.ProtectionClient.RG;
import static dev.secondsite.protection.ProtectionClient.RS;
import static dev.secondsite.protection.ProtectionClient.expect;
import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seed 003: enabling replication in a vault with approved private endpoints "adds two additional private links for
 * the source and target region pairing" to the endpoints in both regions: two FQDNs and two addresses on each
 * endpoint and its NIC, A records in the zones of an endpoint with DNS integration (none where the zone is managed
 * by hand), and a clear error when a subnet has no room for them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ReplicationPrivateLinksTest {
    private static final long DISK = 1 << 20;
    private static final String NETWORK = "api-version=2024-05-01";
    private static final String DNS = "api-version=2020-06-01";
    private static final String ZONE = "privatelink.siterecovery.windowsazure.com";
    private static final String PAIRING = "\\d+-asr-pod01-(src1\\.eus|tgt1\\.wus)\\.privatelink\\.siterecovery\\.windowsazure\\.com";

    private SecondSiteServer server;
    private Path dataDir;
    private ProtectionClient c;

    @BeforeAll
    void start() throws Exception {
        dataDir = Files.createTempDirectory("secondsite-pe-links");
        server = SecondSiteServer.start(new SecondSiteServer.Options(dataDir, "embedded", "127.0.0.1", 0, 2, 0));
        c = new ProtectionClient("https://127.0.0.1:" + server.port(), dataDir);
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        TestDirs.deleteTree(dataDir);
    }

    /** A vault in westus with a system-assigned identity, in a new group; returns the group id. */
    private String group(String name) throws Exception {
        String group = "/subscriptions/" + UUID.randomUUID() + "/resourceGroups/rg-" + name;
        expect(c.api.put(group + "?" + RG, "{\"location\":\"westus\"}"), 201);
        expect(c.api.put(vault(group) + "?" + RS, "{\"location\":\"westus\",\"identity\":{\"type\":\"SystemAssigned\"}}"),
                201);
        return group;
    }

    private static String vault(String group) {
        return group + "/providers/Microsoft.RecoveryServices/vaults/vault";
    }

    private static String pe(String group, String name) {
        return group + "/providers/Microsoft.Network/privateEndpoints/" + name;
    }

    /** A network with one subnet of the prefix, and a vault endpoint in it; returns the subnet id. */
    private String endpoint(String group, String name, String location, String prefix) throws Exception {
        String vnet = group + "/providers/Microsoft.Network/virtualNetworks/vnet-" + name;
        expect(c.api.put(vnet + "?" + NETWORK, "{\"location\":\"" + location + "\",\"properties\":{\"addressSpace\":"
                + "{\"addressPrefixes\":[\"" + prefix + "\"]},\"subnets\":[{\"name\":\"default\",\"properties\":"
                + "{\"addressPrefix\":\"" + prefix + "\"}}]}}"), 201);
        String subnet = vnet + "/subnets/default";
        expect(c.api.put(pe(group, name) + "?" + NETWORK, "{\"location\":\"" + location + "\",\"properties\":{\"subnet\":"
                + "{\"id\":\"" + subnet + "\"},\"privateLinkServiceConnections\":[{\"name\":\"asr\",\"properties\":{"
                + "\"privateLinkServiceId\":\"" + vault(group) + "\",\"groupIds\":[\"AzureSiteRecovery\"]}}]}}"), 201);
        return subnet;
    }

    private String zone(String group, String name) throws Exception {
        String id = group.replace("/rg-", "/rg-dns-") + "/providers/Microsoft.Network/privateDnsZones/" + ZONE;
        expect(c.api.put(group.replace("/rg-", "/rg-dns-") + "?" + RG, "{\"location\":\"westus\"}"), 201);
        expect(c.api.put(id + "?" + DNS, "{\"location\":\"global\"}"), 201);
        return id;
    }

    /** Fabric, container, policy and mapping of the vault, as ProtectionClient.site makes them. */
    private ProtectionClient.Site site(String group) throws Exception {
        String vault = vault(group);
        String fabric = vault + "/replicationFabrics/site";
        c.succeed(c.api.put(fabric + "?" + RS, "{\"properties\":{\"customDetails\":{\"instanceType\":\"VMware\"}}}"));
        String container = fabric + "/replicationProtectionContainers/cloud";
        c.succeed(c.api.put(container + "?" + RS, "{}"));
        String policy = vault + "/replicationPolicies/policy";
        c.succeed(c.api.put(policy + "?" + RS, "{\"properties\":{\"providerSpecificInput\":{\"instanceType\":"
                + "\"InMageAzureV2\",\"recoveryPointHistory\":1440,\"recoveryPointThresholdInMinutes\":30,"
                + "\"appConsistentFrequencyInMinutes\":60,\"crashConsistentFrequencyInMinutes\":5,"
                + "\"multiVmSyncStatus\":\"Enable\"}}}"));
        String mapping = container + "/replicationProtectionContainerMappings/map";
        c.succeed(c.api.put(mapping + "?" + RS, "{\"properties\":{\"policyId\":\"" + policy
                + "\",\"targetProtectionContainerId\":\"Microsoft Azure\"}}"));
        return new ProtectionClient.Site(vault, fabric, container, policy, mapping);
    }

    private HttpResponse<String> enable(ProtectionClient.Site site, String item, ProtectionClient.Agent agent)
            throws Exception {
        return c.api.put(site.item(item) + "?" + RS, "{\"properties\":{\"policyId\":\"" + site.policy()
                + "\",\"protectableItemId\":\"" + agent.protectableItemId()
                + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}");
    }

    private HttpResponse<String> validate(ProtectionClient.Site site, String item, ProtectionClient.Agent agent)
            throws Exception {
        return c.api.post(site.item(item) + "/validate?" + RS, "{\"properties\":{\"policyId\":\"" + site.policy()
                + "\",\"protectableItemId\":\"" + agent.protectableItemId()
                + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}");
    }

    private static List<String> fqdns(JsonNode pe) {
        List<String> out = new ArrayList<>();
        pe.at("/properties/customDnsConfigs").forEach(d -> out.add(d.path("fqdn").asText()));
        return out;
    }

    @Test
    void enableAddsThePairingLinksToEveryApprovedEndpoint() throws Exception {
        String group = group("links");
        endpoint(group, "pe-source", "eastus", "10.30.0.0/24");
        endpoint(group, "pe-recovery", "westus", "10.31.0.0/24");
        String integrated = zone(group, "integrated");
        expect(c.api.put(pe(group, "pe-source") + "/privateDnsZoneGroups/default?" + NETWORK, "{\"properties\":"
                + "{\"privateDnsZoneConfigs\":[{\"name\":\"asr\",\"properties\":{\"privateDnsZoneId\":\"" + integrated
                + "\"}}]}}"), 201);
        String manual = zone(group + "-manual", "manual");
        ProtectionClient.Site site = site(group);
        ProtectionClient.Agent agent = c.registerOk(site, "web01", DISK, "eastus");

        c.succeed(expect(enable(site, "web01", agent), 202));

        for (String name : List.of("pe-source", "pe-recovery")) {
            JsonNode pe = c.api.getOk(pe(group, name) + "?" + NETWORK);
            List<String> names = fqdns(pe);
            assertThat(names).as(name).hasSize(7);
            assertThat(names.subList(5, 7)).as(name).allMatch(f -> f.matches(PAIRING));
            assertThat(names.get(5)).contains("-src1.eus.");
            assertThat(names.get(6)).contains("-tgt1.wus.");
            JsonNode nic = c.api.getOk(pe.at("/properties/networkInterfaces/0/id").asText() + "?" + NETWORK);
            JsonNode configs = nic.at("/properties/ipConfigurations");
            assertThat(configs).as(name + " NIC").hasSize(7);
            assertThat(configs.get(6).at("/properties/privateLinkConnectionProperties/fqdns/0").asText())
                    .isEqualTo(names.get(6));
            assertThat(configs.get(6).at("/properties/privateIPAddress").asText())
                    .isEqualTo(pe.at("/properties/customDnsConfigs/6/ipAddresses/0").asText());
        }
        assertThat(fqdns(c.api.getOk(pe(group, "pe-source") + "?" + NETWORK)).get(6))
                .as("one vault, one pairing: the same names on both endpoints")
                .isEqualTo(fqdns(c.api.getOk(pe(group, "pe-recovery") + "?" + NETWORK)).get(6));
        JsonNode source = c.api.getOk(pe(group, "pe-source") + "?" + NETWORK);
        assertThat(source.at("/properties/customDnsConfigs/5/ipAddresses/0").asText()).isEqualTo("10.30.0.9");
        assertThat(source.at("/properties/customDnsConfigs/6/ipAddresses/0").asText()).isEqualTo("10.30.0.10");

        // DNS integration: the zone group's zone got the two records; the hand-made zone got nothing.
        JsonNode records = c.api.getOk(integrated + "/A?" + DNS).path("value");
        assertThat(records).hasSize(7);
        assertThat(records.findValuesAsText("name")).anyMatch(n -> n.endsWith("-asr-pod01-src1.eus"));
        JsonNode zoneGroup = c.api.getOk(pe(group, "pe-source") + "/privateDnsZoneGroups/default?" + NETWORK);
        assertThat(zoneGroup.at("/properties/privateDnsZoneConfigs/0/properties/recordSets")).hasSize(7);
        assertThat(c.api.getOk(manual + "/A?" + DNS).path("value")).isEmpty();

        // A second machine of the same pairing adds nothing; disabling replication leaves the links.
        ProtectionClient.Agent second = c.registerOk(site, "web02", DISK, "eastus");
        c.succeed(expect(enable(site, "web02", second), 202));
        assertThat(fqdns(c.api.getOk(pe(group, "pe-recovery") + "?" + NETWORK))).hasSize(7);
        c.succeed(expect(c.api.post(site.item("web01") + "/remove?" + RS, "{}"), 202));
        c.succeed(expect(c.api.post(site.item("web02") + "/remove?" + RS, "{}"), 202));
        assertThat(fqdns(c.api.getOk(pe(group, "pe-source") + "?" + NETWORK))).hasSize(7);
        assertThat(c.api.getOk(integrated + "/A?" + DNS).path("value")).hasSize(7);

        // Deleting the endpoint takes its links' records and addresses with it.
        expect(c.api.delete(pe(group, "pe-source") + "?" + NETWORK), 200);
        assertThat(c.api.getOk(integrated + "/A?" + DNS).path("value")).isEmpty();
    }

    @Test
    void subnetWithoutRoomForThePairingRefusesTheEnable() throws Exception {
        String group = group("full");
        // A /28 has 11 usable addresses: 5 for the endpoint, 5 for NICs below, leaving 1 of the 2 the pairing needs.
        String subnet = endpoint(group, "pe-small", "westus", "10.40.0.0/28");
        for (int i = 0; i < 5; i++) {
            expect(c.api.put(group + "/providers/Microsoft.Network/networkInterfaces/nic" + i + "?" + NETWORK,
                    "{\"location\":\"westus\",\"properties\":{\"ipConfigurations\":[{\"name\":\"ipconfig1\","
                            + "\"properties\":{\"subnet\":{\"id\":\"" + subnet + "\"}}}]}}"), 201);
        }
        ProtectionClient.Site site = site(group);
        ProtectionClient.Agent agent = c.registerOk(site, "db01", DISK);

        JsonNode validated = json(expect(validate(site, "db01", agent), 200));
        assertThat(validated.path("valid").asBoolean()).isFalse();
        assertThat(validated.path("violations").findValuesAsText("code"))
                .contains("InsufficientSubnetIpsForReplicationPrivateLinks");
        JsonNode error = assertError(enable(site, "db01", agent), 400, "InsufficientSubnetIpsForReplicationPrivateLinks");
        assertThat(error.path("message").asText()).contains(subnet).contains("1 free IP").contains("pe-small")
                .contains("at least 9 free IPs");
        assertError(c.api.get(site.item("db01") + "?" + RS), 404, "ResourceNotFound");
        assertThat(fqdns(c.api.getOk(pe(group, "pe-small") + "?" + NETWORK))).as("nothing added").hasSize(5);

        expect(c.api.delete(group + "/providers/Microsoft.Network/networkInterfaces/nic4?" + NETWORK), 200);
        assertThat(json(expect(validate(site, "db01", agent), 200)).path("violations").findValuesAsText("code"))
                .doesNotContain("InsufficientSubnetIpsForReplicationPrivateLinks");
        assertThat(fqdns(c.api.getOk(pe(group, "pe-small") + "?" + NETWORK))).as("validate adds nothing").hasSize(5);
        c.succeed(expect(enable(site, "db01", agent), 202));
        List<String> names = fqdns(c.api.getOk(pe(group, "pe-small") + "?" + NETWORK));
        assertThat(names).hasSize(7);
        // An on-premises machine has no source region: its pairing is the vault's region with itself.
        assertThat(names.get(5)).contains("-src1.wus.");
        assertThat(json(c.api.get(group + "/providers/Microsoft.Network/virtualNetworks/vnet-pe-small/subnets/default?"
                + NETWORK)).at("/properties/freeIpAddressCount").asInt()).isZero();
    }
}
