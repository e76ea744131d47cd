package dev.secondsite.replication.segment;

import java.util.UUID;

/**
 * A segment's blob name, {@code {diskId}/{sequence zero-padded to 20 digits}.seg}. The name is derived
 * from the header, so uploading or applying the same segment twice addresses the same object: both
 * are idempotent by name. 20 digits hold any u64; padding makes names sort in sequence order.
 */
public record SegmentName(UUID diskId, long sequence) {
    public static final String SUFFIX = ".seg";
    public static final int SEQUENCE_DIGITS = 20;

    public SegmentName {
        if (diskId == null) {
            throw new IllegalArgumentException("segment disk id is null");
        }
        if (sequence < 0) {
            throw new IllegalArgumentException("segment sequence must be >= 0, got " + sequence);
        }
    }

    public static String of(UUID diskId, long sequence) {
        return new SegmentName(diskId, sequence).toString();
    }

    /** The prefix under which all segments of a disk are listed. */
    public static String prefix(UUID diskId) {
        return diskId + "/";
    }

    /** Parses a canonical segment name; throws IllegalArgumentException for anything else. */
    public static SegmentName parse(String name) {
        int slash = name == null ? -1 : name.indexOf('/');
        if (slash != 36 || !name.endsWith(SUFFIX) || name.length() != 36 + 1 + SEQUENCE_DIGITS + SUFFIX.length()) {
            throw new IllegalArgumentException("not a segment name {diskId}/{20-digit sequence}.seg: " + name);
        }
        UUID diskId;
        try {
            diskId = UUID.fromString(name.substring(0, slash));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a segment name (bad disk id): " + name);
        }
        String digits = name.substring(slash + 1, slash + 1 + SEQUENCE_DIGITS);
        long sequence;
        try {
            sequence = digits.chars().allMatch(c -> c >= '0' && c <= '9') ? Long.parseLong(digits) : -1;
        } catch (NumberFormatException e) {
            sequence = -1;
        }
        if (sequence < 0) {
            throw new IllegalArgumentException("not a segment name (sequence must be 0.." + Long.MAX_VALUE + "): " + name);
        }
        SegmentName parsed = new SegmentName(diskId, sequence);
        if (!parsed.toString().equals(name)) {
            throw new IllegalArgumentException("not a canonical segment name (expected " + parsed + "): " + name);
        }
        return parsed;
    }

    @Override
    public String toString() {
        return diskId + "/" + String.format("%0" + SEQUENCE_DIGITS + "d", sequence) + SUFFIX;
    }
}
