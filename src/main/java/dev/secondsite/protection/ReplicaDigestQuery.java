package dev.secondsite.protection;

import java.io.IOException;
import java.util.Optional;
import java.util.UUID;

import dev.secondsite.arm.ArmException;
import dev.secondsite.replication.DiskState;
import dev.secondsite.replication.ReplicaDigests;
import dev.secondsite.replication.chunk.DiskTree;

/**
 * {@code GET /agent/v1/disks/{diskId}/digests?first=&count=}: the replica's per-chunk digests, so a resync
 * sends only the chunks that differ (docs/agent-protocol.md §4a). Answers one binary page
 * ({@link ReplicaDigests}: layout).
 */
public final class ReplicaDigestQuery {

    private final ReplicationEngine engine;

    public ReplicaDigestQuery(ReplicationEngine engine) {
        this.engine = engine;
    }

    /** The page for the authenticated agent; ArmException 400 for bad parameters, 404 for a disk not its own. */
    public byte[] answer(String agentId, String diskIdText, String firstText, String countText) throws IOException {
        UUID diskId;
        try {
            diskId = UUID.fromString(diskIdText);
        } catch (IllegalArgumentException e) {
            throw unknownDisk(diskIdText);
        }
        ReplicationEngine.DiskRuntime rt = engine.runtime(diskId)
                .filter(r -> r.agentId().equals(agentId) && r.active())
                .orElseThrow(() -> unknownDisk(diskIdText));
        long first = number("first", firstText, 0, Long.MAX_VALUE);
        int count = (int) number("count", countText, 0, ReplicaDigests.PAGE_COUNT_MAX);
        long next = rt.expectedNext(); // read before the state: a later apply can only make applied catch up
        return engine.withPointsStable(() -> {
            Optional<DiskState> state = engine.recovery().states().read(diskId);
            if (state.isEmpty()) {
                throw unknownDisk(diskIdText);
            }
            DiskTree tree = new DiskTree(engine.recovery().chunks(), state.get().geometry(), state.get().root());
            long chunkCount = tree.geometry().chunkCount();
            if (first > chunkCount || count > chunkCount - first) {
                throw new ArmException(400, "InvalidDigestRange", "Chunks [" + first + ", " + first + " + " + count
                        + ") are outside the disk's " + chunkCount + " chunks.");
            }
            byte[] digests = ReplicaDigests.of(tree, first, count);
            return ReplicaDigests.page(tree.geometry().chunkBytes(), state.get().lastSequence(),
                    Math.max(next, state.get().lastSequence() + 1), first, digests);
        });
    }

    private static long number(String name, String text, long min, long max) {
        long value;
        try {
            value = text == null ? -1 : Long.parseLong(text);
        } catch (NumberFormatException e) {
            value = -1;
        }
        if (value < min || value > max) {
            throw new ArmException(400, "InvalidDigestRange", "Query parameter '" + name + "' must be a whole number "
                    + min + ".." + max + ", got '" + text + "'.");
        }
        return value;
    }

    private static ArmException unknownDisk(String diskId) {
        return new ArmException(404, "UnknownDisk", "Disk '" + diskId + "' is not replicating for this agent. "
                + "Use the disk ids the heartbeat reports with replicate: true.");
    }
}
