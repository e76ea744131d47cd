package dev.secondsite.bench.jmh;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import dev.secondsite.replication.RecoveryStore;
import dev.secondsite.replication.Restore;
import dev.secondsite.replication.RestoreResult;
import dev.secondsite.replication.blob.FileBlobStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeBuilder;

/**
 * Restore of a recovery point's tree (every node and chunk verified: CRC32C, LZ4, SHA-256 up to the root,
 * plus the whole-disk SHA-256): {@code toRawFile} writes the raw image (and fsyncs it), {@code verify} only
 * reads. The disk is {@link #BYTES} of random (incompressible, non-zero) data in a FileBlobStore on a
 * temporary directory, so every chunk is read, checked and written. One operation = one whole disk.
 */
@State(Scope.Benchmark)
public class RestoreBench {
    /** Disk bytes per operation: 256 MiB. */
    public static final long BYTES = 256L * BenchData.MIB;

    private Path dir;
    private DiskTree tree;
    private Path target;

    @Setup(Level.Trial)
    public void build() throws IOException {
        dir = BenchData.tempDir("restore-bench");
        RecoveryStore store = new RecoveryStore(new FileBlobStore(dir.resolve("store")));
        byte[] image = BenchData.random((int) BYTES, 5);
        tree = TreeBuilder.scan(store.chunks(), DiskGeometry.withDefaultChunks(BYTES), new ByteArrayInputStream(image));
        target = dir.resolve("restored.raw");
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
