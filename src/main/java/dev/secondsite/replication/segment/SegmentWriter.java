package dev.secondsite.replication.segment;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.zip.CRC32C;

import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.Crc32c;
import dev.secondsite.replication.Lz4Codec;

import static dev.secondsite.replication.segment.SegmentFormat.DISK_BYTES_UNKNOWN;
import static dev.secondsite.replication.segment.SegmentFormat.FLAG_LZ4;
import static dev.secondsite.replication.segment.SegmentFormat.RECORD_BYTES_MAX;
import static dev.secondsite.replication.segment.SegmentFormat.RECORD_HEADER_BYTES;
import static dev.secondsite.replication.segment.SegmentFormat.SEGMENT_RECORDS_MAX;
import static dev.secondsite.replication.segment.SegmentFormat.TAG_BYTES_MAX;
import static dev.secondsite.replication.segment.SegmentFormat.TRAILER_BYTES;
import static dev.secondsite.replication.segment.SegmentFormat.TRAILER_MAGIC;
import static dev.secondsite.replication.segment.SegmentFormat.TYPE_DATA;
import static dev.secondsite.replication.segment.SegmentFormat.TYPE_MARKER;
import static dev.secondsite.replication.segment.SegmentFormat.TYPE_ZERO;
import static dev.secondsite.replication.segment.SegmentFormat.ZERO_RECORD_BYTES_MAX;

/**
 * Streams one segment to an OutputStream: the header at once, each record as it is added, the trailer
 * on {@link #seal()}. The writer checks on the way in every rule the reader checks on the way out
 * (lengths, bounds, marker order), so a segment it produces always reads back.
 *
 * <p>Writes longer than {@link SegmentFormat#RECORD_BYTES_MAX} and zero ranges longer than
 * {@link SegmentFormat#ZERO_RECORD_BYTES_MAX} are split into several records. Not thread-safe. The
 * caller owns (and closes) the stream; {@code seal()} flushes it.
 */
public final class SegmentWriter {
    public enum Compression { LZ4, NONE }

    private final OutputStream out;
    private final SegmentHeader header;
    private final Compression compression;
    private final long diskBytes;
    private final CRC32C crc = new CRC32C();
    private final byte[] recordHeader = new byte[RECORD_HEADER_BYTES];
    private byte[] compressed = new byte[0];
    private long recordCount;
    private long payloadBytes;
    private long bytesWritten;
    private long lastMarkerMillis = Long.MIN_VALUE;
    private boolean sealed;

    private SegmentWriter(OutputStream out, SegmentHeader header, Compression compression, long diskBytes) {
        this.out = out;
        this.header = header;
        this.compression = compression;
        this.diskBytes = diskBytes;
    }

    /**
     * Writes the header and returns a writer for the records. {@code diskBytes} bounds every offset
     * (or {@link SegmentFormat#DISK_BYTES_UNKNOWN}).
     */
    public static SegmentWriter start(OutputStream out, SegmentHeader header, Compression compression, long diskBytes)
            throws IOException {
        if (diskBytes < 0) {
            throw new IllegalArgumentException("disk size must be >= 0 bytes, got " + diskBytes);
        }
        SegmentWriter writer = new SegmentWriter(out, header, compression, diskBytes);
        writer.emit(header.encode(), 0, SegmentFormat.HEADER_BYTES);
        return writer;
    }

    public static SegmentWriter start(OutputStream out, SegmentHeader header, Compression compression) throws IOException {
        return start(out, header, compression, DISK_BYTES_UNKNOWN);
    }

    public SegmentHeader header() {
        return header;
    }

    public void write(SegmentRecord record) throws IOException {
        switch (record) {
            case SegmentRecord.Data data -> data(data.offset(), data.bytes());
            case SegmentRecord.Zero zero -> zero(zero.offset(), zero.lengthBytes());
            case SegmentRecord.Marker marker -> marker(marker.type(), marker.timestamp(), marker.tag());
        }
    }

    public void data(long offset, byte[] bytes) throws IOException {
        data(offset, bytes, 0, bytes.length);
    }

    /** Records that {@code [offset, offset + length)} now holds {@code bytes[from, from + length)}. */
    public void data(long offset, byte[] bytes, int from, int length) throws IOException {
        checkRange("DATA", offset, length);
        java.util.Objects.checkFromIndexSize(from, length, bytes.length);
        for (int done = 0; done < length; ) {
            int part = Math.min(RECORD_BYTES_MAX, length - done);
            dataRecord(offset + done, bytes, from + done, part);
            done += part;
        }
    }

    /** Records that {@code [offset, offset + length)} now reads as zeros. */
    public void zero(long offset, long length) throws IOException {
        checkRange("ZERO", offset, length);
        for (long done = 0; done < length; ) {
            long part = Math.min(ZERO_RECORD_BYTES_MAX, length - done);
            startRecord();
            encodeRecordHeader(TYPE_ZERO, (byte) 0, 0, offset + done, (int) part, 0);
            emit(recordHeader, 0, RECORD_HEADER_BYTES);
            done += part;
        }
    }

