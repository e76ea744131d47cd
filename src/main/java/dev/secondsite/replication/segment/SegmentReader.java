package dev.secondsite.replication.segment;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.Crc32c;
import dev.secondsite.replication.Lz4Codec;

import static dev.secondsite.replication.segment.SegmentFormat.DISK_BYTES_UNKNOWN;
import static dev.secondsite.replication.segment.SegmentFormat.FLAG_LZ4;
import static dev.secondsite.replication.segment.SegmentFormat.HEADER_BYTES;
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
 * Reads a segment from an untrusted stream, validating as it goes: the header on {@link #open}, each
 * record on {@link #next()}, and the trailer (seal, counts, whole-segment CRC32C, end of stream) when
 * {@code next()} reaches it and returns null. Anything wrong is a {@link SegmentFormatException} naming
 * the segment and byte offset.
 *
 * <p>Records are handed out before the trailer has been checked: a consumer must not make their effects
 * visible until {@code next()} has returned null (the apply engine defers its commit to that point).
 *
 * <p>Bounded by construction: every allocation is capped by a named maximum before the untrusted
 * length is used ({@link SegmentFormat#RECORD_BYTES_MAX}, {@link SegmentFormat#TAG_BYTES_MAX}), every
 * loop iteration consumes at least {@link SegmentFormat#RECORD_HEADER_BYTES} bytes, and the record count
 * is capped by {@link SegmentFormat#SEGMENT_RECORDS_MAX}. Not thread-safe; does not close the stream.
 */
public final class SegmentReader {
    private final String name;
    private final InputStream in;
    /** The whole segment when verifying an array ({@link #verify}): raw payloads are checked where they lie. */
    private final byte[] source;
    /** The segment's bytes in {@link #source} (the array may be longer: a reused buffer). */
    private final int sourceLength;
    private final long diskBytes;
    private final CRC32C crc = new CRC32C();
    private final SegmentHeader header;
    private long position;
    private long recordCount;
    private long payloadBytes;
    private long dataBytes;
    private long lastMarkerMillis = Long.MIN_VALUE;
    private SegmentTrailer trailer;

    private SegmentReader(String name, InputStream in, byte[] source, int sourceLength, long diskBytes)
            throws IOException {
        if (diskBytes < 0) {
            throw new IllegalArgumentException("disk size must be >= 0 bytes, got " + diskBytes);
        }
        this.name = name;
        this.in = in;
        this.source = source;
        this.sourceLength = sourceLength;
        this.diskBytes = diskBytes;
        byte[] headerBytes = readExactly(HEADER_BYTES, "header");
        this.header = SegmentHeader.decode(name, headerBytes);
        crc.update(headerBytes);
        SegmentName expected;
        try {
            expected = SegmentName.parse(name);
        } catch (IllegalArgumentException e) {
            throw new SegmentFormatException(name, 0, e.getMessage());
        }
        if (!expected.diskId().equals(header.diskId()) || expected.sequence() != header.sequence()) {
            throw new SegmentFormatException(name, 8, "header says disk " + header.diskId() + " sequence "
                    + header.sequence() + ", which does not match the segment's name");
        }
    }

    /**
     * Reads and validates the header. {@code name} is the segment's blob name, which must agree with the
     * header; {@code diskBytes} bounds record offsets (or {@link SegmentFormat#DISK_BYTES_UNKNOWN}).
     */
    public static SegmentReader open(String name, InputStream in, long diskBytes) throws IOException {
        return new SegmentReader(name, in, null, 0, diskBytes);
    }

    /**
     * Validates a whole segment exactly as reading it would (every record, the trailer, every CRC32C), without
     * handing out records: raw DATA payloads are checked where they lie, so verifying copies none of them (the
     * server verifies every upload before it stores it, and most of a busy disk's upload is raw payload: data that
     * did not compress). Returns the DATA bytes the segment changes.
     */
    public static long verify(String name, byte[] segment, long diskBytes) throws IOException {
        return verify(name, segment, segment.length, diskBytes);
    }

    /** {@link #verify(String, byte[], long)} of the segment in {@code segment[0, length)} (a reused body buffer). */
    public static long verify(String name, byte[] segment, int length, long diskBytes) throws IOException {
        SegmentReader reader = new SegmentReader(name, new ByteArrayInputStream(segment, 0, length), segment, length,
                diskBytes);
        while (reader.next() != null) {
            // each call validates one record
        }
        return reader.dataBytes;
    }

    /** Reads and validates a whole segment. */
    public static Segment readFully(String name, InputStream in, long diskBytes) throws IOException {
        SegmentReader reader = open(name, in, diskBytes);
        List<SegmentRecord> records = new ArrayList<>();
        for (SegmentRecord record = reader.next(); record != null; record = reader.next()) {
            records.add(record);
        }
        return new Segment(reader.header(), records, reader.trailer());
    }

    public static Segment readFully(String name, byte[] segment, long diskBytes) throws IOException {
        return readFully(name, new ByteArrayInputStream(segment), diskBytes);
    }

    public SegmentHeader header() {
        return header;
    }

    /** The validated trailer; available once {@link #next()} has returned null. */
    public SegmentTrailer trailer() {
        if (trailer == null) {
            throw new IllegalStateException("segment " + name + " has not been read to its trailer yet");
        }
        return trailer;
    }

    /**
     * The next validated record, or null once the trailer has been read and the whole segment verified. (Inside
     * {@link #verify}, DATA records come back as {@link #VERIFIED}.)
     */
    public SegmentRecord next() throws IOException {
        if (trailer != null) {
            return null;
        }
        long start = position;
        byte[] unit = readExactly(RECORD_HEADER_BYTES, "record header or trailer");
        ByteBuffer buffer = ByteBuffer.wrap(unit).order(ByteOrder.LITTLE_ENDIAN);
        if (buffer.getInt(0) == TRAILER_MAGIC) {
            readTrailer(start, buffer);
            return null;
        }
        crc.update(unit);
        int storedHeaderCrc = buffer.getInt(RECORD_HEADER_BYTES - 4);
        if (storedHeaderCrc != Crc32c.of(unit, 0, RECORD_HEADER_BYTES - 4)) {
            throw fail(start, "record header CRC32C mismatch (record " + recordCount + ")");
        }
        if (recordCount >= SEGMENT_RECORDS_MAX) {
            throw fail(start, "more than " + SEGMENT_RECORDS_MAX + " records");
        }
        byte type = buffer.get(0);
        byte flags = buffer.get(1);
        int storedBytes = buffer.getInt(4);
        long offsetOrTime = buffer.getLong(8);
        long lengthOrType = Integer.toUnsignedLong(buffer.getInt(16));
        int payloadCrc = buffer.getInt(20);
        if (buffer.getShort(2) != 0 || buffer.getInt(24) != 0) {
            throw fail(start, "reserved record header bytes are not zero");
        }
        SegmentRecord record = switch (type) {
            case TYPE_DATA -> readData(start, flags, storedBytes, offsetOrTime, lengthOrType, payloadCrc);
            case TYPE_ZERO -> readZero(start, flags, storedBytes, offsetOrTime, lengthOrType, payloadCrc);
            case TYPE_MARKER -> readMarker(start, flags, storedBytes, offsetOrTime, lengthOrType, payloadCrc);
            default -> throw fail(start, "unknown record type " + type);
        };
        recordCount++;
        return record;
    }

    private SegmentRecord readData(long start, byte flags, int storedBytes, long offset, long length, int contentCrc)
            throws IOException {
        if ((flags & ~FLAG_LZ4) != 0) {
            throw fail(start, "unknown DATA flags 0x" + Integer.toHexString(flags & 0xff));
        }
        if (length < 1 || length > RECORD_BYTES_MAX) {
            throw fail(start, "DATA length " + length + " is outside [1, " + RECORD_BYTES_MAX + "]");
        }
        checkRange(start, offset, length);
        boolean lz4 = (flags & FLAG_LZ4) != 0;
        // A compressed payload is strictly shorter than its content; a raw one is exactly as long.
        if (lz4 ? (storedBytes < 1 || storedBytes >= length) : storedBytes != length) {
            throw fail(start, "DATA stored bytes " + Integer.toUnsignedString(storedBytes) + " do not fit length "
                    + length + (lz4 ? " (compressed)" : " (raw)"));
        }
        dataBytes += length;
        if (source != null) {
            verifyInPlace(start, storedBytes, (int) length, lz4, contentCrc);
            return VERIFIED;
        }
        byte[] stored = readExactly(storedBytes, "DATA payload");
        crc.update(stored);
        payloadBytes += storedBytes;
        byte[] content;
        if (lz4) {
            content = new byte[(int) length];
            decompress(start, stored, 0, storedBytes, content, (int) length);
        } else {
            content = stored;
        }
        checkContent(start, content, 0, content.length, contentCrc);
        return new SegmentRecord.Data(offset, content);
    }

    /** Stands for a DATA record that {@link #verify} checked and did not copy out. */
    private static final SegmentRecord VERIFIED = new SegmentRecord.Data(0, new byte[1]);

    /** A DATA payload checked where it lies in {@link #source}: the segment CRC, then the content's. */
    private void verifyInPlace(long start, int storedBytes, int length, boolean lz4, int contentCrc) throws IOException {
        int at = (int) position;
        int available = sourceLength - at;
        if (available < storedBytes) {
            readExactly(storedBytes, "DATA payload"); // fails as truncated, with the usual message
        }
        crc.update(source, at, storedBytes);
        payloadBytes += storedBytes;
        in.skipNBytes(storedBytes);
        position += storedBytes;
        if (lz4) {
            byte[] content = new byte[length]; // fresh, never a reused buffer (ADR 0005)
            decompress(start, source, at, storedBytes, content, length);
            checkContent(start, content, 0, length, contentCrc);
        } else {
            checkContent(start, source, at, length, contentCrc);
        }
    }

    private void decompress(long start, byte[] stored, int at, int storedBytes, byte[] content, int length)
            throws SegmentFormatException {
        if (!Lz4Codec.decompressExactly(stored, at, storedBytes, content, 0, length)) {
            throw fail(start + RECORD_HEADER_BYTES, "DATA payload does not decompress to exactly " + length + " bytes");
        }
    }

    private void checkContent(long start, byte[] content, int at, int length, int contentCrc)
            throws SegmentFormatException {
        if (Crc32c.of(content, at, length) != contentCrc) {
            throw fail(start + RECORD_HEADER_BYTES, "DATA payload CRC32C mismatch (record " + recordCount + ")");
        }
    }

    private SegmentRecord readZero(long start, byte flags, int storedBytes, long offset, long length, int payloadCrc)
            throws IOException {
        if (flags != 0 || storedBytes != 0 || payloadCrc != 0) {
            throw fail(start, "ZERO record carries flags, payload or checksum");
        }
        if (length < 1 || length > ZERO_RECORD_BYTES_MAX) {
            throw fail(start, "ZERO length " + length + " is outside [1, " + ZERO_RECORD_BYTES_MAX + "]");
        }
        checkRange(start, offset, length);
        return new SegmentRecord.Zero(offset, length);
    }

    private SegmentRecord readMarker(long start, byte flags, int storedBytes, long millis, long typeCode, int tagCrc)
            throws IOException {
        if (flags != 0) {
            throw fail(start, "MARKER record carries flags");
        }
        ConsistencyType type = typeCode > Integer.MAX_VALUE ? null : ConsistencyType.ofCode((int) typeCode);
        if (type == null) {
            throw fail(start, "unknown consistency type " + typeCode);
        }
        if (storedBytes < 0 || storedBytes > TAG_BYTES_MAX) {
            throw fail(start, "MARKER tag of " + Integer.toUnsignedString(storedBytes) + " bytes exceeds "
                    + TAG_BYTES_MAX);
        }
        if (millis <= lastMarkerMillis) {
            throw fail(start, "MARKER timestamp " + millis + " does not follow the previous marker's " + lastMarkerMillis);
        }
        byte[] tagBytes = readExactly(storedBytes, "MARKER tag");
        crc.update(tagBytes);
        payloadBytes += storedBytes;
        if (Crc32c.of(tagBytes) != tagCrc) {
            throw fail(start + RECORD_HEADER_BYTES, "MARKER tag CRC32C mismatch");
        }
        String tag;
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(tagBytes));
            tag = chars.toString();
        } catch (CharacterCodingException e) {
            throw fail(start + RECORD_HEADER_BYTES, "MARKER tag is not valid UTF-8");
        }
        lastMarkerMillis = millis;
        return new SegmentRecord.Marker(type, Instant.ofEpochMilli(millis), tag);
    }

    private void readTrailer(long start, ByteBuffer buffer) throws IOException {
        if (buffer.getInt(TRAILER_BYTES - 4) != Crc32c.of(buffer.array(), 0, TRAILER_BYTES - 4)) {
            throw fail(start, "trailer CRC32C mismatch");
        }
        if (buffer.getInt(4) != 0) {
            throw fail(start, "reserved trailer bytes are not zero");
        }
        long countedRecords = buffer.getLong(8);
        long countedPayload = buffer.getLong(16);
        int segmentCrc = buffer.getInt(24);
        if (countedRecords != recordCount) {
            throw fail(start, "trailer counts " + Long.toUnsignedString(countedRecords) + " records, segment has "
                    + recordCount);
        }
        if (countedPayload != payloadBytes) {
            throw fail(start, "trailer counts " + Long.toUnsignedString(countedPayload) + " payload bytes, segment has "
                    + payloadBytes);
        }
        if (segmentCrc != (int) crc.getValue()) {
            throw fail(start, "segment CRC32C mismatch (stored " + Integer.toHexString(segmentCrc) + ", computed "
                    + Integer.toHexString((int) crc.getValue()) + ")");
        }
        if (in.read() != -1) {
            throw fail(position, "bytes follow the trailer");
        }
        trailer = new SegmentTrailer(recordCount, payloadBytes, segmentCrc);
    }

    private void checkRange(long start, long offset, long length) throws SegmentFormatException {
        if (offset < 0 || offset > Long.MAX_VALUE - length) {
            throw fail(start, "offset " + Long.toUnsignedString(offset) + " is out of range");
        }
        if (diskBytes != DISK_BYTES_UNKNOWN && offset + length > diskBytes) {
            throw fail(start, "range [" + offset + ", " + (offset + length) + ") ends beyond the disk ("
                    + diskBytes + " bytes)");
        }
    }

    /** Reads exactly {@code count} bytes (count already bounded by the caller) or fails as truncated. */
    private byte[] readExactly(int count, String what) throws IOException {
        assert count >= 0 && count <= Math.max(RECORD_BYTES_MAX, HEADER_BYTES);
        // Read straight into an array of the final size: readNBytes(count) would gather 16 KiB pieces and copy
        // them once more, and the DATA payloads are most of the server's bytes.
        byte[] bytes = new byte[count];
        int read = in.readNBytes(bytes, 0, count);
        if (read != count) {
            long at = position + read;
            if (read == 0 && what.startsWith("record header or trailer")) {
                throw fail(at, "segment is not sealed: it ends after " + recordCount + " records without a trailer");
            }
            throw fail(at, "truncated " + what + " (" + read + " of " + count + " bytes)");
        }
        position += count;
        return bytes;
    }

    private SegmentFormatException fail(long at, String cause) {
        return new SegmentFormatException(name, at, cause);
    }
}
