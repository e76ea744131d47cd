package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.ArmClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.cloud.CloudApi.group;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.DNS;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.expect;
import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Private DNS zones, virtual network links and A record sets as the privatedns API (2020-06-01) drives them:
 * seed 003's "create private DNS zones and add DNS records manually" path.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PrivateDnsZonesApiTest extends EmbeddedCloudTest {
    private static final String ZONE = "privatelink.siterecovery.windowsazure.com";


    /** Creates a zone (location global); returns its id. */
    static String zone(ArmClient api, String rg, String name) throws Exception {
        String id = group(rg) + "/providers/Microsoft.Network/privateDnsZones/" + name;
        expect(api.put(id + "?" + DNS, "{\"location\":\"global\"}"), 201);
        return id;
    }

    @Test
    void zoneLinksAndRecordsFollowTheManualSteps() throws Exception {
        String rg = cloud.newGroup("westus");
        String zone = zone(api, rg, ZONE);
        JsonNode z = api.getOk(zone + "?" + DNS);
        assertThat(z.path("location").asText()).isEqualTo("global");
        assertThat(z.at("/properties/numberOfRecordSets").asInt()).as("the SOA record").isEqualTo(1);
        assertThat(z.at("/properties/provisioningState").asText()).isEqualTo("Succeeded");
        assertThat(api.getOk(group(rg) + "/providers/Microsoft.Network/privateDnsZones?" + DNS).path("value")).hasSize(1);

        // Link the zone to the source and the recovery networks.
        cloud.putVnet(rg, "source", "eastus", "10.20.0.0/24", "default=10.20.0.0/24");
        cloud.putVnet(rg, "recovery", "westus", "10.21.0.0/24", "default=10.21.0.0/24");
        for (String vnet : new String[] {"source", "recovery"}) {
            JsonNode link = json(expect(api.put(zone + "/virtualNetworkLinks/" + vnet + "-link?" + DNS,
                    link(CloudApi.vnetId(rg, vnet))), 201));
            assertThat(link.at("/properties/virtualNetworkLinkState").asText()).isEqualTo("Completed");
            assertThat(link.at("/properties/registrationEnabled").asBoolean()).isFalse();
        }
        assertError(api.put(zone + "/virtualNetworkLinks/again?" + DNS, link(CloudApi.vnetId(rg, "source"))), 409,
                "VirtualNetworkAlreadyLinked");
        assertError(api.put(zone + "/virtualNetworkLinks/ghost?" + DNS, link(CloudApi.vnetId(rg, "ghost"))), 400,
                "InvalidResourceReference");
        assertThat(api.getOk(zone + "/virtualNetworkLinks?" + DNS).path("value")).hasSize(2);
        assertThat(api.getOk(zone + "?" + DNS).at("/properties/numberOfVirtualNetworkLinks").asInt()).isEqualTo(2);

        // An A record per FQDN of the endpoint.
        String name = "1234-asr-pod01-rcm1.wus";
        JsonNode record = json(expect(api.put(zone + "/A/" + name + "?" + DNS,
                "{\"properties\":{\"ttl\":3600,\"aRecords\":[{\"ipv4Address\":\"10.21.0.4\"}]}}"), 201));
        assertThat(record.at("/properties/fqdn").asText()).isEqualTo(name + "." + ZONE + ".");
        assertThat(record.path("type").asText()).isEqualTo("Microsoft.Network/privateDnsZones/A");
        expect(api.put(zone + "/A/" + name + "?" + DNS,
                "{\"properties\":{\"ttl\":10,\"aRecords\":[{\"ipv4Address\":\"10.21.0.5\"}]}}"), 200);
        assertThat(api.getOk(zone + "/A/" + name + "?" + DNS).at("/properties/aRecords/0/ipv4Address").asText())
                .isEqualTo("10.21.0.5");
        assertThat(api.getOk(zone + "/ALL?" + DNS).path("value")).hasSize(1);
        assertThat(api.getOk(zone + "/recordsets?" + DNS).path("value")).hasSize(1);
        assertThat(api.getOk(zone + "?" + DNS).at("/properties/numberOfRecordSets").asInt()).isEqualTo(2);
        assertError(api.put(zone + "/A/bad?" + DNS, "{\"properties\":{\"aRecords\":[{\"ipv4Address\":\"10.0.0\"}]}}"),
                400, "InvalidRequestContent");
        assertError(api.put(zone + "/A/bad?" + DNS, "{\"properties\":{\"aRecords\":[]}}"), 400, "InvalidRequestContent");
        assertError(api.put(zone + "/A/bad..name?" + DNS, "{\"properties\":{\"aRecords\":[{\"ipv4Address\":\"10.0.0.1\"}]}}"),
                400, "InvalidRecordSetName");

        // A linked zone stays; without links it goes, with its records.
        assertError(api.delete(zone + "?" + DNS), 409, "PrivateDnsZoneHasVirtualNetworkLinks");
        expect(api.delete(zone + "/virtualNetworkLinks/source-link?" + DNS), 200);
        expect(api.delete(zone + "/virtualNetworkLinks/recovery-link?" + DNS), 200);
        expect(api.delete(zone + "?" + DNS), 200);
        assertError(api.get(zone + "/A/" + name + "?" + DNS), 404, "ParentResourceNotFound");
    }

    @Test
    void badZonesAreRefused() throws Exception {
        String rg = cloud.newGroup("westus");
        String base = group(rg) + "/providers/Microsoft.Network/privateDnsZones/";
        assertError(api.put(base + "nodots?" + DNS, "{\"location\":\"global\"}"), 400, "InvalidResourceName");
        assertError(api.put(base + ZONE + "?" + DNS, "{\"location\":\"westus\"}"), 400, "InvalidRequestContent");
        HttpResponse<String> oldVersion = api.put(base + ZONE + "?api-version=2018-09-01", "{\"location\":\"global\"}");
        assertThat(oldVersion.statusCode()).as(oldVersion.body()).isEqualTo(201);
        assertError(api.put(base + ZONE + "?api-version=2017-01-01", "{}"), 400, "InvalidApiVersionParameter");
    }

    static String link(String vnetId) {
        return "{\"location\":\"global\",\"properties\":{\"virtualNetwork\":{\"id\":\"" + vnetId + "\"},"
                + "\"registrationEnabled\":false}}";
    }
}
