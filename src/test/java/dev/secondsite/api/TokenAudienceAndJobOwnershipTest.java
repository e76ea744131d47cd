package dev.secondsite.api;

import dev.secondsite.arm.Json;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** A token for another resource must not open the management API; a deleted vault's jobs go with it. */
class TokenAudienceAndJobOwnershipTest {
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static String tokenFor(String scope) throws Exception {
        var admin = server.admin();
        String form = "grant_type=client_credentials&client_id=" + admin.path("clientId").asText()
                + "&client_secret=" + URLEncoder.encode(admin.path("clientSecret").asText(), StandardCharsets.UTF_8)
                + "&scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8);
        HttpResponse<String> response = server.http().send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/"
                        + admin.path("tenantId").asText() + "/oauth2/v2.0/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return Json.MAPPER.readTree(response.body()).path("access_token").asText();
    }

    @Test
    void storageTokenIsRejectedButManagementAndServerAudiencesWork() throws Exception {
        String path = "/subscriptions/" + UUID.randomUUID() + "/resourcegroups?api-version=2021-04-01";
        Arm.assertError(server.call("GET", path, tokenFor("https://storage.azure.com/.default"), null),
                401, "InvalidAuthenticationToken");
        assertThat(server.call("GET", path, tokenFor("https://management.azure.com/.default"), null).statusCode())
                .isEqualTo(200);
        assertThat(server.call("GET", path, tokenFor(server.baseUrl() + "/.default"), null).statusCode())
                .isEqualTo(200);
    }

    @Test
    void recreatedVaultDoesNotInheritJobs() throws Exception {
        String token = server.adminToken();
        String group = "/subscriptions/" + UUID.randomUUID() + "/resourceGroups/rg1";
        String vault = group + "/providers/Microsoft.RecoveryServices/vaults/v1";
        String v = "?api-version=2024-10-01";
        assertThat(server.call("PUT", group + "?api-version=2021-04-01", token, "{\"location\":\"eastus\"}").statusCode())
                .isEqualTo(201);
        assertThat(server.call("PUT", vault + v, token, "{\"location\":\"eastus\"}").statusCode()).isEqualTo(201);
        var accepted = server.call("PUT", vault + "/replicationPolicies/p1" + v, token,
                "{\"properties\":{\"providerSpecificInput\":{\"instanceType\":\"A2A\",\"multiVmSyncStatus\":\"Disable\"}}}");
        assertThat(accepted.statusCode()).isEqualTo(202);
        Arm.await("the policy job", java.time.Duration.ofSeconds(10), java.time.Duration.ofMillis(100),
                () -> Arm.json(server.call("GET", vault + "/replicationJobs" + v, token, null)).path("value").size(),
                n -> n == 1);
        assertThat(server.call("DELETE", vault + v, token, null).statusCode()).isIn(200, 204);
        assertThat(server.call("PUT", vault + v, token, "{\"location\":\"eastus\"}").statusCode()).isEqualTo(201);
        assertThat(Arm.json(server.call("GET", vault + "/replicationJobs" + v, token, null)).path("value").size())
                .isZero();
    }
}
