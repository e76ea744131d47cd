package dev.secondsite.replication.chunk;

import java.util.Arrays;

/** Zero detection without allocation per call (vectorized by {@link Arrays#mismatch}). */
public final class Zeros {
    private static final byte[] ZEROS = new byte[64 << 10];

    private Zeros() {
    }

    public static boolean isAllZero(byte[] bytes, int offset, int length) {
        for (int done = 0; done < length; ) {
            int part = Math.min(ZEROS.length, length - done);
            if (Arrays.mismatch(bytes, offset + done, offset + done + part, ZEROS, 0, part) >= 0) {
                return false;
            }
            done += part;
        }
        return true;
    }

    public static boolean isAllZero(byte[] bytes) {
        return isAllZero(bytes, 0, bytes.length);
    }
}
