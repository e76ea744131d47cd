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
import dev.secondsite.replication.blob.FileBlobStore;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.TreeBuilder;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentWriter;

/**
 * Recovery point creation against disk size (DESIGN.md: "recovery point creation ... in O(1) of disk size"): one
 * operation applies a segment of {@link #changedChunks} whole 64 KiB chunks at random places and a
 * crash-consistent marker, so it ends with a new point (its tree's changed paths, its manifest and the disk
 * state). The same work on disks of {@link #diskGib} GiB: if the time grows with the disk, point creation is
 * not O(1) of it. One changed chunk shows the point's own cost; 128 (8 MiB) a busy second's.
 *
 * <p>The replica starts <em>full</em>: every leaf of its tree names a distinct chunk, so every node exists and a
 * change copies a whole path, as on a disk in use. The leaves are random digests with no stored content: a
 * write that covers a chunk whole never reads the chunk it replaces, so none is needed, and a 256 GiB disk's
 * tree (4 Mi leaves, 16 Ki nodes of 8 KiB) is built in seconds instead of writing 256 GiB. {@code store=memory}
 * leaves the file system out; {@code store=file} is the real FileBlobStore (packs, fsync). Each iteration starts
 * from a fresh replica, so the store does not grow through the run.
 */
@State(Scope.Benchmark)
public class PointBench {
    static final int CHUNK_BYTES = DiskGeometry.CHUNK_BYTES_DEFAULT;

    @Param({"1", "16", "256"})
    public int diskGib;

    /** Whole chunks changed per operation (one point). */
    @Param({"1", "128"})
    public int changedChunks;

    @Param({"memory", "file"})
    public String store;

    private Path dir;
    private ReplicaDisk replica;
    private final SplittableRandom random = new SplittableRandom(17);
    private byte[] content;
    private final ByteArrayOutputStream segment = new ByteArrayOutputStream();
    private String name;
    private long clock = 1;

    /** Changed bytes per operation of a run with this many changed chunks. */
    public static long bytes(int changedChunks) {
        return (long) changedChunks * CHUNK_BYTES;
    }

    @Setup(Level.Iteration)
    public void build() throws IOException {
        content = new byte[(int) bytes(changedChunks)];
        RecoveryStore recovery = new RecoveryStore(switch (store) {
            case "memory" -> new MemoryBlobStore();
            case "file" -> new FileBlobStore(dir = BenchData.tempDir("point-bench"));
            default -> throw new IllegalArgumentException("store must be memory or file: " + store);
        });
        DiskGeometry geometry = DiskGeometry.withDefaultChunks((long) diskGib << 30);
        TreeBuilder full = new TreeBuilder(recovery.chunks(), geometry);
        byte[] leaf = new byte[ChunkDigest.BYTES];
        for (long i = 0; i < geometry.chunkCount(); i++) {
            BenchData.fillRandom(leaf, 0, leaf.length, random);
            full.add(ChunkDigest.read(leaf, 0));
        }
        replica = ReplicaDisk.create(recovery, UUID.randomUUID(), full.finish());
    }

    @Setup(Level.Invocation)
    public void nextSegment() throws IOException {
        BenchData.fillRandom(content, 0, content.length, random);
        long disk = (long) diskGib << 30;
        segment.reset();
        SegmentHeader header = new SegmentHeader(replica.diskId(), replica.lastSequence() + 1,
                Instant.ofEpochMilli(clock++));
        SegmentWriter writer = SegmentWriter.start(segment, header, SegmentWriter.Compression.LZ4, disk);
        for (int i = 0; i < changedChunks; i++) {
            long offset = random.nextLong(disk / CHUNK_BYTES) * CHUNK_BYTES;
            writer.data(offset, content, i * CHUNK_BYTES, CHUNK_BYTES);
        }
        writer.marker(ConsistencyType.CRASH_CONSISTENT, Instant.ofEpochMilli(clock++), "point");
        writer.seal();
        name = header.name();
    }

    @Benchmark
    public ApplyResult point() throws Exception {
        ApplyResult result = replica.apply(name, new ByteArrayInputStream(segment.toByteArray()));
        if (result.points().isEmpty()) {
            throw new IllegalStateException("the segment made no recovery point: " + result);
        }
        return result;
    }

    @TearDown(Level.Iteration)
    public void close() throws IOException {
        BenchData.deleteTree(dir);
        dir = null;
        replica = null;
    }
}
