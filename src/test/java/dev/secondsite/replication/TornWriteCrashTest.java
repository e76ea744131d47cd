package dev.secondsite.replication;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
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
 * Simulated crashes that tear the write in flight ({@link TearingBlobStore}): for every write n of applying
 * a segment (or of a garbage collection), every way of tearing it, and several seeds, the write is left
 * absent, complete, truncated or with a garbled tail, and the process dies. Then a collection runs, the store
 * is reopened and the segment applied again. Required:
 * <ol>
 *   <li>every recovery point that was durable before the crash (a manifest whose put returned) restores to
 *       exactly the model's content at its marker - never silently other bytes;</li>
 *   <li>replication resumes: re-applying the segment converges on the uninterrupted run's root, manifests
 *       and disk state, and the current tree equals the model;</li>
 *   <li>a collection after the torn write deletes nothing live (before and after the reopen).</li>
 * </ol>
 * A failure names the seed, the write number and what the tear left, which reproduce it.
 */
class TornWriteCrashTest {
    private static final Duration NO_MARGIN = Duration.ZERO;

    @ParameterizedTest
    @CsvSource({"201, " + ChunkStore.PACK_BYTES_TARGET, "202, " + ChunkStore.PACK_BYTES_TARGET, "203, 16384",
            "204, 1"})
    void aTornWriteDuringApplyLosesNoDurablePointAndReapplyingConverges(long seed, int packBytes) throws Exception {
        DiskModel model = new DiskModel(seed, new DiskGeometry((1 << 20) + 512, 4096)).fillMixed();
        MemoryBlobStore base = new MemoryBlobStore();
        RecoveryStore baseStore = new RecoveryStore(base);
        ReplicaDisk disk = ReplicaDisk.create(baseStore, model.diskId,
                TreeBuilder.scan(baseStore.chunks(), model.geometry, new ByteArrayInputStream(model.bytes)));
        Map<Instant, String> oracle = new HashMap<>(); // each marker's time -> the model's content hash then
        for (int i = 0; i < 3; i++) {
            record(oracle, apply(disk, model.nextSegment(20, SegmentWriter.Compression.LZ4)));
        }
        DiskModel.Generated segment = model.nextSegment(60, SegmentWriter.Compression.LZ4);
        record(oracle, segment);
        assertThat(baseStore.points().allNames()).isNotEmpty();

        MemoryBlobStore reference = base.copy();
        TearingBlobStore counter = TearingBlobStore.counting(reference);
        ApplyResult expected = ReplicaDisk.open(new RecoveryStore(counter, Clock.systemUTC(), packBytes), model.diskId)
                .apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
        long writes = counter.writes();
        assertThat(writes).isGreaterThan(2);
        Map<String, byte[]> expectedManifests = manifests(reference);
        String modelHash = DiskModel.sha256(model.bytes);

        // Every tear at every write; with one pack per chunk (many writes) one tear per write, picked by the seed.
        List<TearingBlobStore.Tear> tears = packBytes == 1 ? java.util.Collections.singletonList(null)
                : List.of(TearingBlobStore.Tear.values());
        for (long crashAt = 1; crashAt <= writes; crashAt++) {
            for (TearingBlobStore.Tear tear : tears) {
                long caseSeed = seed * 1000 + crashAt;
                MemoryBlobStore blobs = base.copy();
                TearingBlobStore crashing = new TearingBlobStore(blobs, crashAt, caseSeed, tear);
                String what = crashing.describe();
                try {
                    assertThatThrownBy(() -> ReplicaDisk.open(new RecoveryStore(crashing, Clock.systemUTC(), packBytes),
                            model.diskId).apply(segment.name(), new ByteArrayInputStream(segment.bytes())))
                            .isInstanceOf(CrashingBlobStore.SimulatedCrash.class);
                    what = crashing.describe();
                    List<String> durable = new java.util.ArrayList<>(base.list(RecoveryPointManifest.PREFIX));
                    crashing.completedPuts().stream().filter(name -> name.startsWith(RecoveryPointManifest.PREFIX))
                            .forEach(durable::add);

                    Random random = new Random(caseSeed);
                    if (random.nextInt(3) == 0) { // sometimes a second torn crash, during the recovery
                        TearingBlobStore again = new TearingBlobStore(blobs, 1 + random.nextLong(writes), caseSeed + 1, null);
                        try {
                            ReplicaDisk.open(new RecoveryStore(again, Clock.systemUTC(), packBytes), model.diskId)
                                    .apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
                        } catch (CrashingBlobStore.SimulatedCrash crashedAgain) {
                            durable.addAll(again.completedPuts().stream()
                                    .filter(name -> name.startsWith(RecoveryPointManifest.PREFIX)).toList());
                        }
                        what += "; then " + again.describe();
                    }

                    // (c) a collection right after the crash, before anything reopened the disk: fails closed or
                    // deletes only garbage.
                    try {
                        new GarbageCollector(new RecoveryStore(blobs), Clock.systemUTC(), NO_MARGIN).collect();
                    } catch (IOException failedClosed) {
                        // allowed: it deleted nothing (checked below through the points)
                    }
                    // (a) every durable point restores exactly
                    assertPointsRestore(blobs, durable, oracle);

                    // (b) replication resumes and converges
                    RecoveryStore recovered = new RecoveryStore(blobs, Clock.systemUTC(), packBytes);
                    ReplicaDisk reopened = ReplicaDisk.open(recovered, model.diskId);
                    assertThat(reopened.lastSequence()).isIn(segment.sequence() - 1, segment.sequence());
                    recovered.points().list(model.diskId); // what replication's start reads: must not fail
                    ApplyResult result = reopened.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
                    assertThat(result.root()).as("root").isEqualTo(expected.root());
                    assertThat(ReplicaDisk.open(new RecoveryStore(blobs), model.diskId).lastSequence())
                            .isEqualTo(segment.sequence());
                    assertThat(manifests(blobs)).as("manifests").containsExactlyInAnyOrderEntriesOf(expectedManifests);
                    assertThat(Restore.verify(reopened.currentTree(), "current").sha256()).as("current tree")
                            .isEqualTo(modelHash);

                    // (c) and a collection after recovery keeps every point and the current tree
                    new GarbageCollector(new RecoveryStore(blobs), Clock.systemUTC(), NO_MARGIN).collect();
                    RecoveryStore collected = new RecoveryStore(blobs);
                    assertPointsRestore(blobs, collected.points().allNames(), oracle);
                    assertThat(DiskModel.contentOf(ReplicaDisk.open(collected, model.diskId).currentTree()))
                            .isEqualTo(model.bytes);
                } catch (AssertionError | Exception e) {
                    throw new AssertionError(what + " (of " + writes + " writes, pack target " + packBytes + "): " + e, e);
                }
            }
        }
    }

