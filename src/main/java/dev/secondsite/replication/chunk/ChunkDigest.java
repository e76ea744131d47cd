package dev.secondsite.replication.chunk;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The SHA-256 of a chunk's (or tree node's) content: its address in the chunk store.
 *
 * <p>{@link #ZERO} (32 zero bytes) is reserved: it stands for "all zeros" - a chunk of zeros, or a whole
 * subtree of them - and is never stored. No real SHA-256 output is expected to equal it.
 */
public final class ChunkDigest implements Comparable<ChunkDigest> {
    public static final int BYTES = 32;
    public static final ChunkDigest ZERO = new ChunkDigest(new byte[BYTES]);

    private static final HexFormat HEX = HexFormat.of();
    private final byte[] bytes;

    private ChunkDigest(byte[] bytes) {
        assert bytes.length == BYTES;
        this.bytes = bytes;
    }

    /** SHA-256 of {@code content[offset, offset + length)}. */
    public static ChunkDigest of(byte[] content, int offset, int length) {
        MessageDigest sha256 = sha256();
        sha256.update(content, offset, length);
        return new ChunkDigest(sha256.digest());
    }

    public static ChunkDigest of(byte[] content) {
        return of(content, 0, content.length);
    }

    /** Reads 32 digest bytes at {@code offset}. */
    public static ChunkDigest read(byte[] source, int offset) {
        return new ChunkDigest(Arrays.copyOfRange(source, offset, offset + BYTES));
    }

    /** Parses 64 lowercase hex characters. */
    public static ChunkDigest parse(String hex) {
        if (hex == null || hex.length() != 2 * BYTES || !hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            throw new IllegalArgumentException("not a chunk digest (64 lowercase hex characters): " + hex);
        }
        return new ChunkDigest(HEX.parseHex(hex));
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    public boolean isZero() {
        return equals(ZERO);
    }

    public void writeTo(byte[] target, int offset) {
        System.arraycopy(bytes, 0, target, offset, BYTES);
    }

    public byte[] toBytes() {
        return bytes.clone();
    }

    public String hex() {
        return HEX.formatHex(bytes);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ChunkDigest digest && Arrays.equals(digest.bytes, bytes);
    }

    @Override
    public int hashCode() {
        // SHA-256 output is uniform: its first four bytes are as good a hash as any.
        return (bytes[0] & 0xff) << 24 | (bytes[1] & 0xff) << 16 | (bytes[2] & 0xff) << 8 | (bytes[3] & 0xff);
    }

    @Override
    public int compareTo(ChunkDigest other) {
        return Arrays.compareUnsigned(bytes, other.bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
