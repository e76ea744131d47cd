package dev.secondsite.protection;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.replication.ApplyResult;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.DiskState;
import dev.secondsite.replication.GarbageCollector;
import dev.secondsite.replication.GcResult;
import dev.secondsite.replication.RecoveryStore;
import dev.secondsite.replication.ReplicaDisk;
import dev.secondsite.replication.SequenceGapException;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeVisitor;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.replication.segment.SegmentFormatException;
import dev.secondsite.replication.segment.SegmentName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Predicate;

/**
 * The replication engine (ASR's master target role): applies the segments waiting in cache storage to
 * the replica disks in the recovery store, one background thread, disk after disk.
 *
 * <h2>Ordering</h2>
 * Each disk's segments are applied strictly in sequence order: the engine only ever applies sequence
 * {@code lastApplied + 1}, where {@code lastApplied} is the replica's own committed state
 * ({@link ReplicaDisk#lastSequence()}, read from the recovery store), and a segment that is not in cache yet
 * simply waits. Uploads cannot create holes: {@link SegmentIntake} refuses a sequence beyond
 * {@code max(lastApplied, highest cached) + 1} with 409 SequenceGap. Applies of one disk are serialized by
 * the disk's apply lock; different disks are independent.
 *
 * <h2>Crash safety (kill -9 at any instant)</h2>
 * <ol>
 *   <li>A segment is acknowledged (201) only once it and every segment before it are durable: put into cache
 *       storage, or applied and written to the recovery store; before that the agent still holds it.
 *       {@link SegmentIntake} holds a verified segment in memory ({@link DiskRuntime#hold}), from where this engine
 *       applies it, waits a little for the apply, and puts it into cache storage only if the apply is not written
 *       by then. A crash loses held segments, which were not acknowledged: the agent sends them again.</li>
 *   <li>{@link ReplicaDisk#apply} is crash-safe on its own (chunks, then manifests, then the disk state as
 *       commit point; see its class comment): after a crash the replica is at sequence s-1 or s, never in
 *       between, and re-applying s from s-1 yields the same tree, points and bytes.</li>
 *   <li>The cached segment is deleted only after the commit point is durable. The recovery store may be a
 *       {@link dev.secondsite.replication.blob.WriteBehindBlobStore} (the server's is): then {@code apply}
 *       returns with its puts queued, in order, and the engine goes on with the disk's next segment while they
 *       are written; everything that acknowledges an apply (deleting its segment, {@code lastApplied}, the
 *       database mirrors, new points, an ended resync) waits until {@link RecoveryStore#isWritten} says its puts
 *       are done ({@link #finishWritten}). A crash before that leaves the segment in cache and the replica at an
 *       earlier sequence, from which the segment applies again. A crash between commit and delete leaves an
 *       already-applied segment in cache; at the next pass it is recognized by {@code sequence <= lastApplied}
 *       and deleted without being read.</li>
 *   <li>This engine keeps no counter of its own that could disagree with the stores: {@code lastApplied}
 *       is the replica's durable state, "what is pending" is the cache's listing, and the database columns
 *       ({@code last_applied_sequence}, {@code next_sequence}, point times) are mirrors for display,
 *       rewritten from the stores at every start ({@link #start}).</li>
 *   <li>Item state transitions driven from here (InitialReplication to Protected, end of a resync) are
 *       conditional database updates re-derived from the stores after a restart, so a crash between an
 *       apply and its bookkeeping only delays them.</li>
 * </ol>
 *
 * <h2>Errors are never skipped</h2>
 * A segment that fails verification at apply time (bit rot or tampering in cache storage after it was
 * verified on upload) is never applied and never skipped: it moves to quarantine, the segments after it
 * are discarded (they cannot apply without it), the disk gets a Critical health error (SegmentCorrupt)
 * and a full resync request, and the expected next sequence drops back to {@code lastApplied + 1} so the
 * agent resends from there. An I/O failure of the recovery store (full disk, unreachable store) leaves the
 * segment in cache, records a Warning health error and retries with back-off.
 *
 * <h2>Garbage collection</h2>
 * Applies and exports hold {@link #pointsLock} shared, garbage collection holds it exclusively. Every
 * chunk an apply writes is reachable from the replica's state once the apply commits, and no apply is in
 * flight while the collector runs, so it needs no safety margin for writers in this process (the recovery
 * store has no other writer: agents write to cache storage only).
 */