    /** Records a consistency point. Timestamps must strictly increase within a segment. */
    public void marker(ConsistencyType type, Instant timestamp, String tag) throws IOException {
        byte[] tagBytes = tag.getBytes(StandardCharsets.UTF_8);
        if (tagBytes.length > TAG_BYTES_MAX) {
            throw new IllegalArgumentException("marker tag is " + tagBytes.length + " UTF-8 bytes, more than "
                    + TAG_BYTES_MAX);
        }
        long millis = timestamp.toEpochMilli();
        if (millis <= lastMarkerMillis) {
            throw new IllegalArgumentException("marker timestamp " + timestamp + " does not follow the previous marker's "
                    + Instant.ofEpochMilli(lastMarkerMillis) + " (each marker names a distinct recovery point)");
        }
        startRecord();
        encodeRecordHeader(TYPE_MARKER, (byte) 0, tagBytes.length, millis, type.code(), Crc32c.of(tagBytes));
        emit(recordHeader, 0, RECORD_HEADER_BYTES);
        emit(tagBytes, 0, tagBytes.length);
        payloadBytes += tagBytes.length;
        lastMarkerMillis = millis;
    }

    /** Writes the trailer and flushes. After this the writer accepts nothing more. */
    public SegmentTrailer seal() throws IOException {
        checkOpen();
        SegmentTrailer trailer = new SegmentTrailer(recordCount, payloadBytes, (int) crc.getValue());
        ByteBuffer buffer = ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(TRAILER_MAGIC).putInt(0).putLong(recordCount).putLong(payloadBytes).putInt(trailer.crc32c());
        buffer.putInt(Crc32c.of(buffer.array(), 0, TRAILER_BYTES - 4));
        assert buffer.position() == TRAILER_BYTES;
        out.write(buffer.array());
        bytesWritten += TRAILER_BYTES;
        out.flush();
        sealed = true;
        return trailer;
    }

    public long recordCount() {
        return recordCount;
    }

    /** Bytes written so far, header included (and the trailer once sealed). */
    public long bytesWritten() {
        return bytesWritten;
    }

    private void dataRecord(long offset, byte[] bytes, int from, int length) throws IOException {
        assert length >= 1 && length <= RECORD_BYTES_MAX;
        startRecord();
        int contentCrc = Crc32c.of(bytes, from, length);
        int storedBytes = -1;
        if (compression == Compression.LZ4) {
            int bound = Lz4Codec.compressedBytesMax(length);
            if (compressed.length < bound) {
                compressed = new byte[bound];
            }
            storedBytes = Lz4Codec.compress(bytes, from, length, compressed);
        }
        if (storedBytes > 0) {
            assert storedBytes < length;
            encodeRecordHeader(TYPE_DATA, FLAG_LZ4, storedBytes, offset, length, contentCrc);
            emit(recordHeader, 0, RECORD_HEADER_BYTES);
            emit(compressed, 0, storedBytes);
        } else {
            storedBytes = length; // compression did not help (or is off): store raw, flag clear
            encodeRecordHeader(TYPE_DATA, (byte) 0, storedBytes, offset, length, contentCrc);
            emit(recordHeader, 0, RECORD_HEADER_BYTES);
            emit(bytes, from, length);
        }
        payloadBytes += storedBytes;
    }

    private void encodeRecordHeader(byte type, byte flags, int storedBytes, long offsetOrTime, int lengthOrType,
                                    int payloadCrc) {
        ByteBuffer buffer = ByteBuffer.wrap(recordHeader).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(type).put(flags).putShort((short) 0).putInt(storedBytes).putLong(offsetOrTime)
                .putInt(lengthOrType).putInt(payloadCrc).putInt(0);
        buffer.putInt(Crc32c.of(recordHeader, 0, RECORD_HEADER_BYTES - 4));
        assert buffer.position() == RECORD_HEADER_BYTES;
    }

    private void startRecord() {
        checkOpen();
        if (recordCount >= SEGMENT_RECORDS_MAX) {
            throw new IllegalStateException("segment " + header.name() + " already holds " + SEGMENT_RECORDS_MAX
                    + " records (the maximum); seal it and start the next sequence");
        }
        recordCount++;
    }

    private void checkRange(String type, long offset, long length) {
        checkOpen();
        if (offset < 0 || length <= 0 || offset > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException(type + " record range [" + offset + ", +" + length + ") is invalid");
        }
        if (diskBytes != DISK_BYTES_UNKNOWN && offset + length > diskBytes) {
            throw new IllegalArgumentException(type + " record range [" + offset + ", " + (offset + length)
                    + ") ends beyond the disk (" + diskBytes + " bytes)");
        }
    }

    private void checkOpen() {
        if (sealed) {
            throw new IllegalStateException("segment " + header.name() + " is sealed");
        }
    }

    private void emit(byte[] bytes, int from, int length) throws IOException {
        out.write(bytes, from, length);
        crc.update(bytes, from, length);
        bytesWritten += length;
    }
}
