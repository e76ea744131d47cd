package dev.secondsite.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.UUID;

import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.segment.SegmentFormat;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentWriter;

/**
 * Builds one sealed segment in memory, refusing any record that could push the sealed segment past
 * {@link #SEGMENT_BYTES_MAX} stored bytes. Room for a final MARKER and the trailer is always kept, so a
 * segment that accepted its last change can always still take the pass's marker.
 *
 * <p>The buffer is reused from segment to segment ({@link #reset}) and from pass to pass.
 */
final class SegmentBuilder {
    /** Largest sealed segment the agent produces (the server accepts up to 64 MiB). */
    static final long SEGMENT_BYTES_MAX = 32L << 20;
    /** Most records per segment (the format allows 2^20; zero runs would otherwise pile up). */
    static final int SEGMENT_RECORDS_MAX = 1 << 16;
    /** Kept free in every segment for the marker and the trailer. */
    static final int MARKER_RESERVE_BYTES = SegmentFormat.RECORD_HEADER_BYTES + SegmentFormat.TAG_BYTES_MAX
            + SegmentFormat.TRAILER_BYTES;

    private final UUID diskId;
    private final long diskBytes;
    private final long bytesMax;
    private final Buffer buffer = new Buffer();
    private SegmentWriter writer;
    private long sequence;
    private int changes;

    SegmentBuilder(UUID diskId, long diskBytes) {
        this(diskId, diskBytes, SEGMENT_BYTES_MAX);
    }

    /** With another size bound; tests use small ones. */
    SegmentBuilder(UUID diskId, long diskBytes, long bytesMax) {
        if (bytesMax < SegmentFormat.HEADER_BYTES + MARKER_RESERVE_BYTES + SegmentFormat.RECORD_HEADER_BYTES + 1) {
            throw new IllegalArgumentException("segment bound " + bytesMax + " is too small");
        }
        this.diskId = diskId;
        this.diskBytes = diskBytes;
        this.bytesMax = bytesMax;
    }

    /** Starts a new segment with this sequence (the previous one must have been sealed and taken). */
    void reset(long sequence, Instant createdAt) throws IOException {
        buffer.reset();
        this.sequence = sequence;
        this.changes = 0;
        this.writer = SegmentWriter.start(buffer, new SegmentHeader(diskId, sequence, createdAt),
                SegmentWriter.Compression.LZ4, diskBytes);
    }

    long diskBytes() {
        return diskBytes;
    }

    long sequence() {
        return sequence;
    }

    /** DATA and ZERO records so far (markers not counted). */
    int changes() {
        return changes;
    }

    /** Whether a DATA record of {@code length} logical bytes is sure to fit (stored raw at worst). */
    boolean fitsData(int length) {
        return fits(SegmentFormat.RECORD_HEADER_BYTES + (long) length);
    }

    /** Whether one ZERO record fits (the caller keeps each zero range within one record). */
    boolean fitsZero() {
        return fits(SegmentFormat.RECORD_HEADER_BYTES);
    }

    private boolean fits(long recordBytes) {
        return writer.recordCount() + 2 <= SEGMENT_RECORDS_MAX
                && writer.bytesWritten() + recordBytes + MARKER_RESERVE_BYTES <= bytesMax;
    }

    void data(long offset, byte[] bytes, int from, int length) throws IOException {
        if (!fitsData(length) || length > SegmentFormat.RECORD_BYTES_MAX) {
            throw new IllegalStateException("DATA record of " + length + " bytes does not fit segment " + sequence);
        }
        writer.data(offset, bytes, from, length);
        changes++;
    }

    void zero(long offset, long length) throws IOException {
        if (!fitsZero() || length > SegmentFormat.ZERO_RECORD_BYTES_MAX) {
            throw new IllegalStateException("ZERO record of " + length + " bytes does not fit segment " + sequence);
        }
        writer.zero(offset, length);
        changes++;
    }

    void marker(ConsistencyType type, Instant at, String tag) throws IOException {
        writer.marker(type, at, tag);
    }

    /** Seals the segment; its bytes are {@link #bytes()}{@code [0, }{@link #length()}{@code )} until the next reset. */
    void seal() throws IOException {
        writer.seal();
        assert buffer.size() <= bytesMax;
    }

    byte[] bytes() {
        return buffer.array();
    }

    int length() {
        return buffer.size();
    }

    /** A ByteArrayOutputStream whose array can be read without a copy. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer() {
            super(1 << 20);
        }

        byte[] array() {
            return buf;
        }
    }
}
