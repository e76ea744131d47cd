package dev.secondsite.replication.chunk;

/**
 * How a disk of {@code virtualBytes} is cut into fixed-size chunks and how the chunks' Merkle tree is
 * shaped. The tree's shape depends on the geometry alone, never on content, which is what makes a root
 * digest a function of the disk's content (and lets a changed chunk be found by arithmetic).
 *
 * <p>Levels: 0 are the chunks (leaves). A node at level L >= 1 with index k covers chunks
 * {@code [k * F^L, min((k + 1) * F^L, chunkCount))} where F = {@link #NODE_FANOUT}, and has one child per
 * level L-1 node (or chunk) in that range. The root is the single node at level {@link #height()}, the
 * smallest height >= 1 with F^height >= chunkCount. The last chunk is padded with zeros past
 * {@code virtualBytes}.
 */
public record DiskGeometry(long virtualBytes, int chunkBytes) {
    public static final int CHUNK_BYTES_MIN = 4 << 10;
    public static final int CHUNK_BYTES_MAX = 4 << 20;
    public static final int CHUNK_BYTES_DEFAULT = 64 << 10;
    /** Children per tree node: 256 digests of 32 bytes make an 8 KiB node. */
    public static final int NODE_FANOUT = 256;
    /** Largest disk: 64 TiB (the VHDX maximum). */
    public static final long VIRTUAL_BYTES_MAX = 64L << 40;
    /** Tallest tree: 64 TiB of 4 KiB chunks is 2^34 chunks, which 256^5 = 2^40 covers. */
    public static final int TREE_HEIGHT_MAX = 5;

    public DiskGeometry {
        if (chunkBytes < CHUNK_BYTES_MIN || chunkBytes > CHUNK_BYTES_MAX || Integer.bitCount(chunkBytes) != 1) {
            throw new IllegalArgumentException("chunk size must be a power of two in [" + CHUNK_BYTES_MIN + ", "
                    + CHUNK_BYTES_MAX + "] bytes, got " + chunkBytes);
        }
        if (virtualBytes < 1 || virtualBytes > VIRTUAL_BYTES_MAX) {
            throw new IllegalArgumentException("disk size must be in [1, " + VIRTUAL_BYTES_MAX + "] bytes, got "
                    + virtualBytes);
        }
    }

    public static DiskGeometry withDefaultChunks(long virtualBytes) {
        return new DiskGeometry(virtualBytes, CHUNK_BYTES_DEFAULT);
    }

    public long chunkCount() {
        return Math.ceilDiv(virtualBytes, (long) chunkBytes);
    }

    /** Number of interior levels; the root is at this level. */
    public int height() {
        long chunks = chunkCount();
        int height = 1;
        while (span(height) < chunks) {
            height++;
        }
        assert height <= TREE_HEIGHT_MAX;
        return height;
    }

    /** Chunks covered by one node at {@code level} (1 for level 0, a chunk). */
    public long span(int level) {
        assert level >= 0 && level <= TREE_HEIGHT_MAX;
        return 1L << (8 * level); // NODE_FANOUT^level
    }

    /** Nodes at {@code level} (chunks at level 0). */
    public long nodeCount(int level) {
        return Math.ceilDiv(chunkCount(), span(level));
    }

    /** Children of node {@code index} at {@code level} >= 1. */
    public int childCount(int level, long index) {
        assert level >= 1 && level <= height() && index >= 0 && index < nodeCount(level);
        long covered = Math.min(span(level), chunkCount() - index * span(level));
        int count = (int) Math.ceilDiv(covered, span(level - 1));
        assert count >= 1 && count <= NODE_FANOUT;
        return count;
    }

    /** Logical bytes of chunk {@code index}: chunkBytes, except a last chunk cut short by the disk's end. */
    public int chunkLength(long index) {
        assert index >= 0 && index < chunkCount();
        return (int) Math.min(chunkBytes, virtualBytes - index * chunkBytes);
    }

    static {
        assert 1L << 8 == NODE_FANOUT;
    }
}
