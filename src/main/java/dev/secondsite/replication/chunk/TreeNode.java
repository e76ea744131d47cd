package dev.secondsite.replication.chunk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Byte layout of an interior tree node, version 1 (stored like a chunk, addressed by its SHA-256):
 *
 * <pre>
 *   0  4  magic "SSTN"
 *   4  1  format version (1)
 *   5  1  level (1 = children are chunks)
 *   6  2  child count (1..256), little-endian
 *   8     child digests, 32 bytes each, in chunk order (ZERO for an all-zero child)
 * </pre>
 *
 * The level is part of the content, so equal digests at different levels cannot be confused. A node
 * whose children are all ZERO is itself ZERO and never encoded.
 */
public final class TreeNode {
    static final int MAGIC = 0x4E545353; // "SSTN" little-endian
    static final int FORMAT_VERSION = 1;
    static final int HEADER_BYTES = 8;
    /** Largest encoded node: a full node of NODE_FANOUT digests. */
    public static final int NODE_BYTES_MAX = HEADER_BYTES + DiskGeometry.NODE_FANOUT * ChunkDigest.BYTES;

    private TreeNode() {
    }

    public static byte[] encode(int level, ChunkDigest[] children) {
        assert level >= 1 && level <= DiskGeometry.TREE_HEIGHT_MAX;
        assert children.length >= 1 && children.length <= DiskGeometry.NODE_FANOUT;
        assert !Arrays.stream(children).allMatch(ChunkDigest::isZero) : "an all-zero node is ZERO, not stored";
        byte[] bytes = new byte[HEADER_BYTES + children.length * ChunkDigest.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(MAGIC).put((byte) FORMAT_VERSION).put((byte) level)
                .putShort((short) children.length);
        for (int i = 0; i < children.length; i++) {
            children[i].writeTo(bytes, HEADER_BYTES + i * ChunkDigest.BYTES);
        }
        return bytes;
    }

    /**
     * Decodes a node that must be at {@code level} with {@code childCount} children (what the geometry says
     * its position holds). Returns null with {@code problem[0]} set if the bytes are not that node.
     */
    public static ChunkDigest[] decode(byte[] bytes, int level, int childCount, String[] problem) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < HEADER_BYTES || buffer.getInt(0) != MAGIC) {
            problem[0] = "not a tree node (bad magic)";
        } else if (buffer.get(4) != FORMAT_VERSION) {
            problem[0] = "unsupported tree node version " + buffer.get(4);
        } else if (buffer.get(5) != level) {
            problem[0] = "tree node is at level " + buffer.get(5) + ", expected " + level;
        } else if (Short.toUnsignedInt(buffer.getShort(6)) != childCount
                || bytes.length != HEADER_BYTES + childCount * ChunkDigest.BYTES) {
            problem[0] = "tree node has " + Short.toUnsignedInt(buffer.getShort(6)) + " children in " + bytes.length
                    + " bytes, expected " + childCount;
        } else {
            ChunkDigest[] children = new ChunkDigest[childCount];
            boolean allZero = true;
            for (int i = 0; i < childCount; i++) {
                children[i] = ChunkDigest.read(bytes, HEADER_BYTES + i * ChunkDigest.BYTES);
                allZero &= children[i].isZero();
            }
            if (!allZero) {
                return children;
            }
            problem[0] = "tree node has only ZERO children (it should have been ZERO itself)";
        }
        return null;
    }
}
