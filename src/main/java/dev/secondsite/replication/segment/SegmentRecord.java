package dev.secondsite.replication.segment;

import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;

import dev.secondsite.replication.ConsistencyType;

/** One entry of a change log, in the order the changes happened on the source disk. */
public sealed interface SegmentRecord {

    /** New content for {@code [offset, offset + bytes.length)}. */
    record Data(long offset, byte[] bytes) implements SegmentRecord {
        public Data {
            if (offset < 0 || bytes == null || bytes.length == 0) {
                throw new IllegalArgumentException("DATA record needs offset >= 0 and at least one byte");
            }
        }

        public long end() {
            return offset + bytes.length;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Data data && data.offset == offset && Arrays.equals(data.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(offset) * 31 + Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            String head = HexFormat.of().formatHex(bytes, 0, Math.min(8, bytes.length));
            return "Data[offset=" + offset + ", length=" + bytes.length + ", bytes=" + head + "...]";
        }
    }

    /** {@code [offset, offset + lengthBytes)} now reads as zeros (discard/TRIM, zero-fill). */
    record Zero(long offset, long lengthBytes) implements SegmentRecord {
        public Zero {
            if (offset < 0 || lengthBytes <= 0) {
                throw new IllegalArgumentException("ZERO record needs offset >= 0 and length > 0");
            }
        }
    }

    /** A consistency point: the disk as of every record before this one forms a recovery point. */
    record Marker(ConsistencyType type, Instant timestamp, String tag) implements SegmentRecord {
        public Marker {
            if (type == null || timestamp == null || tag == null) {
                throw new IllegalArgumentException("MARKER record needs a type, a timestamp and a tag (may be empty)");
            }
            timestamp = Instant.ofEpochMilli(timestamp.toEpochMilli()); // stored at millisecond precision
        }
    }
}