public final class ReplicationEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationEngine.class);
    /** Idle wait between passes when nothing was applied; uploads wake the engine earlier. */
    private static final long IDLE_POLL_MILLIS = 500;
    /** How often cache storage is listed again (uploads landing through another node, files put by hand). */
    private static final long RELIST_MILLIS = 5_000;
    private static final long RETRY_MIN_MILLIS = 1_000;
    /** How long an idle pass waits for queued writes before it looks for segments again. */
    private static final long WRITE_POLL_MILLIS = 50;
    private static final long RETRY_MAX_MILLIS = 60_000;
    /** Health error codes this engine sets. */
    public static final String SEGMENT_CORRUPT = "SegmentCorrupt";
    public static final String RECOVERY_STORE_WRITE_FAILED = "RecoveryStoreWriteFailed";
    /** A marker whose tag is this prefix + the disk's resync id ends that resync. */
    public static final String RESYNC_TAG_PREFIX = "resync:";

    /** What the engine tells the protected-item logic. */
    public interface Listener {
        /** A disk of the item got one or more recovery points. */
        void pointsCreated(String itemId);

        /** A disk of the item finished its resync (its tagged marker was applied). */
        void resyncCompleted(String itemId);

        /** A disk's health error was set or cleared. */
        void healthChanged(String itemId);
    }

    /** A segment held in memory: its bytes, whether they are in cache storage too, whether an apply reads them. */
    private static final class Held {
        final ByteBuffer bytes;
        boolean inCache;
        boolean reading;

        Held(ByteBuffer bytes) {
            this.bytes = bytes;
        }
    }

    /** An applied segment, acknowledged once {@code mark} is written (its puts were all made before it). */
    private record Applied(ApplyResult result, long storedBytes, long mark) {
    }

    /** One replica disk as the engine and the upload path see it. */
    public static final class DiskRuntime {
        final UUID diskId;
        final String itemId;
        final String agentId;
        final String name;
        final long capacityBytes;
        /** Serializes applies of this disk with discard/deactivate. */
        final ReentrantLock applyLock = new ReentrantLock();
        /**
         * Serializes uploads of this disk with each other and with deactivate, discard and dropping its segments:
         * an upload holds it from its last checks through the cache put (a write and fsync of up to 64 MiB), so a
         * stopping disk waits for the put in flight. It is not the monitor, which guards the bookkeeping below and
         * is taken by the apply thread, metrics and heartbeats: none of them waits for an fsync.
         */
        final ReentrantLock intakeLock = new ReentrantLock();
        /**
         * Serializes making this disk's stored segments durable, in sequence order ({@link SegmentIntake}): a
         * segment is acknowledged only once it and every one before it are durable.
         */
        final ReentrantLock durableLock = new ReentrantLock();
        /** Segments written to cache storage (their apply was not written in time, or too many were held). */
        final java.util.concurrent.atomic.LongAdder cacheWrites = new java.util.concurrent.atomic.LongAdder();
        /** Stored, not yet applied segments: sequence to stored bytes. Guarded by this. */
        private final TreeMap<Long, Long> pending = new TreeMap<>();
        /**
         * Those of them held in memory by their uploads instead of (or, once written there, as well as) in cache
         * storage ({@link SegmentIntake}). Guarded by this.
         */
        private final Map<Long, Held> held = new java.util.HashMap<>();
        /** Uncompressed DATA bytes of pending segments, when known (uploaded since the start). Guarded by this. */
        private final Map<Long, Long> pendingData = new java.util.HashMap<>();
        /** Uploads being received, past their first checks and not yet stored or refused: sequence to count. Guarded by this. */
        private final TreeMap<Long, Integer> receiving = new TreeMap<>();
        /** Those of them admitted by the intake's semaphore (reading or holding a body). Guarded by this. */
        private final Set<Long> admitted = new HashSet<>();
        final RateMeter uploaded = new RateMeter();
        final RateMeter churn = new RateMeter();
        private ReplicaDisk replica;
        private volatile long lastApplied;
        private volatile boolean active;
        private volatile Instant lastPoint;
        private volatile Instant lastAppPoint;
        private volatile long recoveryStoreBytes = -1;
        private volatile int recoveryPoints = -1;
        /**
         * Applies whose puts are still queued (write-behind), oldest first; their bookkeeping waits for them.
         * Changed under applyLock; the apply thread peeks without it.
         */
        private final ConcurrentLinkedDeque<Applied> unwritten = new ConcurrentLinkedDeque<>();
        private long retryAt;
        private long retryDelay = RETRY_MIN_MILLIS;
        private volatile boolean transientError;

        DiskRuntime(UUID diskId, String itemId, String agentId, String name, long capacityBytes) {
            this.diskId = diskId;
            this.itemId = itemId;
            this.agentId = agentId;
            this.name = name;
            this.capacityBytes = capacityBytes;
        }

        public UUID diskId() { return diskId; }
        public String itemId() { return itemId; }
        public String agentId() { return agentId; }
        public boolean active() { return active; }
        public long lastApplied() { return lastApplied; }
        public Optional<Instant> lastPoint() { return Optional.ofNullable(lastPoint); }
        public Optional<Instant> lastAppPoint() { return Optional.ofNullable(lastAppPoint); }
        /** Distinct recovery-store bytes this disk's state and points reference (estimate), -1 until measured. */
        public long recoveryStoreBytes() { return recoveryStoreBytes; }
        /** The disk's recovery points (its own manifests) at the last measurement; -1 before it. */
        public int recoveryPoints() { return recoveryPoints; }
        public double uploadBytesPerSecond(long now) { return uploaded.perSecond(now); }
        public double churnBytesPerSecond(long now) { return churn.perSecond(now); }
        public long cacheWrites() { return cacheWrites.sum(); }

        /** Starts or stops accepting uploads; stopping waits for the upload in flight, if any, to be stored. */
        private void setActive(boolean active) {
            intakeLock.lock();
            try {
                this.active = active;
            } finally {
                intakeLock.unlock();
            }
            synchronized (this) {
                notifyAll(); // uploads waiting for their apply
            }
        }

        /** The sequence the server expects next: one past the highest stored or applied. */
        public synchronized long expectedNext() {
            return Math.max(lastApplied, pending.isEmpty() ? 0 : pending.lastKey()) + 1;
        }

        /**
         * The first sequence that is not durable (applied and written, or in cache storage): what the agent must
         * still hold. Beyond {@link #expectedNext} only by segments held in memory, not yet in cache storage.
         */
        public synchronized long durableNext() {
            long next = lastApplied + 1;
            while (pending.containsKey(next) && heldOnly(next) == null) {
                next++;
            }
            return next;
        }

        /** Bytes of this disk's segments stored and not yet applied: in cache storage, or held in memory. */
        public synchronized long cacheBytes() {
            return pending.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Uncompressed change bytes waiting to be applied (stored bytes where unknown, after a restart). */
        public synchronized long pendingApplyBytes() {
            long total = 0;
            for (var e : pending.entrySet()) {
                total += pendingData.getOrDefault(e.getKey(), e.getValue());
            }
            return total;
        }

        /**
         * Registers an upload of {@code sequence} as being received, if it is the sequence expected next or every
         * sequence from that one up to it is being received too (an agent's uploads overlap: the next one's
         * transfer while the previous one is stored). As the requests may arrive out of order, it waits up to
         * {@code graceMillis} for those before it to arrive. Returns false for a gap.
         */
        synchronized boolean startReceiving(long sequence, long graceMillis) throws InterruptedException {
            if (!waitWhile(() -> !predecessorsReceiving(sequence), graceMillis)) {
                return false;
            }
            receiving.merge(sequence, 1, Integer::sum);
            notifyAll();
            return true;
        }

        /** Whether every sequence from the one expected next up to {@code sequence} (excluded) is being received. */
        private boolean predecessorsReceiving(long sequence) {
            for (long before = expectedNext(); before < sequence; before++) {
                if (!receiving.containsKey(before)) {
                    return false;
                }
            }
            return true;
        }

        /**
         * Waits, at most {@code timeoutMillis}, until no upload before {@code sequence} is still waiting to be admitted:
         * a later upload must not take the intake's last permit while an earlier one, which it will wait for, queues.
         */
        synchronized void awaitPredecessorsAdmitted(long sequence, long timeoutMillis) throws InterruptedException {
            waitWhile(() -> expectedNext() < sequence
                    && !admitted.containsAll(receiving.subMap(expectedNext(), sequence).keySet()), timeoutMillis);
        }

        synchronized void admitted(long sequence) {
            admitted.add(sequence);
            notifyAll();
        }

        /** The upload of {@code sequence} was stored or refused: wakes the uploads waiting for it. */
        synchronized void stopReceiving(long sequence, boolean wasAdmitted) {
            Integer left = receiving.computeIfPresent(sequence, (s, count) -> count == 1 ? null : count - 1);
            if (wasAdmitted && left == null) {
                admitted.remove(sequence);
            }
            notifyAll();
        }

        /**
         * Waits, at most {@code timeoutMillis}, while an upload of {@code sequence} would be a gap only because the
         * uploads before it are still being received; returns once it is expected next or one of them ended
         * without being stored.
         */
        synchronized void awaitTurn(long sequence, long timeoutMillis) throws InterruptedException {
            waitWhile(() -> expectedNext() < sequence && predecessorsReceiving(sequence), timeoutMillis);
        }

        /**
         * Waits on this runtime's monitor (the caller holds it) while {@code condition} holds, at most
         * {@code timeoutMillis}; returns whether it stopped holding.
         */
        private boolean waitWhile(java.util.function.BooleanSupplier condition, long timeoutMillis)
                throws InterruptedException {
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
            while (condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                wait(Math.max(1, left / 1_000_000L));
            }
            return true;
        }

        /**
         * Waits, at most {@code timeoutMillis}, while {@code sequence} is stored but not yet applied and written, and
         * the disk is active.
         */
        synchronized void awaitApplied(long sequence, long timeoutMillis) throws InterruptedException {
            waitWhile(() -> lastApplied < sequence && active && pending.containsKey(sequence), timeoutMillis);
        }

        /** Holds a stored segment's bytes in memory (the caller adds it as pending too). */
        synchronized void hold(long sequence, ByteBuffer bytes) {
            held.put(sequence, new Held(bytes));
        }

        /** The bytes of a held segment that is not in cache storage yet, or null. */
        synchronized ByteBuffer heldOnly(long sequence) {
            Held h = held.get(sequence);
            return h == null || h.inCache ? null : h.bytes;
        }

        /** A held segment was written to cache storage, durably: the apply may read it from there. */
        synchronized void heldInCache(long sequence) {
            Held h = held.get(sequence);
            if (h != null) {
                h.inCache = true;
            }
        }

        /**
         * The upload that held {@code sequence} is done: forgets it if it is applied, dropped or in cache storage,
         * and returns whether its buffer may be used again (no apply reads it, and nothing will).
         */
        synchronized boolean release(long sequence) {
            Held h = held.get(sequence);
            if (h == null) {
                return true; // applied or dropped, and no apply reads a segment that is applied or dropped
            }
            if (!h.inCache) {
                return false; // only here (writing it failed): kept for the apply, or for the retry that writes it
            }
            held.remove(sequence);
            return !h.reading;
        }

        /** The bytes of a held segment for the apply thread, marked as being read; null if it is not held. */
        private synchronized ByteBuffer startReading(long sequence) {
            Held h = held.get(sequence);
            if (h == null) {
                return null;
            }
            h.reading = true;
            return h.bytes;
        }

        private synchronized void doneReading(long sequence) {
            Held h = held.get(sequence);
            if (h != null) {
                h.reading = false;
            }
        }

        synchronized boolean isStoredOrApplied(long sequence) {
            return sequence <= lastApplied || pending.containsKey(sequence);
        }

        synchronized void addPending(long sequence, long storedBytes, long dataBytes) {
            if (sequence > lastApplied) {
                pending.put(sequence, storedBytes);
                if (dataBytes >= 0) {
                    pendingData.put(sequence, dataBytes);
                }
            }
        }

        private synchronized Long pendingSize(long sequence) {
            return pending.get(sequence);
        }

        private synchronized List<Long> pendingUpTo(long sequence) {
            return new ArrayList<>(pending.headMap(sequence, true).keySet());
        }

        private synchronized void removePending(long sequence) {
            pending.remove(sequence);
            pendingData.remove(sequence);
            held.remove(sequence);
        }

        /** Forgets the pending segments after {@code sequence} and returns them. */
        private synchronized List<Long> clearPendingAfter(long sequence) {
            List<Long> later = new ArrayList<>(pending.tailMap(sequence, false).keySet());
            later.forEach(this::removePending);
            notifyAll();
            return later;
        }

        private synchronized void applied(long sequence) {
            lastApplied = Math.max(lastApplied, sequence);
            removePending(sequence);
            notifyAll();
        }
    }

    private final ProtectionStore store;
    private final CacheStorage cache;
    private final RecoveryStore recovery;
    private final Clock clock;
    private final Map<UUID, DiskRuntime> disks = new ConcurrentHashMap<>();
    private final ReentrantReadWriteLock pointsLock = new ReentrantReadWriteLock();
    private final Semaphore wake = new Semaphore(0);
    private volatile Listener listener = new Listener() {
        @Override public void pointsCreated(String itemId) { }
        @Override public void resyncCompleted(String itemId) { }
        @Override public void healthChanged(String itemId) { }
    };
    private volatile boolean running;
    private Thread thread;

    public ReplicationEngine(ProtectionStore store, CacheStorage cache, RecoveryStore recovery, Clock clock) {
        this.store = store;
        this.cache = cache;
        this.recovery = recovery;
        this.clock = clock;
    }

    public void listener(Listener listener) {
        this.listener = listener;
    }

    public RecoveryStore recovery() {
        return recovery;
    }

    public CacheStorage cache() {
        return cache;
    }

    /**
     * Loads every protected disk from the stores (replica state, cached segments, latest points), rewrites
     * the database mirrors from them, and starts the apply thread.
     */
    public void start() throws IOException {
        for (ProtectionStore.Disk disk : store.disks()) {
            load(disk);
        }
        running = true;
        thread = Thread.ofPlatform().name("replication-engine").daemon(true).start(this::loop);
    }

    /** Makes the engine aware of a (new) protected disk, creating its replica if it has none yet. Idempotent. */
    public DiskRuntime track(ProtectionStore.Disk disk) throws IOException {
        DiskRuntime existing = disks.get(disk.diskId());
        if (existing != null) {
            existing.setActive(disk.replicating());
            return existing;
        }
        if (recovery.states().read(disk.diskId()).isEmpty()) {
            ReplicaDisk.create(recovery, disk.diskId(), new DiskGeometry(disk.capacityBytes(), disk.chunkBytes()));
        }
        return load(disk);
    }

    private DiskRuntime load(ProtectionStore.Disk disk) throws IOException {
        Optional<DiskState> state = recovery.states().read(disk.diskId());
        if (state.isEmpty()) {
            return null; // the enable task has not created the replica yet; it will call track()
        }
        DiskRuntime rt = new DiskRuntime(disk.diskId(), disk.itemKey(), disk.agentId(), disk.name(), disk.capacityBytes());
        rt.replica = ReplicaDisk.open(recovery, disk.diskId());
        rt.lastApplied = rt.replica.lastSequence();
        for (var e : cache.list(disk.diskId()).entrySet()) {
            if (e.getKey() <= rt.lastApplied) {
                deleteQuietly(rt, e.getKey(), true); // applied before a crash that came before its cache delete
            } else {
                rt.addPending(e.getKey(), e.getValue(), -1);
            }
        }
        List<RecoveryPointManifest> points = recovery.points().list(disk.diskId());
        if (!points.isEmpty()) {
            rt.lastPoint = points.getLast().createdAt();
            for (RecoveryPointManifest p : points.reversed()) {
                if (p.consistency() == ConsistencyType.APP_CONSISTENT) {
                    rt.lastAppPoint = p.createdAt();
                    break;
                }
            }
        }
        rt.active = disk.replicating();
        // A store failure reported before a restart is cleared by the first apply acknowledged after it.
        rt.transientError = disk.healthError() != null
                && RECOVERY_STORE_WRITE_FAILED.equals(disk.healthError().path("errorCode").asText());
        store.syncMirrors(disk.diskId(), rt.lastApplied, rt.expectedNext(), millis(rt.lastPoint), millis(rt.lastAppPoint));
        DiskRuntime raced = disks.putIfAbsent(disk.diskId(), rt);
        return raced != null ? raced : rt;
    }

    public Optional<DiskRuntime> runtime(UUID diskId) {
        return Optional.ofNullable(disks.get(diskId));
    }

    public Collection<DiskRuntime> runtimes() {
        return disks.values();
    }

    /** Starts or stops applying (and accepting uploads for) these disks; stopping waits for an apply in flight. */
    public void setActive(Collection<UUID> diskIds, boolean active) {
        for (UUID id : diskIds) {
            DiskRuntime rt = disks.get(id);
            if (rt != null) {
                rt.setActive(active);
                if (!active) {
                    rt.applyLock.lock(); // waits for the apply in flight, if any
                    try {
                        awaitWritten(rt); // and for its writes, so that what stops is acknowledged
                    } catch (IOException e) {
                        // The writes are retried; the apply thread acknowledges them once they are done.
                        LOG.warn("disk {} stopped with applies not yet written: {}", rt.diskId, e.getMessage());
                    } finally {
                        rt.applyLock.unlock();
                    }
                }
            }
        }
        signal();
    }

    /** Wakes the apply thread: a segment was stored. */
    public void signal() {
        wake.release();
    }

    /**
     * Drops the disks' segments that were stored but not applied, for good: a committed failover does not want
     * the source's writes after its recovery point (the recovered VM is the disk now), and they would otherwise
     * be applied on top of that point when the item is reprotected. Returns how many segments were dropped.
     */
    public int dropPending(Collection<UUID> diskIds) {
        int dropped = 0;
        for (UUID id : diskIds) {
            DiskRuntime rt = disks.get(id);
            if (rt == null) {
                continue;
            }
            rt.intakeLock.lock(); // an upload in flight is stored first, then dropped with the rest
            rt.applyLock.lock();
            try {
                // Segments applied already (their writes perhaps still queued) are not dropped: they are the point.
                for (long sequence : rt.clearPendingAfter(rt.replica == null ? rt.lastApplied : rt.replica.lastSequence())) {
                    deleteQuietly(rt, sequence, false);
                    dropped++;
                }
                store.syncMirrors(rt.diskId, rt.lastApplied, rt.expectedNext(), millis(rt.lastPoint),
                        millis(rt.lastAppPoint));
            } finally {
                rt.applyLock.unlock();
                rt.intakeLock.unlock();
            }
        }
        return dropped;
    }

    /**
     * Deletes everything the engine keeps for these disks - cached and quarantined segments, recovery point
     * manifests, replica state - then collects garbage so their chunks go too. Idempotent.
     */
    public GcResult discard(Collection<UUID> diskIds) throws IOException {
        List<DiskRuntime> stopped = new ArrayList<>();
        for (UUID id : diskIds) {
            DiskRuntime rt = disks.remove(id);
            if (rt != null) {
                rt.setActive(false);
                rt.applyLock.lock();
                stopped.add(rt);
            }
        }
        try {
            pointsLock.writeLock().lock();
            try {
                for (UUID id : diskIds) {
                    cache.deleteAll(id);
                    for (String name : recovery.points().names(id)) {
                        recovery.points().delete(name);
                    }
                    recovery.states().delete(id);
                }
                return collectLocked();
            } finally {
                pointsLock.writeLock().unlock();
            }
        } finally {
            stopped.forEach(rt -> rt.applyLock.unlock());
        }
    }

    /** Retention: deletes the disk's points that {@code keep} rejects (never its newest). Returns how many. */
    public int retain(UUID diskId, Predicate<RecoveryPointManifest> keep) throws IOException {
        return recovery.points().retain(diskId, keep).size();
    }

    /** Garbage collection of the recovery store, excluding applies and exports while it runs. */
    public GcResult collectGarbage() throws IOException {
        pointsLock.writeLock().lock();
        try {
            return collectLocked();
        } finally {
            pointsLock.writeLock().unlock();
        }
    }

    private GcResult collectLocked() throws IOException {
        GcResult result = new GarbageCollector(recovery, clock, Duration.ZERO).collect();
        if (result.deletedFiles() > 0) {
            LOG.info("garbage collection freed {} bytes in {} chunk files", result.freedBytes(), result.deletedFiles());
        }
        return result;
    }

    /** Runs work that reads recovery points (an export) while garbage collection cannot delete their chunks. */
    public <T> T withPointsStable(IoSupplier<T> work) throws IOException {
        pointsLock.readLock().lock();
        try {
            return work.get();
        } finally {
            pointsLock.readLock().unlock();
        }
    }

    @FunctionalInterface
    public interface IoSupplier<T> {
        T get() throws IOException;
    }

    /**
     * Measures, per disk, the distinct recovery-store bytes its current state and points reference
     * (logical chunk bytes plus tree nodes), and counts its points. For display; a disk whose tree cannot be read
     * keeps its last figures.
     */
    public void measureStoreBytes() {
        for (DiskRuntime rt : disks.values()) {
            pointsLock.readLock().lock();
            try {
                Set<ChunkDigest> seen = new HashSet<>();
                long[] bytes = new long[1];
                List<DiskTree> roots = new ArrayList<>();
                Optional<DiskState> state = recovery.states().read(rt.diskId);
                state.ifPresent(s -> roots.add(new DiskTree(recovery.chunks(), s.geometry(), s.root())));
                List<RecoveryPointManifest> points = recovery.points().list(rt.diskId);
                for (RecoveryPointManifest m : points) {
                    roots.add(new DiskTree(recovery.chunks(), m.geometry(), m.root()));
                }
                for (DiskTree tree : roots) {
                    int chunkBytes = tree.geometry().chunkBytes();
                    tree.walk(new TreeVisitor() {
                        @Override
                        public boolean enterNode(int level, long index, ChunkDigest digest) {
                            if (!seen.add(digest)) {
                                return false;
                            }
                            bytes[0] += (long) DiskGeometry.NODE_FANOUT * ChunkDigest.BYTES;
                            return true;
                        }

                        @Override
                        public void chunk(long index, ChunkDigest digest) {
                            if (seen.add(digest)) {
                                bytes[0] += chunkBytes;
                            }
                        }
                    });
                }
                rt.recoveryStoreBytes = bytes[0];
                rt.recoveryPoints = points.size();
            } catch (IOException | RuntimeException e) {
                LOG.warn("measuring the recovery store bytes of disk {} failed: {}", rt.diskId, e.toString());
            } finally {
                pointsLock.readLock().unlock();
            }
        }
    }

    // ---- the apply thread ----

    private void loop() {
        long lastRelist = System.currentTimeMillis();
        while (running) {
            boolean worked = false;
            try {
                for (DiskRuntime rt : disks.values()) {
                    if (!running) {
                        return;
                    }
                    worked |= applyNext(rt);
                }
                if (System.currentTimeMillis() - lastRelist > RELIST_MILLIS) {
                    relist();
                    lastRelist = System.currentTimeMillis();
                }
                if (!worked && !awaitQueuedWrites()) {
                    wake.tryAcquire(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
                    wake.drainPermits();
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | Error e) {
                LOG.error("replication engine pass failed; continuing", e);
                sleepQuietly(IDLE_POLL_MILLIS);
            }
        }
    }

    /** Adds segments found in cache storage that the engine did not know about (never removes any). */
    private void relist() {
        for (DiskRuntime rt : disks.values()) {
            if (!rt.active) {
                continue;
            }
            try {
                for (var e : cache.list(rt.diskId).entrySet()) {
                    if (e.getKey() <= rt.lastApplied) {
                        deleteQuietly(rt, e.getKey(), true); // an applied leftover (this thread is the only applier)
                    } else if (!rt.isStoredOrApplied(e.getKey())) {
                        rt.addPending(e.getKey(), e.getValue(), -1);
                    }
                }
            } catch (IOException e) {
                LOG.warn("listing cache storage for disk {} failed: {}", rt.diskId, e.toString());
            }
        }
    }

    /**
     * With nothing to apply, waits a little for queued writes, if any (then returns true: the next pass
     * acknowledges them). Reports writes that keep failing on the disks waiting for them, and returns false.
     */
    private boolean awaitQueuedWrites() {
        List<DiskRuntime> waiting = disks.values().stream().filter(rt -> !rt.unwritten.isEmpty()).toList();
        if (waiting.isEmpty()) {
            return false;
        }
        try {
            recovery.awaitWritten(recovery.writeMark(), WRITE_POLL_MILLIS);
            return true;
        } catch (IOException e) {
            for (DiskRuntime rt : waiting) {
                Applied oldest = rt.unwritten.peekFirst();
                if (oldest != null) {
                    reportStoreFailure(rt, "Writing applied segment " + oldest.result().segmentName()
                            + " to the recovery store failed: ", e);
                }
            }
            return false;
        }
    }

    /**
     * Acknowledges the disk's applies whose writes are done, oldest first (under its apply lock). Returns whether
     * there were any.
     */
    private boolean finishWritten(DiskRuntime rt) {
        boolean any = false;
        for (Applied oldest = rt.unwritten.peekFirst(); oldest != null && recovery.isWritten(oldest.mark());
                oldest = rt.unwritten.peekFirst()) {
            rt.unwritten.removeFirst();
            acknowledge(rt, oldest);
            any = true;
        }
        return any;
    }

    /** Waits until the disk's applies are written and acknowledges them (under its apply lock). */
    private void awaitWritten(DiskRuntime rt) throws IOException {
        Applied newest = rt.unwritten.peekLast();
        if (newest != null) {
            while (!recovery.awaitWritten(newest.mark(), IDLE_POLL_MILLIS)) {
                LOG.debug("waiting for the writes of disk {}", rt.diskId);
            }
            finishWritten(rt);
        }
    }

    /** Applies the disk's next segment if it is stored, and acknowledges applies written; returns whether there was work. */
    boolean applyNext(DiskRuntime rt) {
        if (!rt.applyLock.tryLock()) {
            return false; // being discarded or deactivated
        }
        try {
            boolean acknowledged = finishWritten(rt);
            if (!rt.active || rt.replica == null || System.currentTimeMillis() < rt.retryAt) {
                return acknowledged;
            }
            // Leftovers of a crash between an apply's commit and its cache delete: applied already.
            for (long done : rt.pendingUpTo(rt.lastApplied)) {
                deleteQuietly(rt, done, true);
                rt.removePending(done);
            }
            long next = rt.replica.lastSequence() + 1; // ahead of lastApplied while its writes are queued
            Long storedBytes = rt.pendingSize(next);
            if (storedBytes == null) {
                return acknowledged;
            }
            String name = SegmentName.of(rt.diskId, next);
            ApplyResult result;
            pointsLock.readLock().lock();
            ByteBuffer heldBytes = rt.startReading(next);
            try {
                Optional<InputStream> opened = heldBytes != null
                        ? Optional.of(new ByteArrayInputStream(heldBytes.array(), heldBytes.arrayOffset()
                                + heldBytes.position(), heldBytes.remaining()))
                        : cache.open(rt.diskId, next);
                if (opened.isEmpty()) {
                    LOG.warn("segment {} vanished from cache storage before it was applied", name);
                    rt.removePending(next);
                    return true;
                }
                try (InputStream in = opened.get()) {
                    result = rt.replica.apply(name, in);
                }
            } catch (SegmentFormatException | IllegalArgumentException e) {
                corrupt(rt, next, e);
                return true;
            } catch (SequenceGapException e) {
                // Cannot happen (we apply lastApplied + 1 only); resynchronize with the store and go on.
                LOG.error("segment {}: {}; reopening the replica", name, e.getMessage());
                reopen(rt);
                return true;
            } catch (IOException | RuntimeException e) {
                failedTransiently(rt, name, e);
                return false;
            } finally {
                if (heldBytes != null) {
                    rt.doneReading(next);
                }
                pointsLock.readLock().unlock();
            }

            rt.retryDelay = RETRY_MIN_MILLIS;
            rt.unwritten.addLast(new Applied(result, storedBytes, recovery.writeMark()));
            finishWritten(rt);
            return true;
        } finally {
            rt.applyLock.unlock();
        }
    }

    /**
     * The bookkeeping of an apply whose commit point is durable (its puts written): only now is its segment
     * dropped from cache storage, and its points, end of resync and sequence shown.
     */
    private void acknowledge(DiskRuntime rt, Applied applied) {
        ApplyResult result = applied.result();
        rt.applied(result.sequence()); // first: an upload that finds its segment gone then knows it was applied
        deleteQuietly(rt, result.sequence(), true);
        Long pointAt = null;
        Long appPointAt = null;
        List<String> resyncTags = new ArrayList<>();
        for (RecoveryPointManifest point : result.points()) {
            rt.lastPoint = point.createdAt();
            pointAt = point.createdAt().toEpochMilli();
            if (point.consistency() == ConsistencyType.APP_CONSISTENT) {
                rt.lastAppPoint = point.createdAt();
                appPointAt = pointAt;
            }
            if (point.tag().startsWith(RESYNC_TAG_PREFIX)) {
                resyncTags.add(point.tag().substring(RESYNC_TAG_PREFIX.length()));
            }
        }
        store.recordApply(rt.diskId, result.sequence(), applied.storedBytes(), pointAt, appPointAt);
        if (rt.transientError) {
            rt.transientError = false;
            store.clearTransientHealthError(rt.diskId, RECOVERY_STORE_WRITE_FAILED);
            listener.healthChanged(rt.itemId);
        }
        boolean resynced = false;
        for (String id : resyncTags) {
            resynced |= store.completeResync(rt.diskId, id);
        }
        if (resynced) {
            listener.resyncCompleted(rt.itemId);
        }
        if (!result.points().isEmpty()) {
            listener.pointsCreated(rt.itemId);
        }
    }

    /**
     * A stored segment that does not verify: quarantine it, drop the segments after it (they cannot apply
     * without it), flag the disk Critical and ask the agent for a full resync from lastApplied + 1.
     */
    private void corrupt(DiskRuntime rt, long sequence, Exception e) {
        LOG.error("segment {} of disk {} is corrupt in cache storage and will not be applied: {}",
                sequence, rt.diskId, e.getMessage());
        try {
            cache.quarantine(rt.diskId, sequence);
        } catch (IOException q) {
            LOG.error("quarantining segment {} of disk {} failed: {}", sequence, rt.diskId, q.toString());
        }
        for (long later : rt.clearPendingAfter(sequence - 1)) {
            if (later != sequence) {
                deleteQuietly(rt, later, false);
            }
        }
        long now = clock.millis();
        ObjectNode error = HealthErrors.error(SEGMENT_CORRUPT, HealthErrors.ERROR,
                "A replicated change segment is corrupt",
                "Segment " + sequence + " of disk '" + rt.name + "' (" + rt.diskId + ") failed verification in cache "
                        + "storage and was not applied: " + e.getMessage(),
                "The segment was damaged in cache storage after it was received (storage fault or tampering).",
                "The server moved the segment to quarantine and asked the agent for a full resync of the disk; "
                        + "replication resumes when the resync's marker is applied. Check the cache storage's health.",
                rt.diskId.toString(), now);
        // The resync is requested before the disk shows Critical, so whoever sees the error also sees the resync.
        store.requestResync(rt.diskId, UUID.randomUUID().toString(), true, now);
        store.setHealthError(rt.diskId, error);
        store.syncMirrors(rt.diskId, rt.lastApplied, rt.expectedNext(), millis(rt.lastPoint), millis(rt.lastAppPoint));
        listener.healthChanged(rt.itemId);
    }

    private void failedTransiently(DiskRuntime rt, String name, Exception e) {
        LOG.warn("applying segment {} failed; retrying in {} ms: {}", name, rt.retryDelay, e.toString());
        rt.retryAt = System.currentTimeMillis() + rt.retryDelay;
        rt.retryDelay = Math.min(RETRY_MAX_MILLIS, rt.retryDelay * 2);
        reportStoreFailure(rt, "Applying segment " + name + " to the recovery store failed: ", e);
        try {
            reopen(rt); // an apply that failed midway may have left the in-memory tree ahead of the store
        } catch (RuntimeException ignored) {
            // reopen logs its own failure
        }
    }

    /** Sets the disk's Warning health error for a failing recovery store, once until an apply is acknowledged. */
    private void reportStoreFailure(DiskRuntime rt, String what, Exception e) {
        if (!rt.transientError) {
            rt.transientError = true;
            LOG.warn("disk {}: {}{}", rt.diskId, what, e.getMessage());
            store.setHealthError(rt.diskId, HealthErrors.error(RECOVERY_STORE_WRITE_FAILED, HealthErrors.WARNING,
                    "Changes can't be written to the recovery store", what + e.getMessage(),
                    CacheStorage.isOutOfSpace(e) ? "The recovery store's file system is full."
                            : "The recovery store is unavailable or failing.",
                    "Free space in (or repair) the recovery store. The changes stay in cache storage and are applied "
                            + "automatically when writing works again.", rt.diskId.toString(), clock.millis()));
            listener.healthChanged(rt.itemId);
        }
    }

    /** Reads the replica back from the store, once its queued writes are done (so the two agree). */
    private void reopen(DiskRuntime rt) {
        try {
            awaitWritten(rt);
            rt.replica = ReplicaDisk.open(recovery, rt.diskId);
            rt.lastApplied = rt.replica.lastSequence();
        } catch (IOException e) {
            LOG.error("reopening replica disk {} failed: {}", rt.diskId, e.toString());
        }
    }

    /**
     * Deletes a segment from cache storage: one {@code applied} already without waiting for the delete to be durable
     * (if it comes back after a crash it is recognized as applied), one dropped unapplied durably.
     */
    private void deleteQuietly(DiskRuntime rt, long sequence, boolean applied) {
        try {
            if (applied) {
                cache.deleteApplied(rt.diskId, sequence);
            } else {
                cache.delete(rt.diskId, sequence);
            }
        } catch (IOException e) {
            // An applied segment left in cache is recognized and deleted on a later pass.
            LOG.warn("deleting segment {} of disk {} from cache failed: {}", sequence, rt.diskId, e.toString());
        }
    }

    private static Long millis(Instant instant) {
        return instant == null ? null : instant.toEpochMilli();
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        signal();
        if (thread != null) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
