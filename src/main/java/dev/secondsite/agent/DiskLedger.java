package dev.secondsite.agent;

import dev.secondsite.io.AtomicFiles;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.zip.CRC32C;

import dev.secondsite.replication.chunk.ChunkDigest;

/**
 * What the agent believes the server holds for one disk: the digest (name) of every chunk as last
 * <em>acknowledged</em> by the server (the "hash map"), and the last acknowledged segment sequence.
 *
 * <h2>Files (in the disk's state directory)</h2>
 * <ul>
 *   <li>{@code ledger.snapshot} - the whole map, replaced atomically (temp file, fsync, rename):
 *       <pre>
 *   0  4 magic "SSHS"          4  4 version (1)        8 16 disk id
 *  24  8 virtual bytes        32  4 chunk bytes       36  4 generation
 *  40  8 last acknowledged sequence
 *  48  chunkCount x 32 digest bytes, then 4 CRC32C of everything before
 *       </pre></li>
 *   <li>{@code ledger.journal} - append-only batches written after the snapshot, each fsynced before the
 *       agent acts on it: {@code "SSHJ" kind(4) generation(4) sequence(8) rangeCount(4)
 *       rangeCount x (first chunk 8, chunk count 8, digest 32) CRC32C(4)}. A torn or corrupt tail batch is
 *       ignored (and cut off): it was never acted on. Batches of another generation than the snapshot's
 *       predate it and are ignored too.</li>
 * </ul>
 * Writing the whole map per segment would cost O(disk) per segment; the journal makes an
 * acknowledgement cost O(segment). The journal is folded into a new snapshot (next generation) once it
 * outgrows half the snapshot.
 *
 * <h2>Digest values</h2>
 * A digest is the chunk's {@link ChunkDigest} as the server's recovery store computes it, of the chunk
 * padded with zeros to the chunk size, or {@link ChunkDigest#ZERO} for an all-zero chunk. (Ledgers from before
 * block digests hold plain SHA-256 values, which match nothing: each chunk is sent once more.) The
 * reserved value {@link #UNKNOWN} (32 x 0xFF, never a real SHA-256 in practice) means "the server may hold
 * anything here": such a chunk always differs from the disk, so the next pass sends it (as DATA, or as a
 * ZERO record if it now reads as zeros).
 *
 * <p>Not thread-safe; one replication pass at a time uses it. Memory: 32 bytes per chunk (512 MiB per
 * TiB of disk at 64 KiB chunks), in pages of {@link #PAGE_DIGESTS} digests.
 */
final class DiskLedger implements Closeable {
    static final byte[] UNKNOWN = filled((byte) 0xFF);
    static final byte[] ZERO = new byte[ChunkDigest.BYTES];

    static final String SNAPSHOT_FILE = "ledger.snapshot";
    static final String JOURNAL_FILE = "ledger.journal";
    static final int VERSION = 1;
    static final int PAGE_DIGESTS = 1 << 20;
    /** The journal is folded into the snapshot when it passes max(this, snapshot / 2). */
    static final long JOURNAL_COMPACT_BYTES_MIN = 8L << 20;
    /** Most ranges in one journal batch (a segment's changes are far fewer). */
    static final int BATCH_RANGES_MAX = 1 << 22;

    private static final int SNAPSHOT_MAGIC = 0x53485353; // "SSHS" little-endian
    private static final int JOURNAL_MAGIC = 0x4A485353;  // "SSHJ" little-endian
    private static final int SNAPSHOT_HEADER_BYTES = 48;
    private static final int BATCH_HEADER_BYTES = 24;
    private static final int RANGE_BYTES = 48;
    private static final int KIND_IN_FLIGHT = 1;
    private static final int KIND_ACKNOWLEDGED = 2;

    /** Chunks {@code [first, first + count)} now have {@code digest}. */
    record Range(long first, long count, byte[] digest) {
        Range {
            if (first < 0 || count < 1 || digest.length != ChunkDigest.BYTES) {
                throw new IllegalArgumentException("bad ledger range [" + first + ", +" + count + ")");
            }
        }
    }

