package dev.secondsite.replication.point;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.OptionalLong;
import java.util.UUID;

import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.Crc32c;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.DiskGeometry;

/**
 * One recovery point: which disk, its geometry, the Merkle root of its content, and what kind of
 * consistency point it came from. Stored as blob {@code points/{diskId}/{createdAt}-{sequence}.manifest}
 * ({@link #blobName()}: compact ISO-8601 UTC time, so names sort by time), as UTF-8 text, one
 * {@code key=value} per line in this fixed order, the last line a CRC32C of all bytes before it:
 *
 * <pre>
 * secondsite-recovery-point=1
 * disk-id=3f2c...-uuid
 * virtual-bytes=68719476736
 * chunk-bytes=65536
 * root=&lt;64 hex&gt;
 * consistency=APP_CONSISTENT
 * created-at=2025-11-23T11:40:00.123Z
 * segment-sequence=42
 * tag=&lt;URL-encoded UTF-8&gt;
 * checksum-crc32c=&lt;8 hex&gt;
 * </pre>
 *
 * Encoding is deterministic: the same point always produces the same bytes, so re-creating it (a
 * re-applied segment) rewrites it identically.
 */
public record RecoveryPointManifest(UUID diskId, DiskGeometry geometry, ChunkDigest root, ConsistencyType consistency,
                                    Instant createdAt, long segmentSequence, String tag) {
    public static final String PREFIX = "points/";
    public static final String SUFFIX = ".manifest";
    public static final int FORMAT_VERSION = 1;
    /** Largest manifest file; a 256-byte tag URL-encodes to at most 768 characters. */
    public static final int MANIFEST_BYTES_MAX = 4096;

    private static final DateTimeFormatter NAME_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final String[] KEYS = {"secondsite-recovery-point", "disk-id", "virtual-bytes", "chunk-bytes",
            "root", "consistency", "created-at", "segment-sequence", "tag", "checksum-crc32c"};

    public RecoveryPointManifest {
        if (diskId == null || geometry == null || root == null || consistency == null || createdAt == null || tag == null) {
            throw new IllegalArgumentException("recovery point manifest fields must not be null");
        }
        if (segmentSequence < 0) {
            throw new IllegalArgumentException("segment sequence must be >= 0, got " + segmentSequence);
        }
        if (createdAt.getEpochSecond() < 0 || createdAt.getEpochSecond() > 253402300799L) {
            throw new IllegalArgumentException("created-at must be within years 1970..9999, got " + createdAt);
        }
        createdAt = Instant.ofEpochMilli(createdAt.toEpochMilli());
    }

    /** {@code points/{diskId}/{yyyyMMddTHHmmss.SSSZ}-{sequence, 20 digits}.manifest}. */
    public String blobName() {
        return prefix(diskId) + NAME_TIME.format(createdAt) + "-" + String.format("%020d", segmentSequence) + SUFFIX;
    }

    /** The segment sequence a manifest name ends with ({@code -<20 digits>.manifest}), if it is one. */
    public static OptionalLong sequenceOf(String name) {
        int end = name.length() - SUFFIX.length();
        int start = end - 20;
        if (!name.endsWith(SUFFIX) || start < 1 || name.charAt(start - 1) != '-') {
            return OptionalLong.empty();
        }
        String digits = name.substring(start, end);
        if (!digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(digits));
        } catch (NumberFormatException tooLarge) {
            return OptionalLong.empty();
        }
    }

    public static String prefix(UUID diskId) {
        return PREFIX + diskId + "/";
    }

    public byte[] encode() {
        String body = line(0, Integer.toString(FORMAT_VERSION)) + line(1, diskId.toString())
                + line(2, Long.toString(geometry.virtualBytes())) + line(3, Integer.toString(geometry.chunkBytes()))
                + line(4, root.hex()) + line(5, consistency.name()) + line(6, createdAt.toString())
                + line(7, Long.toString(segmentSequence)) + line(8, URLEncoder.encode(tag, StandardCharsets.UTF_8));
        byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
        String checksum = line(9, HexFormat.of().toHexDigits(Crc32c.of(bodyBytes)));
        byte[] bytes = (body + checksum).getBytes(StandardCharsets.UTF_8);
        assert bytes.length <= MANIFEST_BYTES_MAX;
        return bytes;
    }

    /** Parses and verifies a manifest read from blob {@code name}; the name must be the one it encodes. */
    public static RecoveryPointManifest decode(String name, byte[] bytes) throws CorruptManifestException {
        if (bytes.length > MANIFEST_BYTES_MAX) {
            throw new CorruptManifestException(name, "larger than " + MANIFEST_BYTES_MAX + " bytes");
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        String[] lines = text.split("\n", -1);
        if (lines.length != KEYS.length + 1 || !lines[KEYS.length].isEmpty()) {
            throw new CorruptManifestException(name, "expected " + KEYS.length + " lines");
        }
        String[] values = new String[KEYS.length];
        for (int i = 0; i < KEYS.length; i++) {
            if (!lines[i].startsWith(KEYS[i] + "=")) {
                throw new CorruptManifestException(name, "line " + (i + 1) + " must start with '" + KEYS[i] + "='");
            }
            values[i] = lines[i].substring(KEYS[i].length() + 1);
        }
        int bodyBytes = text.lastIndexOf(KEYS[9] + "=");
        String expected = HexFormat.of().toHexDigits(Crc32c.of(text.substring(0, bodyBytes).getBytes(StandardCharsets.UTF_8)));
        if (!expected.equals(values[9])) {
            throw new CorruptManifestException(name, "checksum mismatch (stored " + values[9] + ", computed " + expected + ")");
        }
        RecoveryPointManifest manifest;
        try {
            if (!values[0].equals(Integer.toString(FORMAT_VERSION))) {
                throw new IllegalArgumentException("unsupported manifest version " + values[0]);
            }
            ConsistencyType consistency = ConsistencyType.valueOf(values[5]);
            manifest = new RecoveryPointManifest(UUID.fromString(values[1]),
                    new DiskGeometry(Long.parseLong(values[2]), Integer.parseInt(values[3])), ChunkDigest.parse(values[4]),
                    consistency, Instant.parse(values[6]), Long.parseLong(values[7]),
                    URLDecoder.decode(values[8], StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new CorruptManifestException(name, "bad field: " + e.getMessage());
        }
        if (!java.util.Arrays.equals(manifest.encode(), bytes)) {
            throw new CorruptManifestException(name, "not in canonical form");
        }
        if (!manifest.blobName().equals(name)) {
            throw new CorruptManifestException(name, "describes " + manifest.blobName() + ", not itself");
        }
        return manifest;
    }

    private static String line(int key, String value) {
        return KEYS[key] + "=" + value + "\n";
    }
}
