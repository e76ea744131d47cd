package dev.secondsite.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.arm.Json;
import dev.secondsite.tls.TlsMaterial;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An HTTPS client for one server (in-process or a child process): trusts the server's CA from its data
 * directory, gets client-credentials tokens and sends ARM calls with a default bearer token.
 */
public final class ArmClient {
    private static final Set<String> TERMINAL = Set.of("Succeeded", "Failed", "Canceled", "Cancelled");

    private final HttpClient http;
    private final String baseUrl;
    private final Path dataDir;
    private final String token;

    private ArmClient(HttpClient http, String baseUrl, Path dataDir, String token) {
        this.http = http;
        this.baseUrl = baseUrl;
        this.dataDir = dataDir;
        this.token = token;
    }

    public static ArmClient connect(String baseUrl, Path dataDir) {
        HttpClient http = HttpClient.newBuilder()
                .sslContext(TlsMaterial.clientContextTrusting(dataDir.resolve("tls/ca.pem")))
                .connectTimeout(Duration.ofSeconds(5)).build();
        return new ArmClient(http, baseUrl, dataDir, null);
    }

    public static ArmClient of(TestServer server) {
        return connect(server.baseUrl(), server.dataDir());
    }

    /** The same client, sending this bearer token by default. */
    public ArmClient as(String bearer) {
        return new ArmClient(http, baseUrl, dataDir, bearer);
    }

    public ArmClient asAdmin() throws Exception {
        return as(adminToken());
    }

    public String baseUrl() {
        return baseUrl;
    }

    public String token() {
        return token;
    }

    public JsonNode admin() throws Exception {
        return Json.MAPPER.readTree(dataDir.resolve("admin.json").toFile());
    }

    public String adminToken() throws Exception {
        JsonNode admin = admin();
        return token(admin.path("clientId").asText(), admin.path("clientSecret").asText());
    }

    /** The token endpoint's raw answer for client credentials. */
    public HttpResponse<String> tokenResponse(String clientId, String secret) throws Exception {
        String tenant = admin().path("tenantId").asText();
        String form = "grant_type=client_credentials&client_id=" + Arm.enc(clientId) + "&client_secret="
                + Arm.enc(secret) + "&scope=" + Arm.enc("https://management.azure.com/.default");
        return http.send(HttpRequest.newBuilder(URI.create(baseUrl + "/" + tenant + "/oauth2/v2.0/token"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public String token(String clientId, String secret) throws Exception {
        HttpResponse<String> response = tokenResponse(clientId, secret);
        assertThat(response.statusCode()).as("token request: %s", response.body()).isEqualTo(200);
        String accessToken = Json.MAPPER.readTree(response.body()).path("access_token").asText();
        assertThat(accessToken).isNotBlank();
        return accessToken;
    }

    /** Sends a request to a path (or an absolute URL) with an explicit bearer token (null: none). */
    public HttpResponse<String> call(String method, String pathOrUrl, String bearer, String body) throws Exception {
        String url = pathOrUrl.startsWith("https://") ? pathOrUrl : baseUrl + pathOrUrl;
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> get(String path) throws Exception {
        return call("GET", path, token, null);
    }

    public HttpResponse<String> put(String path, String body) throws Exception {
        return call("PUT", path, token, body);
    }

    public HttpResponse<String> patch(String path, String body) throws Exception {
        return call("PATCH", path, token, body);
    }

    public HttpResponse<String> delete(String path) throws Exception {
        return call("DELETE", path, token, null);
    }

    public HttpResponse<String> post(String path, String body) throws Exception {
        return call("POST", path, token, body);
    }

    /** GET that must answer 200; returns the body. */
    public JsonNode getOk(String path) throws Exception {
        HttpResponse<String> response = get(path);
        assertThat(response.statusCode()).as("GET %s: %s", path, response.body()).isEqualTo(200);
        return Arm.json(response);
    }

    /**
     * Checks a 202 Accepted of a long-running operation (Azure-AsyncOperation, Location, Retry-After) and
     * polls its Azure-AsyncOperation URL until a terminal status; returns the final status document.
     */
    public JsonNode awaitOperation(HttpResponse<String> accepted, Duration timeout) throws Exception {
        assertThat(accepted.statusCode()).as("%s %s: %s", accepted.request().method(), accepted.uri(),
                accepted.body()).isEqualTo(202);
        String status = accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow(
                () -> new AssertionError("202 without Azure-AsyncOperation header: " + accepted.headers().map()));
        return Arm.await("operation " + status, timeout, Duration.ofMillis(100), () -> {
            HttpResponse<String> poll = get(status);
            assertThat(poll.statusCode()).as("GET %s: %s", status, poll.body()).isEqualTo(200);
            return Arm.json(poll);
        }, doc -> TERMINAL.contains(doc.path("status").asText()));
    }

    /** Like {@link #awaitOperation} but also requires the operation to have succeeded. */
    public JsonNode awaitSucceeded(HttpResponse<String> accepted) throws Exception {
        JsonNode status = awaitOperation(accepted, Duration.ofSeconds(30));
        assertThat(status.path("status").asText()).as("operation status %s", status).isEqualTo("Succeeded");
        return status;
    }
}
