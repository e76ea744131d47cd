package dev.secondsite.replication.chunk;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The name of a chunk's (or tree node's) content: its address in the chunk store.
 *
 * <p>A name is the SHA-256 of a <em>block list</em>: {@code SHA-256("SSB1" || u32le(length) || d_0 || ... ||
 * d_n-1)}, where {@code d_i = SHA-256(block i)} over the content cut into {@link #BLOCK_BYTES} blocks (the last
 * one may be shorter). It depends on the content alone, like a plain SHA-256, but the name of a chunk changed in
 * a few blocks can be computed from the old block digests and the new blocks, without the rest of the content:
 * apply then reads neither the old chunk nor its base for a small write (ADR 0007, "Block digests"). Stores
 * written before block digests named content by its plain SHA-256 ({@link #legacy}); their chunk files say so.
 *
 * <p>{@link #ZERO} (32 zero bytes) is reserved: it stands for "all zeros" - a chunk of zeros, or a whole
 * subtree of them - and is never stored. No real SHA-256 output is expected to equal it.
 */
public final class ChunkDigest implements Comparable<ChunkDigest> {
    public static final int BYTES = 32;
    public static final ChunkDigest ZERO = new ChunkDigest(new byte[BYTES]);

    /** How many longs a digest is ({@link #word}, {@link #ofWords}): the chunk index keeps digests in a long[]. */
    static final int WORDS = BYTES / Long.BYTES;

    private static final HexFormat HEX = HexFormat.of();
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private final byte[] bytes;

    private ChunkDigest(byte[] bytes) {
        assert bytes.length == BYTES;
        this.bytes = bytes;
    }

    /** The unit of a name's block list: a 4 KiB file system block, the granularity of nearly every write. */
    public static final int BLOCK_BYTES = 4096;
    private static final byte[] TAG = {'S', 'S', 'B', '1'};
    /** The digest of a whole block of zeros. */
    private static final byte[] ZERO_BLOCK = sha256().digest(new byte[BLOCK_BYTES]);

    /** The name of {@code content[offset, offset + length)}: SHA-256 over its block digests (above). */
    public static ChunkDigest of(byte[] content, int offset, int length) {
        MessageDigest sha256 = sha256(); // one instance for the blocks and the list: getInstance is not free
        return ofBlocks(sha256, blockDigests(sha256, content, offset, length), length);
    }

    public static ChunkDigest of(byte[] content) {
        return of(content, 0, content.length);
    }

    /** How many blocks content of {@code length} bytes has. */
    static int blockCount(int length) {
        return Math.ceilDiv(length, BLOCK_BYTES);
    }

    /** The digests of every block of {@code content[offset, offset + length)}, back to back. */
    static byte[] blockDigests(byte[] content, int offset, int length) {
        return blockDigests(sha256(), content, offset, length);
    }

    private static byte[] blockDigests(MessageDigest sha256, byte[] content, int offset, int length) {
        byte[] digests = new byte[blockCount(length) * BYTES];
        for (int block = 0; block * BLOCK_BYTES < length; block++) {
            digestBlock(sha256, content, offset, length, block, digests);
        }
        return digests;
    }

    /** Writes the digest of block {@code block} of {@code content[offset, offset + length)} into {@code digests}. */
    static void digestBlock(MessageDigest sha256, byte[] content, int offset, int length, int block,
                            byte[] digests) {
        int from = block * BLOCK_BYTES;
        sha256.update(content, offset + from, Math.min(BLOCK_BYTES, length - from));
        try {
            sha256.digest(digests, block * BYTES, BYTES);
        } catch (java.security.DigestException e) {
            throw new AssertionError("a SHA-256 output fits 32 bytes", e);
        }
    }

    /** The name of content of {@code length} bytes whose block digests are {@code digests}. */
    static ChunkDigest ofBlocks(byte[] digests, int length) {
        return ofBlocks(sha256(), digests, length);
    }

    private static ChunkDigest ofBlocks(MessageDigest sha256, byte[] digests, int length) {
        assert digests.length == blockCount(length) * BYTES;
        sha256.update(TAG);
        sha256.update(new byte[] {(byte) length, (byte) (length >>> 8), (byte) (length >>> 16), (byte) (length >>> 24)});
        sha256.update(digests);
        return new ChunkDigest(sha256.digest());
    }

    /** The block digests of {@code length} zero bytes. */
    static byte[] zeroBlockDigests(int length) {
        byte[] digests = new byte[blockCount(length) * BYTES];
        for (int block = 0; block * BLOCK_BYTES < length; block++) {
            byte[] zero = zeroBlock(length - block * BLOCK_BYTES);
            System.arraycopy(zero, 0, digests, block * BYTES, BYTES);
        }
        return digests;
    }

    /** Whether block digests of content of {@code length} bytes say it is all zeros. */
    static boolean zeroBlocks(byte[] digests, int length) {
        for (int block = 0; block * BLOCK_BYTES < length; block++) {
            byte[] zero = zeroBlock(length - block * BLOCK_BYTES);
            if (!Arrays.equals(digests, block * BYTES, (block + 1) * BYTES, zero, 0, BYTES)) {
                return false;
            }
        }
        return true;
    }

    /** The digest of a block of zeros that is {@code remaining} bytes or more before the content's end. */
    private static byte[] zeroBlock(int remaining) {
        return remaining >= BLOCK_BYTES ? ZERO_BLOCK : sha256().digest(new byte[remaining]);
    }

    /** The plain SHA-256 of content: how stores from before block digests named it (format 1 chunk files). */
    static ChunkDigest legacy(byte[] content, int offset, int length) {
        MessageDigest sha256 = sha256();
        sha256.update(content, offset, length);
        return new ChunkDigest(sha256.digest());
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

    /** Bytes {@code [8i, 8i + 8)} as a big-endian long, {@code i} in [0, {@link #WORDS}). */
    long word(int i) {
        return (long) LONGS.get(bytes, i * Long.BYTES);
    }

    /** The digest whose {@link #word}s are {@code words[from, from + WORDS)}. */
    static ChunkDigest ofWords(long[] words, int from) {
        byte[] bytes = new byte[BYTES];
        for (int i = 0; i < WORDS; i++) {
            LONGS.set(bytes, i * Long.BYTES, words[from + i]);
        }
        return new ChunkDigest(bytes);
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
