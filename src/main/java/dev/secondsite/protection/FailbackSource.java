package dev.secondsite.protection;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Json;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.point.RecoveryPointManifest;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a failback machine's agent reads while writing a recovery point back onto its disks (agent-protocol
 * "Failback"): the point's per-chunk digests, so it can compare them with its own chunks, and the chunks that differ.
 * Only the agent the standing failback directive was issued to, for a disk that directive names, gets anything.
 */
public final class FailbackSource {
    /** Most digests per call. */
    public static final int DIGESTS_MAX = 4096;

    private final AgentStore agents;
    private final ReplicationEngine engine;
    /** The leaves of the point being written back, per request and disk (a failback reads them in many batches). */
    private final ConcurrentHashMap<String, Leaves> leaves = new ConcurrentHashMap<>();

    private record Leaves(DiskTree tree, List<ChunkDigest> digests) {}

    public FailbackSource(AgentStore agents, ReplicationEngine engine) {
        this.agents = agents;
        this.engine = engine;
    }

    /** {"from", "chunkBytes", "digests": [hex | null for a zero chunk]} for chunks [from, from + count). */
    public ObjectNode digests(AgentStore.Agent agent, String requestId, String diskId, String fromText, String countText)
            throws IOException {
        Leaves point = point(agent, requestId, diskId);
        long from = number(fromText, "from", 0);
        long count = Math.min(number(countText, "count", DIGESTS_MAX), DIGESTS_MAX);
        ObjectNode out = Json.object();
        out.put("from", from);
        out.put("chunkBytes", point.tree().geometry().chunkBytes());
        ArrayNode list = out.putArray("digests");
        for (long i = from; i < Math.min(point.digests().size(), from + count); i++) {
            ChunkDigest d = point.digests().get((int) i);
            if (d.isZero()) {
                list.addNull();
            } else {
                list.add(d.hex());
            }
        }
        return out;
    }

    /** The bytes of chunk {@code index} of the point, verified against its digest on the way out. */
    public byte[] chunk(AgentStore.Agent agent, String requestId, String diskId, String indexText) throws IOException {
        Leaves point = point(agent, requestId, diskId);
        long index = number(indexText, "index", -1);
        if (index < 0 || index >= point.digests().size()) {
            throw ArmException.badRequest("InvalidChunkIndex", "Chunk " + indexText + " is outside the disk (0 to "
                    + (point.digests().size() - 1) + ").");
        }
        int length = point.tree().geometry().chunkLength(index);
        ChunkDigest digest = point.digests().get((int) index);
        if (digest.isZero()) {
            return new byte[length];
        }
        byte[] content = point.tree().readChunk(index, digest);
        return content.length == length ? content : java.util.Arrays.copyOf(content, length);
    }

    private Leaves point(AgentStore.Agent agent, String requestId, String diskId) throws IOException {
        AgentStore.Directive directive = agents.directive(agent.id())
                .filter(d -> d.kind().equals(AgentStore.FAILBACK) && d.requestId().equals(requestId))
                .orElseThrow(() -> new ArmException(404, "FailbackRequestNotFound", "No failback '" + requestId
                        + "' is asked of this agent (it ended or was withdrawn)."));
        String manifest = directive.request().path("server").path(diskId).asText("");
        if (manifest.isEmpty()) {
            throw new ArmException(404, "UnknownDisk", "Failback '" + requestId + "' does not write disk '" + diskId + "'.");
        }
        String key = requestId + "/" + diskId;
        Leaves cached = leaves.get(key);
        if (cached != null) {
            return cached;
        }
        RecoveryPointManifest point = engine.recovery().points().read(manifest).orElseThrow(() -> new ArmException(404,
                "RecoveryPointNotFound", "The recovery point of failback '" + requestId + "' was removed."));
        DiskTree tree = new DiskTree(engine.recovery().chunks(), point.geometry(), point.root());
        Leaves loaded = new Leaves(tree, tree.leaves());
        if (leaves.size() > 64) {
            leaves.clear(); // a few failbacks at a time; never grow without bound
        }
        leaves.put(key, loaded);
        return loaded;
    }

    private static long number(String text, String name, long fallback) {
        if (text == null || text.isBlank()) {
            if (fallback < 0) {
                throw ArmException.badRequest("InvalidChunkIndex", "The " + name + " is missing.");
            }
            return fallback;
        }
        try {
            long v = Long.parseLong(text);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw ArmException.badRequest("InvalidArgument", "'" + text + "' is not a valid " + name + ".");
        }
    }
}
