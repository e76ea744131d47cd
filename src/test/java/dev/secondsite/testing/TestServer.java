package dev.secondsite.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.arm.Json;
import dev.secondsite.server.SecondSiteServer;
import dev.secondsite.tls.TlsMaterial;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.UUID;

/**
 * A real server for integration tests: HTTPS on a free port, a temporary data directory, and either
 * the embedded store or a fresh schema in the PostgreSQL at 127.0.0.1:5432 (database "test").
 */
public final class TestServer implements AutoCloseable {
    public enum Store { EMBEDDED, POSTGRES }

    public static final String POSTGRES_URL = "jdbc:postgresql://127.0.0.1:5432/test";

    private final SecondSiteServer server;
    private final Path dataDir;
    private final String db;
    private final HttpClient http;
    private final String schema;
    /** Whether {@link #start(Store)} made the data directory (then {@link #close} deletes it). */
    private boolean ownsDataDir;

    private TestServer(SecondSiteServer server, Path dataDir, String db, String schema) {
        this.server = server;
        this.dataDir = dataDir;
        this.db = db;
        this.schema = schema;
        this.http = HttpClient.newBuilder()
                .sslContext(TlsMaterial.clientContextTrusting(dataDir.resolve("tls/ca.pem")))
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    public static TestServer start(Store store) throws Exception {
        TestServer server = start(store, Files.createTempDirectory("secondsite-test"), 0);
        server.ownsDataDir = true;
        return server;
    }

    public static TestServer start(Store store, Path dataDir, long taskDelayMillis) throws Exception {
        String schema = null;
        String db = "embedded";
        if (store == Store.POSTGRES) {
            schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
            db = postgresUrl(schema);
        }
        SecondSiteServer server = SecondSiteServer.start(
                new SecondSiteServer.Options(dataDir, db, "127.0.0.1", 0, 2, taskDelayMillis));
        return new TestServer(server, dataDir, db, schema);
    }

    /** A JDBC URL for a fresh schema of the test database; the server creates and migrates it. */
    public static String postgresUrl(String schema) {
        return POSTGRES_URL + "?currentSchema=" + schema;
    }

    public String db() {
        return db;
    }

    public Path dataDir() {
        return dataDir;
    }

    public int port() {
        return server.port();
    }

    public String baseUrl() {
        return "https://127.0.0.1:" + port();
    }

    public HttpClient http() {
        return http;
    }

    public JsonNode admin() throws IOException {
        return Json.MAPPER.readTree(dataDir.resolve("admin.json").toFile());
    }

    /** A token for the admin principal of admin.json. */
    public String adminToken() throws Exception {
        JsonNode admin = admin();
        return token(admin.path("clientId").asText(), admin.path("clientSecret").asText());
    }

    public String token(String clientId, String secret) throws Exception {
        String tenant = admin().path("tenantId").asText();
        String form = "grant_type=client_credentials&client_id=" + enc(clientId) + "&client_secret=" + enc(secret)
                + "&scope=" + enc("https://management.azure.com/.default");
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/" + tenant
                        + "/oauth2/v2.0/token")).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("token request failed: " + response.statusCode() + " " + response.body());
        }
        return Json.MAPPER.readTree(response.body()).path("access_token").asText();
    }

    /** Sends a request with a bearer token (null for none) and an optional JSON body. */
    public HttpResponse<String> call(String method, String pathAndQuery, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl() + pathAndQuery))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws Exception {
        server.close();
        if (ownsDataDir) {
            TestDirs.deleteTree(dataDir);
        }
        if (schema != null) {
            try (var connection = DriverManager.getConnection(POSTGRES_URL, System.getProperty("user.name"), "")) {
                connection.createStatement().execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }
}
