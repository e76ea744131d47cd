package dev.secondsite.agent;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A disk read front to back in windows by threads of its own ({@link #READERS} for a whole-disk pass), up to
 * {@link #AHEAD} windows ahead of the caller. A whole-disk pass then waits for the disk only where the disk is
 * slower than its hashing, instead of for every read: the device keeps reading while the caller hashes, and a few
 * windows in hand absorb the ones that hash or read slower than the rest (docs/benchmarks.md "the resync scan reads
 * the disk once"). Two readers keep
 * two requests in flight, which a disk serves faster than one after another (on the bench VM, two 4 MiB O_DIRECT
 * streams read 1.18–1.20 GB/s where one read 0.92–0.94; docs/benchmarks.md, 2026-12-08).
 *
 * <p>A window's buffer is the caller's until its next call to {@link #next}, which hands that buffer to the
 * reader again. {@link #close} waits for the reads queued: the source must outlive it.
 */
final class ReadAhead implements Closeable {
    /** One window: {@code buffer[0, length)} holds the disk from {@code offset}, unless {@code hasData} is false. */
    record Window(long offset, int length, boolean hasData, byte[] buffer) {
    }

    /** Windows read ahead of the one the caller holds (so {@code AHEAD + 1} buffers). */
    static final int AHEAD = 3;
    /**
     * Reads in flight at most in a pass that reads the whole disk once (each into a window's buffer of its own;
     * windows are handed over in order). A pass over changed pages keeps one: it reads little, while the machine
     * writes.
     */
    static final int READERS = 2;

    private final DiskSource source;
    private final long sizeBytes;
    private final int windowBytes;
    private final boolean once;
    private final byte[][] buffers;
    private final ExecutorService reader;
    private final Deque<Future<Window>> pending = new ArrayDeque<>();
    private long nextOffset;
    private int nextBuffer;

    /**
     * Starts reading {@code source} in windows of {@code windowBytes}: with {@link DiskSource#readOnce} if
     * {@code once} (a pass that reads the disk once), else {@link DiskSource#readFully}.
     */
    ReadAhead(DiskSource source, int windowBytes, boolean once) {
        this.source = source;
        this.sizeBytes = source.sizeBytes();
        this.windowBytes = windowBytes;
        this.once = once;
        this.buffers = new byte[AHEAD + 1][windowBytes];
        this.reader = Executors.newFixedThreadPool(once ? READERS : 1, Thread.ofPlatform().daemon()
                .name("disk-read-ahead-", 0).factory());
        for (int i = 0; i < AHEAD; i++) {
            readNext();
        }
    }

    /** The next window in disk order, or null after the last one. */
    Window next() throws IOException {
        Future<Window> next = pending.poll();
        if (next == null) {
            return null;
        }
        Window window;
        try {
            window = next.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading the disk");
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case RuntimeException runtime -> throw runtime;
                case Error error -> throw error;
                default -> throw new IOException(e.getCause());
            }
        }
        readNext(); // into the buffer of the window before this one, which the caller is done with
        return window;
    }

    /** Queues the next window's read, if the disk has one more. */
    private void readNext() {
        if (nextOffset >= sizeBytes) {
            return;
        }
        long offset = nextOffset;
        int length = (int) Math.min(windowBytes, sizeBytes - offset);
        byte[] buffer = buffers[nextBuffer];
        nextOffset += length;
        nextBuffer = (nextBuffer + 1) % buffers.length;
        pending.add(reader.submit(() -> {
            boolean hasData = source.mayHoldData(offset, length);
            if (hasData) {
                if (once) {
                    source.readOnce(offset, buffer, 0, length);
                } else {
                    source.readFully(offset, buffer, 0, length);
                }
            }
            return new Window(offset, length, hasData, buffer);
        }));
    }

    /**
     * Stops reading ahead: reads not started are cancelled, those in progress are waited for, not interrupted
     * (an interrupt would close the source's channel under them).
     */
    @Override
    public void close() {
        pending.forEach(read -> read.cancel(false)); // those not started are skipped
        reader.shutdown();
        boolean interrupted = false;
        while (true) {
            try {
                if (reader.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
