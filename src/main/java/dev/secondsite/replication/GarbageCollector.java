package dev.secondsite.replication;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
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
 * once, and then the delta chains of marked deltas are marked ({@link ChunkStore#addDeltaBases}). Sweep: an
 * unmarked legacy chunk blob is deleted only if it was last modified before
 * {@code t0 - safetyMargin}. A pack (ADR 0007) is judged by its chunks: one that holds no marked chunk is
 * deleted, one whose marked chunks are less than {@link #COMPACT_LIVE_FRACTION} of its entries is
 * compacted (its marked chunks are written to a new pack, durably, before it is deleted), both only if the
 * pack was last modified before the cut-off. A pack is touched whenever an insert finds content in it, so
 * "modified" covers "relied on by a writer" as it does for a single chunk blob.
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
    /** A pack whose live entries are fewer than this fraction of all is rewritten with only the live ones. */
    public static final double COMPACT_LIVE_FRACTION = 0.5;

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

        counts[1] += chunks.addDeltaBases(marked); // a live delta needs its chain
        long[] sweep = new long[4]; // scanned, deleted, freed bytes, kept young
        sweepLegacyChunks(chunks, marked, cutoff, sweep);
        sweepPacks(chunks, marked, cutoff, sweep);
        return new GcResult(roots, counts[0], counts[1], sweep[0], sweep[1], sweep[2], sweep[3], cutoff);
    }

    /** One blob per chunk (stores from before packs): delete the unmarked old ones. */
    private static void sweepLegacyChunks(ChunkStore chunks, Set<ChunkDigest> marked, Instant cutoff, long[] sweep)
            throws IOException {
        for (int shard = 0; shard < ChunkStore.SHARD_COUNT; shard++) {
            for (ChunkDigest digest : chunks.listShard(shard)) {
                sweep[0]++;
                if (marked.contains(digest)) {
                    continue;
                }
                Optional<BlobInfo> info = chunks.stat(digest);
                if (info.isEmpty()) {
                    continue; // removed meanwhile
                }
                if (!info.get().lastModified().isBefore(cutoff)) {
                    sweep[3]++;
                } else if (chunks.delete(digest)) {
                    sweep[1]++;
                    sweep[2] += info.get().sizeBytes();
                }
            }
        }
    }

    /** Packs: delete those with no marked chunk, compact those with few; only packs older than the cut-off. */
    private static void sweepPacks(ChunkStore chunks, Set<ChunkDigest> marked, Instant cutoff, long[] sweep)
            throws IOException {
        for (String pack : chunks.packNames()) {
            sweep[0]++;
            Optional<BlobInfo> info = chunks.blobs().stat(pack);
            Optional<List<ChunkDigest>> digests = chunks.packDigests(pack);
            if (info.isEmpty() || digests.isEmpty()) {
                continue; // removed meanwhile, or quarantined
            }
            long live = digests.get().stream().filter(marked::contains).count();
            if (live == digests.get().size()) {
                continue;
            }
            if (!info.get().lastModified().isBefore(cutoff)) {
                sweep[3]++;
            } else if (live == 0) {
                if (chunks.deletePack(pack)) {
                    sweep[1]++;
                    sweep[2] += info.get().sizeBytes();
                }
            } else if (live < COMPACT_LIVE_FRACTION * digests.get().size()) {
                sweep[2] += chunks.rewritePack(pack, marked::contains);
                sweep[1]++;
            }
        }
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
