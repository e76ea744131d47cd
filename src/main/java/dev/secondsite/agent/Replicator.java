package dev.secondsite.agent;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.stream.IntStream;

import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.ReplicaDigests;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.Zeros;
import dev.secondsite.replication.segment.SegmentFormat;

/**
 * Replicates one protected disk in <b>scan mode</b>: every pass re-reads the whole virtual disk chunk by
 * chunk, hashes each chunk, compares it with the hash the server is known to hold, and ships only the
 * chunks that differ, in sealed segments, ending the pass with a consistency marker (a recovery point).
 *
 * <h2>Why scan mode is robust</h2>
 *
 * <p>The agent keeps no log of changes; the source of truth is the disk itself, and the only memory is the
 * {@link DiskLedger}: the hash of every chunk <em>as acknowledged by the server</em>. A chunk is sent iff
 * its current hash differs from that. Everything else follows:
 * <ul>
 *   <li><b>No change can be lost.</b> A change not yet acknowledged leaves the ledger untouched, so the
 *       next pass sees the difference again and sends it. A network failure, a server restart, an agent
 *       crash or {@code kill -9} at any instant costs at most a resend, never a missed change.</li>
 *   <li><b>The ledger moves only after acknowledgements.</b> A segment's chunk hashes are journaled, with
 *       fsync, only after the server's 201/200 for it (the server's durability point). Before the upload,
 *       the same chunks are journaled as {@link DiskLedger#UNKNOWN}: if the agent dies after the server
 *       stored the segment but before the ack was recorded, the server holds content the ledger does not
 *       know of; UNKNOWN makes the next pass resend those chunks rather than trust an older hash (a chunk
 *       changed A&rarr;B, B sent, and back to A would otherwise be skipped while the server holds B).</li>
 *   <li><b>Sequences come from the server.</b> Each pass numbers its segments from the heartbeat's
 *       {@code nextSequence} (the server's last durable + 1). A retried upload of the same sequence carries
 *       the same bytes (the segment is kept until acknowledged), so it is idempotent. If the server is
 *       behind the ledger (it lost acknowledged data) or further ahead than one in-flight segment explains,
 *       the ledger is reset to UNKNOWN and the whole disk is resent: correctness never depends on the two
 *       sides agreeing.</li>
 *   <li><b>Baselines.</b> With no local state and {@code nextSequence == 1} the replica is known to read as
 *       zeros: the ledger starts all-{@link DiskLedger#ZERO}, so zero chunks are skipped (initial
 *       replication). With no local state but a server that already holds segments, or on a requested
 *       resync, it starts from the <b>replica's own digests</b> ({@link ReplicaDigestSource}, agent-protocol
 *       §4a) when the server has applied everything it stored (its digests then describe exactly the state
 *       the pass's segments land on): only chunks that differ are sent, so a resync reads the disk at disk
 *       speed and sends the differences. Chunks the replica cannot vouch for (damaged, missing) come back
 *       UNKNOWN and are resent. When the digests are not available (an older server, segments still waiting
 *       to be applied, any error) it starts all-UNKNOWN: every non-zero chunk is sent as DATA and every zero
 *       run as a ZERO record (32 bytes per up to 1 GiB), which converges the replica whatever it held.</li>
 * </ul>
 *
 * <p>The price is a full read and hash of the disk per pass (streamed through a bounded buffer of
 * {@link #READ_BUFFER_BYTES}; nothing proportional to the disk is held except the ledger's 32 bytes per
 * chunk), and that a pass over a disk being written is "fuzzy": chunks are read at slightly different
 * instants. Quiescing (pre/post scripts, fsfreeze) around the read makes a pass a true point in time; that
 * is the app-consistent point. Unallocated regions of sparse images (dynamic VHD, VHDX) are not read.
 * In CDP mode a tracked pass reads a {@link PassSnapshot} instead: exact, not fuzzy.
 *
 * <h2>A pass</h2>
 * {@link #prepare} picks the baseline, {@link #scan} reads the disk and builds segments of at most
 * {@link SegmentBuilder#SEGMENT_BYTES_MAX} (uploading each as soon as it fills - on its own thread, at most
 * {@link #UPLOADS_IN_FLIGHT} at a time, so the next one is read and compressed meanwhile - or, for an app-consistent
 * pass, spooling them to the state directory so the quiesce window holds no network I/O), and
 * {@link Pass#finish} adds the marker to the last segment and ships what is left. A pass that fails
 * half-way is simply abandoned: what was acknowledged is recorded, the rest is found again next time.
 */
