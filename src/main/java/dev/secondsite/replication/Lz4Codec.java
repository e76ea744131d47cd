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

    /**
     * Compresses {@code src[offset, offset+length)} into {@code dst} (at least {@link #compressedBytesMax}
     * long). Returns the compressed length, or -1 when compression would not save a byte: the caller then
     * stores the bytes raw, so a stored compressed block is always shorter than its content.
     */
    public static int compress(byte[] src, int offset, int length, byte[] dst) {
        assert dst.length >= compressedBytesMax(length);
        int compressed = COMPRESSOR.compress(src, offset, length, dst, 0, dst.length);
        return compressed < length ? compressed : -1;
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
