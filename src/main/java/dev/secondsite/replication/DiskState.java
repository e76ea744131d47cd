package dev.secondsite.replication;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.DiskGeometry;

/**
 * What the apply engine must remember about a replica disk between segments: its geometry, the root of
 * its current tree, and the last segment applied. Stored in one of two slots, {@code disks/{diskId}.state}
 * and {@code disks/{diskId}.state.b}, the older of which is replaced after each segment (the commit point;
 * see {@link DiskStates}). Binary, version 1, little-endian:
 *
 * <pre>
 *   0  4  magic "SSDS"
 *   4  2  format version (1)
 *   6  2  state bytes (88)
 *   8 16  disk id (UUID, RFC 4122 byte order)
 *  24  8  virtual bytes
 *  32  4  chunk bytes
 *  36  4  reserved, zero
 *  40  8  last applied segment sequence (0: none yet; segments start at 1)
 *  48 32  current root digest
 *  80  4  reserved, zero
 *  84  4  CRC32C of bytes 0..83
 * </pre>
 */
public record DiskState(UUID diskId, DiskGeometry geometry, ChunkDigest root, long lastSequence) {
    public static final int STATE_BYTES = 88;
    public static final int FORMAT_VERSION = 1;
    private static final int MAGIC = 0x53445353; // "SSDS" little-endian

    public DiskState {
        if (diskId == null || geometry == null || root == null || lastSequence < 0) {
            throw new IllegalArgumentException("disk state needs a disk id, geometry, root and a sequence >= 0");
        }
    }

    public static String blobName(UUID diskId) {
        return DiskStates.PREFIX + diskId + DiskStates.SUFFIX;
    }

    public byte[] encode() {
        ByteBuffer buffer = ByteBuffer.allocate(STATE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(MAGIC).putShort((short) FORMAT_VERSION).putShort((short) STATE_BYTES);
        buffer.order(ByteOrder.BIG_ENDIAN).putLong(diskId.getMostSignificantBits()).putLong(diskId.getLeastSignificantBits())
                .order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(geometry.virtualBytes()).putInt(geometry.chunkBytes()).putInt(0).putLong(lastSequence);
        buffer.put(root.toBytes()).putInt(0);
        buffer.putInt(Crc32c.of(buffer.array(), 0, STATE_BYTES - 4));
        assert buffer.position() == STATE_BYTES;
        return buffer.array();
    }

    /** Decodes and verifies a state blob; throws IllegalArgumentException saying what is wrong. */
    public static DiskState decode(byte[] bytes) {
        if (bytes.length != STATE_BYTES) {
            throw new IllegalArgumentException("disk state is " + bytes.length + " bytes, expected " + STATE_BYTES);
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (buffer.getInt(0) != MAGIC || buffer.getShort(4) != FORMAT_VERSION || buffer.getShort(6) != STATE_BYTES) {
            throw new IllegalArgumentException("not a version " + FORMAT_VERSION + " disk state (bad magic, version or size)");
        }
        if (buffer.getInt(STATE_BYTES - 4) != Crc32c.of(bytes, 0, STATE_BYTES - 4)) {
            throw new IllegalArgumentException("disk state CRC32C mismatch");
        }
        if (buffer.getInt(36) != 0 || buffer.getInt(80) != 0) {
            throw new IllegalArgumentException("reserved disk state bytes are not zero");
        }
        UUID diskId = new UUID(buffer.order(ByteOrder.BIG_ENDIAN).getLong(8), buffer.getLong(16));
        buffer.order(ByteOrder.LITTLE_ENDIAN);
        DiskState state = new DiskState(diskId, new DiskGeometry(buffer.getLong(24), buffer.getInt(32)),
                ChunkDigest.read(bytes, 48), buffer.getLong(40));
        assert java.util.Arrays.equals(state.encode(), bytes);
        return state;
    }
}
