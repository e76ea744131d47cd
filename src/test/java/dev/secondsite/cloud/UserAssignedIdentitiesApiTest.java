package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.UUID;

import static dev.secondsite.testing.Arm.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * User-assigned managed identities: stable ids across updates, name and location rules, attaching one to a vault
 * (the vault shows the identity's principal; an identity that doesn't exist is 400), roles for its principal.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UserAssignedIdentitiesApiTest {
    private static final String MSI = "?api-version=2023-01-31";
    private static final String RS = "?api-version=2024-04-01";
    private TestServer server;
    private ArmClient api;

    @BeforeAll
    void start() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
        api = ArmClient.of(server).asAdmin();
    }

    @AfterAll
    void stop() throws Exception {
        server.close();
    }

    /** A PUT that must answer 200 or 201; its body. */
    private JsonNode putOk(String path, String body) throws Exception {
        var r = api.put(path, body);
        assertThat(r.statusCode()).as("PUT %s: %s", path, r.body()).isIn(200, 201);
        return dev.secondsite.testing.Arm.json(r);
    }

    @Test
    void identitiesKeepTheirIdsAndVaultsUseThem() throws Exception {
        String rg = new CloudApi(api).newGroup("westus");
        String group = "/subscriptions/" + CloudApi.SUB + "/resourceGroups/" + rg;
        String id = group + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-vault";
        JsonNode created = putOk(id + MSI, "{\"location\":\"westus\",\"tags\":{\"env\":\"dr\"}}");
        String principal = created.path("properties").path("principalId").asText();
        assertThat(principal).matches("[0-9a-f-]{36}");
        assertThat(created.path("properties").path("tenantId").asText()).isNotBlank();
        JsonNode updated = putOk(id + MSI, "{\"location\":\"westus\",\"tags\":{\"env\":\"prod\"}}");
        assertThat(updated.path("properties").path("principalId").asText()).isEqualTo(principal);
        assertThat(updated.path("tags").path("env").asText()).isEqualTo("prod");
        assertError(api.put(id + MSI, "{\"location\":\"eastus\"}"), 409, "InvalidResourceLocation");
        assertError(api.put(group + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x" + MSI,
                "{\"location\":\"westus\"}"), 400, "InvalidResourceName");
        assertThat(api.getOk("/subscriptions/" + CloudApi.SUB + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
                + MSI).path("value").toString()).contains("id-vault");

        // A vault with the identity shows its principal; an identity that doesn't exist is refused.
        String vault = group + "/providers/Microsoft.RecoveryServices/vaults/v-uai";
        assertError(api.put(vault + RS, "{\"location\":\"westus\",\"sku\":{\"name\":\"Standard\"},\"identity\":{"
                + "\"type\":\"UserAssigned\",\"userAssignedIdentities\":{\"" + id + "-missing\":{}}}}"), 400,
                "UserAssignedIdentityNotFound");
        JsonNode v = putOk(vault + RS, "{\"location\":\"westus\",\"sku\":{\"name\":\"Standard\"},\"identity\":{"
                + "\"type\":\"UserAssigned\",\"userAssignedIdentities\":{\"" + id + "\":{}}}}");
        assertThat(v.path("identity").path("userAssignedIdentities").path(id).path("principalId").asText()).isEqualTo(principal);

        // Roles can be given to the identity's principal.
        String assignment = group + "/providers/Microsoft.Authorization/roleAssignments/" + UUID.randomUUID()
                + "?api-version=2022-04-01";
        JsonNode role = putOk(assignment, "{\"properties\":{\"roleDefinitionId\":\"/subscriptions/" + CloudApi.SUB
                + "/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe\","
                + "\"principalId\":\"" + principal + "\"}}");
        assertThat(role.path("properties").path("principalId").asText()).isEqualTo(principal);

        assertThat(api.delete(id + MSI).statusCode()).isEqualTo(200);
        assertError(api.get(id + MSI), 404, "ResourceNotFound");
    }
}