    /** Compaction writes packs and deletes them; a torn write anywhere in a collection loses nothing live. */
    @ParameterizedTest
    @ValueSource(longs = {211, 212, 213})
    void aTornWriteDuringGarbageCollectionLosesNothingLive(long seed) throws Exception {
        DiskModel model = new DiskModel(seed, new DiskGeometry((1 << 20) + 512, 4096)).fillMixed();
        MemoryBlobStore base = new MemoryBlobStore();
        RecoveryStore baseStore = new RecoveryStore(base, Clock.systemUTC(), 16384);
        ReplicaDisk disk = ReplicaDisk.create(baseStore, model.diskId,
                TreeBuilder.scan(baseStore.chunks(), model.geometry, new ByteArrayInputStream(model.bytes)));
        Map<Instant, String> oracle = new HashMap<>();
        for (int i = 0; i < 4; i++) {
            record(oracle, apply(disk, model.nextSegment(40, SegmentWriter.Compression.LZ4)));
        }
        List<String> names = baseStore.points().allNames();
        for (String name : names.subList(0, names.size() / 2)) {
            base.delete(name); // retention
        }
        List<String> live = baseStore.points().allNames();
        TearingBlobStore counter = TearingBlobStore.counting(base.copy());
        assertThat(new GarbageCollector(new RecoveryStore(counter), Clock.systemUTC(), NO_MARGIN).collect().deletedFiles())
                .isPositive();
        long writes = counter.writes();

        for (long crashAt = 1; crashAt <= writes; crashAt++) {
            for (TearingBlobStore.Tear tear : TearingBlobStore.Tear.values()) {
                MemoryBlobStore blobs = base.copy();
                TearingBlobStore crashing = new TearingBlobStore(blobs, crashAt, seed * 1000 + crashAt, tear);
                try {
                    assertThatThrownBy(() -> new GarbageCollector(new RecoveryStore(crashing), Clock.systemUTC(), NO_MARGIN)
                            .collect()).isInstanceOf(CrashingBlobStore.SimulatedCrash.class);
                    assertPointsRestore(blobs, live, oracle);
                    assertThat(DiskModel.contentOf(ReplicaDisk.open(new RecoveryStore(blobs), model.diskId).currentTree()))
                            .isEqualTo(model.bytes);
                    new GarbageCollector(new RecoveryStore(blobs), Clock.systemUTC(), NO_MARGIN).collect();
                    assertThat(new GarbageCollector(new RecoveryStore(blobs), Clock.systemUTC(), NO_MARGIN).collect()
                            .deletedFiles()).as("converged").isZero();
                    assertPointsRestore(blobs, live, oracle);
                    assertThat(ReplicaDisk.open(new RecoveryStore(blobs), model.diskId).lastSequence())
                            .isEqualTo(model.nextSequence() - 1);
                } catch (AssertionError | Exception e) {
                    throw new AssertionError(crashing.describe() + " (of " + writes + " writes): " + e, e);
                }
            }
        }
    }

    /** Each named point must read, and restore to the model's content at its marker. */
    private static void assertPointsRestore(MemoryBlobStore blobs, List<String> names, Map<Instant, String> oracle)
            throws IOException {
        RecoveryStore store = new RecoveryStore(blobs);
        for (String name : names) {
            RecoveryPointManifest point = store.points().read(name).orElseThrow(() -> new AssertionError("point " + name
                    + " is gone"));
            String restored = Restore.verify(new DiskTree(store.chunks(), point.geometry(), point.root()), name).sha256();
            assertThat(restored).as("content of point %s", name).isEqualTo(oracle.get(point.createdAt()));
        }
    }

    private static DiskModel.Generated apply(ReplicaDisk disk, DiskModel.Generated segment) throws Exception {
        disk.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
        return segment;
    }

    private static void record(Map<Instant, String> oracle, DiskModel.Generated segment) {
        for (DiskModel.Snapshot snapshot : segment.snapshots()) {
            oracle.put(snapshot.timestamp(), DiskModel.sha256(snapshot.content()));
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
}
