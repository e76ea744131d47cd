package dev.secondsite.agent;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import dev.secondsite.disk.DiskFormat;
import dev.secondsite.disk.DiskImage;
import dev.secondsite.disk.DiskImages;
import dev.secondsite.nbd.NbdExport;

/**
 * A protected disk in CDP mode: the agent owns the image (opened writable, so it holds the image's
 * exclusive lock and qemu cannot open it behind our back) and serves it over NBD; the machine uses the
 * disk through that export, and every write is marked in the disk's {@link ChangeTracker} once it reached
 * the image. Passes read the same open image through {@link #beginPass()}.
 *
 * <p>A failback write-back rewrites the disk directly: {@link #suspend()} closes the image (NBD requests
 * fail with EIO meanwhile; the machine is shut down during a failback anyway) and {@link #resume()}
 * reopens it; the tracker is incomplete from the suspend on, so the next pass scans.
 */
final class TrackedDisk implements NbdExport, Closeable {
    private static final int ZEROES_BYTES = 1 << 20;

    private final String name;
    private final Path path;
    private final ChangeTracker tracker;
    private final long sizeBytes;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private DiskImage image; // null while suspended
    /**
     * Direct reads of the image for whole-disk passes (null: not raw). Open exactly as long as the image: closing
     * any descriptor of the file would drop the image's lock (see {@link #describe}).
     */
    private DirectReads direct;
    /** The snapshot of the pass reading the disk now (copy-on-write for its taken pages), or null. */
    private volatile PassSnapshot snapshot;

    private TrackedDisk(String name, Path path, DiskImage image, ChangeTracker tracker) {
        this.name = name;
        this.path = path;
        this.image = image;
        this.direct = directReads(image);
        this.tracker = tracker;
        this.sizeBytes = image.virtualSize();
    }

    /**
     * Opens the image at {@code path} for writing and loads its tracker from {@code trackerFile}.
     *
     * @throws IOException if the image is in use (locked) or unreadable
     */
    static TrackedDisk open(String name, Path path, Path trackerFile, java.util.function.Consumer<String> log)
            throws IOException {
        DiskImage image = DiskImages.open(path, true);
        try {
            ChangeTracker tracker = ChangeTracker.load(trackerFile, path.toAbsolutePath().normalize().toString(),
                    image.virtualSize(), log);
            return new TrackedDisk(name, path, image, tracker);
        } catch (IOException | RuntimeException e) {
            image.close();
            throw e;
        }
    }

    ChangeTracker tracker() {
        return tracker;
    }

    Path path() {
        return path;
    }

    @Override
    public String name() {
        return name;
    }

    /** The virtual size, fixed when the image was opened (a resized disk is refused by the pass anyway). */
    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    @Override
    public void read(long offset, byte[] dst, int from, int length) throws IOException {
        lock.readLock().lock();
        try {
            open().readFully(offset, ByteBuffer.wrap(dst, from, length));
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void write(long offset, byte[] src, int from, int length) throws IOException {
        lock.readLock().lock();
        try {
            DiskImage disk = open();
            preserveForPass(offset, length);
            try {
                disk.write(offset, ByteBuffer.wrap(src, from, length));
            } finally {
                tracker.mark(offset, length); // after the write (see ChangeTracker), also if it failed half-way
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        lock.readLock().lock();
        try {
            DiskImage disk = open();
            preserveForPass(offset, length);
            byte[] zeros = new byte[(int) Math.min(ZEROES_BYTES, length)];
            try {
                for (long done = 0; done < length; ) {
                    int piece = (int) Math.min(zeros.length, length - done);
                    disk.write(offset + done, ByteBuffer.wrap(zeros, 0, piece));
                    done += piece;
                }
            } finally {
                tracker.mark(offset, length);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void flush() throws IOException {
        lock.readLock().lock();
        try {
            open().flush();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Describes the disk from the open image. Opening the file again and closing it would drop the image's
     * lock: POSIX record locks belong to the process and go with the first close of any descriptor.
     */
    DiskSource.Description describe() throws IOException {
        lock.readLock().lock();
        try {
            return DiskSource.describe(name, open());
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Starts a pass: takes the tracker's pages and returns the disk as of this instant for them (a
     * {@link PassSnapshot}, the pass's source; closing it ends the copy-on-write, not the image). Taken under
     * the exclusive lock, so no write is half-way at the instant: each one is wholly before or after it.
     */
    PassSnapshot beginPass() throws IOException {
        return beginPasses(List.of(this)).getFirst();
    }

    /**
     * {@link #beginPass} for several disks of one machine at one instant: every disk's exclusive lock is held
     * while all take their pages, so the points are of the same moment across the disks. Only the agent's
     * pass thread takes more than one of these locks, and always in the given (--disk) order.
     */
    static List<PassSnapshot> beginPasses(List<TrackedDisk> disks) throws IOException {
        List<TrackedDisk> locked = new ArrayList<>();
        try {
            for (TrackedDisk disk : disks) {
                disk.lock.writeLock().lock();
                locked.add(disk);
            }
            for (TrackedDisk disk : disks) {
                disk.open(); // fails (suspended) before any page is taken
            }
            List<PassSnapshot> snapshots = new ArrayList<>();
            for (TrackedDisk disk : disks) {
                snapshots.add(disk.snapshotLocked());
            }
            return snapshots;
        } finally {
            for (TrackedDisk disk : locked.reversed()) {
                disk.lock.writeLock().unlock();
            }
        }
    }

    /** Caller holds the exclusive lock. */
    private PassSnapshot snapshotLocked() throws IOException {
        PassSnapshot previous = snapshot;
        if (previous != null) {
            previous.close(); // a pass that did not close its source
        }
        PassSnapshot[] started = new PassSnapshot[1];
        started[0] = new PassSnapshot(open(), direct, tracker.take(), () -> {
            if (snapshot == started[0]) {
                snapshot = null;
            }
        });
        snapshot = started[0];
        return started[0];
    }

    /** Before a write: the pass in progress keeps what it has not read yet of the pages being overwritten. */
    private void preserveForPass(long offset, long length) throws IOException {
        PassSnapshot pass = snapshot;
        if (pass != null) {
            pass.beforeWrite(offset, length);
        }
    }

    /**
     * Closes the image (flushed) until {@link #resume()}; NBD requests fail meanwhile. The tracker is no
     * longer complete from here: the disk is about to be written behind its back (also if the agent stops
     * before resuming, the saved tracker must not be trusted).
     */
    void suspend() throws IOException {
        tracker.markIncomplete();
        closeImage();
    }

    private void closeImage() throws IOException {
        lock.writeLock().lock();
        try {
            if (image != null) {
                try {
                    if (direct != null) {
                        direct.close();
                        direct = null;
                    }
                } finally {
                    image.close();
                    image = null;
                }
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Reopens the image after a write-back; the next pass scans before the tracker is trusted again. */
    void resume() throws IOException {
        lock.writeLock().lock();
        try {
            if (image == null) {
                image = DiskImages.open(path, true);
                direct = directReads(image);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Flushes and closes the image (after the NBD server stopped and the tracker was saved). */
    @Override
    public void close() throws IOException {
        closeImage();
    }

    private static DirectReads directReads(DiskImage image) {
        return image.format() == DiskFormat.RAW ? new DirectReads(image.path()) : null;
    }

    private DiskImage open() throws IOException {
        DiskImage disk = image;
        if (disk == null) {
            throw new IOException("disk " + name + " is suspended (a failback is writing it)");
        }
        return disk;
    }
}
