package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.cloud.CloudApi.subnet;
import static dev.secondsite.cloud.CloudApi.subnetId;
import static dev.secondsite.cloud.CloudApi.vnet;
import static dev.secondsite.cloud.CloudApi.vnetBody;
import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.assertNamesField;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/** Virtual networks and subnets through the public HTTPS API (Microsoft.Network 2024-05-01 shapes). */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VirtualNetworksApiTest extends EmbeddedCloudTest {
    @Test
    void createReadUpdateListDelete() throws Exception {
        String rg = cloud.newGroup("eastus");
        HttpResponse<String> created = api.put(vnet(rg, "vnet1"), "{\"location\":\"East US\",\"tags\":{\"a\":\"b\"},"
                + "\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.0.0.0/16\",\"10.1.0.0/16\"]},"
                + "\"dhcpOptions\":{\"dnsServers\":[\"10.0.0.53\"]},"
                + "\"subnets\":[{\"name\":\"default\",\"properties\":{\"addressPrefix\":\"10.0.0.0/24\"}},"
                + "{\"name\":\"second\",\"properties\":{\"addressPrefix\":\"10.1.0.0/24\"}}]}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode v = json(created);
        assertThat(v.path("id").asText()).isEqualTo(CloudApi.vnetId(rg, "vnet1"));
        assertThat(v.path("type").asText()).isEqualTo("Microsoft.Network/virtualNetworks");
        assertThat(v.path("location").asText()).isEqualTo("eastus");
        assertThat(v.path("etag").asText()).startsWith("W/\"");
        assertThat(v.at("/properties/provisioningState").asText()).isEqualTo("Succeeded");
        assertThat(v.at("/properties/resourceGuid").asText()).isNotBlank();
        assertThat(v.at("/properties/addressSpace/addressPrefixes")).extracting(JsonNode::asText)
                .containsExactly("10.0.0.0/16", "10.1.0.0/16");
        assertThat(v.at("/properties/dhcpOptions/dnsServers/0").asText()).isEqualTo("10.0.0.53");
        JsonNode subnets = v.at("/properties/subnets");
        assertThat(subnets).extracting(s -> s.path("name").asText()).containsExactly("default", "second");
        assertThat(subnets.get(0).path("id").asText()).isEqualTo(subnetId(rg, "vnet1", "default"));
        assertThat(subnets.get(0).path("type").asText()).isEqualTo("Microsoft.Network/virtualNetworks/subnets");
        assertThat(subnets.get(0).at("/properties/addressPrefix").asText()).isEqualTo("10.0.0.0/24");
        assertThat(subnets.get(0).at("/properties/freeIpAddressCount").asLong()).isEqualTo(256 - 5);

        assertThat(api.getOk(vnet(rg, "vnet1")).at("/properties/subnets")).hasSize(2);

        // PUT again: same location, one subnet dropped, one resized, one added; 200.
        HttpResponse<String> updated = api.put(vnet(rg, "vnet1"), vnetBody("eastus", "10.0.0.0/16",
                "default=10.0.0.0/25", "third=10.0.2.0/29"));
        assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
        JsonNode u = json(updated);
        assertThat(u.at("/properties/resourceGuid").asText()).isEqualTo(v.at("/properties/resourceGuid").asText());
        assertThat(u.at("/properties/subnets")).extracting(s -> s.path("name").asText())
                .containsExactlyInAnyOrder("default", "third");
        assertThat(cloud.freeIps(rg, "vnet1", "third")).as("a /29 has 3 usable addresses").isEqualTo(3);
        assertError(api.get(subnet(rg, "vnet1", "second")), 404, "NotFound");

        assertThat(api.getOk(CloudApi.group(rg) + "/providers/Microsoft.Network/virtualNetworks?"
                + CloudApi.NETWORK_VERSION).path("value")).extracting(x -> x.path("name").asText()).containsExactly("vnet1");
        assertThat(api.getOk("/subscriptions/" + CloudApi.SUB + "/providers/Microsoft.Network/virtualNetworks?"
                + CloudApi.NETWORK_VERSION).path("value")).extracting(x -> x.path("name").asText()).contains("vnet1");

        assertError(api.put(vnet(rg, "vnet1"), vnetBody("westus", "10.0.0.0/16")), 409, "InvalidResourceLocation");

        assertThat(api.delete(vnet(rg, "vnet1")).statusCode()).isEqualTo(200);
        assertError(api.get(vnet(rg, "vnet1")), 404, "ResourceNotFound");
        assertError(api.get(subnet(rg, "vnet1", "default")), 404, "ResourceNotFound");
        assertThat(api.delete(vnet(rg, "vnet1")).statusCode()).isEqualTo(204);
    }

    @Test
    void subnetsAsChildResources() throws Exception {
        String rg = cloud.newGroup("westus");
        cloud.putVnet(rg, "vn", "westus", "192.168.0.0/22");
        HttpResponse<String> created = api.put(subnet(rg, "vn", "app"), "{\"properties\":{\"addressPrefix\":\"192.168.1.0/24\","
                + "\"serviceEndpoints\":[{\"service\":\"Microsoft.Storage\"}]}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode s = json(created);
        assertThat(s.path("name").asText()).isEqualTo("app");
        assertThat(s.at("/properties/serviceEndpoints/0/service").asText()).isEqualTo("Microsoft.Storage");
        assertThat(s.at("/properties/freeIpAddressCount").asInt()).isEqualTo(251);
        assertThat(api.put(subnet(rg, "vn", "app"), "{\"properties\":{\"addressPrefix\":\"192.168.1.0/25\"}}")
                .statusCode()).isEqualTo(200);
        assertThat(cloud.freeIps(rg, "vn", "app")).isEqualTo(123);
        assertThat(api.put(subnet(rg, "vn", "db"), "{\"properties\":{\"addressPrefixes\":[\"192.168.2.0/26\","
                + "\"192.168.3.0/26\"]}}").statusCode()).isEqualTo(201);
        assertThat(cloud.freeIps(rg, "vn", "db")).as("five reserved per prefix").isEqualTo(2 * (64 - 5));

        JsonNode list = api.getOk(CloudApi.vnetId(rg, "vn") + "/subnets?" + CloudApi.NETWORK_VERSION);
        assertThat(list.path("value")).extracting(x -> x.path("name").asText()).containsExactly("app", "db");
        assertThat(api.getOk(vnet(rg, "vn")).at("/properties/subnets")).hasSize(2);

        assertNamesField(assertError(api.put(subnet(rg, "vn", "clash"), "{\"properties\":{\"addressPrefix\":"
                + "\"192.168.1.64/26\"}}"), 400, "NetcfgSubnetRangesOverlap"), "properties.addressPrefix");
        assertNamesField(assertError(api.put(subnet(rg, "vn", "outside"), "{\"properties\":{\"addressPrefix\":"
                + "\"192.168.8.0/24\"}}"), 400, "NetcfgSubnetRangeOutsideVnet"), "properties.addressPrefix");
        assertNamesField(assertError(api.put(subnet(rg, "vn", "-bad"), "{\"properties\":{\"addressPrefix\":"
                + "\"192.168.0.0/28\"}}"), 400, "InvalidResourceName"), "name");
        assertNamesField(assertError(api.put(subnet(rg, "vn", "noprefix"), "{\"properties\":{}}"), 400,
                "MissingRequiredProperty"), "properties.addressPrefix");
        assertError(api.put(subnet(rg, "nonet", "x"), "{\"properties\":{\"addressPrefix\":\"10.0.0.0/24\"}}"), 404,
                "ResourceNotFound");

        assertThat(api.delete(subnet(rg, "vn", "db")).statusCode()).isEqualTo(200);
        assertThat(api.delete(subnet(rg, "vn", "db")).statusCode()).isEqualTo(204);
        assertThat(api.getOk(vnet(rg, "vn")).at("/properties/subnets")).extracting(x -> x.path("name").asText())
                .containsExactly("app");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "bad prefix text      | [\"10.0.0/16\"]                                   |                                    | 400 | InvalidAddressPrefixFormat | properties.addressSpace.addressPrefixes[0]",
            "octet over 255       | [\"10.0.0.0/16\",\"10.300.0.0/16\"]                 |                                    | 400 | InvalidAddressPrefixFormat | properties.addressSpace.addressPrefixes[1]",
            "host bits set        | [\"10.0.0.1/16\"]                                 |                                    | 400 | InvalidCIDRNotation        | properties.addressSpace.addressPrefixes[0]",
            "prefix too small     | [\"10.0.0.0/30\"]                                 |                                    | 400 | InvalidAddressPrefix       | properties.addressSpace.addressPrefixes[0]",
            "reserved range       | [\"127.0.0.0/16\"]                                |                                    | 400 | InvalidAddressPrefix       | properties.addressSpace.addressPrefixes[0]",
            "overlapping spaces   | [\"10.0.0.0/16\",\"10.0.128.0/17\"]                 |                                    | 400 | VnetAddressSpacesOverlap   | properties.addressSpace.addressPrefixes[1]",
            "empty space          | []                                                |                                    | 400 | InvalidRequestContent      | properties.addressSpace.addressPrefixes",
            "subnet outside       | [\"10.0.0.0/16\"]                                 | [{\"name\":\"a\",\"properties\":{\"addressPrefix\":\"10.1.0.0/24\"}}]       | 400 | NetcfgSubnetRangeOutsideVnet | properties.subnets[0].properties.addressPrefix",
            "subnets overlap      | [\"10.0.0.0/16\"]                                 | [{\"name\":\"a\",\"properties\":{\"addressPrefix\":\"10.0.0.0/24\"}},{\"name\":\"b\",\"properties\":{\"addressPrefix\":\"10.0.0.128/25\"}}] | 400 | NetcfgSubnetRangesOverlap | properties.subnets[1].properties.addressPrefix",
            "subnet /30           | [\"10.0.0.0/16\"]                                 | [{\"name\":\"a\",\"properties\":{\"addressPrefix\":\"10.0.0.0/30\"}}]       | 400 | InvalidAddressPrefix       | properties.subnets[0].properties.addressPrefix",
            "subnet host bits     | [\"10.0.0.0/16\"]                                 | [{\"name\":\"a\",\"properties\":{\"addressPrefix\":\"10.0.0.7/24\"}}]       | 400 | InvalidCIDRNotation        | properties.subnets[0].properties.addressPrefix",
            "subnet bad name      | [\"10.0.0.0/16\"]                                 | [{\"name\":\"a b\",\"properties\":{\"addressPrefix\":\"10.0.0.0/24\"}}]     | 400 | InvalidResourceName        | properties.subnets[0].name",
            "subnet duplicate     | [\"10.0.0.0/16\"]                                 | [{\"name\":\"a\",\"properties\":{\"addressPrefix\":\"10.0.0.0/24\"}},{\"name\":\"A\",\"properties\":{\"addressPrefix\":\"10.0.1.0/24\"}}] | 400 | DuplicateResourceName | properties.subnets[1].name",
            "subnet no prefix     | [\"10.0.0.0/16\"]                                 | [{\"name\":\"a\",\"properties\":{}}]                                      | 400 | MissingRequiredProperty    | properties.subnets[0].properties.addressPrefix",
    })
    void invalidNetworksAreRefusedNamingTheField(String title, String prefixes, String subnets, int status, String code,
                                                 String field) throws Exception {
        String rg = cloud.newGroup("westus");
        String body = "{\"location\":\"westus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":" + prefixes + "}"
                + (subnets == null ? "" : ",\"subnets\":" + subnets) + "}}";
        assertNamesField(assertError(api.put(vnet(rg, "bad"), body), status, code), field);
        assertError(api.get(vnet(rg, "bad")), 404, "ResourceNotFound");
    }

    @Test
    void otherBodyErrors() throws Exception {
        String rg = cloud.newGroup("westus");
        assertNamesField(assertError(api.put(vnet(rg, "vn"), "{\"properties\":{\"addressSpace\":{\"addressPrefixes\":"
                + "[\"10.0.0.0/16\"]}}}"), 400, "LocationRequired"), "location");
        assertNamesField(assertError(api.put(vnet(rg, "vn"), "{\"location\":\"westus\",\"properties\":{}}"), 400,
                "MissingRequiredProperty"), "properties.addressSpace.addressPrefixes");
        assertNamesField(assertError(api.put(vnet(rg, "vn"), "{\"location\":\"westus\",\"properties\":{\"addressSpace\":"
                + "{\"addressPrefixes\":[\"10.0.0.0/16\"]},\"dhcpOptions\":{\"dnsServers\":[\"dns.example\"]}}}"), 400,
                "InvalidRequestContent"), "properties.dhcpOptions.dnsServers[0]");
        assertNamesField(assertError(api.put(vnet(rg, "x"), vnetBody("westus", "10.0.0.0/16")), 400,
                "InvalidResourceName"), "name");
        assertError(api.put(vnet("missing-rg", "vn"), vnetBody("westus", "10.0.0.0/16")), 404, "ResourceGroupNotFound");
    }

    @Test
    void checkIpAddressAvailability() throws Exception {
        String rg = cloud.newGroup("westus");
        cloud.putVnet(rg, "vn", "westus", "10.20.0.0/16", "s=10.20.0.0/29");
        String check = CloudApi.vnetId(rg, "vn") + "/CheckIPAddressAvailability?" + CloudApi.NETWORK_VERSION + "&ipAddress=";
        JsonNode free = api.getOk(check + "10.20.0.4");
        assertThat(free.path("available").asBoolean()).isTrue();
        assertThat(free.has("availableIPAddresses")).isFalse();
        JsonNode reserved = api.getOk(check + "10.20.0.1");
        assertThat(reserved.path("available").asBoolean()).isFalse();
        assertThat(reserved.path("availableIPAddresses")).extracting(JsonNode::asText)
                .containsExactly("10.20.0.4", "10.20.0.5", "10.20.0.6");
        assertThat(api.getOk(check + "10.20.0.7").path("available").asBoolean()).as("the last is reserved").isFalse();

        assertThat(cloud.newNic(rg, "n1", "westus", subnetId(rg, "vn", "s"))).isEqualTo("10.20.0.4");
        JsonNode taken = api.getOk(check + "10.20.0.4");
        assertThat(taken.path("available").asBoolean()).isFalse();
        assertThat(taken.path("availableIPAddresses")).extracting(JsonNode::asText).containsExactly("10.20.0.5", "10.20.0.6");

        assertNamesField(assertError(api.get(check + "10.21.0.4"), 400, "PrivateIPAddressNotInAnySubnet"), "ipAddress");
        assertNamesField(assertError(api.get(check + "nope"), 400, "InvalidPrivateIPAddressFormat"), "ipAddress");
        assertNamesField(assertError(api.get(check.replace("&ipAddress=", "")), 400, "MissingRequiredParameter"),
                "ipAddress");
    }

    @Test
    void inUseSubnetsCannotBeDeletedOrResized() throws Exception {
        String rg = cloud.newGroup("westus");
        cloud.putVnet(rg, "vn", "westus", "10.30.0.0/16", "busy=10.30.0.0/24", "idle=10.30.1.0/24");
        cloud.newNic(rg, "nic", "westus", subnetId(rg, "vn", "busy"));

        JsonNode error = assertError(api.delete(subnet(rg, "vn", "busy")), 409, "InUseSubnetCannotBeDeleted");
        assertThat(error.path("message").asText()).contains(CloudApi.nicId(rg, "nic") + "/ipConfigurations/ipconfig1");
        assertError(api.put(vnet(rg, "vn"), vnetBody("westus", "10.30.0.0/16", "idle=10.30.1.0/24")), 409,
                "InUseSubnetCannotBeDeleted");
        assertError(api.put(subnet(rg, "vn", "busy"), "{\"properties\":{\"addressPrefix\":\"10.30.0.0/25\"}}"), 409,
                "InUseSubnetCannotBeUpdated");
        assertError(api.delete(vnet(rg, "vn")), 409, "InUseSubnetCannotBeDeleted");
        assertThat(api.getOk(vnet(rg, "vn")).at("/properties/subnets")).hasSize(2);
        JsonNode busy = api.getOk(subnet(rg, "vn", "busy"));
        assertThat(busy.at("/properties/ipConfigurations/0/id").asText())
                .isEqualTo(CloudApi.nicId(rg, "nic") + "/ipConfigurations/ipconfig1");
        assertThat(busy.at("/properties/freeIpAddressCount").asInt()).isEqualTo(250);

        assertThat(api.delete(subnet(rg, "vn", "idle")).statusCode()).isEqualTo(200);
        assertThat(api.delete(CloudApi.nic(rg, "nic")).statusCode()).isEqualTo(200);
        assertThat(api.delete(subnet(rg, "vn", "busy")).statusCode()).isEqualTo(200);
        assertThat(api.delete(vnet(rg, "vn")).statusCode()).isEqualTo(200);
    }
}