final class Replicator implements Closeable {
    /** Disk bytes read per I/O (a multiple of the chunk size). */
    static final int READ_BUFFER_BYTES = 4 << 20;
    /**
     * Segment uploads of one pass running at once. More than one: the server receives and verifies the next segment
     * while it stores the previous one (in order), which a single upload in flight left idle (docs/benchmarks.md,
     * 2026-12-07, afternoon). Three: the server answers an upload once its apply is written, if that comes within a
     * moment, so that its bytes need not be written to cache storage's disk too; the third keeps its apply thread
     * fed meanwhile (2026-12-07, evening). Each holds a builder of up to 32 MiB.
     */
    static final int UPLOADS_IN_FLIGHT = 3;
    /** Most bytes of one DATA record of a tracked pass (a run of written pages is cut into these). */
    static final int TRACKED_READ_BYTES = 1 << 20;

    /** What a pass is for; decides the marker tag and the reported activity. */
    enum PassKind {
        INITIAL("InitialReplication", "initial"),
        CHANGES("ChangeDetection", "changes"),
        RESYNC("Resync", "resync"),
        FULL_RESEND("FullResend", "full-resend");

        final String activity;
        final String tag;

        PassKind(String activity, String tag) {
            this.activity = activity;
            this.tag = tag;
        }
    }

    /** The disk's size no longer matches what is being replicated: protection must be re-enabled. */
    static final class DiskResizedException extends IOException {
        DiskResizedException(String message) {
            super(message);
        }
    }

    /** Called after every block read: the agent heartbeats from here, or throws to stop the pass. */
    @FunctionalInterface
    interface Tick {
        void run() throws IOException;
    }

    /** The sum of one finished pass. */
    record PassResult(PassKind kind, String tag, long firstSequence, long lastSequence, int segments, long dataBytes,
                      long zeroBytes, long changedChunks, ConsistencyType consistency, Instant pointAt,
                      long readBytes, Duration scanTime, boolean tracked) {
    }

    private final UUID diskId;
    private final Path diskDir;
    private final SegmentUploader uploader;
    private final SegmentUploader.Acknowledged acknowledged;
    private final ReplicaDigestSource replicaDigests;
    private final Clock clock;
    private final long segmentBytesMax;
    private final DiskStats stats = new DiskStats();
    /**
     * Segment buffers of finished passes, reused by the next ones: a buffer grows to the segment size once
     * instead of at every pass (a busy pass would otherwise copy ~30 MiB per buffer while it grows).
     */
    private final Deque<SegmentBuilder> idleBuilders = new ConcurrentLinkedDeque<>();
    private DiskLedger ledger;
    private Instant previousScanStart;
    private String resyncId;
    private String completedResyncId;

    Replicator(UUID diskId, Path diskDir, SegmentUploader uploader, Clock clock) {
        this(diskId, diskDir, uploader, SegmentUploader.Acknowledged.NONE, clock, SegmentBuilder.SEGMENT_BYTES_MAX);
    }

    Replicator(UUID diskId, Path diskDir, SegmentUploader uploader, SegmentUploader.Acknowledged acknowledged,
               Clock clock) {
        this(diskId, diskDir, uploader, acknowledged, clock, SegmentBuilder.SEGMENT_BYTES_MAX);
    }

    /** With another segment bound; tests use small ones to exercise segment rotation. */
    Replicator(UUID diskId, Path diskDir, SegmentUploader uploader, Clock clock, long segmentBytesMax) {
        this(diskId, diskDir, uploader, SegmentUploader.Acknowledged.NONE, clock, segmentBytesMax);
    }

    Replicator(UUID diskId, Path diskDir, SegmentUploader uploader, SegmentUploader.Acknowledged acknowledged,
               Clock clock, long segmentBytesMax) {
        this(diskId, diskDir, uploader, acknowledged, ReplicaDigestSource.NONE, clock, segmentBytesMax);
    }

    Replicator(UUID diskId, Path diskDir, SegmentUploader uploader, SegmentUploader.Acknowledged acknowledged,
               ReplicaDigestSource replicaDigests, Clock clock, long segmentBytesMax) {
        this.replicaDigests = replicaDigests;
        this.diskId = diskId;
        this.diskDir = diskDir;
        this.uploader = uploader;
        this.acknowledged = acknowledged;
        this.clock = clock;
        this.segmentBytesMax = segmentBytesMax;
    }

