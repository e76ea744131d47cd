package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.cloud.CloudApi.NETWORK_VERSION;
import static dev.secondsite.cloud.CloudApi.nicBody;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.DNS;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.RS;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.expect;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.peBody;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.peId;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.vaultId;
import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A private endpoint's network interface ({pe}.nic.{guid}: holds the endpoint's addresses, read-only, deleted with
 * the endpoint) and DNS zone groups with several zone configs (each zone gets the records of its FQDNs), through
 * the public HTTPS API.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PrivateEndpointNicsAndZonesApiTest extends EmbeddedCloudTest {
    private JsonNode newPe(String rg, String name, String location, String subnetId, String target, String groupId)
            throws Exception {
        return json(expect(api.put(peId(rg, name) + "?" + NETWORK_VERSION, peBody(location, subnetId, target, groupId,
                false, null)), 201));
    }

    private String vault(String rg, String name) throws Exception {
        expect(api.put(vaultId(rg, name) + "?" + RS, "{\"location\":\"westus\",\"identity\":{\"type\":\"SystemAssigned\"}}"),
                201);
        return vaultId(rg, name);
    }

    @Test
    void endpointNicHoldsItsAddressesIsReadOnlyAndGoesWithTheEndpoint() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "nic-vault");
        cloud.putVnet(rg, "vnet", "westus", "10.20.0.0/24", "default=10.20.0.0/24");
        String subnetId = CloudApi.subnetId(rg, "vnet", "default");
        long freeBefore = cloud.freeIps(rg, "vnet", "default");

        JsonNode pe = newPe(rg, "vault-pe", "westus", subnetId, vault, "AzureSiteRecovery");

        String nicId = pe.at("/properties/networkInterfaces/0/id").asText();
        assertThat(nicId).matches(CloudApi.nicId(rg, "vault-pe") + "\\.nic\\.[0-9a-f-]{36}");
        assertThat(api.getOk(peId(rg, "vault-pe") + "?" + NETWORK_VERSION).at("/properties/networkInterfaces/0/id")
                .asText()).isEqualTo(nicId);
        JsonNode nic = api.getOk(nicId + "?" + NETWORK_VERSION);
        assertThat(nic.path("type").asText()).isEqualTo("Microsoft.Network/networkInterfaces");
        assertThat(nic.at("/properties/privateEndpoint/id").asText()).isEqualTo(peId(rg, "vault-pe"));
        JsonNode configs = nic.at("/properties/ipConfigurations");
        assertThat(configs).hasSize(5);
        List<String> nicIps = new ArrayList<>();
        List<String> nicFqdns = new ArrayList<>();
        for (JsonNode c : configs) {
            nicIps.add(c.at("/properties/privateIPAddress").asText());
            nicFqdns.add(c.at("/properties/privateLinkConnectionProperties/fqdns/0").asText());
            assertThat(c.at("/properties/privateLinkConnectionProperties/groupId").asText()).isEqualTo("AzureSiteRecovery");
            assertThat(c.at("/properties/subnet/id").asText()).isEqualTo(subnetId);
            assertThat(c.at("/properties/privateIPAllocationMethod").asText()).isEqualTo("Dynamic");
        }
        assertThat(configs.get(0).at("/properties/primary").asBoolean()).isTrue();
        assertThat(configs.get(1).at("/properties/primary").asBoolean()).isFalse();
        List<String> peIps = new ArrayList<>();
        List<String> peFqdns = new ArrayList<>();
        pe.at("/properties/customDnsConfigs").forEach(d -> {
            peIps.add(d.at("/ipAddresses/0").asText());
            peFqdns.add(d.path("fqdn").asText());
        });
        assertThat(nicIps).isEqualTo(peIps).containsExactly("10.20.0.4", "10.20.0.5", "10.20.0.6", "10.20.0.7", "10.20.0.8");
        assertThat(nicFqdns).isEqualTo(peFqdns);

        // Listed with the group's NICs; the subnet names the NIC's IP configurations as the holders.
        JsonNode listed = api.getOk(CloudApi.group(rg) + "/providers/Microsoft.Network/networkInterfaces?"
                + NETWORK_VERSION).path("value");
        assertThat(listed.findValuesAsText("id")).contains(nicId);
        assertThat(api.getOk(CloudApi.subnet(rg, "vnet", "default")).at("/properties/ipConfigurations")
                .findValuesAsText("id")).allMatch(id -> id.startsWith(nicId + "/ipConfigurations/")).hasSize(5);
        assertThat(api.getOk(nicId + "/ipConfigurations?" + NETWORK_VERSION).path("value")).hasSize(5);

        // Read-only: neither a PUT nor a DELETE by the user; a VM can't take it either (same code as a PUT).
        String nicName = nicId.substring(nicId.lastIndexOf('/') + 1);
        assertError(cloud.putNic(rg, nicName, "westus", subnetId, null), 400, "CannotModifyNicAttachedToPrivateEndpoint");
        JsonNode refused = assertError(api.delete(nicId + "?" + NETWORK_VERSION), 400,
                "InUseNetworkInterfaceCannotBeDeleted");
        assertThat(refused.path("message").asText()).contains(peId(rg, "vault-pe"));
        assertThat(api.getOk(nicId + "?" + NETWORK_VERSION).at("/properties/ipConfigurations")).hasSize(5);

        // An ordinary NIC in the same subnet gets the next address, not one of the endpoint's.
        assertThat(json(expect(api.put(CloudApi.nic(rg, "plain"), nicBody("westus", subnetId, null)), 201))
                .at("/properties/ipConfigurations/0/properties/privateIPAddress").asText()).isEqualTo("10.20.0.9");

        expect(api.delete(peId(rg, "vault-pe") + "?" + NETWORK_VERSION), 200);
        assertError(api.get(nicId + "?" + NETWORK_VERSION), 404, "ResourceNotFound");
        assertThat(cloud.freeIps(rg, "vnet", "default")).isEqualTo(freeBefore - 1);
    }

    private static String zoneGroup(String... zoneIds) {
        StringBuilder configs = new StringBuilder();
        for (int i = 0; i < zoneIds.length; i++) {
            configs.append(i == 0 ? "" : ",").append("{\"name\":\"zone").append(i + 1)
                    .append("\",\"properties\":{\"privateDnsZoneId\":\"").append(zoneIds[i]).append("\"}}");
        }
        return "{\"properties\":{\"privateDnsZoneConfigs\":[" + configs + "]}}";
    }

    @Test
    void zoneGroupWithSeveralZonesWritesTheRecordsIntoEach() throws Exception {
        String rg = cloud.newGroup("westus");
        String hub = cloud.newGroup("westus");
        cloud.putVnet(rg, "vnet", "westus", "10.21.0.0/24", "default=10.21.0.0/24");
        String subnetId = CloudApi.subnetId(rg, "vnet", "default");
        String account = CloudApi.unique("zg");
        HttpResponse<String> created = api.put(CloudApi.storage(rg, account), "{\"location\":\"westus\","
                + "\"kind\":\"StorageV2\",\"sku\":{\"name\":\"Standard_LRS\"}}");
        assertThat(created.statusCode()).as(created.body()).isIn(200, 201);
        newPe(rg, "blob-pe", "westus", subnetId, CloudApi.storageId(rg, account), "blob");
        String spokeZone = PrivateDnsZonesApiTest.zone(api, rg, "privatelink.blob.core.windows.net");
        String hubZone = PrivateDnsZonesApiTest.zone(api, hub, "privatelink.blob.core.windows.net");
        String siteRecoveryZone = PrivateDnsZonesApiTest.zone(api, rg, "privatelink.siterecovery.windowsazure.com");
        String groupPath = peId(rg, "blob-pe") + "/privateDnsZoneGroups/default?" + NETWORK_VERSION;

        // Bad configs are refused by index, and nothing is written.
        JsonNode error = assertError(api.put(groupPath, zoneGroup(spokeZone, siteRecoveryZone)), 400,
                "PrivateDnsZoneDoesNotMatch");
        assertThat(error.path("target").asText()).isEqualTo("properties.privateDnsZoneConfigs[1].properties.privateDnsZoneId");
        assertError(api.put(groupPath, zoneGroup(spokeZone, spokeZone)), 400, "DuplicatePrivateDnsZoneIds");
        assertError(api.put(groupPath, zoneGroup(spokeZone, hubZone, hubZone + "x", hubZone + "y", hubZone + "z",
                hubZone + "w")), 400, "InvalidRequestContent");
        assertError(api.put(groupPath, zoneGroup(spokeZone, hubZone + "-missing")), 400, "InvalidResourceReference");
        assertThat(api.getOk(spokeZone + "/A?" + DNS).path("value")).isEmpty();

        JsonNode group = json(expect(api.put(groupPath, zoneGroup(spokeZone, hubZone)), 201));
        JsonNode configs = group.at("/properties/privateDnsZoneConfigs");
        assertThat(configs).hasSize(2);
        for (int i = 0; i < 2; i++) {
            assertThat(configs.get(i).at("/properties/recordSets")).hasSize(1);
            assertThat(configs.get(i).at("/properties/recordSets/0/fqdn").asText())
                    .isEqualTo(account + ".privatelink.blob.core.windows.net");
        }
        for (String zone : List.of(spokeZone, hubZone)) {
            JsonNode records = api.getOk(zone + "/A?" + DNS).path("value");
            assertThat(records).hasSize(1);
            assertThat(records.at("/0/name").asText()).isEqualTo(account);
            assertThat(records.at("/0/properties/aRecords/0/ipv4Address").asText()).isEqualTo("10.21.0.4");
        }

        // Rewriting the group with one zone takes the other zone's record away; deleting it takes the rest.
        expect(api.put(groupPath, zoneGroup(hubZone)), 200);
        assertThat(api.getOk(spokeZone + "/A?" + DNS).path("value")).isEmpty();
        assertThat(api.getOk(hubZone + "/A?" + DNS).path("value")).hasSize(1);
        expect(api.delete(groupPath), 200);
        assertThat(api.getOk(hubZone + "/A?" + DNS).path("value")).isEmpty();
    }

    @Test
    void vaultEndpointZoneGroupJudgesEveryZoneForReuse() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "zones-vault");
        cloud.putVnet(rg, "src", "eastus", "10.22.0.0/24", "default=10.22.0.0/24");
        cloud.putVnet(rg, "dst", "westus", "10.23.0.0/24", "default=10.23.0.0/24");
        newPe(rg, "pe-src", "eastus", CloudApi.subnetId(rg, "src", "default"), vault, "AzureSiteRecovery");
        newPe(rg, "pe-dst", "westus", CloudApi.subnetId(rg, "dst", "default"), vault, "AzureSiteRecovery");
        String first = PrivateDnsZonesApiTest.zone(api, rg, "privatelink.siterecovery.windowsazure.com");
        String other = PrivateDnsZonesApiTest.zone(api, cloud.newGroup("westus"), "privatelink.siterecovery.windowsazure.com");
        String fresh = PrivateDnsZonesApiTest.zone(api, cloud.newGroup("westus"), "privatelink.siterecovery.windowsazure.com");
        expect(api.put(peId(rg, "pe-src") + "/privateDnsZoneGroups/default?" + NETWORK_VERSION, zoneGroup(other, first)),
                201);
        assertThat(api.getOk(first + "/A?" + DNS).path("value")).hasSize(5);
        assertThat(api.getOk(other + "/A?" + DNS).path("value")).hasSize(5);

        // The second config of the other endpoint's group counts as used too.
        assertError(api.put(peId(rg, "pe-dst") + "/privateDnsZoneGroups/default?" + NETWORK_VERSION,
                zoneGroup(fresh, first)), 409, "PrivateDnsZoneAlreadyUsedByVault");
        assertThat(api.getOk(fresh + "/A?" + DNS).path("value")).isEmpty();
        expect(api.put(peId(rg, "pe-dst") + "/privateDnsZoneGroups/default?" + NETWORK_VERSION, zoneGroup(fresh)), 201);
        HttpResponse<String> records = api.get(fresh + "/A?" + DNS);
        assertThat(json(records).path("value")).hasSize(5);
    }
}
