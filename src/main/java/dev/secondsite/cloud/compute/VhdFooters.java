package dev.secondsite.cloud.compute;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;

/**
 * The 512-byte footer that turns raw disk bytes into a fixed VHD ("Virtual Hard Disk Image Format
 * Specification"): what a managed disk's blob ends with in Azure, what an uploaded VHD must end with, and
 * what a download returns. Written with creator application "win " (Hyper-V) so readers take the
 * footer's current size, not the CHS geometry, as the disk size (the sizes Azure uses are not CHS multiples).
 * Unlike dev.secondsite.disk (which keeps to the specification's 2040 GiB), this writes footers up to
 * Azure's 32 TiB managed disks; the geometry then saturates at 65535/16/255, as Azure's own footers do.
 */
public final class VhdFooters {
    public static final int SIZE = 512;
    private static final byte[] COOKIE = "conectix".getBytes(StandardCharsets.US_ASCII);
    private static final int TYPE_FIXED = 2;
    private static final long EPOCH_2000 = 946_684_800L;

    private VhdFooters() {}

    /** A new fixed-disk footer for a disk of dataBytes (a multiple of 512). */
    public static byte[] fixed(long dataBytes) {
        return fixed(dataBytes, UUID.randomUUID());
    }

    public static byte[] fixed(long dataBytes, UUID uniqueId) {
        if (dataBytes <= 0 || dataBytes % 512 != 0) {
            throw new IllegalArgumentException("disk size must be a positive multiple of 512 bytes, got " + dataBytes);
        }
        byte[] b = new byte[SIZE];
        ByteBuffer buf = ByteBuffer.wrap(b);
        buf.put(0, COOKIE);
        buf.putInt(8, 2);                    // features: reserved bit always set
        buf.putInt(12, 0x00010000);          // format version 1.0
        buf.putLong(16, -1L);                // data offset: none (fixed disk)
        buf.putInt(24, (int) (Instant.now().getEpochSecond() - EPOCH_2000));
        buf.put(28, "win ".getBytes(StandardCharsets.US_ASCII));
        buf.putInt(32, 0x000A0000);
        buf.put(36, "Wi2k".getBytes(StandardCharsets.US_ASCII));
        buf.putLong(40, dataBytes);          // original size
        buf.putLong(48, dataBytes);          // current size
        int[] chs = geometry(dataBytes / 512);
        buf.putShort(56, (short) chs[0]);
        b[58] = (byte) chs[1];
        b[59] = (byte) chs[2];
        buf.putInt(60, TYPE_FIXED);
        buf.putLong(68, uniqueId.getMostSignificantBits());
        buf.putLong(76, uniqueId.getLeastSignificantBits());
        buf.putInt(64, checksum(b));
        return b;
    }

    /** The same footer for a new size (resize): unique id and creator kept, sizes, geometry and checksum redone. */
    public static byte[] resized(byte[] footer, long dataBytes) {
        if (problem(footer, -1) != null) {
            return fixed(dataBytes);
        }
        byte[] b = Arrays.copyOf(footer, SIZE);
        ByteBuffer buf = ByteBuffer.wrap(b);
        buf.putLong(40, dataBytes);
        buf.putLong(48, dataBytes);
        int[] chs = geometry(dataBytes / 512);
        buf.putShort(56, (short) chs[0]);
        b[58] = (byte) chs[1];
        b[59] = (byte) chs[2];
        buf.putInt(64, checksum(b));
        return b;
    }

    /**
     * Why these bytes are not the footer of a fixed VHD of dataBytes (-1: any size), in Azure's words, or
     * null when they are one.
     */
    public static String problem(byte[] b, long dataBytes) {
        if (b.length != SIZE || !Arrays.equals(b, 0, 8, COOKIE, 0, 8)) {
            return "The specified cookie value in VHD footer indicates that the disk is not a supported VHD. "
                    + "Disk is expected to have cookie value 'conectix'.";
        }
        ByteBuffer buf = ByteBuffer.wrap(b);
        if (buf.getInt(64) != checksum(b)) {
            return "The VHD footer checksum does not match its contents; the VHD footer is corrupt.";
        }
        int type = buf.getInt(60);
        if (type != TYPE_FIXED) {
            return "The VHD footer has disk type " + type + "; only fixed VHDs (disk type 2) are supported. "
                    + "Convert the disk to a fixed VHD (e.g. qemu-img convert -O vpc -o subformat=fixed) and upload it again.";
        }
        long current = buf.getLong(48);
        if (dataBytes >= 0 && current != dataBytes) {
            return "The VHD footer gives a virtual size of " + current + " bytes, but the uploaded disk holds "
                    + dataBytes + " bytes before the footer.";
        }
        return null;
    }

    static int checksum(byte[] b) {
        int sum = 0;
        for (int i = 0; i < SIZE; i++) {
            if (i < 64 || i >= 68) {
                sum += b[i] & 0xFF;
            }
        }
        return ~sum;
    }

    /** CHS geometry per the specification's appendix, saturating at 65535 x 16 x 255. */
    static int[] geometry(long totalSectors) {
        long spt;
        long heads;
        long cth;
        totalSectors = Math.min(totalSectors, 65535L * 16 * 255);
        if (totalSectors >= 65535L * 16 * 63) {
            spt = 255;
            heads = 16;
            cth = totalSectors / spt;
        } else {
            spt = 17;
            cth = totalSectors / spt;
            heads = Math.max(4, (cth + 1023) / 1024);
            if (cth >= heads * 1024 || heads > 16) {
                spt = 31;
                heads = 16;
                cth = totalSectors / spt;
            }
            if (cth >= heads * 1024) {
                spt = 63;
                heads = 16;
                cth = totalSectors / spt;
            }
        }
        return new int[] {(int) (cth / heads), (int) heads, (int) spt};
    }
}