    UUID diskId() {
        return diskId;
    }

    DiskStats stats() {
        return stats;
    }

    /** The ledger as of the last prepare (null before). */
    DiskLedger ledger() {
        return ledger;
    }

    /**
     * Loads (or creates) the ledger and decides what the next pass must be, from the server's
     * {@code nextSequence} and {@code resync} flag.
     *
     * @throws DiskResizedException if the disk's size differs from the one being replicated
     */
    PassKind prepare(long sizeBytes, int chunkBytes, long nextSequence, boolean resync) throws IOException {
        return prepare(sizeBytes, chunkBytes, nextSequence, resync, null);
    }

    /**
     * As above, for a resync request named {@code resyncId} (may be null): a resync whose tagged marker was
     * already acknowledged is not redone while the server has yet to apply it.
     */
    PassKind prepare(long sizeBytes, int chunkBytes, long nextSequence, boolean resync, String resyncId)
            throws IOException {
        if (resync && resyncId != null && resyncId.equals(completedResyncId)) {
            resync = false;
        }
        this.resyncId = resync ? resyncId : null;
        if (nextSequence < 1) {
            throw new IOException("server sent nextSequence " + nextSequence + " (sequences start at 1)");
        }
        try {
            new DiskGeometry(sizeBytes, chunkBytes);
        } catch (IllegalArgumentException e) {
            throw new IOException("cannot replicate with the server's geometry: " + e.getMessage());
        }
        if (ledger == null) {
            Optional<DiskLedger> opened = DiskLedger.open(diskDir, diskId);
            if (opened.isEmpty()) {
                boolean empty = nextSequence == 1;
                ledger = DiskLedger.create(diskDir, diskId, sizeBytes, chunkBytes, nextSequence - 1,
                        empty && !resync ? DiskLedger.ZERO : DiskLedger.UNKNOWN);
                if (resync || !empty) {
                    seedFromReplica(nextSequence);
                }
                return resync ? PassKind.RESYNC : empty ? PassKind.INITIAL : PassKind.FULL_RESEND;
            }
            ledger = opened.get();
        }
        if (ledger.virtualBytes() != sizeBytes) {
            throw new DiskResizedException("disk was " + ledger.virtualBytes() + " bytes when its replication started"
                    + " and is " + sizeBytes + " bytes now; a resized disk must be re-protected (disable and"
                    + " re-enable replication)");
        }
        long acked = ledger.lastAckedSequence();
        if (resync) {
            ledger.reset(DiskLedger.UNKNOWN, nextSequence - 1);
            seedFromReplica(nextSequence);
            return PassKind.RESYNC;
        }
        if (ledger.chunkBytes() != chunkBytes || nextSequence <= acked || nextSequence > acked + 1 + UPLOADS_IN_FLIGHT) {
            // The server's chunking changed, it lost acknowledged segments, or it holds more than the segments
            // in flight can explain: what it holds is unknown, so resend everything.
            System.err.println("secondsite agent: disk " + diskId + ": server expects sequence " + nextSequence
                    + " after our acknowledged " + acked + " (chunk size " + chunkBytes + " vs "
                    + ledger.chunkBytes() + "); resending the whole disk");
            ledger.close();
            ledger = DiskLedger.create(diskDir, diskId, sizeBytes, chunkBytes, nextSequence - 1, DiskLedger.UNKNOWN);
            seedFromReplica(nextSequence);
            return PassKind.FULL_RESEND;
        }
        if (nextSequence > acked + 1) {
            // Segments in flight when the agent stopped were stored after all; their chunks are UNKNOWN
            // in the ledger, so they are resent on top of them.
            ledger.setLastAckedSequence(nextSequence - 1);
        }
        return acked == 0 ? PassKind.INITIAL : PassKind.CHANGES;
    }

