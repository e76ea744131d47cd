package dev.secondsite.replication.chunk;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.secondsite.replication.DiskModel;
import dev.secondsite.replication.MemoryBlobStore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DiskTreeTest {

    @Test
    void geometryShapesTheTree() {
        DiskGeometry one = new DiskGeometry(4096, 4096);
        assertThat(one.chunkCount()).isEqualTo(1);
        assertThat(one.height()).isEqualTo(1);
        assertThat(one.childCount(1, 0)).isEqualTo(1);

        DiskGeometry g = new DiskGeometry(257L * 4096 + 1, 4096); // 258 chunks, the last 1 byte long
        assertThat(g.chunkCount()).isEqualTo(258);
        assertThat(g.height()).isEqualTo(2);
        assertThat(g.nodeCount(1)).isEqualTo(2);
        assertThat(g.childCount(1, 0)).isEqualTo(256);
        assertThat(g.childCount(1, 1)).isEqualTo(2);
        assertThat(g.childCount(2, 0)).isEqualTo(2);
        assertThat(g.chunkLength(257)).isEqualTo(1);

        DiskGeometry largest = new DiskGeometry(DiskGeometry.VIRTUAL_BYTES_MAX, DiskGeometry.CHUNK_BYTES_MIN);
        assertThat(largest.height()).isEqualTo(DiskGeometry.TREE_HEIGHT_MAX);
        assertThat(DiskGeometry.withDefaultChunks(1L << 40).chunkBytes()).isEqualTo(64 << 10);

        assertThatThrownBy(() -> new DiskGeometry(1 << 20, 3000)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> new DiskGeometry(1 << 20, 2048)).hasMessageContaining("power of two in [4096, 4194304]");
        assertThatThrownBy(() -> new DiskGeometry(1 << 20, 8 << 20)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DiskGeometry(0, 4096)).hasMessageContaining("disk size");
        assertThatThrownBy(() -> new DiskGeometry(DiskGeometry.VIRTUAL_BYTES_MAX + 1, 4096)).hasMessageContaining("disk size");
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void aScannedTreeReadsBackAsTheImage(long seed) throws IOException {
        // 4 KiB chunks over 3 MiB + 123 bytes: 769 chunks, height 2, a short last chunk.
        DiskModel model = new DiskModel(seed, new DiskGeometry((3 << 20) + 123, 4096)).fillMixed();
        ChunkStore store = new ChunkStore(new MemoryBlobStore());

        DiskTree tree = TreeBuilder.scan(store, model.geometry, new ByteArrayInputStream(model.bytes));

        assertThat(DiskModel.contentOf(tree)).isEqualTo(model.bytes);
        assertThat(tree.leaves()).hasSize(769);
        for (long index : new long[] {0, 255, 256, 768}) {
            byte[] expected = Arrays.copyOfRange(model.bytes, (int) (index * 4096), (int) (index * 4096 + 4096));
            ChunkDigest leaf = tree.leaf(index);
            assertThat(leaf).isEqualTo(Zeros.isAllZero(expected) ? ChunkDigest.ZERO : ChunkDigest.of(expected));
        }
        assertThatThrownBy(() -> tree.readChunk(769)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void anEmptyDiskIsTheZeroRootAndStoresNothing() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        DiskGeometry geometry = new DiskGeometry(8 << 20, 4096);
        DiskTree tree = TreeBuilder.scan(store, geometry, new ByteArrayInputStream(new byte[8 << 20]));
        assertThat(tree.root()).isEqualTo(ChunkDigest.ZERO);
        assertThat(blobs.list("")).isEmpty();
        assertThat(tree.readChunk(1000)).isEqualTo(new byte[4096]);
    }

    /**
     * Model-based: random change sets on random images. After every step the tree reads back as the plain
     * byte-array model, and its root equals the root of a fresh full scan of the model (the incremental
     * path and the full path reach the same canonical tree).
     */
    @ParameterizedTest
    @ValueSource(longs = {11, 12, 13, 14})
    void randomChangesMatchThePlainModel(long seed) throws IOException {
        Random random = new Random(seed);
        DiskModel model = new DiskModel(seed, new DiskGeometry((2 << 20) + 4096 * random.nextInt(300), 4096)).fillMixed();
        ChunkStore store = new ChunkStore(new MemoryBlobStore());
        DiskTree tree = TreeBuilder.scan(store, model.geometry, new ByteArrayInputStream(model.bytes));
        int chunk = model.geometry.chunkBytes();

        for (int step = 0; step < 12; step++) {
            NavigableMap<Long, ChunkDigest> changes = new TreeMap<>();
            int count = 1 + random.nextInt(step % 3 == 0 ? 400 : 8);
            for (int i = 0; i < count; i++) {
                long index = random.nextLong(model.geometry.chunkCount());
                byte[] content = new byte[chunk];
                if (random.nextInt(4) > 0) {
                    random.nextBytes(content);
                    Arrays.fill(content, model.geometry.chunkLength(index), chunk, (byte) 0); // padding stays zero
                }
                changes.put(index, store.insert(content));
                System.arraycopy(content, 0, model.bytes, (int) (index * chunk), model.geometry.chunkLength(index));
            }

            tree = tree.withChanges(changes);

            assertThat(DiskModel.contentOf(tree)).as("seed %d step %d", seed, step).isEqualTo(model.bytes);
            ChunkStore fresh = new ChunkStore(new MemoryBlobStore());
            assertThat(tree.root()).isEqualTo(TreeBuilder.scan(fresh, model.geometry, new ByteArrayInputStream(model.bytes)).root());
        }
    }

    /** Height 3 on a sparse 1 GiB disk of 4 KiB chunks, against a sparse model. */
    @Test
    void tallSparseTreesMatchASparseModel() throws IOException {
        Random random = new Random(21);
        DiskGeometry geometry = new DiskGeometry(1L << 30, 4096);
        assertThat(geometry.height()).isEqualTo(3);
        ChunkStore store = new ChunkStore(new MemoryBlobStore());
        DiskTree tree = DiskTree.empty(store, geometry);
        Map<Long, ChunkDigest> model = new HashMap<>();
        for (int step = 0; step < 6; step++) {
            NavigableMap<Long, ChunkDigest> changes = new TreeMap<>();
            for (int i = 0; i < 50; i++) {
                long index = random.nextInt(8) == 0 ? geometry.chunkCount() - 1 - random.nextInt(3)
                        : random.nextLong(geometry.chunkCount());
                byte[] content = new byte[4096];
                if (random.nextInt(5) > 0) {
                    random.nextBytes(content);
                }
                changes.put(index, store.insert(content));
            }
            tree = tree.withChanges(changes);
            model.putAll(changes);
            for (Map.Entry<Long, ChunkDigest> entry : model.entrySet()) {
                assertThat(tree.leaf(entry.getKey())).isEqualTo(entry.getValue());
            }
        }
        // Canonical: a builder fed the model's leaves in order reaches the same root.
        TreeBuilder builder = new TreeBuilder(store, geometry);
        for (long index = 0; index < geometry.chunkCount(); index++) {
            builder.add(model.getOrDefault(index, ChunkDigest.ZERO));
        }
        assertThat(builder.finish().root()).isEqualTo(tree.root());
    }

    /**
     * A point after a small change shares every unchanged node with the previous one: the store grows by
     * about the changed chunks plus one node per level on each changed path, whatever the disk's size.
     */
    @Test
    void pointsShareUnchangedNodes() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        Random random = new Random(31);
        byte[] image = new byte[32 << 20]; // 8192 chunks of 4 KiB: 32 level-1 nodes under the root
        random.nextBytes(image);
        DiskGeometry geometry = new DiskGeometry(image.length, 4096);
        DiskTree before = TreeBuilder.scan(store, geometry, new ByteArrayInputStream(image));
        long usedBefore = blobs.usedBytes();
        int filesBefore = blobs.list("").size();

        int changed = 5;
        NavigableMap<Long, ChunkDigest> changes = new TreeMap<>();
        for (int i = 0; i < changed; i++) {
            byte[] content = new byte[4096];
            random.nextBytes(content);
            changes.put(i * 1000L, store.insert(content)); // five different level-1 nodes
        }
        DiskTree after = before.withChanges(changes);

        int height = geometry.height();
        long chunkFileMax = ChunkFile.HEADER_BYTES + ChunkFile.digestBytes(4096) + 4096;
        long nodeFileMax = ChunkFile.HEADER_BYTES + ChunkFile.digestBytes(TreeNode.NODE_BYTES_MAX) + TreeNode.NODE_BYTES_MAX;
        long newNodesMax = (long) changed * (height - 1) + 1; // per changed path below the root, plus the root
        assertThat(blobs.list("").size() - filesBefore).isLessThanOrEqualTo((int) (changed + newNodesMax));
        assertThat(blobs.usedBytes() - usedBefore).isLessThanOrEqualTo(changed * chunkFileMax + newNodesMax * nodeFileMax)
                .isLessThan(usedBefore / 100);
        // Both points stay readable: the old one is untouched.
        assertThat(DiskModel.contentOf(before)).isEqualTo(image);
        assertThat(after.readChunk(1000)).isEqualTo(store.read(changes.get(1000L)));
        assertThat(after.readChunk(1001)).isEqualTo(before.readChunk(1001));
    }

    @Test
    void aCorruptNodeIsDetectedOnRead() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        DiskModel model = new DiskModel(41, new DiskGeometry(2 << 20, 4096)).fillMixed();
        DiskTree tree = TreeBuilder.scan(store, model.geometry, new ByteArrayInputStream(model.bytes));
        ChunkStore.Location root = store.location(tree.root()).orElseThrow();
        blobs.corrupt(root.pack(), (int) (root.offset() + root.length() - 3), 0x01);

        assertThatThrownBy(() -> tree.readChunk(5)).isInstanceOf(CorruptChunkException.class)
                .hasMessageContaining("tree node at level 2 index 0");
        assertThat(store.quarantinedCount()).isEqualTo(1);
    }

    @Test
    void aNodeFromAnotherPositionIsRejected() throws IOException {
        ChunkStore store = new ChunkStore(new MemoryBlobStore());
        DiskGeometry big = new DiskGeometry(2L << 20, 4096);   // 512 chunks: height 2
        DiskGeometry small = new DiskGeometry(512L << 10, 4096); // 128 chunks: height 1
        byte[] image = new byte[512 << 10];
        new Random(51).nextBytes(image);
        DiskTree smallTree = TreeBuilder.scan(store, small, new ByteArrayInputStream(image));
        // A level-1 node where a level-2 root is expected.
        DiskTree confused = new DiskTree(store, big, smallTree.root());
        assertThatThrownBy(() -> confused.readChunk(0)).isInstanceOf(CorruptChunkException.class)
                .hasMessageContaining("tree node is at level 1, expected 2");
    }
}
