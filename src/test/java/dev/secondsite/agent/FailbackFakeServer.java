package dev.secondsite.agent;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.secondsite.replication.chunk.ChunkDigest;

/**
 * A plain-HTTP stand-in for the server's agent API on 127.0.0.1, enough for failback tests: the failback
 * digest and chunk GETs (agent-protocol §7) served from in-memory disk contents, heartbeats answered with
 * {@link #heartbeatAnswer}, and segment PUTs accepted (201) unverified. Every call is recorded.
 */
final class FailbackFakeServer implements AutoCloseable {
    static final String AUTHORIZATION = "Agent agent-1:secret-1";
    private static final Pattern DIGESTS = Pattern.compile("/agent/v1/failback/([^/]+)/disks/([^/]+)/digests");
    private static final Pattern CHUNK = Pattern.compile("/agent/v1/failback/([^/]+)/disks/([^/]+)/chunks/(\\d+)");
    private static final Pattern SEGMENT = Pattern.compile("/agent/v1/disks/([^/]+)/segments/(\\d+)");

    /** A disk the server can fail back: its content and chunk size. */
    record Disk(byte[] content, int chunkBytes) {
        long chunkCount() {
            return Math.ceilDiv(content.length, (long) chunkBytes);
        }

        byte[] chunk(long index) {
            int from = (int) (index * chunkBytes);
            return Arrays.copyOfRange(content, from, (int) Math.min(content.length, from + (long) chunkBytes));
        }

        /** The protocol's digest: null for zeros, else SHA-256 of the chunk zero-padded to chunkBytes. */
        String digest(long index) {
            byte[] padded = Arrays.copyOf(chunk(index), chunkBytes);
            boolean zero = true;
            for (byte b : padded) {
                zero &= b == 0;
            }
            return zero ? null : ChunkDigest.of(padded).hex();
        }
    }

    final String requestId;
    final Map<UUID, Disk> disks = new HashMap<>();
    /** Chunk indexes whose download is served with one byte flipped. */
    final Set<Long> corrupt = new HashSet<>();
    final List<String> digestCalls = new CopyOnWriteArrayList<>();
    final List<Long> chunkCalls = new CopyOnWriteArrayList<>();
    final List<JsonNode> heartbeats = new CopyOnWriteArrayList<>();
    final List<Long> segments = new CopyOnWriteArrayList<>();
    volatile String heartbeatAnswer = "{\"serverTime\":\"2026-11-23T12:00:00Z\",\"disks\":[]}";
    private final HttpServer http;

    FailbackFakeServer(String requestId) throws IOException {
        this.requestId = requestId;
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/", this::handle);
        http.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + http.getAddress().getPort());
    }

    AgentClient client() {
        AgentClient client = new AgentClient(uri(), null);
        client.credentials("agent-1", "secret-1");
        return client;
    }

    /** The heartbeat answer's {@code failback} for every disk of this server. */
    ObjectNode failbackRequest(Map<String, UUID> names) {
        ObjectNode request = AgentClient.JSON.createObjectNode().put("requestId", requestId);
        ArrayNode list = request.putArray("disks");
        names.forEach((name, id) -> list.addObject().put("name", name).put("diskId", id.toString())
                .put("sizeBytes", disks.get(id).content().length).put("chunkBytes", disks.get(id).chunkBytes()));
        return request;
    }

    AgentClient.FailbackRequest failbackRequestRecord(Map<String, UUID> names) throws IOException {
        return AgentClient.JSON.treeToValue(failbackRequest(names), AgentClient.FailbackRequest.class);
    }

    private synchronized void handle(HttpExchange exchange) throws IOException {
        try (exchange; InputStream body = exchange.getRequestBody()) {
            byte[] bytes = body.readAllBytes();
            if (!AUTHORIZATION.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                reply(exchange, 401, "{\"error\":{\"code\":\"InvalidAgentCredentials\",\"message\":\"no\"}}");
                return;
            }
            String path = exchange.getRequestURI().getPath();
            Matcher m;
            if (path.equals("/agent/v1/heartbeat")) {
                heartbeats.add(AgentClient.JSON.readTree(bytes));
                reply(exchange, 200, heartbeatAnswer);
            } else if ((m = SEGMENT.matcher(path)).matches() && exchange.getRequestMethod().equals("PUT")) {
                segments.add(Long.parseLong(m.group(2)));
                reply(exchange, 201, "{}");
            } else if ((m = DIGESTS.matcher(path)).matches() && m.group(1).equals(requestId)) {
                Disk disk = disks.get(UUID.fromString(m.group(2)));
                Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
                long from = Long.parseLong(query.get("from"));
                int count = Integer.parseInt(query.get("count"));
                digestCalls.add(from + "+" + count);
                if (disk == null || count > 4096) {
                    reply(exchange, 400, "{\"error\":{\"code\":\"Bad\",\"message\":\"bad digests call\"}}");
                    return;
                }
                ObjectNode answer = AgentClient.JSON.createObjectNode().put("from", from)
                        .put("chunkBytes", disk.chunkBytes());
                ArrayNode digests = answer.putArray("digests");
                for (long i = from; i < Math.min(disk.chunkCount(), from + count); i++) {
                    digests.add(disk.digest(i));
                }
                reply(exchange, 200, answer.toString());
            } else if ((m = CHUNK.matcher(path)).matches() && m.group(1).equals(requestId)) {
                Disk disk = disks.get(UUID.fromString(m.group(2)));
                long index = Long.parseLong(m.group(3));
                chunkCalls.add(index);
                byte[] chunk = disk.chunk(index);
                if (corrupt.contains(index)) {
                    chunk[chunk.length / 2] ^= 1;
                }
                exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
                exchange.sendResponseHeaders(200, chunk.length);
                exchange.getResponseBody().write(chunk);
            } else {
                reply(exchange, 404, "{\"error\":{\"code\":\"NotFound\",\"message\":\"" + path + "\"}}");
            }
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> query = new HashMap<>();
        for (String pair : raw == null ? new String[0] : raw.split("&")) {
            int eq = pair.indexOf('=');
            query.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return query;
    }

    private static void reply(HttpExchange exchange, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
