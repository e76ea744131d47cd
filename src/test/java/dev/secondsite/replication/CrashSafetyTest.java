package dev.secondsite.replication;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeBuilder;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.replication.segment.SegmentWriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Simulated crashes during apply: for every write step n of applying a segment, kill the applier at write
 * n (writes 1..n-1 are durable, nothing after), reopen the store, and apply the segment again. The result
 * must be exactly that of an uninterrupted apply, and recovery points that existed before must be
 * untouched (same manifest bytes, same restored content hash). Seeded: a failing seed reproduces.
 */
class CrashSafetyTest {

    /** Default packs (one per segment) and tiny ones (many per segment: crashes between pack puts too). */
    @ParameterizedTest
    @CsvSource({"101, " + ChunkStore.PACK_BYTES_TARGET, "102, " + ChunkStore.PACK_BYTES_TARGET, "103, 16384", "104, 1"})
    void aCrashAtAnyWriteIsRecoveredByReapplying(long seed, int packBytes) throws Exception {
        DiskModel model = new DiskModel(seed, new DiskGeometry((1 << 20) + 512, 4096)).fillMixed();
        MemoryBlobStore base = new MemoryBlobStore();
        RecoveryStore baseStore = new RecoveryStore(base);
        DiskTree initial = TreeBuilder.scan(baseStore.chunks(), model.geometry, new ByteArrayInputStream(model.bytes));
        ReplicaDisk disk = ReplicaDisk.create(baseStore, model.diskId, initial);
        for (int i = 0; i < 3; i++) {
            DiskModel.Generated earlier = model.nextSegment(20, SegmentWriter.Compression.LZ4);
            disk.apply(earlier.name(), new ByteArrayInputStream(earlier.bytes()));
        }
        Map<String, byte[]> existingManifests = manifests(base);
        Map<String, String> existingContent = contentHashes(baseStore);
        assertThat(existingManifests).isNotEmpty();

        DiskModel.Generated segment = model.nextSegment(60, SegmentWriter.Compression.LZ4);
        // The uninterrupted run: the reference, and the number of write steps to crash at.
        MemoryBlobStore reference = base.copy();
        CrashingBlobStore counter = new CrashingBlobStore(reference, Long.MAX_VALUE);
        ApplyResult expected = ReplicaDisk.open(new RecoveryStore(counter, Clock.systemUTC(), packBytes), model.diskId)
                .apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
        long writes = counter.writes();
        assertThat(writes).isGreaterThan(packBytes < 1 << 20 ? 6 : 2);
        Map<String, byte[]> expectedManifests = manifests(reference);
        String modelHash = DiskModel.sha256(model.bytes);

        Random random = new Random(seed);
        for (long crashAt = 1; crashAt <= writes; crashAt++) {
            MemoryBlobStore blobs = base.copy();
            long at = crashAt;
            assertThatThrownBy(() -> ReplicaDisk.open(new RecoveryStore(new CrashingBlobStore(blobs, at), Clock.systemUTC(), packBytes), model.diskId)
                    .apply(segment.name(), new ByteArrayInputStream(segment.bytes())))
                    .isInstanceOf(CrashingBlobStore.SimulatedCrash.class);
            if (random.nextInt(4) == 0) { // sometimes crash again during recovery
                long again = 1 + random.nextLong(writes);
                try { // a recovery may need fewer writes than that (chunks already there): then it completes
                    ReplicaDisk.open(new RecoveryStore(new CrashingBlobStore(blobs, again), Clock.systemUTC(), packBytes), model.diskId)
                            .apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
                } catch (CrashingBlobStore.SimulatedCrash expectedCrash) {
                    // crashed again; the final recovery below must still converge
                }
            }

            RecoveryStore recovered = new RecoveryStore(blobs, Clock.systemUTC(), packBytes);
            ReplicaDisk reopened = ReplicaDisk.open(recovered, model.diskId);
            assertThat(reopened.lastSequence()).as("crash at write %d of %d", at, writes)
                    .isIn(segment.sequence() - 1, segment.sequence());
            ApplyResult result = reopened.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));