    /**
     * Replaces the all-UNKNOWN ledger by the replica's digests, page by page, if the server offers them
     * for exactly the state our next segment applies to ({@code appliedSequence == nextSequence - 1}: no
     * stored segment is waiting, so nothing will change the replica before ours). Otherwise, or on any
     * failure, the ledger stays all-UNKNOWN (everything is sent): always correct, only slower.
     * Returns whether the digests were adopted.
     */
    boolean seedFromReplica(long nextSequence) throws IOException {
        long chunkCount = ledger.chunkCount();
        String refused = null;
        try {
            for (long first = 0; first < chunkCount && refused == null; first += ReplicaDigests.PAGE_COUNT_MAX) {
                int count = (int) Math.min(ReplicaDigests.PAGE_COUNT_MAX, chunkCount - first);
                Optional<ReplicaDigestSource.Page> page = replicaDigests.fetch(diskId, first, count);
                if (page.isEmpty()) {
                    refused = "the server does not offer replica digests";
                } else if (page.get().chunkBytes() != ledger.chunkBytes()) {
                    refused = "the replica's chunk size is " + page.get().chunkBytes();
                } else if (page.get().appliedSequence() != nextSequence - 1) {
                    refused = "the replica is at sequence " + page.get().appliedSequence() + ", not "
                            + (nextSequence - 1) + " (segments still to be applied)";
                } else {
                    ledger.adopt(first, page.get().digests());
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            refused = "fetching them failed: " + e.getMessage();
        }
        if (refused != null) {
            if (replicaDigests != ReplicaDigestSource.NONE) {
                System.err.println("secondsite agent: disk " + diskId + ": sending every chunk, not only those that"
                        + " differ from the replica: " + refused);
            }
            ledger.reset(DiskLedger.UNKNOWN, nextSequence - 1);
            return false;
        }
        ledger.checkpoint();
        return true;
    }

    /**
     * Reads the whole disk and builds (and, unless {@code deferUploads}, uploads) segments of the chunks
     * that differ from the ledger. {@code tick} runs after every read block (for heartbeats).
     */
    Pass scan(PassKind kind, DiskSource source, long nextSequence, boolean deferUploads, Path spoolDir,
              Tick tick) throws IOException {
        return scan(kind, source, null, null, nextSequence, deferUploads, spoolDir, tick);
    }

    /**
     * As above for a disk in CDP mode ({@code tracker} not null, {@code taken} the pages taken from it when
     * the pass began - see {@link TrackedDisk#beginPass}): when the tracker was complete and the pass is plain
     * change detection it reads <em>only</em> those pages and sends exactly the written bytes (a <b>tracked
     * pass</b>: no scan, no whole chunks). Any other pass reads the whole disk and, once acknowledged, makes
     * the tracker complete. A pass that fails gives its pages back.
     */
    Pass scan(PassKind kind, DiskSource source, ChangeTracker tracker, ChangeTracker.Taken taken, long nextSequence,
              boolean deferUploads, Path spoolDir, Tick tick) throws IOException {
        if ((tracker == null) != (taken == null)) {
            throw new IllegalArgumentException("a CDP pass needs both its tracker and its taken pages");
        }
        if (ledger == null || source.sizeBytes() != ledger.virtualBytes()) {
            if (taken != null) {
                tracker.giveBack(taken); // not a page may be lost because the pass never started
            }
            if (ledger == null) {
                throw new IllegalStateException("prepare() first");
            }
            throw new DiskResizedException("disk is " + source.sizeBytes() + " bytes, replication started at "
                    + ledger.virtualBytes() + " bytes; a resized disk must be re-protected");
        }
        Pass pass = new Pass(kind, source, nextSequence, deferUploads, spoolDir, tracker, taken);
        boolean done = false;
        try {
            if (pass.tracked) {
                pass.readTracked(tick);
            } else {
                pass.read(tick);
            }
            done = true;
            return pass;
        } finally {
            if (!done) {
                pass.abandon();
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (ledger != null) {
            ledger.close();
            ledger = null;
        }
    }

    /** A pass in progress: read, then finished (or abandoned). */
    final class Pass {
        private final PassKind kind;
        private final DiskSource source;
        private final long firstSequence;
        private final boolean defer;
        private final Path spoolDir;
        private final long sizeBytes;
        private final int chunkBytes;
        /** The segment being built (the builders of segments in flight stay untouched until collected). */
        private SegmentBuilder builder;
        /** Uploads started and not collected yet, oldest first. */
        private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
        private final List<Spooled> spooled = new ArrayList<>();
        private List<DiskLedger.Range> ranges = new ArrayList<>();
        private long segmentChangedBytes;
        private long nextSequence;
        private long zeroRunStart = -1;
        private long zeroRunEnd = -1;
        private int segments;
        private long dataBytes;
        private long zeroBytes;
        private long changedChunks;
        private Instant scanStart;
        private Instant scanEnd;
        /** CDP: the tracker, the pages this pass took (null: scan mode), and whether it reads only those. */
        private final ChangeTracker tracker;
        private final ChangeTracker.Taken taken;
        private final boolean tracked;
        private boolean pagesSettled;

        private record Spooled(long sequence, Path file, List<DiskLedger.Range> ranges, long changedBytes) {
        }

        private Pass(PassKind kind, DiskSource source, long firstSequence, boolean defer, Path spoolDir,
                     ChangeTracker tracker, ChangeTracker.Taken taken) {
            this.tracker = tracker;
            this.taken = taken;
            this.tracked = taken != null && taken.complete() && kind == PassKind.CHANGES;
            this.kind = kind;
            this.source = source;
            this.firstSequence = firstSequence;
            this.nextSequence = firstSequence;
            this.defer = defer;
            this.spoolDir = spoolDir;
            this.sizeBytes = ledger.virtualBytes();
            this.chunkBytes = ledger.chunkBytes();
            this.builder = takeBuilder();
        }

        private SegmentBuilder takeBuilder() {
            SegmentBuilder idle = idleBuilders.poll();
            return idle != null && idle.diskBytes() == sizeBytes ? idle : new SegmentBuilder(diskId, sizeBytes, segmentBytesMax);
        }

        PassKind kind() {
            return kind;
        }

        /** Whether this pass reads only the pages its CDP tracker took (else it reads the whole disk). */
        boolean tracked() {
            return tracked;
        }

        /** Bytes of changes found by this pass (DATA and ZERO), sent or not. */
        long changedBytes() {
            return dataBytes + zeroBytes;
        }

        /** Starts reading: the stats, the spool directory and the first segment. */
        private void begin(String activity) throws IOException {
            scanStart = clock.instant();
            stats.activity = activity;
            stats.sizeBytes = sizeBytes;
            stats.scannedBytes = 0;
            stats.pendingBytes = 0; // whatever an abandoned pass left is found again now
            if (defer) {
                Files.createDirectories(spoolDir);
            }
            builder.reset(nextSequence, scanStart);
        }

        private void read(Tick tick) throws IOException {
            begin(kind.activity);
            int bufferBytes = Math.max(chunkBytes, READ_BUFFER_BYTES);
            byte[][] digests = new byte[bufferBytes / chunkBytes][];
            // Change detection rescans the disk every interval and may find it cached; other passes read it once.
            try (ReadAhead windows = new ReadAhead(source, bufferBytes, kind != PassKind.CHANGES)) {
                for (ReadAhead.Window window; (window = windows.next()) != null; ) {
                    hashAndCompare(window, digests);
                    stats.scannedBytes = window.offset() + window.length();
                    tick.run();
                }
            }
            closeZeroRun();
            scanEnd = clock.instant();
        }

        /** Hashes a window's chunks and adds those that differ from the ledger to the pass. */
        private void hashAndCompare(ReadAhead.Window window, byte[][] digests) throws IOException {
            long offset = window.offset();
            int length = window.length();
            byte[] buffer = window.buffer();
            boolean hasData = window.hasData();
            int padded = (int) Math.min(buffer.length, Math.ceilDiv(length, chunkBytes) * (long) chunkBytes);
            if (hasData) {
                Arrays.fill(buffer, length, padded, (byte) 0); // the last chunk's padding
                hashChunks(buffer, padded, digests);
            }
            for (int at = 0; at < padded; at += chunkBytes) {
                long index = (offset + at) / chunkBytes;
                byte[] digest = hasData ? digests[at / chunkBytes] : null;
                if (digest == null) { // all zeros
                    if (ledger.matches(index, DiskLedger.ZERO, 0)) {
                        closeZeroRun();
                    } else {
                        extendZeroRun(index);
                    }
                    continue;
                }
                closeZeroRun();
                if (!ledger.matches(index, digest, 0)) {
                    int chunkLength = (int) Math.min(chunkBytes, sizeBytes - index * chunkBytes);
                    addData(index, buffer, at, chunkLength, digest);
                }
            }
        }

        /**
         * Sets {@code digests[i]} to the name ({@link ChunkDigest}) of chunk i of {@code buffer[0, padded)}, or
         * null when it is all zeros. The chunks are hashed in parallel: hashing is most of a full pass's CPU (a
         * resync or a scan reads the whole disk), and one core hashes slower than a disk reads. (Reading each
         * chunk in its hashing task instead, so that one core reads while the other hashes, was slower end to
         * end: 2.56 s against 2.35-2.44 s for a 4 GiB resync scan, docs/benchmarks.md "the resync scan reads
         * the disk once".)
         */
        private void hashChunks(byte[] buffer, int padded, byte[][] digests) {
            IntStream.range(0, padded / chunkBytes).parallel().forEach(i -> {
                int at = i * chunkBytes;
                digests[i] = Zeros.isAllZero(buffer, at, chunkBytes) ? null
                        : ChunkDigest.of(buffer, at, chunkBytes).toBytes();
            });
        }

        /**
         * A tracked pass: reads only the pages written since the last pass and sends exactly those bytes
         * (DATA, or ZERO where a run reads as zeros). The ledger cannot know the hashes of chunks changed in
         * part, so the chunks touched are recorded as UNKNOWN: a later scan pass resends them.
         */
        private void readTracked(Tick tick) throws IOException {
            begin("ChangeTracking");
            byte[] buffer = new byte[TRACKED_READ_BYTES];
            byte[] zeros = new byte[TRACKED_READ_BYTES];
            java.util.BitSet pages = taken.pages();
            long pageBytes = taken.pageBytes();
            long read = 0;
            long sinceTick = 0;
            int page = pages.nextSetBit(0);
            while (page >= 0) {
                int runEnd = pages.nextClearBit(page);
                long end = Math.min(runEnd * pageBytes, sizeBytes);
                for (long at = page * pageBytes; at < end; ) {
                    int length = (int) Math.min(buffer.length, end - at);
                    source.readFully(at, buffer, 0, length);
                    boolean zero = Arrays.equals(buffer, 0, length, zeros, 0, length);
                    if (!(zero ? builder.fitsZero() : builder.fitsData(length))) {
                        rotate();
                    }
                    if (zero) {
                        builder.zero(at, length);
                        zeroBytes += length;
                    } else {
                        builder.data(at, buffer, 0, length);
                        dataBytes += length;
                    }
                    touched(at, length);
                    noteChange(length);
                    at += length;
                    read += length;
                    sinceTick += length;
                }
                stats.scannedBytes = read;
                if (sinceTick >= READ_BUFFER_BYTES) {
                    sinceTick = 0;
                    tick.run();
                }
                page = runEnd < 0 ? -1 : pages.nextSetBit(runEnd);
            }
            tick.run();
            scanEnd = clock.instant();
        }

        /** Records the chunks {@code [offset, offset + length)} touches as UNKNOWN, merged with the last range. */
        private void touched(long offset, int length) {
            long first = offset / chunkBytes;
            long last = (offset + length - 1) / chunkBytes;
            if (!ranges.isEmpty()) {
                DiskLedger.Range previous = ranges.getLast();
                long previousEnd = previous.first() + previous.count();
                if (previous.digest() == DiskLedger.UNKNOWN && first <= previousEnd) {
                    if (last >= previousEnd) {
                        ranges.set(ranges.size() - 1, new DiskLedger.Range(previous.first(),
                                last + 1 - previous.first(), DiskLedger.UNKNOWN));
                        changedChunks += last + 1 - previousEnd;
                    }
                    return;
                }
            }
            ranges.add(new DiskLedger.Range(first, last + 1 - first, DiskLedger.UNKNOWN));
            changedChunks += last + 1 - first;
        }

        private void extendZeroRun(long index) throws IOException {
            if (zeroRunStart >= 0 && index == zeroRunEnd
                    && (zeroRunEnd + 1 - zeroRunStart) * chunkBytes <= SegmentFormat.ZERO_RECORD_BYTES_MAX) {
                zeroRunEnd++;
                return;
            }
            closeZeroRun();
            zeroRunStart = index;
            zeroRunEnd = index + 1;
        }

        private void closeZeroRun() throws IOException {
            if (zeroRunStart < 0) {
                return;
            }
            if (!builder.fitsZero()) {
                rotate();
            }
            long offset = zeroRunStart * chunkBytes;
            long length = Math.min(zeroRunEnd * chunkBytes, sizeBytes) - offset;
            builder.zero(offset, length);
            ranges.add(new DiskLedger.Range(zeroRunStart, zeroRunEnd - zeroRunStart, DiskLedger.ZERO));
            changedChunks += zeroRunEnd - zeroRunStart;
            zeroBytes += length;
            noteChange(length);
            zeroRunStart = -1;
            zeroRunEnd = -1;
        }

        private void addData(long index, byte[] buffer, int at, int length, byte[] digest) throws IOException {
            if (!builder.fitsData(length)) {
                rotate();
            }
            builder.data(index * chunkBytes, buffer, at, length);
            ranges.add(new DiskLedger.Range(index, 1, digest));
            changedChunks++;
            dataBytes += length;
            noteChange(length);
        }

        private void noteChange(long bytes) {
            segmentChangedBytes += bytes;
            stats.pendingBytes += bytes;
        }

        /** Seals the full segment and ships (or spools) it, then starts the next one. */
        private void rotate() throws IOException {
            builder.seal();
            if (defer) {
                Path file = spoolDir.resolve(diskId + "-" + builder.sequence() + ".seg");
                try (var out = Files.newOutputStream(file)) {
                    out.write(builder.bytes(), 0, builder.length());
                }
                spooled.add(new Spooled(builder.sequence(), file, ranges, segmentChangedBytes));
            } else {
                send(builder.sequence(), builder.bytes(), builder.length(), ranges, segmentChangedBytes, builder);
                builder = takeBuilder(); // the sent one goes back to the idle builders once its upload is collected
            }
            ranges = new ArrayList<>();
            segmentChangedBytes = 0;
            nextSequence++;
            builder.reset(nextSequence, clock.instant());
        }

        /**
         * Ends the pass: appends the marker to the last segment, seals it and ships every segment not yet
         * shipped, in sequence order. Returns once the server acknowledged the marker's segment.
         */
        PassResult finish(ConsistencyType consistency, Instant pointAt) throws IOException {
            return finish(consistency, pointAt, null);
        }

        /**
         * As above with the marker tagged {@code tag} instead of the pass kind's tag (null: the kind's), e.g.
         * the {@code shutdown:<requestId>} of a final pass before a failover. The content is the same; only
         * a pass with its own tag completes a resync (the server clears a resync on its tag alone).
         */
        PassResult finish(ConsistencyType consistency, Instant pointAt, String tag) throws IOException {
            String markerTag = tag != null ? tag : tag();
            boolean done = false;
            try {
                builder.marker(consistency, pointAt, markerTag);
                builder.seal();
                for (Spooled segment : spooled) {
                    byte[] bytes = Files.readAllBytes(segment.file());
                    send(segment.sequence(), bytes, bytes.length, segment.ranges(), segment.changedBytes(), null);
                    Files.deleteIfExists(segment.file()); // a failed upload abandons the pass: found again
                }
                spooled.clear();
                send(builder.sequence(), builder.bytes(), builder.length(), ranges, segmentChangedBytes, builder);
                collect();
                done = true;
                if (taken != null) {
                    pagesSettled = true; // sent: the pages are dropped
                    if (!tracked) {
                        tracker.markComplete(); // the whole disk was read after tracking began
                    }
                }
            } finally {
                if (!done) {
                    abandon();
                }
            }
            if (kind == PassKind.CHANGES && previousScanStart != null) {
                double seconds = Duration.between(previousScanStart, scanStart).toNanos() / 1e9;
                stats.churnBytesPerSecond = seconds > 0 ? changedBytes() / seconds : 0.0;
            }
            previousScanStart = scanStart;
            if (kind == PassKind.RESYNC && resyncId != null && tag == null) {
                completedResyncId = resyncId;
                stats.completedResyncId = resyncId;
            }
            stats.pendingBytes = 0;
            stats.lastPointAt = pointAt;
            stats.activity = "Idle";
            stats.lastError = null;
            // Every upload was collected, so every builder is idle again (an abandoned pass's are dropped).
            return new PassResult(kind, markerTag, firstSequence, nextSequence, segments, dataBytes,
                    zeroBytes, changedChunks, consistency, pointAt, stats.scannedBytes,
                    Duration.between(scanStart, scanEnd), tracked);
        }

        /** The marker tag: the pass kind, and for a resync {@code resync:<resyncId>} (agent-protocol §3). */
        String tag() {
            if (kind != PassKind.RESYNC || resyncId == null) {
                return kind.tag;
            }
            String tag = kind.tag + ":" + resyncId;
            return tag.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= SegmentFormat.TAG_BYTES_MAX
                    ? tag : kind.tag;
        }

        /** The instant the read ended (the natural marker time of a crash-consistent pass). */
        Instant scanEnd() {
            return scanEnd;
        }

        /** Drops what was not shipped: it will be found again by the next pass. */
        void abandon() {
            for (InFlight sent : inFlight) {
                // Its outcome no longer matters (its chunks are UNKNOWN in the ledger), but the next pass must
                // not upload while it still runs: sequences go to the server in order.
                sent.await();
            }
            inFlight.clear();
            for (Spooled segment : spooled) {
                try {
                    Files.deleteIfExists(segment.file());
                } catch (IOException ignored) {
                    // a stale spool file is removed at the next start
                }
            }
            spooled.clear();
            if (taken != null && !pagesSettled) {
                tracker.giveBack(taken);
                pagesSettled = true;
            }
            stats.activity = "Idle";
        }

        /**
         * Starts the upload of a sealed segment on its own thread, once fewer than {@link #UPLOADS_IN_FLIGHT} are in
         * flight (collecting the oldest): reading and compressing the next segment overlaps the uploads, and the
         * server, which stores an upload only after the one before it (agent-protocol §4), still receives the
         * sequences in order. The chunks are journaled UNKNOWN before the upload starts. {@code buffer}, if any,
         * holds {@code bytes} and goes back to the idle builders once the upload is collected.
         */
        private void send(long sequence, byte[] bytes, int length, List<DiskLedger.Range> shipped,
                          long changedBytes, SegmentBuilder buffer) throws IOException {
            while (inFlight.size() >= UPLOADS_IN_FLIGHT) {
                collectOldest();
            }
            if (!shipped.isEmpty()) {
                ledger.markInFlight(sequence, shipped);
            }
            inFlight.addLast(InFlight.start(sequence, length, shipped, changedBytes, buffer,
                    () -> uploader.upload(diskId, sequence, bytes, length)));
        }

        /** Waits for every segment in flight, oldest first, and records their acknowledgements (or throws). */
        private void collect() throws IOException {
            while (!inFlight.isEmpty()) {
                collectOldest();
            }
        }

        /** Waits for the oldest segment in flight and records its acknowledgement (or throws its failure). */
        private void collectOldest() throws IOException {
            InFlight sent = inFlight.peekFirst();
            int status = sent.result(); // on failure it stays, for abandon() to wait for with the others
            inFlight.removeFirst();
            if (sent.buffer() != null) {
                idleBuilders.add(sent.buffer());
            }
            ledger.acknowledge(sent.sequence(), sent.ranges());
            segments++;
            stats.pendingBytes = Math.max(0, stats.pendingBytes - sent.changedBytes());
            acknowledged.recorded(diskId, sent.sequence(), sent.length(), status);
        }
    }

    /** One segment's upload running on its own (virtual) thread. */
    private record InFlight(long sequence, int length, List<DiskLedger.Range> ranges, long changedBytes,
                            SegmentBuilder buffer, java.util.concurrent.FutureTask<Integer> upload, Thread thread) {

        interface Upload {
            int run() throws IOException;
        }

        static InFlight start(long sequence, int length, List<DiskLedger.Range> ranges, long changedBytes,
                              SegmentBuilder buffer, Upload upload) {
            java.util.concurrent.FutureTask<Integer> task = new java.util.concurrent.FutureTask<>(upload::run);
            Thread thread = Thread.ofVirtual().name("upload-" + sequence).start(task);
            return new InFlight(sequence, length, ranges, changedBytes, buffer, task, thread);
        }

        /** The server's status, or the upload's own exception. */
        int result() throws IOException {
            try {
                return upload.get();
            } catch (java.util.concurrent.ExecutionException e) {
                switch (e.getCause()) {
                    case IOException io -> throw io;
                    case RuntimeException runtime -> throw runtime;
                    case Error error -> throw error;
                    default -> throw new IOException(e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                await();
                throw new java.io.InterruptedIOException("interrupted while segment " + sequence + " was uploading");
            }
        }

        /** Waits until the upload thread has ended, whatever its outcome. */
        void await() {
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
