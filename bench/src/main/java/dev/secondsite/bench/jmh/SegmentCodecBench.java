package dev.secondsite.bench.jmh;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.UUID;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentReader;
import dev.secondsite.replication.segment.SegmentRecord;
import dev.secondsite.replication.segment.SegmentWriter;

/**
 * Change-log segment encode (SegmentWriter: CRC32C + LZ4 per record) and decode (SegmentReader: every CRC,
 * LZ4 safe decompression) of one segment of {@link #RECORDS} DATA records of 64 KiB plus a marker: the
 * shape the scan-mode agent sends. One operation = {@link #BYTES} logical bytes.
 */
@State(Scope.Benchmark)
public class SegmentCodecBench {
    static final int RECORD_BYTES = 64 * BenchData.KIB;
    static final int RECORDS = 256;
    /** Logical (uncompressed) DATA bytes per operation: 16 MiB. */
    public static final long BYTES = (long) RECORD_BYTES * RECORDS;
    static final long DISK_BYTES = 4L << 30;

    @Param({"LZ4", "NONE"})
    public String compression;

    @Param({"compressible", "random"})
    public String data;

    private byte[] content;
    private long[] offsets;
    private UUID diskId;
    private Sink sink;
    private byte[] encoded;
    private String name;

    /** A ByteArrayOutputStream that is reset and reused, so encode measures the codec, not allocation. */
    static final class Sink extends ByteArrayOutputStream {
        Sink(int size) {
            super(size);
        }
    }

    @Setup
    public void setup() throws IOException {
        content = data.equals("random") ? BenchData.random((int) BYTES, 1) : BenchData.compressible((int) BYTES, 1);
        offsets = new long[RECORDS];
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        for (int i = 0; i < RECORDS; i++) {
            offsets[i] = random.nextLong(DISK_BYTES / RECORD_BYTES) * RECORD_BYTES;
        }
        diskId = UUID.nameUUIDFromBytes("segment-bench".getBytes());
        sink = new Sink((int) BYTES + (1 << 20));
        encoded = encodeOnce();
        name = new SegmentHeader(diskId, 1, Instant.EPOCH).name();
        System.out.printf("%n[segment %s/%s: %d logical bytes stored as %d (%.2fx)]%n", compression, data, BYTES,
                encoded.length, (double) BYTES / encoded.length);
    }

    private byte[] encodeOnce() throws IOException {
        encode();
        return sink.toByteArray();
    }

    @Benchmark
    public int encode() throws IOException {
        sink.reset();
        SegmentWriter writer = SegmentWriter.start(sink, new SegmentHeader(diskId, 1, Instant.ofEpochMilli(1)),
                SegmentWriter.Compression.valueOf(compression), DISK_BYTES);
        for (int i = 0; i < RECORDS; i++) {
            writer.data(offsets[i], content, i * RECORD_BYTES, RECORD_BYTES);
        }
        writer.marker(ConsistencyType.CRASH_CONSISTENT, Instant.ofEpochMilli(2), "changes");
        writer.seal();
        return sink.size();
    }

    @Benchmark
    public void decode(Blackhole blackhole) throws IOException {
        SegmentReader reader = SegmentReader.open(name, new ByteArrayInputStream(encoded), DISK_BYTES);
        for (SegmentRecord record = reader.next(); record != null; record = reader.next()) {
            blackhole.consume(record);
        }
    }
}
