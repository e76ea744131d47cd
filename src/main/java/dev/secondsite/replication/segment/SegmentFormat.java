package dev.secondsite.replication.segment;

/**
 * Byte layout of a change-log segment, version 1. All integers little-endian; the disk id is the
 * UUID's 16 bytes in RFC 4122 (big-endian) order so it reads the same in a hex dump.
 *
 * <pre>
 * segment  = header record* trailer
 *
 * header (HEADER_BYTES = 64)
 *   0   4  magic "SSEG"
 *   4   2  format version (1)
 *   6   2  header bytes (64)
 *   8  16  disk id (UUID)
 *  24   8  sequence number (u64, must be < 2^63)
 *  32   8  created-at, epoch milliseconds
 *  40  20  reserved, zero
 *  60   4  CRC32C of bytes 0..59
 *
 * record header (RECORD_HEADER_BYTES = 32), followed by "stored bytes" of payload
 *   0   1  type: 1 DATA, 2 ZERO, 3 MARKER
 *   1   1  flags: DATA bit 0 = payload is LZ4-compressed; zero for other types
 *   2   2  reserved, zero
 *   4   4  stored bytes: DATA payload as stored, MARKER tag bytes (UTF-8), ZERO 0
 *   8   8  DATA/ZERO: disk offset in bytes  |  MARKER: timestamp, epoch milliseconds
 *  16   4  DATA/ZERO: length in bytes       |  MARKER: consistency type code (1 crash, 2 app)
 *  20   4  CRC32C of the uncompressed payload (DATA) or of the tag (MARKER); zero for ZERO
 *  24   4  reserved, zero
 *  28   4  CRC32C of record header bytes 0..27
 *
 * trailer (TRAILER_BYTES = 32): the seal; a segment without it is unsealed and never applied
 *   0   4  magic "SEAL" (its first byte can never be a record type)
 *   4   4  reserved, zero
 *   8   8  record count
 *  16   8  total payload bytes (sum of stored bytes over all records)
 *  24   4  CRC32C of every byte before the trailer (header and records)
 *  28   4  CRC32C of trailer bytes 0..27
 * </pre>
 *
 * <p>Rules a reader enforces beyond checksums: DATA length in [1, RECORD_BYTES_MAX]; a compressed
 * payload is shorter than its length and decompresses to exactly it, a raw one is exactly it; ZERO
 * length in [1, ZERO_RECORD_BYTES_MAX]; offset + length within the disk when its size is known; tag at
 * most TAG_BYTES_MAX bytes of valid UTF-8; MARKER timestamps strictly increase within a segment (so
 * each names a distinct recovery point); at most SEGMENT_RECORDS_MAX records; nothing after the trailer.
 */
public final class SegmentFormat {
    public static final int FORMAT_VERSION = 1;

    /** "SSEG" as a little-endian int. */
    public static final int HEADER_MAGIC = 0x47455353;
    /** "SEAL" as a little-endian int. */
    public static final int TRAILER_MAGIC = 0x4C414553;

    public static final int HEADER_BYTES = 64;
    public static final int RECORD_HEADER_BYTES = 32;
    public static final int TRAILER_BYTES = 32;

    public static final byte TYPE_DATA = 1;
    public static final byte TYPE_ZERO = 2;
    public static final byte TYPE_MARKER = 3;
    public static final byte FLAG_LZ4 = 1;

    /** Largest DATA record, in logical (uncompressed) bytes; the writer splits longer writes. */
    public static final int RECORD_BYTES_MAX = 4 << 20;
    /** Largest ZERO record, in bytes of disk; the writer splits longer ranges. */
    public static final long ZERO_RECORD_BYTES_MAX = 1L << 30;
    /** Longest MARKER tag, in UTF-8 bytes. */
    public static final int TAG_BYTES_MAX = 256;
    /** Most records in one segment. */
    public static final int SEGMENT_RECORDS_MAX = 1 << 20;
    /** Pass as the disk size when it is not known: offsets are then only checked against overflow. */
    public static final long DISK_BYTES_UNKNOWN = 0;

    static {
        // The reader reads one 32-byte unit after the last record and decides record or trailer by it.
        assert RECORD_HEADER_BYTES == TRAILER_BYTES;
        assert (TRAILER_MAGIC & 0xff) != TYPE_DATA && (TRAILER_MAGIC & 0xff) != TYPE_ZERO
                && (TRAILER_MAGIC & 0xff) != TYPE_MARKER;
        assert RECORD_BYTES_MAX <= ZERO_RECORD_BYTES_MAX && ZERO_RECORD_BYTES_MAX <= 0xffff_ffffL;
    }

    private SegmentFormat() {
    }
}
