package dev.secondsite.replication;

import java.io.ByteArrayInputStream;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeBuilder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplicaDigestsTest {
    private static final byte[] UNKNOWN = filled(0xFF);

    @Test
    void aRangeHoldsTheTreesLeavesAndZeroForZeroChunks() throws Exception {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        DiskModel model = new DiskModel(61, new DiskGeometry(2 << 20, 4096)).fillMixed(); // 512 chunks, two levels
        DiskTree tree = TreeBuilder.scan(store, model.geometry, new ByteArrayInputStream(model.bytes));
        List<ChunkDigest> leaves = tree.leaves();
        assertThat(leaves).contains(ChunkDigest.ZERO);

        byte[] digests = ReplicaDigests.of(tree, 100, 300);

        assertThat(digests).hasSize(300 * ChunkDigest.BYTES);
        for (int i = 0; i < 300; i++) {
            assertThat(digestAt(digests, i)).as("chunk %d", 100 + i).isEqualTo(leaves.get(100 + i).toBytes());
        }
        assertThat(ReplicaDigests.of(tree, 512, 0)).isEmpty();
        assertThatThrownBy(() -> ReplicaDigests.of(tree, 500, 13)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void chunksTheReplicaCannotProduceAreUnknown() throws Exception {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs, java.time.Clock.systemUTC(), 4096); // about one pack per chunk
        DiskModel model = new DiskModel(62, new DiskGeometry(2 << 20, 4096)).fillMixed();
        DiskTree tree = TreeBuilder.scan(store, model.geometry, new ByteArrayInputStream(model.bytes));
        List<ChunkDigest> leaves = tree.leaves();
        int missing = firstNonZero(leaves, 10);
        ChunkDigest gone = leaves.get(missing);
        store.rewritePack(store.location(gone).orElseThrow().pack(), digest -> !digest.equals(gone)); // quarantined
        ChunkDigest secondNode = tree.readNode(2, 0, tree.root())[1]; // covers chunks 256..511
        ChunkStore.Location node = store.location(secondNode).orElseThrow();
        blobs.corrupt(node.pack(), (int) (node.offset() + node.length() - 5), 0x40);

        byte[] digests = ReplicaDigests.of(tree, 0, 512);

        assertThat(digestAt(digests, missing)).isEqualTo(UNKNOWN);
        for (int i = 256; i < 512; i++) {
            assertThat(digestAt(digests, i)).as("chunk %d under the damaged node", i).isEqualTo(UNKNOWN);
        }
        for (int i = 0; i < 256; i++) {
            if (i != missing) {
                assertThat(digestAt(digests, i)).as("chunk %d", i).isEqualTo(leaves.get(i).toBytes());
            }
        }
    }

    private static int firstNonZero(List<ChunkDigest> leaves, int from) {
        for (int i = from; ; i++) {
            if (!leaves.get(i).isZero()) {
                return i;
            }
        }
    }

    private static byte[] digestAt(byte[] digests, int i) {
        return Arrays.copyOfRange(digests, i * ChunkDigest.BYTES, (i + 1) * ChunkDigest.BYTES);
    }

    private static byte[] filled(int value) {
        byte[] bytes = new byte[ChunkDigest.BYTES];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }
}
