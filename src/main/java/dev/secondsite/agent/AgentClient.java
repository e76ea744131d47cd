package dev.secondsite.agent;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
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
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.secondsite.Causes;
import dev.secondsite.replication.ReplicaDigests;

/**
 * The agent's side of {@code docs/agent-protocol.md}: register, heartbeat, segment upload and failback
 * downloads over HTTPS. One attempt per call; retrying is the caller's business ({@link Retry}). A refusal by the server
 * is an {@link AgentApiException} carrying the ARM error code; no answer at all is a plain IOException.
 */
final class AgentClient {
    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
    /** A 32 MiB segment over a slow link; the server verifies it whole before answering. */
    private static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(10);
    private static final int ERROR_TEXT_MAX = 500;

    /** {@code azureRegion} is null (and left out) unless the machine is an Azure VM ({@code --azure-region}). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record RegisterRequest(String registrationKey, String machineName, String agentTime, String osType,
                           String agentVersion, List<DiskSource.Description> disks, String azureRegion) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record RegisterResponse(String agentId, String agentSecret, String serverTime, String vaultId, String fabricId) {
    }

    /** {@code shutdown} and {@code failback} are left out of the body when null (agent-protocol §3.1, §7). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record HeartbeatRequest(String agentTime, List<DiskSource.Description> disks,
                            Map<String, Map<String, Object>> stats, ShutdownReport shutdown, FailbackReport failback) {
    }

    /** The outcome of a handled shutdown request, sent in every heartbeat while the request stands. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ShutdownReport(String requestId, String status, String message) {
        static final String COMPLETED = "Completed";
        static final String FAILED = "Failed";

        boolean completed() {
            return COMPLETED.equals(status);
        }
    }

    /** A heartbeat answer's {@code "shutdown": {"requestId": ...}}: a failover asks the machine to shut down. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ShutdownRequest(String requestId) {
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
    record HeartbeatResponse(String serverTime, List<DiskDirective> disks, ShutdownRequest shutdown,
                             FailbackRequest failback) {
        HeartbeatResponse {
            disks = disks == null ? List.of() : disks;
        }

        /** The standing shutdown request's id, or null; a request without a usable id counts as none. */
        String shutdownRequestId() {
            return shutdown == null || shutdown.requestId() == null || shutdown.requestId().isBlank() ? null
                    : shutdown.requestId();
        }
    }

    /** The heartbeat answer's request to write recovery-site content back onto local disks (agent-protocol §7). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record FailbackRequest(String requestId, List<FailbackDisk> disks) {
        FailbackRequest {
            disks = disks == null ? List.of() : disks;
        }
    }

    /** One disk of a failback: the agent's disk {@code name} gets the server's disk {@code diskId}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record FailbackDisk(String name, String diskId, long sizeBytes, int chunkBytes, Long nextSequence) {
    }

    /** A failback's outcome, carried by heartbeat bodies. */
    record FailbackReport(String requestId, String status, String message, long chunksWritten, long bytesWritten) {
    }

    /** A batch of the server's chunk digests; a null entry is an all-zero chunk. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record FailbackDigests(long from, int chunkBytes, List<String> digests) {
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

    /** The server's digests of chunks {@code [from, from + count)} of a failback disk. */
    FailbackDigests failbackDigests(String requestId, UUID diskId, long from, int count) throws IOException {
        HttpRequest request = authorized(HttpRequest.newBuilder(uri(failbackPath(requestId, diskId)
                + "/digests?from=" + from + "&count=" + count)))
                .timeout(CALL_TIMEOUT).header("Accept", "application/json").GET().build();
        return parse(send(request), FailbackDigests.class);
    }

    /** The bytes of chunk {@code index} of a failback disk (the disk's last chunk may be shorter). */
    byte[] failbackChunk(String requestId, UUID diskId, long index) throws IOException {
        HttpRequest request = authorized(HttpRequest.newBuilder(uri(failbackPath(requestId, diskId)
                + "/chunks/" + index)))
                .timeout(CALL_TIMEOUT).header("Accept", "application/octet-stream").GET().build();
        HttpResponse<byte[]> response = send(request, HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw refusal(response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
        }
        return response.body();
    }

    private static String failbackPath(String requestId, UUID diskId) {
        // The request id is opaque: encode it as one path segment.
        return "/agent/v1/failback/" + URLEncoder.encode(requestId, StandardCharsets.UTF_8).replace("+", "%20")
                + "/disks/" + diskId;
    }

    /**
     * The replica's digests of chunks [first, first + count) (agent-protocol §4a), or empty if the server
     * has no such endpoint (an older server answers 404 without an ARM error code).
     */
    java.util.Optional<ReplicaDigestSource.Page> replicaDigests(UUID diskId, long first, int count) throws IOException {
        HttpRequest request = authorized(HttpRequest.newBuilder(uri("/agent/v1/disks/" + diskId + "/digests?first="
                + first + "&count=" + count))).timeout(CALL_TIMEOUT).GET().build();
        HttpResponse<byte[]> response = send(request, HttpResponse.BodyHandlers.ofByteArray());
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
        return send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return http.send(request, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted: " + request.method() + " " + request.uri());
        } catch (java.net.ConnectException e) {
            throw new Unreachable("cannot connect to " + base + " (" + reason(e) + ": is the server running, and"
                    + " is --server right?)", e);
        } catch (IOException e) {
            // The certificate check that failed a TLS handshake (PKIX path, host name), if that is what failed.
            var certificate = Causes.find(e, java.security.cert.CertificateException.class);
            if (certificate.isPresent()) {
                throw new UntrustedServer("the certificate of " + base + " is not trusted ("
                        + certificate.get().getMessage() + "); pass --ca FILE with the server's CA certificate"
                        + " (<data-dir>/tls/ca.pem on the server), or --data-dir DIR when the agent runs beside the"
                        + " server", e);
            }
            throw e;
        }
    }

    /** The innermost message of a connection failure (the JDK's outer ones are often empty), e.g. "Connection refused". */
    private static String reason(Throwable e) {
        String reason = "connection refused";
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                reason = t.getMessage();
            }
        }
        return reason;
    }

    /** The server could not be reached; the message says so in one line. Transient: retried. */
    static class Unreachable extends IOException {
        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The server's certificate failed the agent's trust check: not transient, never retried; the message says
     * which server and what to do.
     */
    static final class UntrustedServer extends IOException {
        UntrustedServer(String message, Throwable cause) {
            super(message, cause);
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
        return refusal(response.statusCode(), response.body());
    }

    static AgentApiException refusal(int status, String text) {
        String body = text == null ? "" : text;
        try {
            JsonNode error = JSON.readTree(body).path("error");
            String code = error.path("code").asText("");
            if (!code.isEmpty()) {
                return new AgentApiException(status, code, error.path("message").asText(""));
            }
        } catch (IOException | RuntimeException ignored) {
            // not JSON
        }
        return new AgentApiException(status, "HttpStatus" + status, abbreviate(body));
    }

    private static String abbreviate(String text) {
        String oneLine = text.replaceAll("\\s+", " ").strip();
        return oneLine.length() <= ERROR_TEXT_MAX ? oneLine : oneLine.substring(0, ERROR_TEXT_MAX) + "...";
    }
}