    private final Path dir;
    private final UUID diskId;
    private final long virtualBytes;
    private final int chunkBytes;
    private final long chunkCount;
    private final byte[][] pages;
    private int generation;
    private long lastAckedSequence;
    private FileChannel journal;
    private long journalBytes;

    private DiskLedger(Path dir, UUID diskId, long virtualBytes, int chunkBytes, int generation,
                       long lastAckedSequence) {
        this.dir = dir;
        this.diskId = diskId;
        this.virtualBytes = virtualBytes;
        this.chunkBytes = chunkBytes;
        this.chunkCount = Math.ceilDiv(virtualBytes, (long) chunkBytes);
        this.generation = generation;
        this.lastAckedSequence = lastAckedSequence;
        int pageCount = (int) Math.ceilDiv(chunkCount, (long) PAGE_DIGESTS);
        this.pages = new byte[pageCount][];
        for (int p = 0; p < pageCount; p++) {
            long digests = Math.min(PAGE_DIGESTS, chunkCount - (long) p * PAGE_DIGESTS);
            pages[p] = new byte[(int) digests * ChunkDigest.BYTES];
        }
    }

    /**
     * Creates a fresh ledger in {@code dir} where every chunk has {@code baseline} ({@link #ZERO}: the
     * server's replica is known to read as zeros; {@link #UNKNOWN}: it may hold anything).
     */
    static DiskLedger create(Path dir, UUID diskId, long virtualBytes, int chunkBytes, long lastAckedSequence,
                             byte[] baseline) throws IOException {
        if (virtualBytes < 1 || chunkBytes < 1 || lastAckedSequence < 0) {
            throw new IllegalArgumentException("bad ledger geometry " + virtualBytes + "/" + chunkBytes);
        }
        AtomicFiles.ensureDirectory(dir);
        // A random first generation: journal batches of any earlier ledger in this directory never match it.
        int generation = new java.security.SecureRandom().nextInt() & 0x3fff_ffff;
        DiskLedger ledger = new DiskLedger(dir, diskId, virtualBytes, chunkBytes, generation, lastAckedSequence);
        ledger.fillInMemory(baseline);
        ledger.writeSnapshot();
        return ledger;
    }

