package dev.secondsite.disk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * GUIDs as Microsoft stores them (Data1, Data2, Data3 little-endian; Data4 as bytes) and the CRC-32C
 * helpers VHDX structures use.
 */
final class MsGuid {

    static final UUID ZERO = new UUID(0, 0);

    private MsGuid() {
    }

    static UUID read(ByteBuffer buf, int at) {
        ByteBuffer le = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long d1 = le.getInt(at) & 0xFFFFFFFFL;
        long d2 = le.getShort(at + 4) & 0xFFFFL;
        long d3 = le.getShort(at + 6) & 0xFFFFL;
        long d4 = buf.duplicate().order(ByteOrder.BIG_ENDIAN).getLong(at + 8);
        return new UUID((d1 << 32) | (d2 << 16) | d3, d4);
    }

    static void write(ByteBuffer buf, int at, UUID id) {
        ByteBuffer le = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long msb = id.getMostSignificantBits();
        le.putInt(at, (int) (msb >>> 32));
        le.putShort(at + 4, (short) (msb >>> 16));
        le.putShort(at + 6, (short) msb);
        buf.duplicate().order(ByteOrder.BIG_ENDIAN).putLong(at + 8, id.getLeastSignificantBits());
    }

    /** CRC-32C of b[off, off+len) with the 4-byte field at checksumAt (relative to off) taken as zero. */
    static int crc32c(byte[] b, int off, int len, int checksumAt) {
        CRC32C crc = new CRC32C();
        crc.update(b, off, checksumAt);
        crc.update(new byte[4]);
        crc.update(b, off + checksumAt + 4, len - checksumAt - 4);
        return (int) crc.getValue();
    }

    /** Whether the little-endian CRC-32C stored at checksumAt matches the structure's bytes. */
    static boolean crcValid(byte[] b, int off, int len, int checksumAt) {
        int stored = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(off + checksumAt);
        return stored == crc32c(b, off, len, checksumAt);
    }

    static void putCrc(byte[] b, int off, int len, int checksumAt) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(off + checksumAt, crc32c(b, off, len, checksumAt));
    }
}
