package dev.secondsite.bench.jmh;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.UUID;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import dev.secondsite.replication.ApplyResult;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.RecoveryStore;
import dev.secondsite.replication.ReplicaDisk;
import dev.secondsite.replication.SequenceGapException;
import dev.secondsite.replication.blob.FileBlobStore;
import dev.secondsite.replication.blob.WriteBehindBlobStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentWriter;

/**
 * ReplicaDisk.apply - the server's apply path (master target) - of segments of {@link #segmentMib} MiB of
 * changes of 64 KiB (chunk-aligned, new random content, LZ4 as the agent writes them) at random places of a 4 GiB
 * replica, into a RecoveryStore on a FileBlobStore in a temporary directory: per chunk SHA-256, LZ4 attempt,
 * temp file + fsync + rename + directory fsync, then the Merkle tree path, a recovery point manifest and
 * the disk state. One operation = one segment = {@link #segmentMib} MiB of changed bytes (8 by default; the
 * agent's CDP segments are up to 32, which fills a pack). The segment for the next operation is built outside the
 * measurement (Level.Invocation setup).
 *
 * <p>{@code writes=partial} is what CDP sends: the same bytes as writes of 4 to 64 KiB
 * (4 KiB-aligned, random places) into a replica whose every chunk already holds data, so most writes
 * read, modify and rewrite one or two stored chunks. {@code writes=chunks} is the scan mode's whole 64 KiB
 * chunks into an empty replica.
 *
 * <p>{@code store=file} is the real FileBlobStore; {@code store=memory} the same apply over a heap store
 * without durability, so the two together split the apply cost into CPU (hashing, LZ4, tree) and file
 * system (a temp file, fsync, rename and directory fsync per new chunk and node). The store and replica are
 * fresh at every iteration so neither disk nor heap use grows with the run.
 */
@State(Scope.Benchmark)
public class ApplyBench {
    static final int CHANGE_BYTES = 64 * BenchData.KIB;
    static final long DISK_BYTES = 4L << 30;

    /** Changed bytes per operation (one segment), in MiB. */
    @Param({"8"})
    public int segmentMib;

    /** {@code file-write-behind}: the file store behind the server's {@link WriteBehindBlobStore}. */
    @Param({"file", "memory"})
    public String store;

    @Param({"chunks", "partial"})
    public String writes;

    /** The replica a partial-write run fills first (every chunk stored), kept small so setup stays short. */
    static final long PARTIAL_DISK_BYTES = 256L << 20;

    private Path dir;
    private RecoveryStore recovery;
    private ReplicaDisk replica;
    private final SplittableRandom random = new SplittableRandom(11);
    private byte[] content;
    private final ByteArrayOutputStream segment = new ByteArrayOutputStream();
    private WriteBehindBlobStore writeBehind;
    private String name;
    private long sequence;
    private long clock = 1;

    /** Changed bytes per operation of a run with this segment size. */
    public static long bytes(int segmentMib) {
        return (long) segmentMib << 20;
    }

    @Setup(Level.Iteration)
    public void open() throws Exception {
        content = new byte[(int) bytes(segmentMib)];
        BenchData.deleteTree(dir);
        dir = BenchData.tempDir("apply-bench");
        recovery = new RecoveryStore(switch (store) {
            case "memory" -> new MemoryBlobStore();
            case "file" -> new FileBlobStore(dir);
            case "file-write-behind" -> writeBehind = new WriteBehindBlobStore(new FileBlobStore(dir),
                    WriteBehindBlobStore.PENDING_BYTES_DEFAULT, WriteBehindBlobStore.FAIL_FAST_MILLIS_DEFAULT);
            default -> throw new IllegalArgumentException("store must be file, memory or file-write-behind: " + store);
        });
        replica = ReplicaDisk.create(recovery, UUID.randomUUID(), DiskGeometry.withDefaultChunks(diskBytes()));
        if (writes.equals("partial")) {
            for (long offset = 0; offset < diskBytes(); offset += content.length) { // every chunk holds data
                BenchData.fillRandom(content, 0, content.length, random);
                segment.reset();
                SegmentHeader header = new SegmentHeader(replica.diskId(), replica.lastSequence() + 1,
                        Instant.ofEpochMilli(clock++));
                SegmentWriter writer = SegmentWriter.start(segment, header, SegmentWriter.Compression.LZ4, diskBytes());
                for (int at = 0; at < content.length; at += 1 << 20) { // records of at most RECORD_BYTES_MAX
                    writer.data(offset + at, content, at, 1 << 20);
                }
                writer.seal();
                replica.apply(header.name(), new ByteArrayInputStream(segment.toByteArray()));
            }
        }
        sequence = replica.lastSequence() + 1;
    }

    private long diskBytes() {
        return writes.equals("partial") ? PARTIAL_DISK_BYTES : DISK_BYTES;
    }

    @Setup(Level.Invocation)
    public void nextSegment() throws IOException {
        BenchData.fillRandom(content, 0, content.length, random);
        segment.reset();
        SegmentHeader header = new SegmentHeader(replica.diskId(), sequence++, Instant.ofEpochMilli(clock++));
        SegmentWriter writer = SegmentWriter.start(segment, header, SegmentWriter.Compression.LZ4, diskBytes());
        if (writes.equals("partial")) {
            for (int done = 0; done < content.length; ) { // 4..64 KiB, 4 KiB-aligned, as the e2e churn writes
                int length = (int) Math.min(content.length - done, 4096L * (1 + random.nextInt(16)));
                long offset = random.nextLong((diskBytes() - length) / 4096 + 1) * 4096;
                writer.data(offset, content, done, length);
                done += length;
            }
        } else {
            for (int i = 0; i < content.length / CHANGE_BYTES; i++) {
                long offset = random.nextLong(DISK_BYTES / CHANGE_BYTES) * CHANGE_BYTES;
                writer.data(offset, content, i * CHANGE_BYTES, CHANGE_BYTES);
            }
        }
        writer.marker(ConsistencyType.CRASH_CONSISTENT, Instant.ofEpochMilli(clock++), "changes");
        writer.seal();
        name = header.name();
    }

    @Benchmark
    public ApplyResult apply() throws Exception {
        return apply(name, segment.toByteArray());
    }

    /** The segment {@link #nextSegment()} built: its name and bytes (a loop may build several, then apply them). */
    String segmentName() {
        return name;
    }

    byte[] segmentBytes() {
        return segment.toByteArray();
    }

    ApplyResult apply(String segmentName, byte[] bytes) throws IOException, SequenceGapException {
        return replica.apply(segmentName, new ByteArrayInputStream(bytes));
    }

    /** Waits until every apply so far is written (write-behind), so that a timing covers the writes too. */
    void drain() throws IOException {
        if (writeBehind != null) {
            writeBehind.drain();
        }
    }

    @TearDown(Level.Iteration)
    public void close() throws IOException {
        if (writeBehind != null) {
            writeBehind.close();
            writeBehind = null;
        }
        BenchData.deleteTree(dir);
        dir = null;
        recovery = null;
        replica = null;
    }
}
