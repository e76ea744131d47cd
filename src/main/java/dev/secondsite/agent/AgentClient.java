package dev.secondsite.agent;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.net.ssl.SSLContext;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.secondsite.replication.ReplicaDigests;

/**
 * The agent's side of {@code docs/agent-protocol.md}: register, heartbeat and segment upload over
 * HTTPS. One attempt per call; retrying is the caller's business ({@link Retry}). A refusal by the server
 * is an {@link AgentApiException} carrying the ARM error code; no answer at all is a plain IOException.
 */
final class AgentClient {
    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
    /** A 32 MiB segment over a slow link; the server verifies it whole before answering. */
    private static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(10);
    private static final int ERROR_TEXT_MAX = 500;

    record RegisterRequest(String registrationKey, String machineName, String agentTime, String osType,
                           String agentVersion, List<DiskSource.Description> disks) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record RegisterResponse(String agentId, String agentSecret, String serverTime, String vaultId, String fabricId) {
    }

    record HeartbeatRequest(String agentTime, List<DiskSource.Description> disks,
                            Map<String, Map<String, Object>> stats) {
    }

    /** The server's word on one disk. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record DiskDirective(String name, String diskId, boolean replicate, long nextSequence, int chunkBytes,
                         boolean resync, String resyncId, long crashConsistentSeconds, long appConsistentSeconds) {
        UUID id() {
            return UUID.fromString(diskId);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record HeartbeatResponse(String serverTime, List<DiskDirective> disks) {
        HeartbeatResponse {
            disks = disks == null ? List.of() : disks;
        }
    }

    private final HttpClient http;
    private final URI base;
    private volatile String authorization;

    AgentClient(URI server, SSLContext ssl) {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .version(HttpClient.Version.HTTP_1_1);
        if (ssl != null) {
            builder.sslContext(ssl);
        }
        this.http = builder.build();
        String text = server.toString();
        this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
    }

    void credentials(String agentId, String agentSecret) {
        this.authorization = "Agent " + agentId + ":" + agentSecret;
    }

    RegisterResponse register(RegisterRequest request) throws IOException {
        HttpResponse<String> response = send(json("POST", "/agent/v1/register", request, false));
        return parse(response, RegisterResponse.class);
    }

    HeartbeatResponse heartbeat(HeartbeatRequest request) throws IOException {
        HttpResponse<String> response = send(json("POST", "/agent/v1/heartbeat", request, true));
        return parse(response, HeartbeatResponse.class);
    }

    /** PUT one sealed segment; returns the status (201 stored, 200 already held). */
    int putSegment(UUID diskId, long sequence, byte[] segment, int length) throws IOException {
        HttpRequest request = authorized(HttpRequest.newBuilder(uri("/agent/v1/disks/" + diskId + "/segments/" + sequence)))
                .timeout(UPLOAD_TIMEOUT)
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(segment, 0, length)).build();
        HttpResponse<String> response = send(request);
        if (response.statusCode() != 200 && response.statusCode() != 201) {
            throw refusal(response);
        }
        return response.statusCode();
    }

    /**
     * The replica's digests of chunks [first, first + count) (agent-protocol §4a), or empty if the server
     * has no such endpoint (an older server answers 404 without an ARM error code).
     */
    java.util.Optional<ReplicaDigestSource.Page> replicaDigests(UUID diskId, long first, int count) throws IOException {
        HttpRequest request = authorized(HttpRequest.newBuilder(uri("/agent/v1/disks/" + diskId + "/digests?first="
                + first + "&count=" + count))).timeout(CALL_TIMEOUT).GET().build();
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted: GET " + request.uri());
        }
        if (response.statusCode() != 200) {
            String body = new String(response.body(), StandardCharsets.UTF_8);
            if (response.statusCode() == 404 && !body.contains("UnknownDisk")) {
                return java.util.Optional.empty();
            }
            throw new AgentApiException(response.statusCode(), "HttpStatus" + response.statusCode(), abbreviate(body));
        }
        java.nio.ByteBuffer page = java.nio.ByteBuffer.wrap(response.body()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int headerBytes = ReplicaDigests.PAGE_HEADER_BYTES;
        if (page.remaining() < headerBytes || page.getInt(0) != ReplicaDigests.PAGE_MAGIC || page.getInt(32) != count
                || page.getLong(24) != first || page.remaining() != headerBytes + (long) count * 32) {
            throw new AgentApiException(200, "MalformedResponse", "the server's replica digests for chunks " + first
                    + " +" + count + " are not the expected page (" + page.remaining() + " bytes)");
        }
        return java.util.Optional.of(new ReplicaDigestSource.Page(page.getInt(4), page.getLong(8), page.getLong(16),
                first, java.util.Arrays.copyOfRange(response.body(), headerBytes, response.body().length)));
    }

    private HttpRequest json(String method, String path, Object body, boolean authorized) throws IOException {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri(path)).timeout(CALL_TIMEOUT)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        return (authorized ? authorized(builder) : builder).build();
    }

    private HttpRequest.Builder authorized(HttpRequest.Builder builder) {
        String auth = authorization;
        if (auth == null) {
            throw new IllegalStateException("the agent has no credentials yet (register first)");
        }
        return builder.header("Authorization", auth);
    }

    private URI uri(String path) {
        return URI.create(base + path);
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted: " + request.method() + " " + request.uri());
        }
    }

    private static <T> T parse(HttpResponse<String> response, Class<T> type) throws IOException {
        if (response.statusCode() != 200) {
            throw refusal(response);
        }
        try {
            return JSON.readValue(response.body(), type);
        } catch (IOException e) {
            throw new AgentApiException(response.statusCode(), "MalformedResponse",
                    "the server's answer to " + response.uri().getPath() + " is not the expected JSON: "
                            + abbreviate(response.body()));
        }
    }

    /** An ARM error body turned into an exception; anything else keeps its status and a short excerpt. */
    static AgentApiException refusal(HttpResponse<String> response) {
        String body = response.body() == null ? "" : response.body();
        try {
            JsonNode error = JSON.readTree(body).path("error");
            String code = error.path("code").asText("");
            if (!code.isEmpty()) {
                return new AgentApiException(response.statusCode(), code, error.path("message").asText(""));
            }
        } catch (IOException | RuntimeException ignored) {
            // not JSON
        }
        return new AgentApiException(response.statusCode(), "HttpStatus" + response.statusCode(), abbreviate(body));
    }

    private static String abbreviate(String text) {
        String oneLine = text.replaceAll("\\s+", " ").strip();
        return oneLine.length() <= ERROR_TEXT_MAX ? oneLine : oneLine.substring(0, ERROR_TEXT_MAX) + "...";
    }
}
