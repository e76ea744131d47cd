package dev.secondsite.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

import dev.secondsite.disk.DiskImage;

/**
 * A CDP disk as it was at the instant a pass took its pages: the pass's {@link DiskSource}, copy-on-write.
 * A write through the NBD export that is about to overwrite a taken page the pass has not read yet first
 * preserves the page's old content here; the pass then reads the preserved copy. So a tracked pass sends
 * the taken pages exactly as they were when taken - every write acknowledged before that instant and
 * none after - and its recovery point is truly crash-consistent, not "fuzzy" like a scan's. Later writes
 * are in the tracker's new set and go with the next pass.
 *
 * <p>Memory: preserved pages wait only until the pass reads them; past {@link #PRESERVED_BYTES_MAX} a
 * writer waits for the pass to catch up (back-pressure, as a filter driver throttles), but at most
 * {@link #PRESERVE_WAIT}: a pass stuck on its uploads (server unreachable) must not freeze the machine's
 * disk. The snapshot then stops preserving and is no longer {@link #exact()}: its point is "fuzzy" like a
 * scan's (nothing is lost: every write is in the tracker's next set). Pages outside the taken set read as
 * the current content (a full scan in CDP mode stays fuzzy there, and what changes is in the next pass).
 *
 * <p>Locking: {@link TrackedDisk} creates it under its exclusive lock (no write in flight at the instant),
 * writers call {@link #beforeWrite} holding the shared lock; all state is guarded by this object's monitor.
 */
final class PassSnapshot implements DiskSource {
    static final long PRESERVED_BYTES_MAX = 256L << 20;
    /** Longest a write waits for the pass to read preserved pages before the snapshot gives up exactness. */
    static final java.time.Duration PRESERVE_WAIT = java.time.Duration.ofSeconds(2);

    private final DiskImage image;
    private final DirectReads direct; // the disk's (not closed here), or null
    private final ChangeTracker.Taken taken;
    private final Runnable onClose;
    private final long sizeBytes;
    private final long preservedBytesMax;
    private final java.time.Duration preserveWait;
    private final BitSet settled = new BitSet(); // pages read by the pass or preserved for it
    private final Map<Integer, byte[]> preserved = new HashMap<>();
    private long preservedBytes;
    private boolean closed;
    private boolean degraded;

    /** {@code direct}: how {@link #readOnce} reads the image past the page cache (null: as readFully). */
    PassSnapshot(DiskImage image, DirectReads direct, ChangeTracker.Taken taken, Runnable onClose) {
        this(image, direct, taken, onClose, PRESERVED_BYTES_MAX, PRESERVE_WAIT);
    }

    /** With other bounds: tests use tiny ones. */
    PassSnapshot(DiskImage image, DirectReads direct, ChangeTracker.Taken taken, Runnable onClose,
                 long preservedBytesMax, java.time.Duration preserveWait) {
        this.image = image;
        this.direct = direct;
        this.taken = taken;
        this.onClose = onClose;
        this.sizeBytes = image.virtualSize();
        this.preservedBytesMax = preservedBytesMax;
        this.preserveWait = preserveWait;
    }

    /** Whether every taken page reads as it was at the instant (false once preserving gave up, see above). */
    synchronized boolean exact() {
        return !degraded;
    }

    /** The pages this pass took from the tracker. */
    ChangeTracker.Taken taken() {
        return taken;
    }

    /** Called before {@code [offset, offset + length)} is overwritten: keeps old content the pass still needs. */
    synchronized void beforeWrite(long offset, long length) throws IOException {
        if (length <= 0) {
            return;
        }
        int pageBytes = taken.pageBytes();
        for (int page = (int) (offset / pageBytes); page <= (int) ((offset + length - 1) / pageBytes); page++) {
            if (!taken.pages().get(page)) {
                continue;
            }
            long deadline = System.nanoTime() + preserveWait.toNanos();
            while (!closed && !degraded && !settled.get(page) && preservedBytes + pageBytes > preservedBytesMax) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    degraded = true; // the machine's writes go on; this pass's point is no longer exact
                    break;
                }
                try {
                    wait(Math.max(1, left / 1_000_000)); // the pass reads (and frees) preserved pages
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while waiting for the pass to read");
                }
            }
            if (closed || degraded || settled.get(page)) {
                continue;
            }
            long start = (long) page * pageBytes;
            byte[] old = new byte[(int) Math.min(pageBytes, sizeBytes - start)];
            image.readFully(start, ByteBuffer.wrap(old));
            preserved.put(page, old);
            preservedBytes += old.length;
            settled.set(page);
        }
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public void readFully(long offset, byte[] dst, int from, int length) throws IOException {
        read(offset, dst, from, length, false);
    }

    @Override
    public void readOnce(long offset, byte[] dst, int from, int length) throws IOException {
        read(offset, dst, from, length, true);
    }

    /**
     * Reads the range as it was at the instant. A whole-disk pass ({@code once}) reads the disk outside the monitor,
     * so that it can have two reads in flight ({@link ReadAhead#READERS}); that read may see writes made since the
     * instant, in part or whole. It does not matter: a write to a taken page that is not settled preserves the
     * page's old content first ({@link #beforeWrite}, before the write reaches the disk), and the old content is
     * copied over the read here, under the monitor, which also settles the pages. A pass over changed pages reads
     * under the monitor, as writers then wait rather than preserve pages the pass is about to read.
     */
    private void read(long offset, byte[] dst, int from, int length, boolean once) throws IOException {
        if (once) {
            if (direct == null || !direct.read(offset, dst, from, length)) {
                image.readFully(offset, ByteBuffer.wrap(dst, from, length));
            }
            settle(offset, dst, from, length);
            return;
        }
        synchronized (this) {
            image.readFully(offset, ByteBuffer.wrap(dst, from, length));
            settle(offset, dst, from, length);
        }
    }

    /** Puts the preserved old content of the range's pages over what was read, and settles them. */
    private synchronized void settle(long offset, byte[] dst, int from, int length) {
        int pageBytes = taken.pageBytes();
        for (int page = (int) (offset / pageBytes); page <= (int) ((offset + length - 1) / pageBytes); page++) {
            byte[] old = preserved.remove(page);
            if (old != null) {
                long start = (long) page * pageBytes;
                long copyFrom = Math.max(start, offset);
                long copyTo = Math.min(start + old.length, offset + length);
                System.arraycopy(old, (int) (copyFrom - start), dst, from + (int) (copyFrom - offset),
                        (int) (copyTo - copyFrom));
                preservedBytes -= old.length;
            }
            settled.set(page);
        }
        notifyAll();
    }

    @Override
    public synchronized boolean mayHoldData(long offset, long length) throws IOException {
        if (!DiskSource.sparse(image)) {
            return true;
        }
        int pageBytes = taken.pageBytes();
        for (int page = (int) (offset / pageBytes); page <= (int) ((offset + length - 1) / pageBytes); page++) {
            if (preserved.containsKey(page)) {
                return true;
            }
        }
        return image.isAllocated(offset, length);
    }

    /** The pass has read what it needs: preserved pages are dropped and writers stop preserving. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            preserved.clear();
            preservedBytes = 0;
            notifyAll();
        }
        onClose.run();
    }
}
