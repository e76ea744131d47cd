package dev.secondsite.replication;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.secondsite.replication.blob.FileBlobStore;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeBuilder;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.replication.segment.SegmentFormatException;
import dev.secondsite.replication.segment.SegmentWriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ReplicaDiskTest {
    @TempDir
    Path dir;

    /**
     * Model-based: random segments (unaligned writes, zero ranges, markers) applied one by one. After each,
     * the disk reads back as the model, its root is the root of a full scan of the model, and every marker
     * became a recovery point holding the model as it was at that marker.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void segmentsApplyLikeTheModel(long seed) throws Exception {
        DiskModel model = new DiskModel(seed, new DiskGeometry((4 << 20) - 1000, 4096)).fillMixed();
        RecoveryStore store = new RecoveryStore(new MemoryBlobStore());
        DiskTree initial = TreeBuilder.scan(store.chunks(), model.geometry, new ByteArrayInputStream(model.bytes));
        ReplicaDisk disk = ReplicaDisk.create(store, model.diskId, initial);

        for (int i = 0; i < 8; i++) {
            DiskModel.Generated segment = model.nextSegment(1 + i * 5, i % 2 == 0 ? SegmentWriter.Compression.LZ4
                    : SegmentWriter.Compression.NONE);
            ApplyResult result = disk.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));

            assertThat(result.outcome()).isEqualTo(ApplyResult.Outcome.APPLIED);
            assertThat(disk.lastSequence()).isEqualTo(segment.sequence());
            assertThat(DiskModel.contentOf(disk.currentTree())).as("seed %d segment %d", seed, i).isEqualTo(model.bytes);
            ChunkStore scratch = new ChunkStore(new MemoryBlobStore());
            assertThat(result.root()).isEqualTo(TreeBuilder.scan(scratch, model.geometry,
                    new ByteArrayInputStream(model.bytes)).root());
            assertThat(result.points()).hasSameSizeAs(segment.snapshots());
            for (int p = 0; p < segment.snapshots().size(); p++) {
                DiskModel.Snapshot snapshot = segment.snapshots().get(p);
                RecoveryPointManifest point = store.points().read(result.points().get(p).blobName()).orElseThrow();
                assertThat(point.consistency()).isEqualTo(snapshot.type());
                assertThat(point.createdAt()).isEqualTo(snapshot.timestamp());
                assertThat(point.tag()).isEqualTo(snapshot.tag());
                assertThat(point.segmentSequence()).isEqualTo(segment.sequence());
                assertThat(DiskModel.contentOf(new DiskTree(store.chunks(), point.geometry(), point.root())))
                        .isEqualTo(snapshot.content());
            }
        }
        // Reopening finds the committed state.
        ReplicaDisk reopened = ReplicaDisk.open(store, model.diskId);
        assertThat(reopened.currentTree().root()).isEqualTo(disk.currentTree().root());
        assertThat(reopened.lastSequence()).isEqualTo(8);
    }

    @Test
    void aReplayedSegmentIsIgnored() throws Exception {
        DiskModel model = new DiskModel(7, new DiskGeometry(1 << 20, 4096));
        MemoryBlobStore blobs = new MemoryBlobStore();
        RecoveryStore store = new RecoveryStore(blobs);
        ReplicaDisk disk = ReplicaDisk.create(store, model.diskId, model.geometry);
        DiskModel.Generated first = model.nextSegment(30, SegmentWriter.Compression.LZ4);
        DiskModel.Generated second = model.nextSegment(30, SegmentWriter.Compression.LZ4);
        disk.apply(first.name(), new ByteArrayInputStream(first.bytes()));
        ApplyResult applied = disk.apply(second.name(), new ByteArrayInputStream(second.bytes()));
        Map<String, byte[]> before = blobs.snapshot();

        ApplyResult again = disk.apply(second.name(), new ByteArrayInputStream(second.bytes()));
        ApplyResult older = disk.apply(first.name(), new ByteArrayInputStream(first.bytes()));
        ApplyResult afterReopen = ReplicaDisk.open(store, model.diskId).apply(second.name(), new ByteArrayInputStream(second.bytes()));

        for (ApplyResult result : List.of(again, older, afterReopen)) {
            assertThat(result.outcome()).isEqualTo(ApplyResult.Outcome.ALREADY_APPLIED);
            assertThat(result.root()).isEqualTo(applied.root());
            assertThat(result.points()).isEmpty();
        }
        assertThat(blobs.snapshot()).containsOnlyKeys(before.keySet());
        assertThat(DiskModel.contentOf(disk.currentTree())).isEqualTo(model.bytes);
    }

    @Test
    void aSequenceGapIsRefusedAndChangesNothing() throws Exception {
        DiskModel model = new DiskModel(8, new DiskGeometry(1 << 20, 4096));
        MemoryBlobStore blobs = new MemoryBlobStore();
        RecoveryStore store = new RecoveryStore(blobs);
        ReplicaDisk disk = ReplicaDisk.create(store, model.diskId, model.geometry);
        DiskModel.Generated first = model.nextSegment(10, SegmentWriter.Compression.LZ4);
        model.nextSegment(10, SegmentWriter.Compression.LZ4); // sequence 2 never arrives
        DiskModel.Generated third = model.nextSegment(10, SegmentWriter.Compression.LZ4);
        disk.apply(first.name(), new ByteArrayInputStream(first.bytes()));
        Map<String, byte[]> before = blobs.snapshot();

        SequenceGapException gap = catchThrowableOfType(SequenceGapException.class,
                () -> disk.apply(third.name(), new ByteArrayInputStream(third.bytes())));

        assertThat(gap.expectedSequence()).isEqualTo(2);
        assertThat(gap.actualSequence()).isEqualTo(3);
        assertThat(gap).hasMessage("apply on replica disk " + model.diskId + " failed for segment 3: expected sequence 2, "
                + "segments 2..2 are missing");
        assertThat(disk.lastSequence()).isEqualTo(1);
        assertThat(blobs.snapshot()).containsOnlyKeys(before.keySet());
    }

    @Test
    void corruptOrUnsealedSegmentsPublishNothing() throws Exception {
        DiskModel model = new DiskModel(9, new DiskGeometry(1 << 20, 4096));
        MemoryBlobStore blobs = new MemoryBlobStore();
        RecoveryStore store = new RecoveryStore(blobs);
        ReplicaDisk disk = ReplicaDisk.create(store, model.diskId, model.geometry);
        byte[] before = store.blobs().get(DiskState.blobName(model.diskId)).orElseThrow();
        DiskModel.Generated segment = model.nextSegment(40, SegmentWriter.Compression.LZ4);

        byte[] flipped = segment.bytes().clone();
        flipped[flipped.length - 10] ^= 1; // in the trailer: found only after every record was processed
        byte[] unsealed = Arrays.copyOf(segment.bytes(), segment.bytes().length - 32);
        for (byte[] bad : List.of(flipped, unsealed)) {
            assertThatThrownBy(() -> disk.apply(segment.name(), new ByteArrayInputStream(bad)))
                    .isInstanceOf(SegmentFormatException.class);
            assertThat(store.points().allNames()).isEmpty();
            assertThat(store.blobs().get(DiskState.blobName(model.diskId)).orElseThrow()).isEqualTo(before);
            assertThat(disk.lastSequence()).isZero();
        }
        // The intact copy still applies.
        disk.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
        assertThat(DiskModel.contentOf(disk.currentTree())).isEqualTo(model.bytes);
    }

    @Test
    void segmentsOfOtherDisksAndDuplicateDisksAreRefused() throws Exception {
        RecoveryStore store = new RecoveryStore(new MemoryBlobStore());
        DiskModel mine = new DiskModel(10, new DiskGeometry(1 << 20, 4096));
        DiskModel other = new DiskModel(11, new DiskGeometry(1 << 20, 4096));
        ReplicaDisk disk = ReplicaDisk.create(store, mine.diskId, mine.geometry);
        DiskModel.Generated foreign = other.nextSegment(3, SegmentWriter.Compression.LZ4);

        assertThatThrownBy(() -> disk.apply(foreign.name(), new ByteArrayInputStream(foreign.bytes())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("it belongs to disk " + other.diskId);
        assertThatThrownBy(() -> ReplicaDisk.create(store, mine.diskId, mine.geometry))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("it exists");
        assertThatThrownBy(() -> ReplicaDisk.open(store, UUID.randomUUID())).hasMessageContaining("no such disk");
    }

    /** The same flow on the real filesystem store, end to end through a restored raw image. */
    @Test
    void appliesOnAFileBlobStore() throws Exception {
        DiskModel model = new DiskModel(12, new DiskGeometry(1 << 20, 4096)).fillMixed();
        RecoveryStore store = new RecoveryStore(new FileBlobStore(dir.resolve("store")));
        DiskTree initial = TreeBuilder.scan(store.chunks(), model.geometry, new ByteArrayInputStream(model.bytes));
        ReplicaDisk disk = ReplicaDisk.create(store, model.diskId, initial);
        DiskModel.Snapshot last = null;
        for (int i = 0; i < 2; i++) {
            DiskModel.Generated segment = model.nextSegment(25, SegmentWriter.Compression.LZ4);
            disk.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
            last = segment.snapshots().getLast();
        }
        RecoveryPointManifest latest = store.points().latest(model.diskId).orElseThrow();
        RestoreResult restored = Restore.toRawFile(store, latest, dir.resolve("disk.raw"));

        assertThat(java.nio.file.Files.readAllBytes(restored.file())).isEqualTo(last.content());
        assertThat(restored.sha256()).isEqualTo(DiskModel.sha256(last.content()));
    }
}
