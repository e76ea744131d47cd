package dev.secondsite.disk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The 1024-byte big-endian dynamic disk header that the footer's data offset points at:
 * <pre>
 *   0 cookie "cxsparse"   8 data offset (unused, all ones)   16 table offset (BAT, absolute)
 *  24 header version     28 max table entries                32 block size
 *  36 checksum           40 parent unique id (16)            56 parent time stamp
 *  60 reserved           64 parent unicode name (512)       576 parent locator entries (8 x 24)
 * 768 reserved (256)
 * </pre>
 */
record VhdDynamicHeader(long tableOffset, int headerVersion, long maxTableEntries, long blockSize) {

    static final int SIZE = 1024;
    static final byte[] COOKIE = "cxsparse".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_VERSION_1_0 = 0x00010000;
    static final int CHECKSUM_OFFSET = 36;
    static final long DEFAULT_BLOCK_SIZE = 2L << 20;

    static String problem(byte[] b) {
        if (!Arrays.equals(b, 0, 8, COOKIE, 0, 8)) {
            return "dynamic header cookie \"cxsparse\" missing";
        }
        int stored = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN).getInt(CHECKSUM_OFFSET);
        int computed = VhdFooter.checksum(b, 0, SIZE, CHECKSUM_OFFSET);
        if (stored != computed) {
            return String.format("dynamic header checksum mismatch (stored 0x%08x, computed 0x%08x)",
                    stored, computed);
        }
        return null;
    }

    static VhdDynamicHeader decode(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
        return new VhdDynamicHeader(buf.getLong(16), buf.getInt(24), buf.getInt(28) & 0xFFFFFFFFL,
                buf.getInt(32) & 0xFFFFFFFFL);
    }

    byte[] encode() {
        byte[] b = new byte[SIZE];
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
        buf.put(0, COOKIE);
        buf.putLong(8, 0xFFFFFFFFFFFFFFFFL);
        buf.putLong(16, tableOffset);
        buf.putInt(24, headerVersion);
        buf.putInt(28, (int) maxTableEntries);
        buf.putInt(32, (int) blockSize);
        buf.putInt(CHECKSUM_OFFSET, VhdFooter.checksum(b, 0, SIZE, CHECKSUM_OFFSET));
        return b;
    }
}
