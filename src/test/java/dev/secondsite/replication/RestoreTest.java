package dev.secondsite.replication;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.secondsite.replication.blob.FileBlobStore;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeBuilder;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.replication.segment.SegmentWriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class RestoreTest {
    @TempDir
    Path dir;

    @Test
    void aPointRestoresToARawFileIdenticalToTheModel() throws Exception {
        RecoveryStore store = new RecoveryStore(new FileBlobStore(dir.resolve("store")));
        DiskModel model = new DiskModel(301, new DiskGeometry((2 << 20) + 777, 4096)).fillMixed();
        Arrays.fill(model.bytes, 1 << 20, model.bytes.length, (byte) 0); // a zero tail: the file ends in a hole
        ReplicaDisk disk = ReplicaDisk.create(store, model.diskId,
                TreeBuilder.scan(store.chunks(), model.geometry, new ByteArrayInputStream(model.bytes)));
        DiskModel.Generated segment = model.nextSegment(30, SegmentWriter.Compression.LZ4);
        disk.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
        RecoveryPointManifest point = store.points().latest(model.diskId).orElseThrow();
        byte[] expected = segment.snapshots().getLast().content();
        Path target = dir.resolve("restored.raw");

        RestoreResult result = Restore.toRawFile(store, point, target);

        assertThat(Files.size(target)).isEqualTo(model.geometry.virtualBytes());
        assertThat(Files.readAllBytes(target)).isEqualTo(expected);
        assertThat(result.sha256()).isEqualTo(DiskModel.sha256(expected));
        assertThat(result.chunksWritten() + result.zeroChunks()).isEqualTo(model.geometry.chunkCount());
        assertThat(result.zeroChunks()).isGreaterThanOrEqualTo(200); // the tail is holes, never written
        assertThat(dir.resolve("restored.raw.partial")).doesNotExist();
        assertThat(Restore.verify(new DiskTree(store.chunks(), point.geometry(), point.root()), "point").sha256())
                .isEqualTo(result.sha256());
        assertThatThrownBy(() -> Restore.toRawFile(store, point, target)).isInstanceOf(FileAlreadyExistsException.class);
    }

    /** Chunks changed in small pieces point after point are delta chains (ADR 0007); every point restores exactly. */
    @Test
    void everyPointOfADiskWrittenInSmallPiecesRestoresExactly() throws Exception {
        RecoveryStore store = new RecoveryStore(new FileBlobStore(dir.resolve("store")));
        DiskModel model = new DiskModel(303, new DiskGeometry(1 << 20, 64 << 10)).fillMixed();
        ReplicaDisk disk = ReplicaDisk.create(store, model.diskId,
                TreeBuilder.scan(store.chunks(), model.geometry, new ByteArrayInputStream(model.bytes)));
        Map<Instant, byte[]> expected = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            DiskModel.Generated segment = model.nextSegment(12, SegmentWriter.Compression.LZ4);
            disk.apply(segment.name(), new ByteArrayInputStream(segment.bytes()));
            segment.snapshots().forEach(snapshot -> expected.put(snapshot.timestamp(), snapshot.content()));
        }

        int longestChain = 0;
        for (RecoveryPointManifest point : store.points().list(model.diskId)) {
            DiskTree tree = new DiskTree(store.chunks(), point.geometry(), point.root());
            assertThat(Restore.verify(tree, "point").sha256()).as("point %s", point.createdAt())
                    .isEqualTo(DiskModel.sha256(expected.get(point.createdAt())));
            for (long index = 0; index < point.geometry().chunkCount(); index++) {
                longestChain = Math.max(longestChain, chainFiles(store.chunks(), tree.leaf(index)));
            }
        }
        assertThat(longestChain).as("some chunk is a chain of deltas over deltas").isGreaterThanOrEqualTo(3);
    }

    private static int chainFiles(ChunkStore chunks, ChunkDigest digest) throws IOException {
        int files = 0;
        for (ChunkDigest at = digest; at != null && !at.isZero(); files++) {
            at = chunks.location(at).map(ChunkStore.Location::base).orElse(null);
        }
        return files;
    }

    @Test
    void aCorruptChunkFailsTheRestoreAndLeavesNoFile() throws Exception {
        FileBlobStore blobs = new FileBlobStore(dir.resolve("store"));
        RecoveryStore store = new RecoveryStore(blobs);
        byte[] image = sparseImage(302, 1 << 20);
        DiskGeometry geometry = new DiskGeometry(image.length, 4096);
        DiskTree tree = TreeBuilder.scan(store.chunks(), geometry, new ByteArrayInputStream(image));
        long index = 208; // a stored (non-zero) chunk
        ChunkDigest victim = tree.leaf(index);
        flipByte(dir.resolve("store"), store.chunks().location(victim).orElseThrow(), 100);
        Path target = dir.resolve("disk.raw");

        RestoreException e = catchThrowableOfType(RestoreException.class, () -> Restore.toRawFile(tree, target, "test point"));

        assertThat(e.chunkIndex()).isEqualTo(index);
        assertThat(e.digest()).isEqualTo(victim);
        assertThat(e).hasMessageStartingWith("restore on chunk store on file blob store ")
                .hasMessageContaining("failed for test point: chunk 208 (" + victim + ")");
        assertThat(target).doesNotExist();
        assertThat(dir.resolve("disk.raw.partial")).doesNotExist();
        assertThat(store.chunks().quarantinedCount()).isEqualTo(1);
    }

    @Test
    void aCorruptTreeNodeFailsTheRestore() throws Exception {
        FileBlobStore blobs = new FileBlobStore(dir.resolve("store"));
        RecoveryStore store = new RecoveryStore(blobs);
        byte[] image = sparseImage(303, 2 << 20);
        DiskTree tree = TreeBuilder.scan(store.chunks(), new DiskGeometry(image.length, 4096), new ByteArrayInputStream(image));
        ChunkDigest level1 = tree.readNode(2, 0, tree.root())[1];
        flipByte(dir.resolve("store"), store.chunks().location(level1).orElseThrow(), 40);
        Path target = dir.resolve("disk.raw");

        RestoreException e = catchThrowableOfType(RestoreException.class, () -> Restore.toRawFile(tree, target, "p"));

        assertThat(e.chunkIndex()).isEqualTo(-1);
        assertThat(e.digest()).isEqualTo(level1);
        assertThat(e).hasMessageContaining("tree node at level 1 index 1");
        assertThat(target).doesNotExist();
        assertThat(dir.resolve("disk.raw.partial")).doesNotExist();
    }

    /** Random data in every 16th 4 KiB chunk, zeros elsewhere: few files to fsync, but a full tree shape. */
    private static byte[] sparseImage(long seed, int length) {
        Random random = new Random(seed);
        byte[] image = new byte[length];
        for (int offset = 0; offset < length; offset += 16 * 4096) {
            byte[] chunk = new byte[4096];
            random.nextBytes(chunk);
            System.arraycopy(chunk, 0, image, offset, chunk.length);
        }
        return image;
    }

    /** Flips a bit of a stored chunk file (an entry of a pack). */
    private static void flipByte(Path storeRoot, ChunkStore.Location location, int offset) throws IOException {
        Path file = storeRoot.resolve(location.pack());
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) location.offset() + offset] ^= 0x04;
        Files.write(file, bytes);
    }
}
