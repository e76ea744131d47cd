package dev.secondsite.agent;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import com.sun.nio.file.ExtendedOpenOption;

/**
 * Reads a file or block device with O_DIRECT: past the page cache, straight from the device.
 *
 * <p>For passes that read the whole disk once (initial replication, resync, full resend). Through the page cache
 * such a pass reads no faster than the kernel can fill and evict pages (a cold 4 GiB resync scan took twice as
 * long as with O_DIRECT on the bench VM, docs/benchmarks.md "the resync scan reads the disk once"), and it pushes
 * the machine's working set out of memory for data nobody reads again. The kernel writes back dirty cached pages
 * of a range before a direct read of it, so a direct read sees every write made through the page cache before it.
 *
 * <p>O_DIRECT needs the offset, the length and the buffer aligned to the file system's block size: reads are made
 * through an aligned buffer of {@link #BUFFER_BYTES} and copied out, and {@link #read} declines a range that is
 * not aligned, or a file on a file system without O_DIRECT (the caller then reads through the page cache). The
 * file is opened at the first read, so a source that is never read this way costs nothing.
 *
 * <p>Reads may run at once, each through an aligned buffer of its own (kept for the next read): a disk serves two
 * requests in flight faster than one ({@link ReadAhead#READERS}). {@link #close} waits for reads in progress.
 */
final class DirectReads implements Closeable {
    static final int BUFFER_BYTES = 4 << 20;
    /** Largest block size accepted (larger ones are not real device blocks). */
    private static final int ALIGNMENT_MAX = 64 << 10;

    private final Path path;
    /** Reads share it, close and the first open take it alone. */
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile boolean opened;
    private FileChannel channel; // null: not opened yet, closed, or O_DIRECT not offered
    private int alignment;
    /** Aligned buffers not in use: about as many as reads run at once. */
    private final ConcurrentLinkedQueue<ByteBuffer> buffers = new ConcurrentLinkedQueue<>();

    DirectReads(Path path) {
        this.path = path;
    }

    /**
     * Reads exactly {@code length} bytes at {@code offset} into {@code dst[from..]}, or returns false without
     * reading if the range is not aligned to the block size or the file system offers no direct reads.
     */
    boolean read(long offset, byte[] dst, int from, int length) throws IOException {
        openOnce();
        lock.readLock().lock();
        try {
            if (channel == null || offset % alignment != 0 || length % alignment != 0) {
                return false;
            }
            ByteBuffer aligned = buffers.poll();
            if (aligned == null) {
                aligned = ByteBuffer.allocateDirect(BUFFER_BYTES + alignment).alignedSlice(alignment);
            }
            try {
                for (int done = 0; done < length; ) {
                    int piece = Math.min(BUFFER_BYTES, length - done);
                    aligned.clear().limit(piece);
                    while (aligned.hasRemaining()) {
                        if (channel.read(aligned, offset + done + aligned.position()) < 0) {
                            throw new EOFException("disk ended at " + (offset + done + aligned.position()));
                        }
                    }
                    aligned.flip().get(dst, from + done, piece);
                    done += piece;
                }
            } finally {
                buffers.add(aligned);
            }
            return true;
        } finally {
            lock.readLock().unlock();
        }
    }

    private void openOnce() {
        if (opened) { // the usual case; taking the write lock would wait for reads in progress
            return;
        }
        lock.writeLock().lock();
        try {
            if (!opened) {
                opened = true;
                open();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void open() {
        try {
            long blockSize = Files.getFileStore(path).getBlockSize();
            if (blockSize <= 0 || blockSize > ALIGNMENT_MAX || Long.bitCount(blockSize) != 1) {
                return;
            }
            channel = FileChannel.open(path, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
            alignment = (int) blockSize;
        } catch (IOException | UnsupportedOperationException e) {
            channel = null; // e.g. EINVAL from a file system without O_DIRECT: the page cache it is
        }
    }

    @Override
    public void close() throws IOException {
        lock.writeLock().lock();
        try {
            opened = true; // no reads after close
            buffers.clear();
            if (channel != null) {
                channel.close();
                channel = null;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
