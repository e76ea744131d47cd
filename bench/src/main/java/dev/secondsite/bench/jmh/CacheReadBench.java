package dev.secondsite.bench.jmh;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.UUID;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

import dev.secondsite.replication.blob.FileBlobStore;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentReader;
import dev.secondsite.replication.segment.SegmentRecord;
import dev.secondsite.replication.segment.SegmentWriter;

/**
 * Apply's read of a segment from cache storage (in the page cache): a CDP-shaped segment of {@link #BYTES} DATA bytes (random
 * writes of 4-64 KiB, incompressible) decoded whole by SegmentReader. {@code reader=mapped} is
 * {@code FileBlobStore.open} (a mapping for large blobs); {@code reader=buffered-channel} is how cache storage read
 * segments before (a 1 MiB BufferedInputStream over a file channel stream). One operation = one segment.
 */
@State(Scope.Benchmark)
public class CacheReadBench {
    static final int BYTES = 32 << 20;
    static final long DISK_BYTES = 4L << 30;

    @Param({"mapped", "buffered-channel"})
    public String reader;

    private Path dir;
    private FileBlobStore store;
    private String name;

    @Setup
    public void setup() throws IOException {
        dir = BenchData.tempDir("cache-read-bench");
        store = new FileBlobStore(dir);
        SplittableRandom random = new SplittableRandom(5);
        byte[] content = new byte[64 * BenchData.KIB];
        ByteArrayOutputStream segment = new ByteArrayOutputStream(BYTES + (1 << 20));
        SegmentHeader header = new SegmentHeader(UUID.nameUUIDFromBytes("cache-read".getBytes()), 1, Instant.EPOCH);
        SegmentWriter writer = SegmentWriter.start(segment, header, SegmentWriter.Compression.LZ4, DISK_BYTES);
        for (int written = 0; written < BYTES; ) {
            int length = Math.min(4096 * (1 + random.nextInt(16)), BYTES - written);
            BenchData.fillRandom(content, 0, length, random);
            writer.data(random.nextLong(DISK_BYTES / 4096 - 16) * 4096, content, 0, length);
            written += length;
        }
        writer.seal();
        name = header.name();
        store.put(name, segment.toByteArray());
    }

    @TearDown
    public void tearDown() throws IOException {
        BenchData.deleteTree(dir);
    }

    @Benchmark
    public void read(Blackhole blackhole) throws IOException {
        try (InputStream in = reader.equals("mapped") ? store.open(name).orElseThrow()
                : new BufferedInputStream(Files.newInputStream(dir.resolve(name)), 1 << 20)) {
            SegmentReader segment = SegmentReader.open(name, in, DISK_BYTES);
            for (SegmentRecord record = segment.next(); record != null; record = segment.next()) {
                blackhole.consume(record);
            }
        }
    }
}