            assertThat(result.root()).as("root after crash at write %d", at).isEqualTo(expected.root());
            assertThat(ReplicaDisk.open(recovered, model.diskId).lastSequence()).isEqualTo(segment.sequence());
            assertThat(manifests(blobs)).as("manifests after crash at write %d", at)
                    .containsExactlyInAnyOrderEntriesOf(expectedManifests);
            for (Map.Entry<String, byte[]> existing : existingManifests.entrySet()) {
                assertThat(blobs.get(existing.getKey())).hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(existing.getValue()));
            }
            assertThat(Restore.verify(reopened.currentTree(), "current").sha256()).isEqualTo(modelHash);
            if (at % 7 == 1 || at == writes) { // every point's content, on a sample of the crash points
                assertThat(DiskModel.contentOf(reopened.currentTree())).isEqualTo(model.bytes);
                assertThat(contentHashes(recovered)).containsAllEntriesOf(existingContent);
            }
        }
    }

    /**
     * Garbage collection deletes and compacts packs; a crash at any of its writes must lose no chunk of a
     * live point (compaction writes the new pack before deleting the old), and a later collection converges.
     */
    @ParameterizedTest
    @ValueSource(longs = {111, 112})
    void aCrashAtAnyWriteOfAGarbageCollectionLosesNothingLive(long seed) throws Exception {
        DiskModel model = new DiskModel(seed, new DiskGeometry((1 << 20) + 512, 4096)).fillMixed();
        MemoryBlobStore base = new MemoryBlobStore();
        RecoveryStore baseStore = new RecoveryStore(base, Clock.systemUTC(), 16384);
        ReplicaDisk disk = ReplicaDisk.create(baseStore, model.diskId,
                TreeBuilder.scan(baseStore.chunks(), model.geometry, new ByteArrayInputStream(model.bytes)));
        for (int i = 0; i < 4; i++) {
            DiskModel.Generated segment = model.nextSegment(40, SegmentWriter.Compression.LZ4);
            disk.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
        }
        List<String> names = baseStore.points().allNames();
        for (String name : names.subList(0, names.size() / 2)) {
            base.delete(name); // retention
        }
        Map<String, String> live = contentHashes(baseStore);
        CrashingBlobStore counter = new CrashingBlobStore(base.copy(), Long.MAX_VALUE);
        GcResult reference = new GarbageCollector(new RecoveryStore(counter), Clock.systemUTC(), Duration.ZERO).collect();
        assertThat(reference.deletedFiles()).isPositive();
        long writes = counter.writes();

        for (long crashAt = 1; crashAt <= writes; crashAt++) {
            MemoryBlobStore blobs = base.copy();
            long at = crashAt;
            assertThatThrownBy(() -> new GarbageCollector(new RecoveryStore(new CrashingBlobStore(blobs, at)),
                    Clock.systemUTC(), Duration.ZERO).collect()).isInstanceOf(CrashingBlobStore.SimulatedCrash.class);
            RecoveryStore recovered = new RecoveryStore(blobs);
            assertThat(contentHashes(recovered)).as("points after a GC crash at write %d of %d", at, writes)
                    .isEqualTo(live);
            assertThat(DiskModel.contentOf(ReplicaDisk.open(recovered, model.diskId).currentTree())).isEqualTo(model.bytes);
            new GarbageCollector(recovered, Clock.systemUTC(), Duration.ZERO).collect();
            assertThat(new GarbageCollector(new RecoveryStore(blobs), Clock.systemUTC(), Duration.ZERO).collect()
                    .deletedFiles()).as("converged after crash at write %d", at).isZero();
            assertThat(contentHashes(new RecoveryStore(blobs))).isEqualTo(live);
        }
    }

    private static Map<String, byte[]> manifests(MemoryBlobStore blobs) {
        Map<String, byte[]> manifests = new LinkedHashMap<>();
        blobs.snapshot().forEach((name, bytes) -> {
            if (name.startsWith(RecoveryPointManifest.PREFIX)) {
                manifests.put(name, bytes);
            }
        });
        return manifests;
    }

    private static Map<String, String> contentHashes(RecoveryStore store) throws IOException {
        Map<String, String> hashes = new LinkedHashMap<>();
        List<String> names = store.points().allNames();
        for (String name : names) {
            RecoveryPointManifest point = store.points().read(name).orElseThrow();
            hashes.put(name, Restore.verify(new DiskTree(store.chunks(), point.geometry(), point.root()), name).sha256());
        }
        return hashes;
    }
}
