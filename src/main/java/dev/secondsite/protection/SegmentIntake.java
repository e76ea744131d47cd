package dev.secondsite.protection;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Json;
import dev.secondsite.replication.segment.SegmentFormatException;
import dev.secondsite.replication.segment.SegmentName;
import dev.secondsite.replication.segment.SegmentReader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Receives segment uploads ({@code PUT /agent/v1/disks/{diskId}/segments/{sequence}}, agent-protocol §4): checks
 * the disk and the sequence, verifies the whole segment, stores it, wakes the replication engine, and answers
 * once the segment is durable (the acknowledgement point).
 *
 * <p>Durable means written to cache storage, or applied and written to the recovery store. A verified segment is
 * first held in memory, where the engine applies it from; when the engine is close behind, the upload waits a
 * little ({@link #APPLY_WAIT_MILLIS}) for the apply, and only if that is not written by then does it write the
 * segment to cache storage. So at full speed each changed byte is written to the server's disk once (into the
 * recovery store) instead of twice; cache storage takes what the engine cannot apply in time. (Writing it
 * without fsync and deleting it once applied does not do that: with the guest's and the store's writes going on,
 * the kernel writes such files back within a second.) Durability goes in sequence order: an upload writes every
 * held segment before its own first, so the acknowledged segments are always a prefix of the stored ones. A
 * crash loses only held segments, which no agent has had acknowledged.
 */
public final class SegmentIntake {
    /** Largest segment body accepted (agent-protocol: SEGMENT_BYTES_MAX). */
    public static final int SEGMENT_BYTES_MAX = 64 << 20;
    /** Uploads verified at once; bounds the memory held by bodies (each up to SEGMENT_BYTES_MAX). */
    private static final int CONCURRENT_UPLOADS = 4;
    private static final long BUSY_WAIT_SECONDS = 60;
    /** How long a received upload waits for the uploads of the sequences before it to be stored. */
    private static final long PREDECESSOR_WAIT_MILLIS = 60_000;
    /** How long an upload that looks like a gap waits for the uploads before it to arrive (requests overtake). */
    private static final long REORDER_GRACE_MILLIS = 1_000;
    /**
     * How long a stored upload waits for the engine to apply and write it before writing it to cache storage itself:
     * long enough for the apply of the agent's uploads in flight on a busy, slow disk, where every cache write makes
     * the apply slower still. A CDP agent starts its next pass as soon as the last one is acknowledged, so the wait
     * costs points little: at 100 MB/s on a disk that writes 263-300 MB/s, 3 s put no segment into cache storage and
     * the disk wrote 2.4 bytes per changed byte, against 3.3-3.5 and most segments with 0.5 s; at 50 MB/s the RPO
     * stayed under 3 s (docs/benchmarks.md, 2026-12-07, night). An engine further behind than
     * {@link #APPLY_WAIT_DEPTH} is not waited for at all.
     */
    private static final long APPLY_WAIT_MILLIS = 3_000;
    /**
     * An upload waits for its apply only if at most this many of the disk's segments, itself included, are not
     * applied and written (the agent's uploads in flight, and one the engine is on): further behind, the apply
     * would not come in time, and cache storage is what absorbs the backlog.
     */
    private static final int APPLY_WAIT_DEPTH = 4;
    /**
     * Most bytes of segments held in memory while their uploads wait for the apply, all disks together (a few
     * disks' worth of uploads in flight); past it, uploads are written to cache storage at once.
     */
    private static final long HELD_BYTES_MAX = 256L << 20;

    private static final String STORED = "Stored";
    private static final String ALREADY_STORED = "AlreadyStored";
    private static final String ALREADY_APPLIED = "AlreadyApplied";

    /** How an upload ended: 201 stored, or 200 already stored / already applied. */
    public record Outcome(int status, String result, UUID diskId, long sequence, long nextSequence) {
        public ObjectNode body() {
            ObjectNode body = Json.object();
            body.put("diskId", diskId.toString());
            body.put("sequence", sequence);
            body.put("result", result);
            body.put("nextSequence", nextSequence);
            return body;
        }
    }

    private final ReplicationEngine engine;
    private final ProtectionStore store;
    private final Clock clock;
    private final Semaphore uploads = new Semaphore(CONCURRENT_UPLOADS, true);
    /**
     * Body arrays of earlier uploads, kept for the next ones (at most one per upload the semaphore lets in): a new
     * array of tens of MB per upload is a humongous allocation for G1, zeroed before the body is read into it.
     * Only {@code [0, length)} of an array is ever the current body. Holds what the semaphore bounds anyway (up to
     * CONCURRENT_UPLOADS x SEGMENT_BYTES_MAX), kept instead of allocated again.
     */
    private final ConcurrentLinkedQueue<byte[]> bodyBuffers = new ConcurrentLinkedQueue<>();
    /** Bytes of the segments held in memory now ({@link #HELD_BYTES_MAX}). */
    private final java.util.concurrent.atomic.AtomicLong heldBytes = new java.util.concurrent.atomic.AtomicLong();

    private final long applyWaitMillis;

    public SegmentIntake(ReplicationEngine engine, ProtectionStore store, Clock clock) {
        this(engine, store, clock, APPLY_WAIT_MILLIS);
    }

    /** With another wait for the apply than {@link #APPLY_WAIT_MILLIS} (tests). */
    SegmentIntake(ReplicationEngine engine, ProtectionStore store, Clock clock, long applyWaitMillis) {
        this.engine = engine;
        this.store = store;
        this.clock = clock;
        this.applyWaitMillis = applyWaitMillis;
    }

    /**
     * Handles one upload for the authenticated agent. {@code contentLength} is -1 when the request did not
     * say. Throws ArmException for every refusal (400, 404, 409, 413, 503, 507).
     */
    public Outcome receive(String agentId, String diskIdText, String sequenceText, long contentLength, InputStream body)
            throws IOException {
        UUID diskId;
        try {
            diskId = UUID.fromString(diskIdText);
        } catch (IllegalArgumentException e) {
            throw unknownDisk(diskIdText);
        }
        long sequence;
        try {
            sequence = Long.parseLong(sequenceText);
        } catch (NumberFormatException e) {
            sequence = -1;
        }
        if (sequence < 0) {
            throw new ArmException(400, "InvalidSegmentSequence", "The sequence '" + sequenceText
                    + "' is not a whole number between 0 and " + Long.MAX_VALUE + ".");
        }
        ReplicationEngine.DiskRuntime rt = engine.runtime(diskId)
                .filter(r -> r.agentId().equals(agentId) && r.active())
                .orElseThrow(() -> unknownDisk(diskIdText));
        if (contentLength > SEGMENT_BYTES_MAX) {
            throw tooLarge(contentLength);
        }
        Stored stored = store(rt, diskId, sequence, contentLength, body);
        try {
            if (!stored.outcome().result().equals(ALREADY_APPLIED)) {
                makeDurable(rt, sequence);
            }
        } finally {
            if (stored.held() != null) {
                heldBytes.addAndGet(-stored.held().remaining());
                if (rt.release(sequence)) {
                    keepBodyBuffer(stored.held().array());
                }
            }
        }
        return stored.outcome();
    }

    /** A stored upload, and its bytes if it is held in memory rather than in cache storage. */
    private record Stored(Outcome outcome, ByteBuffer held) {
    }

    /**
     * Stores the upload once the uploads before it are stored: holds it in memory for its apply or, past
     * {@link #HELD_BYTES_MAX}, puts it into cache storage. Holds one of the intake's permits while its body is read
     * and verified. Or finds it stored or applied already.
     */
    private Stored store(ReplicationEngine.DiskRuntime rt, UUID diskId, long sequence, long contentLength,
                         InputStream body) throws IOException {
        Outcome duplicate = duplicate(rt, sequence);
        if (duplicate != null) {
            return new Stored(duplicate, null);
        }
        boolean acquired = false;
        try {
            if (!rt.startReceiving(sequence, REORDER_GRACE_MILLIS)) {
                throw sequenceGap(rt, sequence);
            }
            try {
                rt.awaitPredecessorsAdmitted(sequence, BUSY_WAIT_SECONDS * 1000);
                acquired = uploads.tryAcquire(BUSY_WAIT_SECONDS, TimeUnit.SECONDS);
                if (!acquired) {
                    throw new ArmException(503, "ServerBusy", "The server is verifying " + CONCURRENT_UPLOADS
                            + " other segments; retry the upload.");
                }
                rt.admitted(sequence);
                return storeAdmitted(rt, diskId, sequence, contentLength, body);
            } finally {
                rt.stopReceiving(sequence, acquired);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw stopping();
        } finally {
            if (acquired) {
                uploads.release();
            }
        }
    }

    /**
     * The rest of {@link #store}, holding one of the intake's permits, while the upload counts as being
     * received (the next sequence may follow it).
     */
    private Stored storeAdmitted(ReplicationEngine.DiskRuntime rt, UUID diskId, long sequence, long contentLength,
                                 InputStream body) throws IOException, InterruptedException {
        byte[] buffer = null;
        ByteBuffer held = null;
        try {
            buffer = contentLength < 0 ? null : takeBodyBuffer((int) contentLength);
            ByteBuffer segment = readBody(body, contentLength, buffer);
            long dataBytes = verify(diskId, sequence, segment, rt.capacityBytes);
            rt.awaitTurn(sequence, PREDECESSOR_WAIT_MILLIS); // outside the intake lock, which the predecessor needs
            long now = clock.millis();
            rt.intakeLock.lock();
            try {
                // Checked again under the disk's intake lock: a concurrent upload may have stored it, or the disk
                // may have been disabled, meanwhile. The put happens under the lock too, so disabling waits for it.
                if (!rt.active()) {
                    throw unknownDisk(diskId.toString());
                }
                Outcome duplicate = duplicate(rt, sequence);
                if (duplicate != null) {
                    return new Stored(duplicate, null);
                }
                checkSequence(rt, sequence);
                if (heldBytes.addAndGet(segment.remaining()) <= HELD_BYTES_MAX) {
                    held = segment;
                    rt.hold(sequence, segment); // before it is pending: the apply looks for it once it is
                } else {
                    heldBytes.addAndGet(-segment.remaining());
                    try {
                        engine.cache().put(diskId, sequence, segment);
                    } catch (IOException e) {
                        throw cacheFailed(diskId, sequence, e);
                    }
                    rt.cacheWrites.increment();
                }
                rt.addPending(sequence, segment.remaining(), dataBytes);
            } finally {
                rt.intakeLock.unlock();
            }
            rt.uploaded.add(now, segment.remaining());
            rt.churn.add(now, dataBytes);
            long next = rt.expectedNext();
            store.recordUpload(diskId, segment.remaining(), next, now);
            engine.signal();
            return new Stored(new Outcome(201, STORED, diskId, sequence, next), held);
        } finally {
            if (buffer != null && held == null) {
                keepBodyBuffer(buffer);
            }
        }
    }

    /** Keeps a body array for a later upload, unless enough are kept already. */
    private void keepBodyBuffer(byte[] buffer) {
        if (bodyBuffers.size() < CONCURRENT_UPLOADS) {
            bodyBuffers.offer(buffer);
        }
    }

    /** A kept body array of at least {@code length} bytes, or a new one (a kept one too small is dropped). */
    private byte[] takeBodyBuffer(int length) {
        byte[] buffer = bodyBuffers.poll();
        return buffer != null && buffer.length >= length ? buffer : new byte[length];
    }

    private static Outcome duplicate(ReplicationEngine.DiskRuntime rt, long sequence) {
        synchronized (rt) {
            if (sequence <= rt.lastApplied()) {
                return new Outcome(200, ALREADY_APPLIED, rt.diskId(), sequence, rt.expectedNext());
            }
            if (rt.isStoredOrApplied(sequence)) {
                return new Outcome(200, ALREADY_STORED, rt.diskId(), sequence, rt.expectedNext());
            }
            return null;
        }
    }

    /**
     * The request body, at most {@link #SEGMENT_BYTES_MAX} bytes, as {@code [0, length)} of an array. With a
     * Content-Length the bytes are read into {@code buffer} (no gathering and second copy of a segment of tens of
     * MB); a body longer than it said is refused, a shorter one is returned as it is and fails verification as
     * truncated.
     */
    private static ByteBuffer readBody(InputStream body, long contentLength, byte[] buffer) throws IOException {
        if (contentLength < 0) {
            byte[] segment = body.readNBytes(SEGMENT_BYTES_MAX + 1);
            if (segment.length > SEGMENT_BYTES_MAX) {
                throw tooLarge(-1);
            }
            return ByteBuffer.wrap(segment);
        }
        int read = body.readNBytes(buffer, 0, (int) contentLength);
        if (read == contentLength && body.read() >= 0) {
            throw tooLarge(-1);
        }
        return ByteBuffer.wrap(buffer, 0, read);
    }

    /**
     * Returns once {@code sequence} and every stored segment before it are durable: waits a little for the engine
     * to apply and write it if the engine is close behind, then writes, in order, those still held in memory only
     * into cache storage. One that is gone unapplied was dropped on purpose after it was stored (a committed
     * failover, a corrupt segment before it), as a segment could be just after its acknowledgement.
     */
    private void makeDurable(ReplicationEngine.DiskRuntime rt, long sequence) {
        try {
            if (sequence - rt.lastApplied() <= APPLY_WAIT_DEPTH) {
                rt.awaitApplied(sequence, applyWaitMillis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw stopping();
        }
        rt.durableLock.lock();
        try {
            for (long s = rt.lastApplied() + 1; s <= sequence; s++) {
                ByteBuffer heldOnly = rt.heldOnly(s); // null: in cache storage already, applied, or dropped
                if (heldOnly != null) {
                    writeHeld(rt, s, heldOnly);
                }
            }
        } finally {
            rt.durableLock.unlock();
        }
    }

    /**
     * Writes a held segment into cache storage, under the disk's intake lock and only while the disk is active, as
     * every put into cache storage: a disk that stopped (disabled, discarded) gets no segment after it stopped.
     * If that fails the segment stays held, for the apply or for the agent's retry of the upload.
     */
    private void writeHeld(ReplicationEngine.DiskRuntime rt, long sequence, ByteBuffer segment) {
        rt.intakeLock.lock();
        try {
            if (!rt.active()) {
                throw unknownDisk(rt.diskId().toString());
            }
            engine.cache().put(rt.diskId(), sequence, segment);
        } catch (IOException e) {
            throw cacheFailed(rt.diskId(), sequence, e);
        } finally {
            rt.intakeLock.unlock();
        }
        rt.heldInCache(sequence);
        rt.cacheWrites.increment();
    }

    private static ArmException cacheFailed(UUID diskId, long sequence, IOException e) {
        if (CacheStorage.isOutOfSpace(e)) {
            return new ArmException(507, "CacheStorageFull", "Cache storage is full, segment " + sequence
                    + " of disk " + diskId + " could not be stored durably. Keep it and retry later: the server "
                    + "frees space as it applies stored segments.");
        }
        return new ArmException(503, "CacheStorageUnavailable", "Cache storage could not store segment "
                + sequence + " of disk " + diskId + " (" + e.getMessage() + "); retry the upload.");
    }

    private static void checkSequence(ReplicationEngine.DiskRuntime rt, long sequence) {
        if (sequence != rt.expectedNext()) {
            throw sequenceGap(rt, sequence);
        }
    }

    private static ArmException stopping() {
        return new ArmException(503, "ServerBusy", "The server is stopping; retry the upload.");
    }

    private static ArmException sequenceGap(ReplicationEngine.DiskRuntime rt, long sequence) {
        long expected = rt.expectedNext();
        return new ArmException(409, "SequenceGap", "Segment " + sequence + " of disk " + rt.diskId()
                + " skips ahead: the server expects sequence " + expected + " next. Upload " + expected
                + " first (or resume from the nextSequence the heartbeat reports).");
    }

    /** Reads the whole segment; returns its DATA bytes (uncompressed). 400 MalformedSegment when it does not verify. */
    private static long verify(UUID diskId, long sequence, ByteBuffer segment, long diskBytes) {
        String name = SegmentName.of(diskId, sequence);
        try {
            return SegmentReader.verify(name, segment.array(), segment.remaining(), diskBytes);
        } catch (SegmentFormatException e) {
            throw new ArmException(400, "MalformedSegment", "Segment " + sequence + " of disk " + diskId
                    + " was refused and not stored: " + e.getMessage());
        } catch (IOException e) {
            throw new ArmException(400, "MalformedSegment", "Segment " + sequence + " of disk " + diskId
                    + " could not be read: " + e.getMessage());
        }
    }

    private static ArmException unknownDisk(String diskId) {
        return new ArmException(404, "UnknownDisk", "Disk '" + diskId + "' is not replicating for this agent. "
                + "Use the disk ids the heartbeat reports with replicate: true.");
    }

    private static ArmException tooLarge(long length) {
        return new ArmException(413, "SegmentTooLarge", "The segment is " + (length >= 0 ? length + " bytes" : "larger "
                + "than the limit") + "; segments are at most " + SEGMENT_BYTES_MAX + " bytes. Seal segments earlier.");
    }
}
