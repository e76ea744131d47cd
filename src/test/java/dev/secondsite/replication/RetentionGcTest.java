package dev.secondsite.replication;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeBuilder;
import dev.secondsite.replication.chunk.TreeVisitor;
import dev.secondsite.replication.point.RecoveryPointManifest;
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

        List<RecoveryPointManifest> pruned = store.points().prune(model.diskId, keepAfter);

        assertThat(pruned).hasSize(points.size() / 2).allSatisfy(p -> assertThat(p.createdAt()).isBefore(keepAfter));
        assertThat(store.points().list(model.diskId)).hasSize(points.size() - points.size() / 2);
        int chunkFilesBefore = blobs.list(ChunkStore.CHUNKS_PREFIX).size();

        clock.advance(MARGIN.plusSeconds(1));
        GcResult result = new GarbageCollector(store).collect();

        Set<String> reachable = reachableChunkFiles();
        assertThat(result.deletedFiles()).isPositive();
        assertThat(result.freedBytes()).isPositive();
        assertThat(result.keptYoungFiles()).isZero();
        assertThat(result.roots()).isEqualTo(1 + store.points().allNames().size());
        assertThat(result.scannedFiles()).isEqualTo(chunkFilesBefore);
        assertThat(new HashSet<>(blobs.list(ChunkStore.CHUNKS_PREFIX))).isEqualTo(reachable);
        assertThat(blobs.list(ChunkStore.CHUNKS_PREFIX)).hasSize((int) (chunkFilesBefore - result.deletedFiles()));
        assertThat(result.markedNodes() + result.markedChunks()).isEqualTo(reachable.size());
        for (RecoveryPointManifest point : store.points().list(model.diskId)) {
            assertThat(Restore.verify(new DiskTree(store.chunks(), point.geometry(), point.root()), point.blobName()).sha256())
                    .as(point.blobName()).isEqualTo(DiskModel.sha256(snapshots.get(point.blobName())));
        }
        assertThat(DiskModel.contentOf(ReplicaDisk.open(store, model.diskId).currentTree())).isEqualTo(model.bytes);

        GcResult again = new GarbageCollector(store).collect();
        assertThat(again.deletedFiles()).isZero();
    }

    @Test
    void youngUnreferencedChunksSurviveUntilTheSafetyMarginPasses() throws IOException {
        ChunkDigest orphan = store.chunks().insert(random(1, 4096));
        clock.advance(Duration.ofHours(1));

        GcResult young = new GarbageCollector(store).collect();
        assertThat(young.keptYoungFiles()).isEqualTo(1);
        assertThat(young.deletedFiles()).isZero();
        assertThat(store.chunks().contains(orphan)).isTrue();

        clock.advance(MARGIN);
        GcResult old = new GarbageCollector(store).collect();
        assertThat(old.deletedFiles()).isEqualTo(1);
        assertThat(old.freedBytes()).isEqualTo(24 + 4096);
        assertThat(store.chunks().contains(orphan)).isFalse();
    }

    @Test
    void reinsertingAnOldChunkRenewsItsProtection() throws IOException {
        byte[] content = random(2, 4096);
        ChunkDigest chunk = store.chunks().insert(content);
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

        store.points().prune(model.diskId, Instant.parse("2100-01-01T00:00:00Z"));

        assertThat(store.points().names(model.diskId)).containsExactly(names.getLast());
    }

    @Test
    void gcFailsClosedWhenALiveTreeCannotBeRead() throws Exception {
        DiskModel model = new DiskModel(203, new DiskGeometry(2 << 20, 4096)).fillMixed();
        DiskTree tree = TreeBuilder.scan(store.chunks(), model.geometry, new ByteArrayInputStream(model.bytes));
        ReplicaDisk.create(store, model.diskId, tree);
        store.chunks().insert(random(3, 4096)); // garbage that would be collected
        blobs.delete(ChunkStore.blobName(tree.root()));
        int before = blobs.list(ChunkStore.CHUNKS_PREFIX).size();
        clock.advance(MARGIN.multipliedBy(2));

        assertThatThrownBy(() -> new GarbageCollector(store).collect()).isInstanceOf(IOException.class)
                .hasMessageContaining("state of disk " + model.diskId).hasMessageContaining("nothing deleted")
                .hasMessageContaining("chunk is missing");
        assertThat(blobs.list(ChunkStore.CHUNKS_PREFIX)).hasSize(before);
    }

    /** Every chunk file reachable from the live roots, found by an independent full walk (no skipping). */
    private Set<String> reachableChunkFiles() throws IOException {
        Set<String> names = new HashSet<>();
        TreeVisitor collect = new TreeVisitor() {
            @Override
            public boolean enterNode(int level, long index, ChunkDigest digest) {
                names.add(ChunkStore.blobName(digest));
                return true;
            }

            @Override
            public void chunk(long index, ChunkDigest digest) {
                names.add(ChunkStore.blobName(digest));
            }
        };
        for (var diskId : store.states().diskIds()) {
            DiskState state = store.states().read(diskId).orElseThrow();
            new DiskTree(store.chunks(), state.geometry(), state.root()).walk(collect);
        }
        for (String name : store.points().allNames()) {
            RecoveryPointManifest point = store.points().read(name).orElseThrow();
            new DiskTree(store.chunks(), point.geometry(), point.root()).walk(collect);
        }
        return names;
    }

    private static byte[] random(long seed, int length) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
