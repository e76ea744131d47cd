package dev.secondsite.agent;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.secondsite.replication.segment.Segment;
import dev.secondsite.replication.segment.SegmentRecord;

/**
 * The server side of {@code docs/agent-protocol.md} for agent unit tests, over plain HTTP on loopback so the
 * real {@link AgentClient} and its JSON are exercised: register, heartbeat (one disk, {@code disk0}, always
 * replicated, plus the shutdown request of {@link #shutdownRequestId} when set) and segment upload into a
 * {@link ReplicaSink}. It records every register and heartbeat body. Thread-safe: the agent runs on another
 * thread than the test.
 */
final class FakeAgentServer implements AutoCloseable {
    static final int CHUNK = 64 << 10;

    final UUID diskId = UUID.randomUUID();
    private final ReplicaSink sink;
    private final HttpServer http;
    private final List<JsonNode> registers = new ArrayList<>();
    private final List<JsonNode> heartbeats = new ArrayList<>();
    private String shutdownRequestId;
    private int failUploadsWith;
    private Path markerLog;

    FakeAgentServer(Path storeDir, long diskBytes) throws IOException {
        this.sink = new ReplicaSink(storeDir, diskId, diskBytes, CHUNK);
        this.http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/agent/v1/", this::handle);
        http.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + http.getAddress().getPort());
    }

    /** Ask (id) or stop asking (null) the machine to shut down, as a failover and its rollback do. */
    synchronized void shutdownRequest(String requestId) {
        this.shutdownRequestId = requestId;
    }

    /** Answer every upload with this status (e.g. 503: unreachable cache storage); 0 = normal. */
    synchronized void failUploadsWith(int status) {
        this.failUploadsWith = status;
    }

    /** Append the tag of every marker stored from now on to {@code file} (a shell command can read it). */
    synchronized void logMarkersTo(Path file) {
        this.markerLog = file;
    }

    synchronized List<JsonNode> registers() {
        return List.copyOf(registers);
    }

    synchronized List<JsonNode> heartbeats() {
        return List.copyOf(heartbeats);
    }

    synchronized int heartbeatCount() {
        return heartbeats.size();
    }

    synchronized List<Segment> segments() {
        return List.copyOf(sink.received);
    }

    /** Tags of every marker received, in order. */
    synchronized List<String> markerTags() {
        return markers().stream().map(SegmentRecord.Marker::tag).toList();
    }

    synchronized List<SegmentRecord.Marker> markers() {
        return sink.received.stream().flatMap(s -> s.records().stream())
                .filter(r -> r instanceof SegmentRecord.Marker).map(r -> (SegmentRecord.Marker) r).toList();
    }

    synchronized Path restoreLatest(Path target) throws IOException {
        return sink.restoreLatest(target);
    }

    private synchronized void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            if (path.equals("/agent/v1/register")) {
                registers.add(AgentClient.JSON.readTree(body));
                reply(exchange, 200, Map.of("agentId", UUID.randomUUID().toString(), "agentSecret", "secret",
                        "serverTime", java.time.Instant.now().toString(), "vaultId", "v", "fabricId", "f"));
            } else if (path.equals("/agent/v1/heartbeat")) {
                heartbeats.add(AgentClient.JSON.readTree(body));
                Map<String, Object> disk = new LinkedHashMap<>();
                disk.put("name", "disk0");
                disk.put("diskId", diskId.toString());
                disk.put("replicate", true);
                disk.put("nextSequence", sink.nextSequence());
                disk.put("chunkBytes", CHUNK);
                disk.put("resync", false);
                disk.put("crashConsistentSeconds", 300);
                disk.put("appConsistentSeconds", 0);
                Map<String, Object> answer = new LinkedHashMap<>();
                answer.put("serverTime", java.time.Instant.now().toString());
                answer.put("disks", List.of(disk));
                if (shutdownRequestId != null) {
                    answer.put("shutdown", Map.of("requestId", shutdownRequestId));
                }
                reply(exchange, 200, answer);
            } else if (path.startsWith("/agent/v1/disks/")) {
                String[] parts = path.split("/"); // "", agent, v1, disks, {id}, segments, {sequence}
                if (failUploadsWith != 0) {
                    error(exchange, failUploadsWith, "CacheStorageUnavailable", "simulated outage");
                    return;
                }
                try {
                    int before = sink.received.size();
                    int status = sink.upload(UUID.fromString(parts[4]), Long.parseLong(parts[6]), body, body.length);
                    if (markerLog != null) {
                        for (Segment stored : sink.received.subList(before, sink.received.size())) {
                            for (SegmentRecord record : stored.records()) {
                                if (record instanceof SegmentRecord.Marker marker) {
                                    java.nio.file.Files.writeString(markerLog, marker.tag() + "\n",
                                            java.nio.file.StandardOpenOption.CREATE,
                                            java.nio.file.StandardOpenOption.APPEND);
                                }
                            }
                        }
                    }
                    reply(exchange, status, Map.of("result", status == 201 ? "Stored" : "AlreadyStored"));
                } catch (AgentApiException e) {
                    error(exchange, e.status(), e.code(), e.serverMessage());
                }
            } else {
                error(exchange, 404, "NotFound", path);
            }
        }
    }

    private static void error(HttpExchange exchange, int status, String code, String message) throws IOException {
        reply(exchange, status, Map.of("error", Map.of("code", code, "message", message)));
    }

    private static void reply(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] bytes = AgentClient.JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
