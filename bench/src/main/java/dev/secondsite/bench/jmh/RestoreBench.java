package dev.secondsite.bench.jmh;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
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

import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.RecoveryStore;
import dev.secondsite.replication.ReplicaDisk;
import dev.secondsite.replication.Restore;
import dev.secondsite.replication.RestoreResult;
import dev.secondsite.replication.SequenceGapException;
import dev.secondsite.replication.blob.FileBlobStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeBuilder;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentWriter;

/**
 * Restore of a recovery point's tree (every node and chunk verified: CRC32C, LZ4, SHA-256 up to the root,
 * plus the whole-disk SHA-256): {@code toRawFile} writes the raw image (and fsyncs it), {@code verify} only
 * reads. The disk is {@link #BYTES} of random (incompressible, non-zero) data in a FileBlobStore on a
 * temporary directory, so every chunk is read, checked and written. One operation = one whole disk.
 *
 * <p>{@code chainFiles}: how many files each chunk is read from. 1: whole chunks, as a scan stores them. More: the
 * disk is then written {@code chainFiles - 1} times more, one 4 KiB block of every chunk each time, through
 * {@link ReplicaDisk#apply} as CDP writes arrive, so every chunk is a delta chain of that many files (ADR 0007),
 * as after long churn in small writes.
 */
@State(Scope.Benchmark)
public class RestoreBench {
    /** Disk bytes per operation: 256 MiB. */
    public static final long BYTES = 256L * BenchData.MIB;

    @Param({"1", "8"})
    public int chainFiles;

    private Path dir;
    private DiskTree tree;
    private Path target;

    @Setup(Level.Trial)
    public void build() throws IOException, SequenceGapException {
        dir = BenchData.tempDir("restore-bench");
        RecoveryStore store = new RecoveryStore(new FileBlobStore(dir.resolve("store")));
        byte[] image = BenchData.random((int) BYTES, 5);
        DiskGeometry geometry = DiskGeometry.withDefaultChunks(BYTES);
        tree = TreeBuilder.scan(store.chunks(), geometry, new ByteArrayInputStream(image));
        if (chainFiles > 1) {
            tree = lengthenChains(store, tree);
        }
        target = dir.resolve("restored.raw");
    }

    /** Writes one random 4 KiB block of every chunk, {@code chainFiles - 1} times: each write adds a delta. */
    private DiskTree lengthenChains(RecoveryStore store, DiskTree scanned) throws IOException, SequenceGapException {
        ReplicaDisk replica = ReplicaDisk.create(store, UUID.randomUUID(), scanned);
        DiskGeometry geometry = scanned.geometry();
        int blocks = geometry.chunkBytes() / 4096;
        SplittableRandom random = new SplittableRandom(6);
        byte[] block = new byte[4096];
        for (int round = 1; round < chainFiles; round++) {
            ByteArrayOutputStream segment = new ByteArrayOutputStream();
            SegmentHeader header = new SegmentHeader(replica.diskId(), replica.lastSequence() + 1,
                    Instant.ofEpochMilli(2L * round));
            SegmentWriter writer = SegmentWriter.start(segment, header, SegmentWriter.Compression.LZ4, BYTES);
            for (long chunk = 0; chunk < geometry.chunkCount(); chunk++) {
                BenchData.fillRandom(block, 0, block.length, random);
                writer.data(chunk * geometry.chunkBytes() + 4096L * random.nextInt(blocks), block, 0, block.length);
            }
            writer.marker(ConsistencyType.CRASH_CONSISTENT, Instant.ofEpochMilli(2L * round + 1), "round " + round);
            writer.seal();
            replica.apply(header.name(), new ByteArrayInputStream(segment.toByteArray()));
        }
        return replica.currentTree();
    }

    @TearDown(Level.Invocation)
    public void removeTarget() throws IOException {
        Files.deleteIfExists(target);
    }

    @Benchmark
    public RestoreResult toRawFile() throws IOException {
        return Restore.toRawFile(tree, target, "bench");
    }

    @Benchmark
    public RestoreResult verify() throws IOException {
        return Restore.verify(tree, "bench");
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        BenchData.deleteTree(dir);
    }
}
