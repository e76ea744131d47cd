package dev.secondsite.replication;

import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * LZ4 block compression for segments and chunk files (docs/adr/0005-compression-lz4.md).
 *
 * <p>Compression uses the fast compressor; decompression always uses the <em>safe</em> decompressor with
 * the exact expected length, because compressed bytes come from untrusted storage: a malformed block
 * fails, it never reads or writes out of bounds. Instances of both are thread-safe.
 */
public final class Lz4Codec {
    private static final LZ4Factory FACTORY = LZ4Factory.fastestInstance();
    private static final LZ4Compressor COMPRESSOR = FACTORY.fastCompressor();
    private static final LZ4SafeDecompressor DECOMPRESSOR = FACTORY.safeDecompressor();

    private Lz4Codec() {
    }

    /** The buffer size {@link #compress} needs for {@code lengthBytes} of input. */
    public static int compressedBytesMax(int lengthBytes) {
        return COMPRESSOR.maxCompressedLength(lengthBytes);
    }

    /** Bytes of a long block compressed first, as a probe: if they do not shrink, the block is stored raw. */
    static final int PROBE_BYTES = 4096;

    /**
     * Compresses {@code src[offset, offset+length)} into {@code dst} (at least {@link #compressedBytesMax}
     * long). Returns the compressed length, or -1 when compression would not save a byte: the caller then
     * stores the bytes raw, so a stored compressed block is always shorter than its content.
     *
     * <p>A block longer than twice {@link #PROBE_BYTES} whose first {@code PROBE_BYTES} do not shrink by at least
     * 1/16 is given up as incompressible without compressing the rest (an "early abort", as ZFS and btrfs do):
     * most of what a disk writes at high rates is already compressed or encrypted, and compressing it in vain
     * was several percent of the server's apply. The result only ever chooses raw over compressed.
     */
    public static int compress(byte[] src, int offset, int length, byte[] dst) {
        assert dst.length >= compressedBytesMax(length);
        if (length > 2 * PROBE_BYTES) {
            int probe = COMPRESSOR.compress(src, offset, PROBE_BYTES, dst, 0, dst.length);
            if (probe > PROBE_BYTES - PROBE_BYTES / 16) {
                return -1;
            }
        }
        int compressed = COMPRESSOR.compress(src, offset, length, dst, 0, dst.length);
        return compressed < length ? compressed : -1;
    }

    /** Per-thread buffer for {@link #compressAfter}: chunk files are encoded by many threads at once. */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[0]);

    /**
     * As {@link #compress(byte[], int, int, byte[])}, into a new array that holds {@code prefixBytes} zero bytes
     * (room for the caller's header) and then exactly the compressed bytes; or null when the bytes are to be
     * stored raw. It compresses into a per-thread buffer, so incompressible bytes allocate nothing (the chunk
     * store's encoders allocated a worst-case buffer per chunk: most of the server's allocation), and the
     * caller fills in its header instead of copying the compressed bytes into a file once more.
     */
    public static byte[] compressAfter(int prefixBytes, byte[] src, int offset, int length) {
        byte[] scratch = SCRATCH.get();
        if (scratch.length < compressedBytesMax(length)) {
            scratch = new byte[compressedBytesMax(length)];
            SCRATCH.set(scratch);
        }
        int compressed = compress(src, offset, length, scratch);
        if (compressed < 0) {
            return null;
        }
        byte[] out = new byte[prefixBytes + compressed];
        System.arraycopy(scratch, 0, out, prefixBytes, compressed);
        return out;
    }

    /**
     * Decompresses {@code src[offset, offset+length)} into {@code dst[dstOffset, dstOffset+expectedBytes)}.
     * Returns false (and leaves dst's content unspecified) unless the block is well-formed and produces
     * exactly {@code expectedBytes}.
     */
    public static boolean decompressExactly(byte[] src, int offset, int length, byte[] dst, int dstOffset,
                                            int expectedBytes) {
        try {
            int produced = DECOMPRESSOR.decompress(src, offset, length, dst, dstOffset, expectedBytes);
            return produced == expectedBytes;
        } catch (LZ4Exception malformed) {
            return false;
        }
    }
}
