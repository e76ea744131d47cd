package dev.secondsite.replication.segment;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.UUID;

import dev.secondsite.replication.Crc32c;

import static dev.secondsite.replication.segment.SegmentFormat.FORMAT_VERSION;
import static dev.secondsite.replication.segment.SegmentFormat.HEADER_BYTES;
import static dev.secondsite.replication.segment.SegmentFormat.HEADER_MAGIC;

/** The fixed-size header of a segment: whose changes these are and where they fall in its sequence. */
public record SegmentHeader(UUID diskId, long sequence, Instant createdAt) {
    private static final int CRC_OFFSET = HEADER_BYTES - 4;
    private static final int RESERVED_OFFSET = 40;

    public SegmentHeader {
        if (diskId == null || createdAt == null) {
            throw new IllegalArgumentException("segment header needs a disk id and a creation time");
        }
        if (sequence < 0) {
            throw new IllegalArgumentException("segment sequence must be >= 0, got " + sequence);
        }
        createdAt = Instant.ofEpochMilli(createdAt.toEpochMilli()); // stored at millisecond precision
    }

    /** The segment's blob name, derived from this header. */
    public String name() {
        return SegmentName.of(diskId, sequence);
    }

    byte[] encode() {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(HEADER_MAGIC);
        buffer.putShort((short) FORMAT_VERSION);
        buffer.putShort((short) HEADER_BYTES);
        buffer.order(ByteOrder.BIG_ENDIAN).putLong(diskId.getMostSignificantBits())
                .putLong(diskId.getLeastSignificantBits()).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(sequence);
        buffer.putLong(createdAt.toEpochMilli());
        assert buffer.position() == RESERVED_OFFSET;
        buffer.position(CRC_OFFSET);
        buffer.putInt(Crc32c.of(buffer.array(), 0, CRC_OFFSET));
        assert buffer.position() == HEADER_BYTES;
        return buffer.array();
    }

    /** Decodes and validates a header; {@code bytes} holds exactly HEADER_BYTES. */
    static SegmentHeader decode(String segmentName, byte[] bytes) throws SegmentFormatException {
        assert bytes.length == HEADER_BYTES;
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int magic = buffer.getInt(0);
        if (magic != HEADER_MAGIC) {
            throw new SegmentFormatException(segmentName, 0, "bad magic 0x" + Integer.toHexString(magic)
                    + " (not a segment)");
        }
        int version = Short.toUnsignedInt(buffer.getShort(4));
        if (version != FORMAT_VERSION) {
            throw new SegmentFormatException(segmentName, 4, "unsupported format version " + version
                    + " (this reader knows " + FORMAT_VERSION + ")");
        }
        int headerBytes = Short.toUnsignedInt(buffer.getShort(6));
        if (headerBytes != HEADER_BYTES) {
            throw new SegmentFormatException(segmentName, 6, "header size " + headerBytes + " != " + HEADER_BYTES);
        }
        int storedCrc = buffer.getInt(CRC_OFFSET);
        int actualCrc = Crc32c.of(bytes, 0, CRC_OFFSET);
        if (storedCrc != actualCrc) {
            throw new SegmentFormatException(segmentName, CRC_OFFSET, "header CRC32C mismatch (stored "
                    + Integer.toHexString(storedCrc) + ", computed " + Integer.toHexString(actualCrc) + ")");
        }
        for (int i = RESERVED_OFFSET; i < CRC_OFFSET; i++) {
            if (bytes[i] != 0) {
                throw new SegmentFormatException(segmentName, i, "reserved header byte is not zero");
            }
        }
        UUID diskId = new UUID(buffer.order(ByteOrder.BIG_ENDIAN).getLong(8), buffer.getLong(16));
        buffer.order(ByteOrder.LITTLE_ENDIAN);
        long sequence = buffer.getLong(24);
        if (sequence < 0) {
            throw new SegmentFormatException(segmentName, 24, "sequence " + Long.toUnsignedString(sequence)
                    + " is out of range (must be < 2^63)");
        }
        long createdAtMillis = buffer.getLong(32);
        SegmentHeader header = new SegmentHeader(diskId, sequence, Instant.ofEpochMilli(createdAtMillis));
        assert java.util.Arrays.equals(header.encode(), bytes); // paired with encode(): the round trip is exact
        return header;
    }
}
