package dev.secondsite.replication;

import java.io.IOException;
import java.util.Arrays;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.CorruptChunkException;
import dev.secondsite.replication.chunk.DiskTree;

import static dev.secondsite.replication.chunk.DiskGeometry.NODE_FANOUT;

/**
 * The replica's digest of every chunk in a range, for a resync by hash comparison: the agent sends only
 * the chunks whose digest on the source differs (docs/agent-protocol.md, "Replica digests").
 *
 * <p>A digest is reported only where the replica can actually produce that content: a chunk whose
 * content is not in the store (quarantined after damage was found, or missing), and every chunk under a
 * tree node that cannot be read, is reported as {@link #UNKNOWN}, which matches no source chunk, so the
 * agent resends it and the resync heals the store. ZERO chunks are reported as {@link ChunkDigest#ZERO}
 * (32 zero bytes).
 *
 * <p>The server answers a page of them in this binary layout, little-endian:
 * <pre>
 *   0  4  magic "SSRD"
 *   4  4  chunk bytes
 *   8  8  applied sequence: the digests are those of the replica after this segment
 *  16  8  next sequence the server expects (applied + 1 when no stored segment awaits apply)
 *  24  8  first chunk index
 *  32  4  count n
 *  36     n digests of 32 bytes
 * </pre>
 */
public final class ReplicaDigests {
    /** "The replica cannot vouch for this chunk": 32 x 0xFF, never a real SHA-256 in practice. */
    private static final byte[] UNKNOWN = filled((byte) 0xFF);

    public static final int PAGE_MAGIC = 0x44525353; // "SSRD" little-endian
    public static final int PAGE_HEADER_BYTES = 36;
    /** Most digests in one page (2 MiB of digests, 4 GiB of disk at 64 KiB chunks). */
    public static final int PAGE_COUNT_MAX = 1 << 16;

    private ReplicaDigests() {
    }

    /** Encodes a page (layout above) of {@code digests} from chunk {@code first}. */
    public static byte[] page(int chunkBytes, long appliedSequence, long nextSequence, long first, byte[] digests) {
        java.nio.ByteBuffer page = java.nio.ByteBuffer.allocate(PAGE_HEADER_BYTES + digests.length)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        page.putInt(PAGE_MAGIC).putInt(chunkBytes).putLong(appliedSequence).putLong(nextSequence).putLong(first)
                .putInt(digests.length / ChunkDigest.BYTES).put(digests);
        return page.array();
    }

    /** {@code count} digests of 32 bytes from chunk {@code first} of {@code tree}, back to back. */
    public static byte[] of(DiskTree tree, long first, int count) throws IOException {
        long chunkCount = tree.geometry().chunkCount();
        if (first < 0 || count < 0 || first + count > chunkCount) {
            throw new IndexOutOfBoundsException("chunks [" + first + ", +" + count + ") are outside the disk ("
                    + chunkCount + " chunks)");
        }
        byte[] out = new byte[count * ChunkDigest.BYTES];
        if (count > 0) {
            fill(tree, tree.geometry().height(), 0, tree.root(), first, first + count, out);
        }
        return out;
    }

    /** Writes the digests of the chunks of node (level, index) that fall in [from, to) into out. */
    private static void fill(DiskTree tree, int level, long index, ChunkDigest digest, long from, long to, byte[] out)
            throws IOException {
        long span = tree.geometry().span(level);
        long start = Math.max(from, index * span);
        long end = Math.min(to, Math.min((index + 1) * span, tree.geometry().chunkCount()));
        if (start >= end) {
            return;
        }
        if (digest.isZero()) {
            return; // out is zero-filled: ZERO digests
        }
        if (level == 0) {
            byte[] value = tree.store().contains(digest) ? digest.toBytes() : UNKNOWN;
            System.arraycopy(value, 0, out, (int) (index - from) * ChunkDigest.BYTES, ChunkDigest.BYTES);
            return;
        }
        ChunkDigest[] children;
        try {
            children = tree.readNode(level, index, digest);
        } catch (CorruptChunkException e) {
            for (long chunk = start; chunk < end; chunk++) {
                System.arraycopy(UNKNOWN, 0, out, (int) (chunk - from) * ChunkDigest.BYTES, ChunkDigest.BYTES);
            }
            return;
        }
        for (int child = 0; child < children.length; child++) {
            fill(tree, level - 1, index * NODE_FANOUT + child, children[child], from, to, out);
        }
    }

    private static byte[] filled(byte value) {
        byte[] bytes = new byte[ChunkDigest.BYTES];
        Arrays.fill(bytes, value);
        return bytes;
    }
}
