package dev.secondsite.disk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;

/**
 * The VHD hard disk footer: 512 big-endian bytes at the end of every VHD (and, for dynamic disks,
 * copied at offset 0). Layout per the Virtual Hard Disk Image Format Specification:
 * <pre>
 *   0 cookie "conectix"        8 features            12 file format version   16 data offset
 *  24 time stamp              28 creator application 32 creator version       36 creator host OS
 *  40 original size           48 current size        56 disk geometry (C:2 H:1 S:1)
 *  60 disk type               64 checksum            68 unique id (16)        84 saved state
 *  85 reserved (427)
 * </pre>
 */
record VhdFooter(int features, int formatVersion, long dataOffset, int timestamp, int creatorApplication,
                 int creatorVersion, int creatorHostOs, long originalSize, long currentSize, int cylinders,
                 int heads, int sectorsPerTrack, int diskType, byte[] uniqueId, int savedState) {

    static final int SIZE = 512;
    static final byte[] COOKIE = "conectix".getBytes(StandardCharsets.US_ASCII);
    /** Features: bit 1 is reserved and must always be set. */
    static final int FEATURES_RESERVED = 0x00000002;
    static final int FORMAT_VERSION_1_0 = 0x00010000;
    /** Data offset of a fixed disk, which has no dynamic header. */
    static final long DATA_OFFSET_NONE = 0xFFFFFFFFFFFFFFFFL;
    static final int TYPE_FIXED = 2;
    static final int TYPE_DYNAMIC = 3;
    static final int TYPE_DIFFERENCING = 4;
    static final int CHECKSUM_OFFSET = 64;
    static final int DISK_TYPE_OFFSET = 60;
    static final int CURRENT_SIZE_OFFSET = 48;
    /** The specification's limit for a VHD: 2040 GiB. */
    static final long VIRTUAL_SIZE_MAX = 2040L << 30;
    /**
     * "win " (Hyper-V). Readers use this field to decide whether the disk size is the footer's current
     * size or the CHS geometry product; every reader maps "win " to current size, which is the exact
     * size SecondSite wrote (Azure needs exact, 1 MiB-aligned sizes that CHS cannot express).
     */
    static final int CREATOR_APPLICATION = fourCc("win ");
    static final int CREATOR_VERSION = 0x000A0000;
    static final int CREATOR_HOST_WINDOWS = fourCc("Wi2k");
    /** VHD time stamps count seconds from 2000-01-01T00:00:00Z. */
    static final long EPOCH_2000 = 946_684_800L;

    static int fourCc(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    /** Why these 512 bytes are not a footer (bad cookie or checksum), or null if they are one. */
    static String problem(byte[] b) {
        if (b.length < SIZE || !Arrays.equals(b, 0, 8, COOKIE, 0, 8)) {
            return "no VHD footer (cookie \"conectix\" missing)";
        }
        int stored = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN).getInt(CHECKSUM_OFFSET);
        int computed = checksum(b, 0, SIZE, CHECKSUM_OFFSET);
        if (stored != computed) {
            return String.format("footer checksum mismatch (stored 0x%08x, computed 0x%08x)", stored, computed);
        }
        return null;
    }

    /** One's complement of the byte sum, skipping the 4-byte checksum field. */
    static int checksum(byte[] b, int off, int len, int checksumOffset) {
        int sum = 0;
        for (int i = 0; i < len; i++) {
            if (i >= checksumOffset && i < checksumOffset + 4) {
                continue;
            }
            sum += b[off + i] & 0xFF;
        }
        return ~sum;
    }

    static VhdFooter decode(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
        byte[] id = Arrays.copyOfRange(b, 68, 84);
        return new VhdFooter(buf.getInt(8), buf.getInt(12), buf.getLong(16), buf.getInt(24), buf.getInt(28),
                buf.getInt(32), buf.getInt(36), buf.getLong(40), buf.getLong(48), buf.getShort(56) & 0xFFFF,
                b[58] & 0xFF, b[59] & 0xFF, buf.getInt(60), id, b[84] & 0xFF);
    }

    byte[] encode() {
        byte[] b = new byte[SIZE];
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
        buf.put(0, COOKIE);
        buf.putInt(8, features);
        buf.putInt(12, formatVersion);
        buf.putLong(16, dataOffset);
        buf.putInt(24, timestamp);
        buf.putInt(28, creatorApplication);
        buf.putInt(32, creatorVersion);
        buf.putInt(36, creatorHostOs);
        buf.putLong(40, originalSize);
        buf.putLong(48, currentSize);
        buf.putShort(56, (short) cylinders);
        b[58] = (byte) heads;
        b[59] = (byte) sectorsPerTrack;
        buf.putInt(60, diskType);
        buf.put(68, uniqueId);
        b[84] = (byte) savedState;
        buf.putInt(CHECKSUM_OFFSET, checksum(b, 0, SIZE, CHECKSUM_OFFSET));
        return b;
    }

    /** A new footer for a disk of virtualSize bytes, geometry computed per the specification. */
    static VhdFooter create(int diskType, long virtualSize, long dataOffset) {
        int[] chs = geometry(virtualSize / 512);
        UUID u = UUID.randomUUID();
        byte[] id = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits())
                .putLong(u.getLeastSignificantBits()).array();
        int timestamp = (int) (Instant.now().getEpochSecond() - EPOCH_2000);
        return new VhdFooter(FEATURES_RESERVED, FORMAT_VERSION_1_0, dataOffset, timestamp, CREATOR_APPLICATION,
                CREATOR_VERSION, CREATOR_HOST_WINDOWS, virtualSize, virtualSize, chs[0], chs[1], chs[2],
                diskType, id, 0);
    }

    /**
     * CHS geometry {cylinders, heads, sectors per track} for a disk of totalSectors sectors, as the
     * specification's appendix computes it (capped at 65535 x 16 x 255).
     */
    static int[] geometry(long totalSectors) {
        long sectorsPerTrack;
        long heads;
        long cylinderTimesHeads;
        if (totalSectors > 65535L * 16 * 255) {
            totalSectors = 65535L * 16 * 255;
        }
        if (totalSectors >= 65535L * 16 * 63) {
            sectorsPerTrack = 255;
            heads = 16;
            cylinderTimesHeads = totalSectors / sectorsPerTrack;
        } else {
            sectorsPerTrack = 17;
            cylinderTimesHeads = totalSectors / sectorsPerTrack;
            heads = (cylinderTimesHeads + 1023) / 1024;
            if (heads < 4) {
                heads = 4;
            }
            if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
                sectorsPerTrack = 31;
                heads = 16;
                cylinderTimesHeads = totalSectors / sectorsPerTrack;
            }
            if (cylinderTimesHeads >= heads * 1024) {
                sectorsPerTrack = 63;
                heads = 16;
                cylinderTimesHeads = totalSectors / sectorsPerTrack;
            }
        }
        long cylinders = cylinderTimesHeads / heads;
        return new int[] {(int) cylinders, (int) heads, (int) sectorsPerTrack};
    }
}
