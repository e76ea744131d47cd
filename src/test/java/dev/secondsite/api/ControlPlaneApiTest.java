package dev.secondsite.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.assertNamesField;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The vault control plane through the public HTTPS API, on both stores: the happy path of resource groups
 * and vaults, authentication, api-versions, and request validation. Every error must be an ARM error body
 * and must leave the stored data as it was.
 */
class ControlPlaneApiTest {
    static final String RS = "api-version=2024-04-01";
    static final String RES = "api-version=2021-04-01";
    static final String GUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

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
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    abstract static class Scenarios {
        private final TestServer.Store store;
        private TestServer server;
        private ArmClient api;

        Scenarios(TestServer.Store store) {
            this.store = store;
        }

        @BeforeAll
        void startServer() throws Exception {
            server = TestServer.start(store);
            api = ArmClient.of(server).asAdmin();
        }

        @AfterAll
        void stopServer() throws Exception {
            if (server != null) {
                server.close();
            }
        }

        private static String group(String sub, String rg) {
            return "/subscriptions/" + sub + "/resourceGroups/" + rg;
        }

        private static String vault(String sub, String rg, String name) {
            return group(sub, rg) + "/providers/Microsoft.RecoveryServices/vaults/" + name;
        }

        private JsonNode createGroup(String sub, String rg, String location) throws Exception {
            HttpResponse<String> r = api.put(group(sub, rg) + "?" + RES, "{\"location\":\"" + location + "\"}");
            assertThat(r.statusCode()).as("PUT group: %s", r.body()).isEqualTo(201);
            return json(r);
        }

        private JsonNode createVault(String sub, String rg, String name, String location) throws Exception {
            HttpResponse<String> r = api.put(vault(sub, rg, name) + "?" + RS, "{\"location\":\"" + location
                    + "\",\"sku\":{\"name\":\"RS0\",\"tier\":\"Standard\"},\"identity\":{\"type\":\"SystemAssigned\"}}");
            assertThat(r.statusCode()).as("PUT vault: %s", r.body()).isEqualTo(201);
            return json(r);
        }

        private static List<String> ids(JsonNode list) {
            assertThat(list.path("value").isArray()).as("list body %s", list).isTrue();
            List<String> ids = new ArrayList<>();
            list.path("value").forEach(v -> ids.add(v.path("id").asText()));
            return ids;
        }

        @Test
        void vaultLifecycle() throws Exception {
            String sub = UUID.randomUUID().toString();
            String tenant = api.admin().path("tenantId").asText();

            HttpResponse<String> r = api.put(group(sub, "rg-life") + "?" + RES,
                    "{\"location\":\"West US\",\"tags\":{\"env\":\"test\"}}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            JsonNode rg = json(r);
            assertThat(rg.path("id").asText()).isEqualTo(group(sub, "rg-life"));
            assertThat(rg.path("name").asText()).isEqualTo("rg-life");
            assertThat(rg.path("location").asText()).isEqualTo("westus");
            assertThat(rg.path("tags").path("env").asText()).isEqualTo("test");
            assertThat(r.headers().firstValue("x-ms-request-id")).isPresent();
            r = api.put(group(sub, "rg-life") + "?" + RES, "{\"location\":\"westus\"}");
            assertThat(r.statusCode()).as("second PUT of a group: %s", r.body()).isEqualTo(200);
            assertThat(api.getOk(group(sub, "rg-life") + "?" + RES).path("location").asText()).isEqualTo("westus");

            String path = vault(sub, "rg-life", "vault-1");
            r = api.put(path + "?" + RS, "{\"location\":\"West US\",\"tags\":{\"owner\":\"alice\"},"
                    + "\"sku\":{\"name\":\"Standard\"},\"identity\":{\"type\":\"SystemAssigned\"},\"properties\":{}}");
            assertThat(r.statusCode()).as("PUT vault: %s", r.body()).isEqualTo(201);
            JsonNode created = json(r);
            assertThat(created.path("id").asText()).isEqualTo(path);
            assertThat(created.path("name").asText()).isEqualTo("vault-1");
            assertThat(created.path("type").asText()).isEqualTo("Microsoft.RecoveryServices/vaults");
            assertThat(created.path("location").asText()).isEqualTo("westus");
            assertThat(created.path("sku").path("name").asText()).isEqualTo("RS0");
            assertThat(created.path("sku").path("tier").asText()).isEqualTo("Standard");
            assertThat(created.path("tags")).isEqualTo(Arm.object("{\"owner\":\"alice\"}"));
            assertThat(created.path("identity").path("type").asText()).isEqualTo("SystemAssigned");
            assertThat(created.path("identity").path("tenantId").asText()).isEqualTo(tenant);
            String principalId = created.path("identity").path("principalId").asText();
            assertThat(principalId).matches(GUID);
            assertThat(created.path("properties").path("provisioningState").asText()).isEqualTo("Succeeded");
            assertThat(api.getOk(path + "?" + RS)).isEqualTo(created);

            r = api.put(path + "?" + RS, "{\"location\":\"westus\",\"tags\":{\"owner\":\"bob\"},"
                    + "\"sku\":{\"name\":\"RS0\"},\"identity\":{\"type\":\"SystemAssigned\"}}");
            assertThat(r.statusCode()).as("second PUT of a vault: %s", r.body()).isEqualTo(200);
            JsonNode replaced = json(r);
            assertThat(replaced.path("identity").path("principalId").asText()).isEqualTo(principalId);
            assertThat(replaced.path("tags")).isEqualTo(Arm.object("{\"owner\":\"bob\"}"));
            assertThat(replaced.path("location").asText()).isEqualTo("westus");
            assertThat(replaced.path("id").asText()).isEqualTo(path);
            assertThat(api.getOk(path + "?" + RS)).isEqualTo(replaced);

            r = api.patch(path + "?" + RS, "{\"tags\":{\"cost-center\":\"42\",\"env\":\"dr\"}}");
            assertThat(r.statusCode()).as("PATCH vault: %s", r.body()).isEqualTo(200);
            JsonNode patched = json(r);
            assertThat(patched.path("tags")).isEqualTo(Arm.object("{\"cost-center\":\"42\",\"env\":\"dr\"}"));
            assertThat(patched.path("identity").path("principalId").asText()).isEqualTo(principalId);
            assertThat(patched.path("sku")).isEqualTo(created.path("sku"));
            assertThat(patched.path("location").asText()).isEqualTo("westus");
            assertThat(patched.path("properties")).isEqualTo(created.path("properties"));
            assertThat(api.getOk(path + "?" + RS)).isEqualTo(patched);

            createGroup(sub, "rg-life-2", "East US");
            JsonNode other = createVault(sub, "rg-life-2", "vault-2", "East US");
            assertThat(other.path("location").asText()).isEqualTo("eastus");
            assertThat(other.path("identity").path("principalId").asText()).matches(GUID).isNotEqualTo(principalId);

            String byGroup = group(sub, "rg-life") + "/providers/Microsoft.RecoveryServices/vaults?" + RS;
            JsonNode listed = api.getOk(byGroup);
            assertThat(ids(listed)).containsExactly(path);
            assertThat(listed.path("value").get(0)).isEqualTo(patched);
            assertThat(ids(api.getOk(group(sub, "rg-life-2") + "/providers/Microsoft.RecoveryServices/vaults?" + RS)))
                    .containsExactly(other.path("id").asText());
            String bySubscription = "/subscriptions/" + sub + "/providers/Microsoft.RecoveryServices/vaults?" + RS;
            assertThat(ids(api.getOk(bySubscription))).containsExactlyInAnyOrder(path, other.path("id").asText());
            assertThat(ids(api.getOk("/subscriptions/" + UUID.randomUUID()
                    + "/providers/Microsoft.RecoveryServices/vaults?" + RS))).isEmpty();

            // From 2024-04-01 on, Vaults_Delete answers 204 (the terminal status of its long-running form).
            r = api.delete(path + "?" + RS);
            assertThat(r.statusCode()).as("DELETE vault: %s", r.body()).isEqualTo(204);
            assertError(api.get(path + "?" + RS), 404, "ResourceNotFound");
            assertThat(ids(api.getOk(byGroup))).isEmpty();
            assertThat(ids(api.getOk(bySubscription))).containsExactly(other.path("id").asText());
            r = api.delete(path + "?" + RS);
            assertThat(r.statusCode()).as("DELETE of a missing vault: %s", r.body()).isEqualTo(204);
            // The other vault is untouched by the delete.
            assertThat(api.getOk(other.path("id").asText() + "?" + RS)).isEqualTo(other);
        }

        @Test
        void authenticationFailures() throws Exception {
            String sub = UUID.randomUUID().toString();
            createGroup(sub, "rg-auth", "westus");
            String path = vault(sub, "rg-auth", "vault-auth") + "?" + RS;
            JsonNode before = createVault(sub, "rg-auth", "vault-auth", "West US");
            String change = "{\"location\":\"westus\",\"tags\":{\"changed\":\"yes\"}}";

            for (String method : List.of("GET", "PUT", "DELETE")) {
                HttpResponse<String> r = api.call(method, path, null, method.equals("PUT") ? change : null);
                JsonNode error = assertError(r, 401, "AuthenticationFailed");
                assertThat(error.path("message").asText()).contains("Authorization");
                assertThat(r.headers().firstValue("WWW-Authenticate")).as("WWW-Authenticate on 401")
                        .hasValueSatisfying(h -> assertThat(h).startsWith("Bearer").contains("authorization_uri=\"https://"));
                assertThat(api.getOk(path)).isEqualTo(before);
            }

            HttpResponse<String> notBearer = sendWithAuthorization("PUT", path, "Basic dXNlcjpwYXNz", change);
            assertError(notBearer, 401, "AuthenticationFailed");
            assertThat(api.getOk(path)).isEqualTo(before);

            HttpResponse<String> garbage = api.call("PUT", path, "garbage-token", change);
            assertError(garbage, 401, "InvalidAuthenticationToken");
            assertThat(garbage.headers().firstValue("WWW-Authenticate")).isPresent();
            assertThat(api.getOk(path)).isEqualTo(before);

            // A real token whose claims were edited (another object id) no longer verifies.
            String[] parts = api.token().split("\\.");
            ObjectNode claims = (ObjectNode) Json.MAPPER.readTree(Base64.getUrlDecoder().decode(parts[1]));
            claims.put("oid", UUID.randomUUID().toString());
            String forgedPayload = Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(Json.write(claims).getBytes(StandardCharsets.UTF_8));
            assertError(api.call("PUT", path, parts[0] + "." + forgedPayload + "." + parts[2], change), 401,
                    "InvalidAuthenticationToken");
            // An unsigned token ("alg":"none") with the admin's own claims is refused too.
            String none = Base64.getUrlEncoder().withoutPadding()
                    .encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
            assertError(api.call("DELETE", path, none + "." + parts[1] + ".", null), 401,
                    "InvalidAuthenticationToken");
            assertThat(api.getOk(path)).isEqualTo(before);

            // The token endpoint refuses a wrong secret with an OAuth error, not a token.
            HttpResponse<String> badSecret = api.tokenResponse(api.admin().path("clientId").asText(), "wrong");
            assertThat(badSecret.statusCode()).isEqualTo(401);
            assertThat(json(badSecret).path("error").asText()).isEqualTo("invalid_client");
            assertThat(json(badSecret).has("access_token")).isFalse();
            // A malformed Basic header at the token endpoint is an OAuth error too, not a bare 500.
            String tokenUrl = "/" + api.admin().path("tenantId").asText() + "/oauth2/v2.0/token";
            HttpResponse<String> badBasic = send("POST", tokenUrl, "grant_type=client_credentials",
                    "Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic !!!not-base64");
            assertThat(badBasic.statusCode()).as(badBasic.body()).isEqualTo(401);
            assertThat(json(badBasic).path("error").asText()).isEqualTo("invalid_client");
            assertThat(badBasic.body()).doesNotContain("Exception");
        }

        private HttpResponse<String> sendWithAuthorization(String method, String path, String authorization,
                                                           String body) throws Exception {
            return send(method, path, body, "Content-Type", "application/json", "Authorization", authorization);
        }

        /** A raw request with the given header name/value pairs. */
        private HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
            var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.baseUrl() + path))
                    .timeout(java.time.Duration.ofSeconds(30))
                    .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
                            : java.net.http.HttpRequest.BodyPublishers.ofString(body))
                    .headers(headers).build();
            return server.http().send(request, HttpResponse.BodyHandlers.ofString());
        }

        @Test
        void apiVersions() throws Exception {
            String sub = UUID.randomUUID().toString();
            createGroup(sub, "rg-ver", "westus");
            String path = vault(sub, "rg-ver", "vault-ver");
            JsonNode before = createVault(sub, "rg-ver", "vault-ver", "westus");
            String change = "{\"location\":\"westus\",\"tags\":{\"changed\":\"yes\"}}";

            assertThat(assertError(api.get(path), 400, "MissingApiVersionParameter").path("message").asText())
                    .contains("api-version");
            assertError(api.put(path, change), 400, "MissingApiVersionParameter");
            assertError(api.put(path + "?api-version=", change), 400, "MissingApiVersionParameter");
            assertThat(api.getOk(path + "?" + RS)).isEqualTo(before);

            JsonNode error = assertError(api.get(path + "?api-version=2099-01-01"), 400, "InvalidApiVersionParameter");
            assertThat(error.path("message").asText()).contains("2099-01-01");
            assertError(api.patch(path + "?api-version=2099-01-01", change), 400, "InvalidApiVersionParameter");
            assertError(api.delete(path + "?api-version=not-a-version"), 400, "InvalidApiVersionParameter");
            // A Microsoft.Resources version is not a Microsoft.RecoveryServices version.
            assertError(api.get(path + "?api-version=2019-05-10"), 400, "InvalidApiVersionParameter");
            assertThat(api.getOk(path + "?" + RS)).isEqualTo(before);

            String principalId = before.path("identity").path("principalId").asText();
            for (String version : List.of("2024-04-01", "2022-10-01", "2024-10-01")) {
                assertThat(api.getOk(path + "?api-version=" + version).path("id").asText()).isEqualTo(path);
                HttpResponse<String> r = api.patch(path + "?api-version=" + version,
                        "{\"tags\":{\"version\":\"" + version + "\"}}");
                assertThat(r.statusCode()).as("PATCH with %s: %s", version, r.body()).isEqualTo(200);
                JsonNode patched = json(r);
                assertThat(patched.path("tags").path("version").asText()).isEqualTo(version);
                assertThat(patched.path("identity").path("principalId").asText()).isEqualTo(principalId);
                assertThat(api.getOk(group(sub, "rg-ver") + "/providers/Microsoft.RecoveryServices/vaults?api-version="
                        + version).path("value")).hasSize(1);
                assertThat(api.getOk(path + "/replicationPolicies?api-version=" + version).path("value")).isEmpty();
            }
        }

        @Test
        void invalidRequestsLeaveTheVaultUnchanged() throws Exception {
            String sub = UUID.randomUUID().toString();
            createGroup(sub, "rg-val", "westus");
            String path = vault(sub, "rg-val", "vault-val") + "?" + RS;
            JsonNode before = createVault(sub, "rg-val", "vault-val", "West US");

            record Case(String method, String body, int status, String code, String field) {}
            List<Case> cases = List.of(
                    new Case("PUT", "{\"location\": \"West US\", \"tags\": {", 400, "InvalidRequestContent", null),
                    new Case("PUT", "{\"location\":\"West US\",\"location\":\"East US\"}", 400, "InvalidRequestContent", null),
                    new Case("PUT", "[]", 400, "InvalidRequestContent", null),
                    new Case("PUT", "{\"location\":\"West US\",\"sku\":{\"name\":\"Bogus\"}}", 400,
                            "InvalidRequestContent", "sku.name"),
                    new Case("PUT", "{\"location\":\"West US\",\"sku\":\"RS0\"}", 400, "InvalidRequestContent", "sku"),
                    new Case("PUT", "{\"location\":\"West US\",\"tags\":\"not-an-object\"}", 400,
                            "InvalidRequestContent", "tags"),
                    new Case("PUT", "{\"location\":\"West US\",\"tags\":[\"a\",\"b\"]}", 400,
                            "InvalidRequestContent", "tags"),
                    new Case("PUT", "{\"location\":\"West US\",\"tags\":{\"a\":5}}", 400, "InvalidRequestContent", "tags.a"),
                    new Case("PUT", "{\"tags\":{\"a\":\"b\"}}", 400, "LocationRequired", "location"),
                    new Case("PUT", "{\"location\":\"Atlantis\"}", 400, "LocationNotAvailableForResourceType", "location"),
                    new Case("PUT", "{\"location\":\"East US\"}", 409, "InvalidResourceLocation", null),
                    new Case("PUT", "{\"location\":\"West US\",\"identity\":{\"type\":\"Weird\"}}", 400,
                            "InvalidRequestContent", "identity.type"),
                    new Case("PUT", "{\"location\":\"West US\",\"properties\":{\"publicNetworkAccess\":\"Sometimes\"}}",
                            400, "InvalidRequestContent", "properties.publicNetworkAccess"),
                    new Case("PATCH", "{\"tags\":\"oops\"}", 400, "InvalidRequestContent", "tags"),
                    new Case("PATCH", "{\"sku\":{\"name\":\"Bogus\"}}", 400, "InvalidRequestContent", "sku.name"),
                    new Case("PATCH", "{\"location\":\"eastus\"}", 400, "InvalidRequestContent", "location"),
                    new Case("PATCH", "{\"tags\":{\"ok\":\"1\"},\"identity\":{\"type\":\"UserAssigned\"}}", 400,
                            "InvalidRequestContent", "identity.userAssignedIdentities"),
                    new Case("PATCH", "{not json}", 400, "InvalidRequestContent", null));
            for (Case c : cases) {
                HttpResponse<String> r = api.call(c.method(), path, api.token(), c.body());
                JsonNode error = assertError(r, c.status(), c.code());
                if (c.field() != null) {
                    assertNamesField(error, c.field());
                }
                assertThat(api.getOk(path)).as("vault after %s %s", c.method(), c.body()).isEqualTo(before);
            }
        }

        @Test
        void invalidNamesAndMissingParents() throws Exception {
            String sub = UUID.randomUUID().toString();
            createGroup(sub, "rg-names", "westus");
            JsonNode existing = createVault(sub, "rg-names", "vault-keep", "westus");
            String list = group(sub, "rg-names") + "/providers/Microsoft.RecoveryServices/vaults?" + RS;
            String body = "{\"location\":\"West US\"}";

            for (String name : List.of("1vault", "v", "bad_name", "bad.name", "a" + "b".repeat(50), "-vault")) {
                JsonNode error = assertError(api.put(vault(sub, "rg-names", name) + "?" + RS, body), 400,
                        "InvalidResourceName");
                assertThat(error.path("message").asText()).contains(name);
                assertError(api.get(vault(sub, "rg-names", name) + "?" + RS), 404, "ResourceNotFound");
            }
            // 50 characters is the longest valid name.
            String longest = "a" + "b".repeat(49);
            HttpResponse<String> r = api.put(vault(sub, "rg-names", longest) + "?" + RS, body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            // Older api-versions answer 200 to a delete.
            r = api.delete(vault(sub, "rg-names", longest) + "?api-version=2022-10-01");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertError(api.get(vault(sub, "rg-names", longest) + "?" + RS), 404, "ResourceNotFound");

            JsonNode error = assertError(api.put(vault(sub, "rg-missing", "vault-x") + "?" + RS, body), 404,
                    "ResourceGroupNotFound");
            assertThat(error.path("message").asText()).contains("rg-missing");
            assertError(api.get(vault(sub, "rg-missing", "vault-x") + "?" + RS), 404, "ResourceGroupNotFound");
            assertError(api.get(group(sub, "rg-missing") + "?" + RES), 404, "ResourceGroupNotFound");

            assertError(api.patch(vault(sub, "rg-names", "vault-new") + "?" + RS, "{\"tags\":{}}"), 404,
                    "ResourceNotFound");
            assertError(api.put(vault(sub, "rg-names", "vault-new") + "?" + RS, "{}"), 400, "LocationRequired");
            assertError(api.get(vault(sub, "rg-names", "vault-new") + "?" + RS), 404, "ResourceNotFound");

            assertError(api.put("/subscriptions/not-a-guid/resourceGroups/rg?" + RES, body), 400, "InvalidSubscriptionId");
            assertError(api.put(group(sub, "rg.") + "?" + RES, body), 400, "InvalidResourceGroupName");
            assertError(api.get(group(sub, "rg-names") + "/providers/Microsoft.RecoveryServices/widgets/w?" + RS),
                    404, "InvalidResourceType");
            assertError(api.patch(group(sub, "rg-names") + "?" + RES, body), 405, "MethodNotAllowed");
            assertError(api.get("/no/such/api"), 404, "NotFound");
            assertError(send("GET", "/no/such/api", null, "Accept", "application/json"), 404, "NotFound");
            assertError(send("POST", "/health", "{}", "Content-Type", "application/json"), 404, "NotFound");

            assertThat(ids(api.getOk(list))).containsExactly(existing.path("id").asText());
            assertThat(api.getOk(existing.path("id").asText() + "?" + RS)).isEqualTo(existing);
        }

        @Test
        void oversizedBodyIsRefused() throws Exception {
            String sub = UUID.randomUUID().toString();
            createGroup(sub, "rg-big", "westus");
            String path = vault(sub, "rg-big", "vault-big") + "?" + RS;
            JsonNode before = createVault(sub, "rg-big", "vault-big", "westus");
            String huge = "{\"location\":\"westus\",\"tags\":{\"a\":\"b\"},\"padding\":\"" + "x".repeat(5 * 1024 * 1024)
                    + "\"}";
            HttpResponse<String> r = api.put(path, huge);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
            Arm.assertErrorShape(json(r), r.body());
            assertThat(api.getOk(path)).isEqualTo(before);
        }

        @Test
        void aMissingResourceIsNamedWithItsVaultAndResourceGroup() throws Exception {
            String sub = UUID.randomUUID().toString();
            createGroup(sub, "rg-nf", "westus");
            String vaultPath = vault(sub, "rg-nf", "vault-nf");
            createVault(sub, "rg-nf", "vault-nf", "westus");
            JsonNode error = assertError(api.get(vaultPath + "/replicationPolicies/nope?" + RS), 404, "ResourceNotFound");
            assertThat(error.path("message").asText()).isEqualTo("The Resource 'Microsoft.RecoveryServices/vaults/"
                    + "vault-nf/replicationPolicies/nope' under resource group 'rg-nf' was not found.");
            error = assertError(api.get(vaultPath + "/replicationFabrics/fab/replicationProtectionContainers/c?" + RS),
                    404, "ResourceNotFound");
            assertThat(error.path("message").asText()).isEqualTo("The Resource 'Microsoft.RecoveryServices/vaults/"
                    + "vault-nf/replicationFabrics/fab' under resource group 'rg-nf' was not found.");
        }

        @Test
        void invalidPolicySettingsAreRefusedBeforeAnyJob() throws Exception {
            String sub = UUID.randomUUID().toString();
            createGroup(sub, "rg-pol", "westus");
            String vaultPath = vault(sub, "rg-pol", "vault-pol");
            JsonNode before = createVault(sub, "rg-pol", "vault-pol", "westus");
            String policy = vaultPath + "/replicationPolicies/policy-1?" + RS;
            String field = "properties.providerSpecificInput.";

            record Case(String input, String field) {}
            List<Case> cases = List.of(
                    new Case("{\"instanceType\":\"InMageAzureV2\",\"recoveryPointHistory\":\"abc\","
                            + "\"multiVmSyncStatus\":\"Enable\"}", field + "recoveryPointHistory"),
                    new Case("{\"instanceType\":\"InMageAzureV2\",\"recoveryPointHistory\":100000,"
                            + "\"multiVmSyncStatus\":\"Enable\"}", field + "recoveryPointHistory"),
                    new Case("{\"instanceType\":\"InMageAzureV2\",\"recoveryPointHistory\":-1,"
                            + "\"multiVmSyncStatus\":\"Enable\"}", field + "recoveryPointHistory"),
                    new Case("{\"instanceType\":\"InMageAzureV2\",\"recoveryPointHistory\":1440.5,"
                            + "\"multiVmSyncStatus\":\"Enable\"}", field + "recoveryPointHistory"),
                    // 2^64 + 1440: must not wrap around to 1440.
                    new Case("{\"instanceType\":\"InMageAzureV2\",\"recoveryPointHistory\":18446744073709553056,"
                            + "\"multiVmSyncStatus\":\"Enable\"}", field + "recoveryPointHistory"),
                    new Case("{\"instanceType\":\"A2A\",\"recoveryPointHistory\":30000,\"multiVmSyncStatus\":\"Enable\"}",
                            field + "recoveryPointHistory"),
                    new Case("{\"instanceType\":\"InMageAzureV2\",\"multiVmSyncStatus\":\"Maybe\"}",
                            field + "multiVmSyncStatus"),
                    new Case("{\"instanceType\":\"InMageAzureV2\",\"recoveryPointHistory\":60,"
                            + "\"appConsistentFrequencyInMinutes\":120,\"multiVmSyncStatus\":\"Enable\"}",
                            field + "appConsistentFrequencyInMinutes"),
                    new Case("{\"instanceType\":\"Bogus\"}", field + "instanceType"),
                    new Case("{\"recoveryPointHistory\":60}", field + "instanceType"));
            for (Case c : cases) {
                HttpResponse<String> r = api.put(policy, "{\"properties\":{\"providerSpecificInput\":" + c.input() + "}}");
                assertThat(r.statusCode()).as("PUT policy %s: %s", c.input(), r.body()).isEqualTo(400);
                JsonNode error = assertError(r, 400, json(r).path("error").path("code").asText());
                assertThat(error.path("code").asText()).isIn("InvalidRequestContent", "MissingRequiredProperty");
                assertNamesField(error, c.field());
            }
            assertError(api.put(policy, "{\"properties\":{}}"), 400, "MissingRequiredProperty");

            assertThat(api.getOk(vaultPath + "/replicationPolicies?" + RS).path("value")).isEmpty();
            assertThat(api.getOk(vaultPath + "/replicationJobs?" + RS).path("value")).as("no job was queued").isEmpty();
            assertThat(api.getOk(vaultPath + "?" + RS)).isEqualTo(before);
        }
    }
}
