package dev.secondsite.replication;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeBuilder;
import dev.secondsite.replication.chunk.TreeVisitor;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentWriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetentionGcTest {
    private static final Duration MARGIN = Duration.ofSeconds(GarbageCollector.GC_SAFETY_MARGIN_SECONDS);

    private final ManualClock clock = new ManualClock(Instant.parse("2025-06-01T00:00:00Z"));
    private final MemoryBlobStore blobs = new MemoryBlobStore(clock);
    private final RecoveryStore store = new RecoveryStore(blobs, clock);

    @Test
    void retentionThenGcRemovesExactlyTheUnreferencedChunks() throws Exception {
        DiskModel model = new DiskModel(201, new DiskGeometry(4 << 20, 4096)).fillMixed();
        ReplicaDisk disk = ReplicaDisk.create(store, model.diskId,
                TreeBuilder.scan(store.chunks(), model.geometry, new ByteArrayInputStream(model.bytes)));
        Map<String, byte[]> snapshots = new HashMap<>();
        for (int i = 0; i < 6; i++) {
            DiskModel.Generated segment = model.nextSegment(60, SegmentWriter.Compression.LZ4);
            ApplyResult result = disk.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
            for (int p = 0; p < result.points().size(); p++) {
                snapshots.put(result.points().get(p).blobName(), segment.snapshots().get(p).content());
            }
            clock.advance(Duration.ofMinutes(5));
        }
        List<RecoveryPointManifest> points = store.points().list(model.diskId);
        assertThat(points).hasSizeGreaterThan(6);
        Instant keepAfter = points.get(points.size() / 2).createdAt();

        List<RecoveryPointManifest> pruned = store.points().retain(model.diskId, m -> !m.createdAt().isBefore(keepAfter));

        assertThat(pruned).hasSize(points.size() / 2).allSatisfy(p -> assertThat(p.createdAt()).isBefore(keepAfter));
        assertThat(store.points().list(model.diskId)).hasSize(points.size() - points.size() / 2);
        int packsBefore = store.chunks().packNames().size();
        Set<ChunkDigest> storedBefore = storedDigests();

        clock.advance(MARGIN.plusSeconds(1));
        GcResult result = new GarbageCollector(store).collect();

        Set<ChunkDigest> reachable = reachableDigests();
        Set<ChunkDigest> storedAfter = storedDigests();
        assertThat(result.deletedFiles()).isPositive();
        assertThat(result.freedBytes()).isPositive();
        assertThat(result.keptYoungFiles()).isZero();
        assertThat(result.roots()).isEqualTo(1 + store.points().allNames().size());
        assertThat(result.scannedFiles()).isEqualTo(packsBefore);
        assertThat(result.markedNodes() + result.markedChunks()).isEqualTo(reachable.size());
        assertThat(storedAfter).containsAll(reachable).hasSizeLessThan(storedBefore.size());
        for (String pack : store.chunks().packNames()) { // what is left is mostly live: deleted or compacted otherwise
            List<ChunkDigest> inPack = store.chunks().packDigests(pack).orElseThrow();
            assertThat(inPack.stream().filter(reachable::contains).count()).as(pack)
                    .isGreaterThanOrEqualTo((long) Math.ceil(GarbageCollector.COMPACT_LIVE_FRACTION * inPack.size()));
        }
        for (RecoveryPointManifest point : store.points().list(model.diskId)) {
            assertThat(Restore.verify(new DiskTree(store.chunks(), point.geometry(), point.root()), point.blobName()).sha256())
                    .as(point.blobName()).isEqualTo(DiskModel.sha256(snapshots.get(point.blobName())));
        }
        assertThat(DiskModel.contentOf(ReplicaDisk.open(new RecoveryStore(blobs, clock), model.diskId).currentTree()))
                .as("read by a fresh store").isEqualTo(model.bytes);

        GcResult again = new GarbageCollector(store).collect();
        assertThat(again.deletedFiles()).isZero();
    }

    @Test
    void youngUnreferencedChunksSurviveUntilTheSafetyMarginPasses() throws IOException {
        ChunkDigest orphan = store.chunks().insert(random(1, 4096));
        store.chunks().flush();
        clock.advance(Duration.ofHours(1));

        GcResult young = new GarbageCollector(store).collect();
        assertThat(young.keptYoungFiles()).isEqualTo(1);
        assertThat(young.deletedFiles()).isZero();
        assertThat(store.chunks().contains(orphan)).isTrue();

        clock.advance(MARGIN);
        GcResult old = new GarbageCollector(store).collect();
        assertThat(old.deletedFiles()).isEqualTo(1);
        assertThat(old.freedBytes()).isEqualTo(12 + 76 + 4 + 24 + 32 + 4096 + 8); // a pack of one raw chunk (header, its block digest), trailer
        assertThat(store.chunks().contains(orphan)).isFalse();
    }

    /**
     * A chunk changed in part three times is a chain of deltas over its old versions, which no tree names any more:
     * GC keeps the whole chain.
     */
    @Test
    void gcKeepsTheChainOfALiveDeltaThatNoTreeNames() throws Exception {
        DiskGeometry geometry = new DiskGeometry(64 << 10, 64 << 10); // one chunk
        byte[] image = random(3, 64 << 10);
        UUID diskId = UUID.randomUUID();
        ReplicaDisk disk = ReplicaDisk.create(store, diskId,
                TreeBuilder.scan(store.chunks(), geometry, new ByteArrayInputStream(image)));
        List<ChunkDigest> versions = new ArrayList<>(List.of(ChunkDigest.of(image)));
        for (int sequence = 1; sequence <= 3; sequence++) {
            byte[] write = random(3 + sequence, 4096);
            System.arraycopy(write, 0, image, sequence * 8192, write.length);
            ByteArrayOutputStream segment = new ByteArrayOutputStream();
            SegmentHeader header = new SegmentHeader(diskId, sequence, clock.instant());
            SegmentWriter writer = SegmentWriter.start(segment, header, SegmentWriter.Compression.LZ4,
                    geometry.virtualBytes());
            writer.data(sequence * 8192L, write, 0, write.length);
            writer.marker(ConsistencyType.CRASH_CONSISTENT, clock.instant(), "after write " + sequence);
            writer.seal();
            disk.apply(header.name(), new ByteArrayInputStream(segment.toByteArray()));
            clock.advance(Duration.ofSeconds(1));
            versions.add(ChunkDigest.of(image));
            assertThat(store.chunks().location(versions.getLast()).orElseThrow().base())
                    .isEqualTo(versions.get(sequence - 1));
        }
        store.points().retain(diskId, m -> false); // only the newest point stays

        clock.advance(MARGIN.plusSeconds(1));
        new GarbageCollector(store).collect();

        for (ChunkDigest version : versions) {
            assertThat(store.chunks().location(version)).as("a link of the live delta's chain").isPresent();
        }
        DiskState state = store.states().read(diskId).orElseThrow();
        assertThat(Restore.verify(new DiskTree(new RecoveryStore(blobs, clock).chunks(), geometry, state.root()), "state")
                .sha256()).isEqualTo(DiskModel.sha256(image));
    }

    @Test
    void reinsertingAnOldChunkRenewsItsProtection() throws IOException {
        byte[] content = random(2, 4096);
        ChunkDigest chunk = store.chunks().insert(content);
        store.chunks().flush();
        clock.advance(MARGIN.multipliedBy(2));
        // An in-flight writer finds the chunk already stored and will reference it from a tree not yet
        // committed: the insert touches it, so the collector treats it as young.
        assertThat(store.chunks().insert(content)).isEqualTo(chunk);
        clock.advance(Duration.ofMinutes(1));

        assertThat(new GarbageCollector(store).collect().keptYoungFiles()).isEqualTo(1);
        assertThat(store.chunks().read(chunk)).isEqualTo(content);
    }

    @Test
    void pruneAlwaysKeepsTheNewestPoint() throws Exception {
        DiskModel model = new DiskModel(202, new DiskGeometry(1 << 20, 4096));
        ReplicaDisk disk = ReplicaDisk.create(store, model.diskId, model.geometry);
        for (int i = 0; i < 3; i++) {
            DiskModel.Generated segment = model.nextSegment(10, SegmentWriter.Compression.LZ4);
            disk.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
        }
        List<String> names = store.points().names(model.diskId);

        store.points().retain(model.diskId, m -> false);

        assertThat(store.points().names(model.diskId)).containsExactly(names.getLast());
    }

    @Test
    void gcFailsClosedWhenALiveTreeCannotBeRead() throws Exception {
        DiskModel model = new DiskModel(203, new DiskGeometry(2 << 20, 4096)).fillMixed();
        DiskTree tree = TreeBuilder.scan(store.chunks(), model.geometry, new ByteArrayInputStream(model.bytes));
        ReplicaDisk.create(store, model.diskId, tree);
        List<String> treePacks = store.chunks().packNames();
        store.chunks().insert(random(3, 4096)); // garbage that would be collected
        store.chunks().flush();
        for (String pack : treePacks) {
            blobs.delete(pack);
        }
        List<String> before = store.chunks().packNames();
        clock.advance(MARGIN.multipliedBy(2));

        assertThatThrownBy(() -> new GarbageCollector(new RecoveryStore(blobs, clock)).collect()).isInstanceOf(IOException.class)
                .hasMessageContaining("state of disk " + model.diskId).hasMessageContaining("nothing deleted")
                .hasMessageContaining("chunk is missing");
        assertThat(store.chunks().packNames()).isEqualTo(before).hasSize(1);
    }

    /** Compatibility: a store written before packs (one blob per chunk) is read, extended and collected. */
    @Test
    void aLegacyPerChunkStoreIsReadExtendedAndCollected() throws Exception {
        DiskModel model = new DiskModel(204, new DiskGeometry(2 << 20, 4096)).fillMixed();
        ReplicaDisk.create(store, model.diskId, TreeBuilder.scan(store.chunks(), model.geometry,
                new ByteArrayInputStream(model.bytes)));
        ChunkDigest garbage = store.chunks().insert(random(4, 4096));
        store.chunks().flush();
        convertToLegacyLayout();
        assertThat(blobs.list(ChunkStore.PACKS_PREFIX)).isEmpty();
        assertThat(blobs.list(ChunkStore.CHUNKS_PREFIX)).hasSizeGreaterThan(100);

        RecoveryStore legacy = new RecoveryStore(blobs, clock);
        ReplicaDisk disk = ReplicaDisk.open(legacy, model.diskId);
        assertThat(DiskModel.contentOf(disk.currentTree())).isEqualTo(model.bytes);
        DiskModel.Generated segment = model.nextSegment(30, SegmentWriter.Compression.LZ4);
        disk.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
        assertThat(legacy.chunks().packNames()).as("new content goes to packs").isNotEmpty();
        store.points().retain(model.diskId, m -> false);
        clock.advance(MARGIN.multipliedBy(2));

        GcResult result = new GarbageCollector(legacy).collect();

        assertThat(result.deletedFiles()).isPositive();
        assertThat(blobs.exists(ChunkStore.blobName(garbage))).isFalse();
        Set<ChunkDigest> reachable = reachableDigests();
        assertThat(storedDigests()).containsAll(reachable);
        assertThat(DiskModel.contentOf(ReplicaDisk.open(new RecoveryStore(blobs, clock), model.diskId).currentTree()))
                .isEqualTo(model.bytes);
    }

    /** Rewrites every pack entry as the one-blob-per-chunk layout of earlier versions, and removes the packs. */
    private void convertToLegacyLayout() throws IOException {
        for (String pack : store.chunks().packNames()) {
            for (ChunkDigest digest : store.chunks().packDigests(pack).orElseThrow()) {
                ChunkStore.Location at = store.chunks().location(digest).orElseThrow();
                blobs.put(ChunkStore.blobName(digest), blobs.readRange(at.pack(), at.offset(), at.length()).orElseThrow());
            }
            blobs.delete(pack);
        }
    }

    /** Every digest held by a pack or legacy chunk blob. */
    private Set<ChunkDigest> storedDigests() throws IOException {
        Set<ChunkDigest> stored = new HashSet<>();
        for (String pack : store.chunks().packNames()) {
            stored.addAll(store.chunks().packDigests(pack).orElseThrow());
        }
        for (String name : blobs.list(ChunkStore.CHUNKS_PREFIX)) {
            stored.add(ChunkStore.digestOf(name).orElseThrow());
        }
        return stored;
    }

    /** Every digest reachable from the live roots, found by an independent full walk (no skipping). */
    private Set<ChunkDigest> reachableDigests() throws IOException {
        Set<ChunkDigest> names = new HashSet<>();
        TreeVisitor collect = new TreeVisitor() {
            @Override
            public boolean enterNode(int level, long index, ChunkDigest digest) {
                names.add(digest);
                return true;
            }

            @Override
            public void chunk(long index, ChunkDigest digest) {
                names.add(digest);
            }
        };
        for (var diskId : store.states().diskIds()) {
            DiskState state = store.states().read(diskId).orElseThrow();
            new DiskTree(new RecoveryStore(blobs, clock).chunks(), state.geometry(), state.root()).walk(collect);
        }
        for (String name : store.points().allNames()) {
            RecoveryPointManifest point = store.points().read(name).orElseThrow();
            new DiskTree(store.chunks(), point.geometry(), point.root()).walk(collect);
        }
        for (ChunkDigest digest : List.copyOf(names)) { // a live delta keeps its chain alive
            for (ChunkDigest base = baseOf(digest); base != null; base = baseOf(base)) {
                names.add(base);
            }
        }
        return names;
    }

    private ChunkDigest baseOf(ChunkDigest digest) throws IOException {
        return store.chunks().location(digest).map(ChunkStore.Location::base).orElse(null);
    }

    private static byte[] random(long seed, int length) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
