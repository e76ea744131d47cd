package dev.secondsite.replication.blob;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A blob store whose puts return before they are written: one writer thread carries them out on the
 * underlying store <em>in the order they were made</em>, each one durable before the next begins. The
 * recovery store's apply uses it so that writing and fsyncing one segment's pack, manifests and disk state
 * overlap the parsing and hashing of the next segment (docs/benchmarks.md, 2026-12-07, afternoon).
 *
 * <h2>What stays true</h2>
 * <ul>
 *   <li><b>Order, hence crash safety.</b> A crash leaves some prefix of the puts done, each whole: the very
 *       property {@code ReplicaDisk} argues from (chunks, then manifests, then the state as commit point). What
 *       changes is only <em>when</em> that prefix ends: a put has not happened when {@code put} returns, but
 *       when {@link #isWritten} says so for a {@link #mark()} taken after it. Whoever acknowledges something on
 *       the strength of a put (deleting a segment from cache storage, showing a point) waits for that.</li>
 *   <li><b>Reading your writes.</b> {@code get}, {@code open}, {@code readRange}, {@code stat}, {@code exists}
 *       and {@code list} see a pending put as if it were stored (the newest put of a name wins), so the chunk
 *       store reads chunks of a pack still queued and the disk states see the state just put.</li>
 *   <li><b>Deletes are ordered too.</b> {@code delete} and {@code put} from a stream first wait until every
 *       queued put is written, then run on the underlying store.</li>
 *   <li><b>A failing put is retried, never skipped.</b> Skipping it would let later puts (a state naming the
 *       pack that failed) land without it. The writer retries the head of the queue with back-off until it
 *       succeeds; meanwhile reads are still served from memory, and a put that would exceed the memory bound
 *       fails with the cause (so the applier reports it and retries), as do {@code delete} and
 *       {@link #awaitWritten}.</li>
 * </ul>
 *
 * <p>Memory: queued puts keep their data (the caller must not change an array or buffer it put) up to
 * {@code pendingBytesMax}; a put that would go past it waits for the writer (one put larger than the bound
 * is still taken when nothing else is queued).
 */
public final class WriteBehindBlobStore implements BlobStore, AutoCloseable {
    /** Two packs of {@code ChunkStore.PACK_BYTES_TARGET}: one being written while the next one is queued. */
    public static final long PENDING_BYTES_DEFAULT = 64L << 20;
    /** How long a put waits for room while the writer keeps failing, before it fails too. */
    public static final long FAIL_FAST_MILLIS_DEFAULT = 2_000;
    private static final long RETRY_MIN_MILLIS = 50;
    private static final long RETRY_MAX_MILLIS = 5_000;

    private final BlobStore target;
    private final long pendingBytesMax;
    private final long failFastMillis;
    private final Object lock = new Object();
    /** Held by the writer while it writes a put and takes it off the queue: {@link #usedBytes} sees each put once. */
    private final ReentrantLock writing = new ReentrantLock();
    /** Puts not written yet, oldest first; the head may be being written. Guarded by lock. */
    private final ArrayDeque<Put> queue = new ArrayDeque<>();
    /** The newest queued put of each name. Guarded by lock. */
    private final Map<String, Put> newest = new HashMap<>();
    private long pendingBytes;
    /** Puts accepted so far; put number n is written once {@code written >= n}. */
    private long accepted;
    private long written;
    /** Why the head of the queue could not be written the last time it was tried; null once it was. */
    private IOException failing;
    private boolean closed;
    private final Thread writer;

    private record Put(long number, String name, List<ByteBuffer> parts, long size) {
        /** {@code length} bytes of the blob from {@code from} (within it). */
        byte[] read(long from, int length) {
            byte[] out = new byte[length];
            int at = 0;
            long skip = from;
            for (ByteBuffer part : parts) {
                int remaining = part.remaining();
                if (skip >= remaining) {
                    skip -= remaining;
                    continue;
                }
                int take = (int) Math.min(remaining - skip, length - at);
                part.get(part.position() + (int) skip, out, at, take);
                at += take;
                skip = 0;
                if (at == length) {
                    break;
                }
            }
            return out;
        }
    }

    /**
     * @param pendingBytesMax most bytes queued before a put waits for the writer
     * @param failFastMillis  how long a put waits for room while the writer is failing before it fails too
     */
    public WriteBehindBlobStore(BlobStore target, long pendingBytesMax, long failFastMillis) {
        if (pendingBytesMax <= 0 || failFastMillis < 0) {
            throw new IllegalArgumentException("write-behind bounds must be > 0 bytes and >= 0 ms");
        }
        this.target = target;
        this.pendingBytesMax = pendingBytesMax;
        this.failFastMillis = failFastMillis;
        this.writer = Thread.ofPlatform().name("write-behind " + target).daemon(true).start(this::writeLoop);
    }

    @Override
    public void put(String name, byte[] data) throws IOException {
        enqueue(name, List.of(ByteBuffer.wrap(data)));
    }

    @Override
    public void put(String name, List<ByteBuffer> parts) throws IOException {
        enqueue(name, parts.stream().map(ByteBuffer::duplicate).toList());
    }

    private void enqueue(String name, List<ByteBuffer> parts) throws IOException {
        BlobNames.validate(name); // the writer must not meet a put that can never succeed
        long bytes = 0;
        for (ByteBuffer part : parts) {
            bytes += part.remaining();
        }
        synchronized (lock) {
            long failingSince = 0;
            while (!queue.isEmpty() && pendingBytes + bytes > pendingBytesMax) {
                checkOpen(name);
                if (failing != null) {
                    long now = System.nanoTime();
                    failingSince = failingSince == 0 ? now : failingSince;
                    if (now - failingSince >= failFastMillis * 1_000_000L) {
                        throw stillFailing("put", name);
                    }
                }
                waitOnLock(name);
            }
            checkOpen(name);
            Put put = new Put(++accepted, name, parts, bytes);
            queue.addLast(put);
            newest.put(name, put);
            pendingBytes += bytes;
            lock.notifyAll();
        }
    }

    /** A mark for every put made so far: they are all written once {@link #isWritten} says so for it. */
    public long mark() {
        synchronized (lock) {
            return accepted;
        }
    }

    public boolean isWritten(long mark) {
        synchronized (lock) {
            return written >= mark;
        }
    }

    /**
     * Waits until every put up to {@code mark} is written, at most {@code timeoutMillis}; returns whether they
     * are. While the writer is failing it throws the failure instead of waiting.
     */
    public boolean awaitWritten(long mark, long timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        synchronized (lock) {
            while (written < mark) {
                if (failing != null) {
                    throw stillFailing("write", "queued puts");
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    lock.wait(Math.max(1, left / 1_000_000L));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("waiting for " + this + " to write was interrupted");
                }
            }
            return true;
        }
    }

    /** Why the oldest queued put could not be written, while it cannot. */
    public Optional<IOException> failure() {
        synchronized (lock) {
            return Optional.ofNullable(failing);
        }
    }

    /** Waits until every put so far is written (or throws the writer's failure). */
    public void drain() throws IOException {
        long mark = mark();
        while (!awaitWritten(mark, 1_000)) {
            checkOpen("(all)");
        }
    }

    @Override
    public void put(String name, InputStream data, long lengthBytes) throws IOException {
        drain();
        target.put(name, data, lengthBytes);
    }

    @Override
    public Optional<byte[]> get(String name) throws IOException {
        Put put = pending(name);
        return put != null ? Optional.of(put.read(0, (int) put.size())) : target.get(name);
    }

    @Override
    public Optional<InputStream> open(String name) throws IOException {
        Put put = pending(name);
        return put != null ? Optional.of(new ByteArrayInputStream(put.read(0, (int) put.size()))) : target.open(name);
    }

    @Override
    public Optional<byte[]> readRange(String name, long offset, int length) throws IOException {
        Put put = pending(name);
        if (put == null) {
            return target.readRange(name, offset, length);
        }
        long from = Math.min(offset, put.size());
        return Optional.of(put.read(from, (int) Math.min(length, put.size() - from)));
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        BlobNames.validatePrefix(prefix);
        // Pending names first: a put written meanwhile is then in the underlying listing, never in neither.
        TreeSet<String> names = new TreeSet<>();
        synchronized (lock) {
            for (String name : newest.keySet()) {
                if (name.startsWith(prefix)) {
                    names.add(name);
                }
            }
        }
        names.addAll(target.list(prefix));
        return new ArrayList<>(names);
    }

    @Override
    public Optional<BlobInfo> stat(String name) throws IOException {
        Put put = pending(name);
        return put != null ? Optional.of(new BlobInfo(name, put.size(), Instant.now())) : target.stat(name);
    }

    /** A queued put will be written with a fresh modification time anyway. */
    @Override
    public boolean touch(String name) throws IOException {
        return pending(name) != null || target.touch(name);
    }

    @Override
    public boolean delete(String name) throws IOException {
        drain();
        return target.delete(name);
    }

    /**
     * The target's bytes and the queued puts', each put counted once: the writer does not finish a put meanwhile. (A
     * queued overwrite counts with the blob it replaces until it is written.)
     */
    @Override
    public long usedBytes() throws IOException {
        writing.lock(); // not the lock: puts go on while a file store walks its directories
        try {
            long queued;
            synchronized (lock) {
                queued = pendingBytes;
            }
            return target.usedBytes() + queued;
        } finally {
            writing.unlock();
        }
    }

    /** Stops the writer once what is queued is written (or, while it is failing, at once: those puts are lost). */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return target.toString();
    }

    private Put pending(String name) {
        synchronized (lock) {
            return newest.get(name);
        }
    }

    private void writeLoop() {
        long retryMillis = RETRY_MIN_MILLIS;
        while (true) {
            Put head;
            synchronized (lock) {
                while (queue.isEmpty() && !closed) {
                    waitQuietly();
                }
                if (queue.isEmpty() || closed && failing != null) {
                    return;
                }
                head = queue.peekFirst();
            }
            IOException failure = writeAndDequeue(head);
            if (failure == null) {
                retryMillis = RETRY_MIN_MILLIS;
                continue;
            }
            synchronized (lock) {
                failing = failure;
                lock.notifyAll();
                if (!closed) {
                    try {
                        lock.wait(retryMillis);
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                }
            }
            retryMillis = Math.min(RETRY_MAX_MILLIS, retryMillis * 2);
        }
    }

    /** Writes the oldest put and takes it off the queue (under {@link #writing}); returns why it failed, or null. */
    private IOException writeAndDequeue(Put head) {
        writing.lock();
        try {
            target.put(head.name(), head.parts());
            synchronized (lock) {
                queue.removeFirst();
                newest.remove(head.name(), head);
                pendingBytes -= head.size();
                written = head.number();
                failing = null;
                lock.notifyAll();
            }
            return null;
        } catch (IOException e) {
            return e;
        } catch (RuntimeException e) {
            return new IOException(e.toString(), e);
        } finally {
            writing.unlock();
        }
    }

    private void waitQuietly() {
        try {
            lock.wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    private void waitOnLock(String name) throws IOException {
        try {
            lock.wait(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("put on " + this + " was interrupted for " + name);
        }
    }

    private void checkOpen(String name) throws IOException {
        if (closed) {
            throw new IOException("put on " + this + " failed for " + name + ": the store is closed");
        }
    }

    /** The writer's failure, for a caller that cannot go on without it (called with the lock held, failing set). */
    private IOException stillFailing(String action, String name) {
        return new IOException(action + " on " + this + " failed for " + name + ": writing " + queue.peekFirst().name()
                + " keeps failing (retried in the background): " + failing.getMessage(), failing);
    }
}
