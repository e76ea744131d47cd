package dev.secondsite.bench.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.secondsite.tls.TlsMaterial;

/**
 * The few ARM calls the benchmark needs, over HTTPS as any client would: a client-credentials token for the
 * admin principal of the server's admin.json, trusting the server's CA; long-running operations are polled
 * through their Azure-AsyncOperation URL.
 */
final class Arm {
    static final String RS = "api-version=2024-10-01";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TERMINAL = Set.of("Succeeded", "Failed", "Canceled", "Cancelled");

    private final HttpClient http;
    private final String baseUrl;
    private final String token;

    private Arm(HttpClient http, String baseUrl, String token) {
        this.http = http;
        this.baseUrl = baseUrl;
        this.token = token;
    }

    static Arm connect(String baseUrl, Path dataDir) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder()
                .sslContext(TlsMaterial.clientContextTrusting(dataDir.resolve("tls").resolve(TlsMaterial.CA_FILE)))
                .connectTimeout(Duration.ofSeconds(10)).build();
        JsonNode admin = JSON.readTree(dataDir.resolve("admin.json").toFile());
        String form = "grant_type=client_credentials&client_id=" + enc(admin.path("clientId").asText())
                + "&client_secret=" + enc(admin.path("clientSecret").asText())
                + "&scope=" + enc("https://management.azure.com/.default");
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(baseUrl + "/"
                        + admin.path("tenantId").asText() + "/oauth2/v2.0/token"))
                .header("Content-Type", "application/x-www-form-urlencoded").timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("token request failed: " + response.statusCode() + " " + response.body());
        }
        return new Arm(http, baseUrl, JSON.readTree(response.body()).path("access_token").asText());
    }

    HttpResponse<String> call(String method, String pathOrUrl, String body) throws IOException, InterruptedException {
        String url = pathOrUrl.startsWith("https://") ? pathOrUrl : baseUrl + pathOrUrl;
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = call("GET", path, null);
        expect(response, 200);
        return JSON.readTree(response.body());
    }

    /** A PUT/POST answered directly (200/201). */
    JsonNode send(String method, String path, String body, int... statuses) throws IOException, InterruptedException {
        HttpResponse<String> response = call(method, path, body);
        expect(response, statuses);
        return response.body().isEmpty() ? JSON.nullNode() : JSON.readTree(response.body());
    }

    /** A long-running PUT/POST: 202, then polls until Succeeded (anything else fails). */
    JsonNode sendAndAwait(String method, String path, String body, Duration timeout)
            throws IOException, InterruptedException {
        HttpResponse<String> accepted = call(method, path, body);
        expect(accepted, 202);
        String status = accepted.headers().firstValue("Azure-AsyncOperation")
                .orElseThrow(() -> new IOException("202 without Azure-AsyncOperation: " + path));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode doc = get(status);
            String state = doc.path("status").asText();
            if (TERMINAL.contains(state)) {
                if (!state.equals("Succeeded")) {
                    throw new IOException(method + " " + path + " ended " + state + ": " + doc);
                }
                return doc;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(method + " " + path + " did not finish in " + timeout.toSeconds() + " s: " + doc);
            }
            Thread.sleep(100);
        }
    }

    private static void expect(HttpResponse<String> response, int... statuses) throws IOException {
        for (int status : statuses) {
            if (response.statusCode() == status) {
                return;
            }
        }
        throw new IOException(response.request().method() + " " + response.uri() + " answered "
                + response.statusCode() + ": " + response.body());
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
