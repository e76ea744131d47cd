package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * An open virtual disk of one {@link DiskFormat}, addressed by byte offset within its virtual size.
 * Reads of never-written regions return zeros. Writes become durable at {@link #flush()} (which forces
 * the file to stable storage); until then a crash may lose them, but never leaves the image
 * unreadable or pointing at unwritten data.
 *
 * <p>Walking the allocation map:
 * <pre>{@code
 * for (long off = 0; off < disk.virtualSize(); ) {
 *     Extent e = disk.extentAt(off);
 *     if (e.allocated()) { ... read and ship e ... }
 *     off = e.end();
 * }
 * }</pre>
 *
 * <p>Threading: implementations are safe for use by several threads; operations on one image are
 * serialized.
 */
public interface DiskImage extends AutoCloseable {

    DiskFormat format();

    Path path();

    /** Size of the disk as seen by a guest, in bytes. */
    long virtualSize();

    /** Logical sector size the disk reports to a guest: 512, or 4096 for 4K-native VHDX. */
    default int logicalSectorSize() {
        return 512;
    }

    boolean writable();

    /**
     * Reads {@code min(dst.remaining(), virtualSize() - offset)} bytes at {@code offset} into
     * {@code dst}.
     *
     * @return the number of bytes read, or -1 if {@code offset == virtualSize()} and dst has room
     * @throws IllegalArgumentException if offset is negative or past the end of the disk
     */
    int read(long offset, ByteBuffer dst) throws IOException;

    /** Reads until dst is full. */
    default void readFully(long offset, ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            int n = read(offset, dst);
            if (n < 0) {
                throw new IllegalArgumentException("read of " + dst.remaining() + " bytes at offset "
                        + offset + " passes the end of the disk (" + virtualSize() + " bytes)");
            }
            offset += n;
        }
    }

    /**
     * Writes all of src at offset. Not durable until {@link #flush()}.
     *
     * @throws IllegalArgumentException if the write does not fit inside the virtual disk
     * @throws IllegalStateException if the image was opened read-only
     */
    void write(long offset, ByteBuffer src) throws IOException;

    /** Makes every completed write durable (FileChannel.force). */
    void flush() throws IOException;

    /**
     * The run starting at {@code offset} (0 &lt;= offset &lt; virtualSize()) that shares one
     * allocation status. Runs are block-granular for sparse formats; for RAW and fixed VHD, zero
     * detection in 64 KiB units marks all-zero runs unallocated. A run never passes the end of the
     * disk and may be shorter than the true run (callers just ask again at {@link Extent#end()}).
     */
    Extent extentAt(long offset) throws IOException;

    /** Whether any byte in [offset, offset + length) may hold data (false means: reads as zeros). */
    default boolean isAllocated(long offset, long length) throws IOException {
        long end = Math.min(virtualSize(), offset + length);
        for (long off = offset; off < end; ) {
            Extent e = extentAt(off);
            if (e.allocated()) {
                return true;
            }
            off = e.end();
        }
        return false;
    }

    /** Flushes (if writable) and closes the file. */
    @Override
    void close() throws IOException;
}
