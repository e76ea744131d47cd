package dev.secondsite.replication;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import dev.secondsite.replication.blob.BlobInfo;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeVisitor;
import dev.secondsite.replication.point.RecoveryPointManifest;

/**
 * Mark-and-sweep garbage collection of the chunk store, safe to run while segments are being applied.
 *
 * <h2>Why it never deletes a chunk that is, or is about to be, referenced</h2>
 *
 * <p>Mark: at start time {@code t0}, every tree reachable from a live root - each disk's current state and
 * each recovery point manifest - is walked and its nodes and chunks marked. A shared subtree is walked
 * once. Sweep: an unmarked chunk file is deleted only if it was last modified before
 * {@code t0 - safetyMargin}.
 *
 * <p>A writer working concurrently (an apply, an initial scan) references three kinds of chunks: ones it
 * writes (modified after {@code t0 - margin}: kept), ones it finds already stored (the chunk store
 * {@linkplain dev.secondsite.replication.blob.BlobStore#touch touches} them on insert-if-missing, so they
 * are young again: kept), and ones it inherits from the tree it started from (reachable from that disk's
 * state, which is a live root: marked). So the margin must exceed the longest time a writer holds a tree
 * that no live root names yet: one segment's apply takes seconds, a full initial scan of a large disk may
 * take hours, hence {@link #GC_SAFETY_MARGIN_SECONDS} of a day (as Proxmox Backup Server uses).
 *
 * <p>Mark fails closed: a live root whose tree cannot be read (a missing or corrupt node) aborts the
 * collection with nothing deleted, since what that subtree references is unknown.
 *
 * <p>Memory: the mark set holds every distinct reachable digest (about 100 bytes each).
 */
public final class GarbageCollector {
    /** Unreferenced chunk files younger than this are kept: they may belong to an in-flight writer. */
    public static final long GC_SAFETY_MARGIN_SECONDS = 24 * 3600 + 5 * 60;

    private final RecoveryStore store;
    private final Clock clock;
    private final Duration safetyMargin;

    public GarbageCollector(RecoveryStore store, Clock clock, Duration safetyMargin) {
        if (safetyMargin.isNegative()) {
            throw new IllegalArgumentException("GC safety margin must be >= 0, got " + safetyMargin);
        }
        this.store = store;
        this.clock = clock;
        this.safetyMargin = safetyMargin;
    }

    public GarbageCollector(RecoveryStore store) {
        this(store, store.clock(), Duration.ofSeconds(GC_SAFETY_MARGIN_SECONDS));
    }

    public GcResult collect() throws IOException {
        Instant start = clock.instant();
        Instant cutoff = start.minus(safetyMargin);
        ChunkStore chunks = store.chunks();
        Set<ChunkDigest> marked = new HashSet<>();
        long[] counts = new long[2]; // nodes, chunks
        int roots = 0;

        for (UUID diskId : store.states().diskIds()) {
            Optional<DiskState> state = store.states().read(diskId);
            if (state.isPresent()) {
                mark(new DiskTree(chunks, state.get().geometry(), state.get().root()), marked, counts, "state of disk " + diskId);
                roots++;
            }
        }
        for (String name : store.points().allNames()) {
            Optional<RecoveryPointManifest> manifest = store.points().read(name);
            if (manifest.isPresent()) {
                DiskGeometry geometry = manifest.get().geometry();
                mark(new DiskTree(chunks, geometry, manifest.get().root()), marked, counts, "recovery point " + name);
                roots++;
            }
        }

        long scanned = 0;
        long deleted = 0;
        long freed = 0;
        long keptYoung = 0;
        for (int shard = 0; shard < ChunkStore.SHARD_COUNT; shard++) {
            for (ChunkDigest digest : chunks.listShard(shard)) {
                scanned++;
                if (marked.contains(digest)) {
                    continue;
                }
                Optional<BlobInfo> info = chunks.stat(digest);
                if (info.isEmpty()) {
                    continue; // removed meanwhile
                }
                if (!info.get().lastModified().isBefore(cutoff)) {
                    keptYoung++;
                    continue;
                }
                if (chunks.delete(digest)) {
                    deleted++;
                    freed += info.get().sizeBytes();
                }
            }
        }
        return new GcResult(roots, counts[0], counts[1], scanned, deleted, freed, keptYoung, cutoff);
    }

    private static void mark(DiskTree tree, Set<ChunkDigest> marked, long[] counts, String root) throws IOException {
        try {
            tree.walk(new TreeVisitor() {
                @Override
                public boolean enterNode(int level, long index, ChunkDigest digest) {
                    if (!marked.add(digest)) {
                        return false; // this subtree is marked already
                    }
                    counts[0]++;
                    return true;
                }

                @Override
                public void chunk(long index, ChunkDigest digest) {
                    if (marked.add(digest)) {
                        counts[1]++;
                    }
                }
            });
        } catch (IOException e) {
            throw new IOException("gc on " + tree.store() + " failed for " + root + ": cannot walk its tree, nothing deleted: "
                    + e.getMessage(), e);
        }
    }
}