    /**
     * Opens the ledger in {@code dir}: the snapshot plus every valid journal batch of its generation. Empty
     * if there is none or the snapshot is unreadable (the caller then starts over as if it had no state,
     * which is always safe: it only costs resending).
     */
    static Optional<DiskLedger> open(Path dir, UUID diskId) throws IOException {
        Path snapshot = dir.resolve(SNAPSHOT_FILE);
        DiskLedger ledger;
        try (InputStream raw = Files.newInputStream(snapshot)) {
            ledger = readSnapshot(new BufferedInputStream(raw, 1 << 16), dir, diskId);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (CorruptLedgerException | EOFException e) {
            System.err.println("secondsite agent: warning: ignoring unreadable " + snapshot + " (" + e.getMessage()
                    + "); the disk will be resent");
            return Optional.empty();
        }
        ledger.replayJournal();
        return Optional.of(ledger);
    }

    UUID diskId() {
        return diskId;
    }

    long virtualBytes() {
        return virtualBytes;
    }

    int chunkBytes() {
        return chunkBytes;
    }

    long chunkCount() {
        return chunkCount;
    }

    /** The last segment sequence the server acknowledged (0: none). */
    long lastAckedSequence() {
        return lastAckedSequence;
    }

    int generation() {
        return generation;
    }

    /** Whether chunk {@code index} is recorded with exactly {@code digest[from, from + 32)}. */
    boolean matches(long index, byte[] digest, int from) {
        byte[] page = pages[(int) (index / PAGE_DIGESTS)];
        int at = (int) (index % PAGE_DIGESTS) * ChunkDigest.BYTES;
        return Arrays.equals(page, at, at + ChunkDigest.BYTES, digest, from, from + ChunkDigest.BYTES);
    }

    /** A copy of the digest recorded for chunk {@code index}. */
    byte[] digest(long index) {
        byte[] page = pages[(int) (index / PAGE_DIGESTS)];
        int at = (int) (index % PAGE_DIGESTS) * ChunkDigest.BYTES;
        return Arrays.copyOfRange(page, at, at + ChunkDigest.BYTES);
    }

    /**
     * Durably records that the chunks of {@code ranges} are about to be sent in a segment whose fate is
     * not yet known: they become {@link #UNKNOWN} (in memory and in the journal) before the upload starts,
     * so that a crash between "server stored it" and "agent recorded the ack" makes the next pass resend
     * them instead of trusting older digests.
     */
    void markInFlight(long sequence, List<Range> ranges) throws IOException {
        List<Range> unknown = new ArrayList<>(ranges.size());
        for (Range range : ranges) {
            unknown.add(new Range(range.first(), range.count(), UNKNOWN));
        }
        append(KIND_IN_FLIGHT, sequence, unknown);
        apply(unknown);
    }

    /** Durably records the server's acknowledgement of segment {@code sequence} carrying {@code ranges}. */
    void acknowledge(long sequence, List<Range> ranges) throws IOException {
        append(KIND_ACKNOWLEDGED, sequence, ranges);
        apply(ranges);
        lastAckedSequence = sequence;
        if (journalBytes > Math.max(JOURNAL_COMPACT_BYTES_MIN, snapshotBytes() / 2)) {
            writeSnapshot();
        }
    }

    /**
     * Forgets what the server holds: every chunk becomes {@code baseline} and the last acknowledged sequence
     * {@code lastAckedSequence}, written as a new snapshot generation (older journal batches stop counting).
     */
    void reset(byte[] baseline, long lastAckedSequence) throws IOException {
        fillInMemory(baseline);
        this.lastAckedSequence = lastAckedSequence;
        writeSnapshot();
    }

    /**
     * Takes the replica's digests of chunks from {@code first} (32 bytes each) as what the server holds, in
     * memory only: the caller {@linkplain #checkpoint() checkpoints} once all are in, after a
     * {@link #reset} to UNKNOWN, so a crash half-way leaves the safe all-UNKNOWN ledger.
     */
    void adopt(long first, byte[] digests) {
        long count = digests.length / ChunkDigest.BYTES;
        if (digests.length % ChunkDigest.BYTES != 0 || first < 0 || first + count > chunkCount) {
            throw new IllegalArgumentException("replica digests [" + first + ", +" + count + ") do not fit the disk's "
                    + chunkCount + " chunks");
        }
        for (long i = 0; i < count; i++) {
            long index = first + i;
            System.arraycopy(digests, (int) i * ChunkDigest.BYTES, pages[(int) (index / PAGE_DIGESTS)],
                    (int) (index % PAGE_DIGESTS) * ChunkDigest.BYTES, ChunkDigest.BYTES);
        }
    }

    /** Writes the in-memory state durably (a new snapshot generation). */
    void checkpoint() throws IOException {
        writeSnapshot();
    }

    /** Adopts the server's sequence without touching digests (durable with the next batch or snapshot). */
    void setLastAckedSequence(long sequence) throws IOException {
        if (sequence != lastAckedSequence) {
            lastAckedSequence = sequence;
            writeSnapshot();
        }
    }

    @Override
    public void close() throws IOException {
        if (journal != null) {
            journal.close();
            journal = null;
        }
    }

    long journalBytes() {
        return journalBytes;
    }

    // ---------------------------------------------------------------------------------------------

    private void apply(List<Range> ranges) {
        for (Range range : ranges) {
            if (range.first() + range.count() > chunkCount) {
                throw new IllegalArgumentException("ledger range [" + range.first() + ", +" + range.count()
                        + ") passes the disk's " + chunkCount + " chunks");
            }
            for (long i = range.first(); i < range.first() + range.count(); i++) {
                byte[] page = pages[(int) (i / PAGE_DIGESTS)];
                System.arraycopy(range.digest(), 0, page, (int) (i % PAGE_DIGESTS) * ChunkDigest.BYTES,
                        ChunkDigest.BYTES);
            }
        }
    }

    private void fillInMemory(byte[] digest) {
        for (byte[] page : pages) {
            for (int at = 0; at < page.length; at += ChunkDigest.BYTES) {
                System.arraycopy(digest, 0, page, at, ChunkDigest.BYTES);
            }
        }
    }

    private long snapshotBytes() {
        return SNAPSHOT_HEADER_BYTES + chunkCount * ChunkDigest.BYTES + 4;
    }

    private void append(int kind, long sequence, List<Range> ranges) throws IOException {
        if (ranges.size() > BATCH_RANGES_MAX) {
            throw new IllegalArgumentException("too many ranges in one ledger batch: " + ranges.size());
        }
        ByteBuffer batch = ByteBuffer.allocate(BATCH_HEADER_BYTES + ranges.size() * RANGE_BYTES + 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        batch.putInt(JOURNAL_MAGIC).putInt(kind).putInt(generation).putLong(sequence).putInt(ranges.size());
        for (Range range : ranges) {
            batch.putLong(range.first()).putLong(range.count()).put(range.digest());
        }
        CRC32C crc = new CRC32C();
        crc.update(batch.array(), 0, batch.position());
        batch.putInt((int) crc.getValue());
        batch.flip();
        FileChannel channel = journal();
        while (batch.hasRemaining()) {
            channel.write(batch, journalBytes + batch.position());
        }
        channel.force(false);
        journalBytes += batch.limit();
    }

    private FileChannel journal() throws IOException {
        if (journal == null) {
            Path file = dir.resolve(JOURNAL_FILE);
            boolean created = !Files.exists(file);
            journal = AtomicFiles.posix(dir) && created
                    ? FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                            StandardOpenOption.WRITE),
                            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(AtomicFiles.OWNER_ONLY))
                    : FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                            StandardOpenOption.WRITE);
            if (created) {
                AtomicFiles.syncDirectory(dir);
            }
        }
        return journal;
    }

    /** Writes the in-memory state as the next generation's snapshot, then empties the journal. */
    private void writeSnapshot() throws IOException {
        int next = generation + 1;
        AtomicFiles.write(dir.resolve(SNAPSHOT_FILE), out -> {
            CRC32C crc = new CRC32C();
            ByteBuffer header = ByteBuffer.allocate(SNAPSHOT_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt(SNAPSHOT_MAGIC).putInt(VERSION)
                    .order(ByteOrder.BIG_ENDIAN).putLong(diskId.getMostSignificantBits())
                    .putLong(diskId.getLeastSignificantBits()).order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(virtualBytes).putInt(chunkBytes).putInt(next).putLong(lastAckedSequence);
            out.write(header.array());
            crc.update(header.array());
            for (byte[] page : pages) {
                out.write(page);
                crc.update(page);
            }
            byte[] tail = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue()).array();
            out.write(tail);
        });
        generation = next;
        // Batches of older generations are now ignored on open; drop them to keep the journal small.
        FileChannel channel = journal();
        channel.truncate(0);
        channel.force(true);
        journalBytes = 0;
    }

    private static DiskLedger readSnapshot(InputStream in, Path dir, UUID expectedDisk) throws IOException {
        DataInputStream data = new DataInputStream(in);
        CRC32C crc = new CRC32C();
        byte[] headerBytes = new byte[SNAPSHOT_HEADER_BYTES];
        data.readFully(headerBytes);
        crc.update(headerBytes);
        ByteBuffer header = ByteBuffer.wrap(headerBytes).order(ByteOrder.LITTLE_ENDIAN);
        if (header.getInt(0) != SNAPSHOT_MAGIC || header.getInt(4) != VERSION) {
            throw new CorruptLedgerException("not a version " + VERSION + " ledger snapshot");
        }
        UUID diskId = new UUID(header.order(ByteOrder.BIG_ENDIAN).getLong(8), header.getLong(16));
        header.order(ByteOrder.LITTLE_ENDIAN);
        long virtualBytes = header.getLong(24);
        int chunkBytes = header.getInt(32);
        int generation = header.getInt(36);
        long lastAcked = header.getLong(40);
        if (!diskId.equals(expectedDisk)) {
            throw new CorruptLedgerException("snapshot belongs to disk " + diskId);
        }
        if (virtualBytes < 1 || chunkBytes < 512 || Integer.bitCount(chunkBytes) != 1 || lastAcked < 0
                || virtualBytes > (64L << 40)) {
            throw new CorruptLedgerException("snapshot geometry " + virtualBytes + "/" + chunkBytes + " is invalid");
        }
        DiskLedger ledger = new DiskLedger(dir, diskId, virtualBytes, chunkBytes, generation, lastAcked);
        for (byte[] page : ledger.pages) {
            data.readFully(page);
            crc.update(page);
        }
        int stored = Integer.reverseBytes(data.readInt());
        if (stored != (int) crc.getValue()) {
            throw new CorruptLedgerException("snapshot CRC32C mismatch");
        }
        if (data.read() != -1) {
            throw new CorruptLedgerException("bytes after the snapshot's checksum");
        }
        return ledger;
    }

    private void replayJournal() throws IOException {
        Path file = dir.resolve(JOURNAL_FILE);
        if (!Files.exists(file)) {
            return;
        }
        FileChannel channel = journal();
        long size = channel.size();
        long at = 0;
        boolean staleBatches = false;
        ByteBuffer header = ByteBuffer.allocate(BATCH_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        while (size - at >= BATCH_HEADER_BYTES + 4) {
            header.clear();
            readFully(channel, header, at);
            int magic = header.getInt(0);
            int kind = header.getInt(4);
            int batchGeneration = header.getInt(8);
            long sequence = header.getLong(12);
            int count = header.getInt(20);
            if (magic != JOURNAL_MAGIC || (kind != KIND_IN_FLIGHT && kind != KIND_ACKNOWLEDGED)
                    || count < 0 || count > BATCH_RANGES_MAX) {
                break;
            }
            long batchBytes = BATCH_HEADER_BYTES + (long) count * RANGE_BYTES + 4;
            if (size - at < batchBytes) {
                break;
            }
            ByteBuffer batch = ByteBuffer.allocate((int) batchBytes).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, batch, at);
            CRC32C crc = new CRC32C();
            crc.update(batch.array(), 0, (int) batchBytes - 4);
            if (batch.getInt((int) batchBytes - 4) != (int) crc.getValue()) {
                break;
            }
            List<Range> ranges = new ArrayList<>(count);
            boolean valid = true;
            for (int r = 0; r < count; r++) {
                int base = BATCH_HEADER_BYTES + r * RANGE_BYTES;
                long first = batch.getLong(base);
                long chunks = batch.getLong(base + 8);
                if (first < 0 || chunks < 1 || first > chunkCount || chunks > chunkCount - first) {
                    valid = false;
                    break;
                }
                ranges.add(new Range(first, chunks, Arrays.copyOfRange(batch.array(), base + 16, base + 48)));
            }
            if (!valid) {
                break;
            }
            if (batchGeneration == generation) {
                apply(ranges);
                if (kind == KIND_ACKNOWLEDGED) {
                    lastAckedSequence = sequence;
                }
            } else {
                staleBatches = true;
            }
            at += batchBytes;
        }
        journalBytes = at;
        if (at < size) {
            // A torn or corrupt tail: it was never fsynced whole, so nothing was acted on after it.
            channel.truncate(at);
            channel.force(true);
        }
        if (staleBatches) {
            writeSnapshot();
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new EOFException();
            }
        }
    }

    private static byte[] filled(byte value) {
        byte[] bytes = new byte[ChunkDigest.BYTES];
        Arrays.fill(bytes, value);
        return bytes;
    }

    static final class CorruptLedgerException extends IOException {
        CorruptLedgerException(String message) {
            super(message);
        }
    }
}
