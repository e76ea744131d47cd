package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.cloud.CloudApi.NETWORK_VERSION;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.RS;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.expect;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.peBody;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.peId;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.status;
import static dev.secondsite.cloud.PrivateEndpointsApiTest.vaultId;
import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The vault side of private endpoints: a vault with connections can't be deleted (the error lists them), and a vault
 * PUT or PATCH, even racing endpoint creates, never drops or replaces its read-only privateEndpointConnections.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VaultPrivateEndpointConnectionsApiTest extends EmbeddedCloudTest {
    private String vault(String rg, String name) throws Exception {
        expect(api.put(vaultId(rg, name) + "?" + RS, "{\"location\":\"westus\",\"identity\":{\"type\":\"SystemAssigned\"}}"),
                201);
        return vaultId(rg, name);
    }

    private HttpResponse<String> putPe(String rg, String name, String subnetId, String vault) throws Exception {
        return api.put(peId(rg, name) + "?" + NETWORK_VERSION, peBody("westus", subnetId, vault, "AzureSiteRecovery",
                false, null));
    }

    @Test
    void vaultWithConnectionsCannotBeDeletedUntilTheyAreGone() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "keep");
        cloud.putVnet(rg, "vnet", "westus", "10.50.0.0/24", "default=10.50.0.0/24");
        String subnetId = CloudApi.subnetId(rg, "vnet", "default");
        expect(putPe(rg, "pe-a", subnetId, vault), 201);
        expect(putPe(rg, "pe-b", subnetId, vault), 201);
        JsonNode connections = api.getOk(vault + "/privateEndpointConnections?" + RS).path("value");
        assertThat(connections).hasSize(2);

        JsonNode error = assertError(api.delete(vault + "?" + RS), 409, "VaultHasPrivateEndpointConnections");
        assertThat(error.path("message").asText()).contains("2 private endpoint connection(s)")
                .contains(connections.at("/0/name").asText()).contains(connections.at("/1/name").asText());
        assertThat(error.path("details")).hasSize(2);
        assertThat(error.at("/details/0/code").asText()).isEqualTo("PrivateEndpointConnectionExists");
        assertThat(error.at("/details/0/message").asText()).contains("Approved").contains(peId(rg, "pe-a"));
        api.getOk(vault + "?" + RS);

        // One endpoint deleted, the other's connection deleted by the vault's owner (its endpoint: Disconnected).
        expect(api.delete(peId(rg, "pe-a") + "?" + NETWORK_VERSION), 200);
        assertError(api.delete(vault + "?" + RS), 409, "VaultHasPrivateEndpointConnections");
        String remaining = api.getOk(vault + "/privateEndpointConnections?" + RS).at("/value/0/name").asText();
        expect(api.delete(vault + "/privateEndpointConnections/" + remaining + "?" + RS), 200);
        assertThat(status(api.getOk(peId(rg, "pe-b") + "?" + NETWORK_VERSION))).isEqualTo("Disconnected");
        expect(api.delete(vault + "?" + RS), 204);
        assertError(api.get(vault + "?" + RS), 404, "ResourceNotFound");
    }

    @Test
    void vaultPutAndPatchKeepTheReadOnlyConnectionList() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "update");
        cloud.putVnet(rg, "vnet", "westus", "10.51.0.0/24", "default=10.51.0.0/24");
        expect(putPe(rg, "pe", CloudApi.subnetId(rg, "vnet", "default"), vault), 201);
        JsonNode before = api.getOk(vault + "?" + RS).at("/properties/privateEndpointConnections");
        assertThat(before).hasSize(1);

        // A full PUT that sends the list empty (read-only: ignored), and one that sends a made-up entry.
        JsonNode put = json(expect(api.put(vault + "?" + RS, "{\"location\":\"westus\",\"tags\":{\"env\":\"dr\"},"
                + "\"properties\":{\"privateEndpointConnections\":[],\"privateEndpointStateForSiteRecovery\":\"None\"}}"),
                200));
        assertThat(put.at("/properties/privateEndpointConnections")).isEqualTo(before);
        assertThat(put.at("/properties/privateEndpointStateForSiteRecovery").asText()).isEqualTo("Enabled");
        assertThat(put.at("/tags/env").asText()).isEqualTo("dr");
        expect(api.put(vault + "?" + RS, "{\"location\":\"westus\",\"properties\":{\"privateEndpointConnections\":"
                + "[{\"id\":\"" + vault + "/privateEndpointConnections/forged\",\"properties\":{}}]}}"), 200);
        JsonNode patched = json(expect(api.patch(vault + "?" + RS, "{\"tags\":{\"env\":\"prod\"},\"properties\":"
                + "{\"privateEndpointConnections\":[]}}"), 200));
        assertThat(patched.at("/properties/privateEndpointConnections")).isEqualTo(before);
        assertThat(api.getOk(vault + "?" + RS).at("/properties/privateEndpointConnections")).isEqualTo(before);
    }

    @Test
    void concurrentVaultPutsNeverDropAConnectionOfConcurrentEndpoints() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "race");
        int endpoints = 6;
        List<String> subnets = new ArrayList<>();
        for (int i = 0; i < endpoints; i++) {
            cloud.putVnet(rg, "vnet" + i, "westus", "10.6" + i + ".0.0/24", "default=10.6" + i + ".0.0/24");
            subnets.add(CloudApi.subnetId(rg, "vnet" + i, "default"));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < endpoints; i++) {
                int n = i;
                calls.add(pool.submit(() -> putPe(rg, "pe" + n, subnets.get(n), vault)));
                for (int k = 0; k < 4; k++) {
                    calls.add(pool.submit(() -> api.put(vault + "?" + RS, "{\"location\":\"westus\",\"tags\":{\"round\":\""
                            + n + "\"},\"identity\":{\"type\":\"SystemAssigned\"}}")));
                    calls.add(pool.submit(() -> api.patch(vault + "?" + RS, "{\"tags\":{\"patch\":\"" + n + "\"}}")));
                }
            }
            for (Future<HttpResponse<String>> call : calls) {
                HttpResponse<String> r = call.get(60, TimeUnit.SECONDS);
                assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
            }
        } finally {
            pool.shutdownNow();
        }
        JsonNode listed = api.getOk(vault + "?" + RS).at("/properties/privateEndpointConnections");
        JsonNode rows = api.getOk(vault + "/privateEndpointConnections?" + RS).path("value");
        assertThat(rows).hasSize(endpoints);
        assertThat(listed.findValuesAsText("name")).containsExactlyInAnyOrderElementsOf(rows.findValuesAsText("name"));
    }
}
