package dev.secondsite.replication.segment;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.Crc32c;
import dev.secondsite.replication.Lz4Codec;

import static dev.secondsite.replication.segment.SegmentFormat.DISK_BYTES_UNKNOWN;
import static dev.secondsite.replication.segment.SegmentFormat.HEADER_BYTES;
import static dev.secondsite.replication.segment.SegmentFormat.RECORD_BYTES_MAX;
import static dev.secondsite.replication.segment.SegmentFormat.RECORD_HEADER_BYTES;
import static dev.secondsite.replication.segment.SegmentFormat.TRAILER_BYTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class SegmentCodecTest {
    private static final UUID DISK = UUID.fromString("0b0e3c1a-8a55-4c47-9a8e-3a1f5d2e7c10");
    private static final Instant T0 = Instant.parse("2025-11-23T10:00:00.123Z");
    private static final long DISK_BYTES = 1L << 30;

    // ---- round trips ----------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(SegmentWriter.Compression.class)
    void randomRecordsRoundTrip(SegmentWriter.Compression compression) throws IOException {
        for (long seed = 1; seed <= 20; seed++) {
            Random random = new Random(seed);
            List<SegmentRecord> records = randomRecords(random, 1 + random.nextInt(40));
            byte[] segment = write(7 + seed, compression, records);

            Segment read = SegmentReader.readFully(SegmentName.of(DISK, 7 + seed), segment, DISK_BYTES);

            assertThat(read.header()).isEqualTo(new SegmentHeader(DISK, 7 + seed, T0));
            assertThat(read.records()).as("seed %d", seed).isEqualTo(records);
            assertThat(read.trailer().recordCount()).isEqualTo(records.size());
            long dataBytes = records.stream().mapToLong(r -> r instanceof SegmentRecord.Data d ? d.bytes().length : 0).sum();
            assertThat(SegmentReader.verify(SegmentName.of(DISK, 7 + seed), segment, DISK_BYTES)).isEqualTo(dataBytes);
        }
    }

    @Test
    void compressibleDataIsCompressedAndRandomDataStoredRaw() throws IOException {
        byte[] repetitive = new byte[64 << 10];
        Arrays.fill(repetitive, (byte) 'a');
        byte[] noise = new byte[64 << 10];
        new Random(3).nextBytes(noise);
        byte[] segment = write(1, SegmentWriter.Compression.LZ4,
                List.of(new SegmentRecord.Data(0, repetitive), new SegmentRecord.Data(1 << 20, noise)));

        ByteBuffer buffer = ByteBuffer.wrap(segment).order(ByteOrder.LITTLE_ENDIAN);
        int first = HEADER_BYTES;
        assertThat(buffer.get(first + 1)).as("first record flags").isEqualTo(SegmentFormat.FLAG_LZ4);
        int firstStored = buffer.getInt(first + 4);
        assertThat(firstStored).isLessThan(1024);
        int second = first + RECORD_HEADER_BYTES + firstStored;
        assertThat(buffer.get(second + 1)).as("random data is stored raw").isEqualTo((byte) 0);
        assertThat(buffer.getInt(second + 4)).isEqualTo(noise.length);
        assertThat(segment.length).isEqualTo(HEADER_BYTES + 2 * RECORD_HEADER_BYTES + firstStored + noise.length + TRAILER_BYTES);
    }

    @Test
    void emptySegmentRoundTrips() throws IOException {
        byte[] segment = write(1, SegmentWriter.Compression.LZ4, List.of());
        assertThat(segment).hasSize(HEADER_BYTES + TRAILER_BYTES);
        Segment read = SegmentReader.readFully(SegmentName.of(DISK, 1), segment, DISK_BYTES_UNKNOWN);
        assertThat(read.records()).isEmpty();
    }

    @Test
    void longWritesAndZeroRangesAreSplitIntoRecords() throws IOException {
        byte[] big = new byte[2 * RECORD_BYTES_MAX + 100];
        new Random(5).nextBytes(big);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SegmentWriter writer = SegmentWriter.start(out, new SegmentHeader(DISK, 1, T0), SegmentWriter.Compression.LZ4);
        writer.data(10, big);
        writer.zero(0, 2 * SegmentFormat.ZERO_RECORD_BYTES_MAX + 1);
        writer.seal();

        List<SegmentRecord> records = SegmentReader.readFully(SegmentName.of(DISK, 1), out.toByteArray(), DISK_BYTES_UNKNOWN).records();
        assertThat(records).hasSize(6);
        assertThat(records.get(0)).isEqualTo(new SegmentRecord.Data(10, Arrays.copyOf(big, RECORD_BYTES_MAX)));
        assertThat(records.get(2)).isEqualTo(new SegmentRecord.Data(10 + 2L * RECORD_BYTES_MAX,
                Arrays.copyOfRange(big, 2 * RECORD_BYTES_MAX, big.length)));
        assertThat(records.get(5)).isEqualTo(new SegmentRecord.Zero(2 * SegmentFormat.ZERO_RECORD_BYTES_MAX, 1));
    }

    @Test
    void segmentNamesAreCanonical() {
        assertThat(SegmentName.of(DISK, 42)).isEqualTo(DISK + "/00000000000000000042.seg");
        assertThat(SegmentName.parse(DISK + "/00000000000000000042.seg")).isEqualTo(new SegmentName(DISK, 42));
        assertThat(SegmentName.of(DISK, Long.MAX_VALUE)).endsWith("/09223372036854775807.seg");
        for (String bad : List.of(DISK + "/42.seg", DISK + "/00000000000000000042.SEG", DISK.toString().toUpperCase()
                + "/00000000000000000042.seg", DISK + "/18446744073709551615.seg", "x/00000000000000000042.seg",
                DISK + "/0000000000000000004x.seg")) {
            assertThatThrownBy(() -> SegmentName.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    // ---- the writer refuses what the reader would reject ---------------------------------------------

    @Test
    void writerRefusesInvalidRecords() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SegmentWriter writer = SegmentWriter.start(out, new SegmentHeader(DISK, 1, T0), SegmentWriter.Compression.LZ4, 4096);
        assertThatThrownBy(() -> writer.data(4000, new byte[100])).hasMessageContaining("beyond the disk");
        assertThatThrownBy(() -> writer.zero(-1, 10)).hasMessageContaining("invalid");
        assertThatThrownBy(() -> writer.marker(ConsistencyType.APP_CONSISTENT, T0, "x".repeat(257)))
                .hasMessageContaining("more than 256");
        writer.marker(ConsistencyType.APP_CONSISTENT, T0, "é".repeat(128)); // 256 UTF-8 bytes: the maximum
        assertThatThrownBy(() -> writer.marker(ConsistencyType.CRASH_CONSISTENT, T0, ""))
                .hasMessageContaining("does not follow");
        writer.seal();
        assertThatThrownBy(() -> writer.zero(0, 1)).isInstanceOf(IllegalStateException.class);
    }

    // ---- corruption: every case is a SegmentFormatException -------------------------------------------

    @Test
    void everySingleByteFlipIsRejected() throws IOException {
        byte[] good = smallSegment();
        String name = SegmentName.of(DISK, 1);
        SegmentReader.readFully(name, good, DISK_BYTES); // sanity
        for (int position = 0; position < good.length; position++) {
            for (int mask : new int[] {0x01, 0x80, 0xff}) {
                byte[] bad = good.clone();
                bad[position] ^= (byte) mask;
                int at = position;
                SegmentFormatException e = rejectedBothWays(name, bad);
                assertThat(e).as("flip 0x%x at byte %d of %d", mask, at, good.length).isNotNull();
                assertThat(e.getMessage()).startsWith("read on change log failed for segment " + name + " at byte ");
                assertThat(e.byteOffset()).isBetween(0L, (long) good.length);
            }
        }
    }

    @Test
    void everyTruncationIsRejected() throws IOException {
        byte[] good = smallSegment();
        String name = SegmentName.of(DISK, 1);
        List<Integer> boundaries = recordBoundaries(good);
        for (int length = 0; length < good.length; length++) {
            byte[] cut = Arrays.copyOf(good, length);
            SegmentFormatException e = rejectedBothWays(name, cut);
            assertThat(e).as("truncated to %d of %d bytes", length, good.length).isNotNull();
            assertThat(e.byteOffset()).isEqualTo(length);
            // The same cut body in a reused upload buffer, which still holds the rest of a whole segment after it.
            int bodyLength = length;
            SegmentFormatException inBuffer = catchThrowableOfType(SegmentFormatException.class,
                    () -> SegmentReader.verify(name, good, bodyLength, DISK_BYTES));
            assertThat(inBuffer).as("truncated to %d in a longer buffer", length).isNotNull();
            assertThat(inBuffer.getMessage()).isEqualTo(e.getMessage());
            if (boundaries.contains(length)) {
                assertThat(e.getMessage()).contains("not sealed");
            } else {
                assertThat(e.getMessage()).contains("truncated");
            }
        }
    }

    @Test
    void bytesAfterTheTrailerAreRejected() throws IOException {
        byte[] good = smallSegment();
        byte[] longer = Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> SegmentReader.readFully(SegmentName.of(DISK, 1), longer, DISK_BYTES))
                .isInstanceOf(SegmentFormatException.class).hasMessageContaining("bytes follow the trailer");
    }

    @Test
    void wrongMagicVersionAndSizeAreNamed() throws IOException {
        String name = SegmentName.of(DISK, 1);
        byte[] magic = smallSegment();
        magic[0] = 'X';
        assertThatThrownBy(() -> SegmentReader.readFully(name, resealHeader(magic), DISK_BYTES))
                .isInstanceOf(SegmentFormatException.class).hasMessageContaining("bad magic");
        byte[] version = smallSegment();
        version[4] = 2;
        assertThatThrownBy(() -> SegmentReader.readFully(name, resealHeader(version), DISK_BYTES))
                .isInstanceOf(SegmentFormatException.class).hasMessageContaining("unsupported format version 2");
        byte[] size = smallSegment();
        size[6] = 65;
        assertThatThrownBy(() -> SegmentReader.readFully(name, resealHeader(size), DISK_BYTES))
                .isInstanceOf(SegmentFormatException.class).hasMessageContaining("header size 65");
    }

    @Test
    void headerMustMatchTheName() throws IOException {
        byte[] good = smallSegment();
        assertThatThrownBy(() -> SegmentReader.readFully(SegmentName.of(DISK, 2), good, DISK_BYTES))
                .isInstanceOf(SegmentFormatException.class).hasMessageContaining("does not match the segment's name");
        assertThatThrownBy(() -> SegmentReader.readFully(SegmentName.of(UUID.randomUUID(), 1), good, DISK_BYTES))
                .isInstanceOf(SegmentFormatException.class).hasMessageContaining("does not match");
        assertThatThrownBy(() -> SegmentReader.readFully("some-other-name.seg", good, DISK_BYTES))
                .isInstanceOf(SegmentFormatException.class).hasMessageContaining("not a segment name");
    }

    /** Records with valid checksums whose lengths are absurd: rejected before anything is allocated. */
    @ParameterizedTest
    @ValueSource(strings = {"data-length-huge", "data-length-zero", "data-stored-huge-raw", "data-stored-huge-lz4",
            "data-stored-not-smaller", "zero-length-huge", "zero-with-payload", "marker-tag-huge", "marker-bad-type",
            "offset-negative", "offset-overflow", "beyond-disk", "unknown-type", "unknown-flags", "reserved-set"})
    void absurdFieldsAreRejected(String variant) throws IOException {
        byte[] record = switch (variant) {
            case "data-length-huge" -> recordHeader(1, 0, 0xffff_ffff, 0, 0xffff_ffff, 0);
            case "data-length-zero" -> recordHeader(1, 0, 0, 0, 0, 0);
            case "data-stored-huge-raw" -> recordHeader(1, 0, Integer.MAX_VALUE, 0, 4096, 0);
            case "data-stored-huge-lz4" -> recordHeader(1, 1, Integer.MAX_VALUE, 0, 4096, 0);
            case "data-stored-not-smaller" -> recordHeader(1, 1, 4096, 0, 4096, 0);
            case "zero-length-huge" -> recordHeader(2, 0, 0, 0, (int) (SegmentFormat.ZERO_RECORD_BYTES_MAX + 1), 0);
            case "zero-with-payload" -> recordHeader(2, 0, 5, 0, 10, 0);
            case "marker-tag-huge" -> recordHeader(3, 0, 1 << 30, 1, 1, 0);
            case "marker-bad-type" -> recordHeader(3, 0, 0, 1, 9, 0);
            case "offset-negative" -> recordHeader(2, 0, 0, -1, 10, 0);
            case "offset-overflow" -> recordHeader(2, 0, 0, Long.MAX_VALUE - 5, 10, 0);
            case "beyond-disk" -> recordHeader(2, 0, 0, DISK_BYTES - 5, 10, 0);
            case "unknown-type" -> recordHeader(7, 0, 0, 0, 10, 0);
            case "unknown-flags" -> recordHeader(1, 2, 10, 0, 10, 0);
            case "reserved-set" -> withReserved(recordHeader(2, 0, 0, 0, 10, 0));
            default -> throw new AssertionError(variant);
        };
        byte[] segment = concat(headerBytes(1), record, new byte[64]); // 64 more bytes: something to (not) read
        SegmentFormatException e = rejectedBothWays(SegmentName.of(DISK, 1), segment);
        assertThat(e).as(variant).isNotNull();
        assertThat(e.byteOffset()).isEqualTo(HEADER_BYTES);
    }

    @Test
    void compressedPayloadMustDecompressToExactlyItsLength() throws IOException {
        byte[] content = new byte[1000];
        Arrays.fill(content, (byte) 7);
        byte[] compressed = new byte[Lz4Codec.compressedBytesMax(content.length)];
        int stored = Lz4Codec.compress(content, 0, 1000, compressed);
        // Claims 1001 bytes of content: the block decodes, but to 1000.
        byte[] record = concat(recordHeader(1, 1, stored, 0, 1001, Crc32c.of(content)), Arrays.copyOf(compressed, stored));
        assertThat(rejectedBothWays(SegmentName.of(DISK, 1), sealed(record)))
                .hasMessageContaining("does not decompress to exactly 1001");
        // Garbage that is not an LZ4 block at all.
        byte[] garbage = new byte[stored];
        Arrays.fill(garbage, (byte) 0xf0);
        byte[] garbageRecord = concat(recordHeader(1, 1, stored, 0, 1000, Crc32c.of(content)), garbage);
        assertThat(rejectedBothWays(SegmentName.of(DISK, 1), sealed(garbageRecord))).hasMessageContaining("decompress");
    }

    @Test
    void trailerCountsAndMarkerOrderAreChecked() throws IOException {
        byte[] zero = recordHeader(2, 0, 0, 0, 10, 0);
        byte[] segment = sealed(zero);
        // Same bytes with a trailer that claims two records (its own CRCs fixed).
        ByteBuffer buffer = ByteBuffer.wrap(segment).order(ByteOrder.LITTLE_ENDIAN);
        int trailer = segment.length - TRAILER_BYTES;
        buffer.putLong(trailer + 8, 2);
        buffer.putInt(trailer + 28, Crc32c.of(segment, trailer, TRAILER_BYTES - 4));
        assertThatThrownBy(() -> SegmentReader.readFully(SegmentName.of(DISK, 1), segment, DISK_BYTES))
                .isInstanceOf(SegmentFormatException.class).hasMessageContaining("trailer counts 2 records");

        byte[] later = recordHeader(3, 0, 0, 2000, 1, Crc32c.of(new byte[0]));
        byte[] earlier = recordHeader(3, 0, 0, 1000, 1, Crc32c.of(new byte[0]));
        assertThatThrownBy(() -> SegmentReader.readFully(SegmentName.of(DISK, 1), sealed(concat(later, earlier)), DISK_BYTES))
                .isInstanceOf(SegmentFormatException.class).hasMessageContaining("does not follow");

        byte[] badUtf8 = {(byte) 0xc3, (byte) 0x28};
        byte[] marker = concat(recordHeader(3, 0, 2, 1000, 1, Crc32c.of(badUtf8)), badUtf8);
        assertThatThrownBy(() -> SegmentReader.readFully(SegmentName.of(DISK, 1), sealed(marker), DISK_BYTES))
                .isInstanceOf(SegmentFormatException.class).hasMessageContaining("not valid UTF-8");
    }

    @Test
    void craftedSegmentsWithValidChecksumsStillParse() throws IOException {
        // Guards the helpers above: a well-formed crafted segment reads.
        byte[] segment = sealed(recordHeader(2, 0, 0, 4096, 10, 0));
        assertThat(SegmentReader.readFully(SegmentName.of(DISK, 1), segment, DISK_BYTES).records())
                .containsExactly(new SegmentRecord.Zero(4096, 10));
    }

    // ---- helpers -------------------------------------------------------------------------------------

    private static List<SegmentRecord> randomRecords(Random random, int count) {
        List<SegmentRecord> records = new ArrayList<>();
        Instant time = T0;
        for (int i = 0; i < count; i++) {
            switch (random.nextInt(3)) {
                case 0 -> {
                    byte[] data = new byte[1 + random.nextInt(random.nextBoolean() ? 100 : 200_000)];
                    if (random.nextBoolean()) {
                        random.nextBytes(data);
                    } else {
                        Arrays.fill(data, (byte) random.nextInt(256));
                    }
                    records.add(new SegmentRecord.Data(random.nextLong(DISK_BYTES - data.length), data));
                }
                case 1 -> {
                    long length = 1 + random.nextLong(1 << 24);
                    records.add(new SegmentRecord.Zero(random.nextLong(DISK_BYTES - length), length));
                }
                default -> {
                    time = time.plusMillis(1 + random.nextInt(5000));
                    records.add(new SegmentRecord.Marker(random.nextBoolean() ? ConsistencyType.APP_CONSISTENT
                            : ConsistencyType.CRASH_CONSISTENT, time, random.nextBoolean() ? "" : "vss-" + i + "-ü"));
                }
            }
        }
        return records;
    }

    private static byte[] write(long sequence, SegmentWriter.Compression compression, List<SegmentRecord> records)
            throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SegmentWriter writer = SegmentWriter.start(out, new SegmentHeader(DISK, sequence, T0), compression, DISK_BYTES);
        for (SegmentRecord record : records) {
            writer.write(record);
        }
        SegmentTrailer trailer = writer.seal();
        assertThat(trailer.recordCount()).isEqualTo(records.size());
        assertThat(writer.bytesWritten()).isEqualTo(out.size());
        return out.toByteArray();
    }

    /** A segment with one record of each kind, compressed and raw DATA. */
    /**
     * Reads the segment record by record and verifies it in place ({@link SegmentReader#verify}, the server's
     * intake): both must refuse it the same way. Returns the refusal (null if it was accepted).
     */
    private static SegmentFormatException rejectedBothWays(String name, byte[] segment) {
        SegmentFormatException read = catchThrowableOfType(SegmentFormatException.class,
                () -> SegmentReader.readFully(name, segment, DISK_BYTES));
        SegmentFormatException verified = catchThrowableOfType(SegmentFormatException.class,
                () -> SegmentReader.verify(name, segment, DISK_BYTES));
        if (read == null) {
            assertThat(verified).as("verify of what reads whole").isNull();
        } else {
            assertThat(verified).as("verify of what does not read").isNotNull();
            assertThat(verified.getMessage()).isEqualTo(read.getMessage());
        }
        return read;
    }

    private static byte[] smallSegment() throws IOException {
        byte[] text = "hello hello hello hello hello hello hello hello".getBytes();
        byte[] noise = new byte[40];
        new Random(9).nextBytes(noise);
        return write(1, SegmentWriter.Compression.LZ4, List.of(new SegmentRecord.Data(100, text),
                new SegmentRecord.Zero(4096, 8192), new SegmentRecord.Data(9000, noise),
                new SegmentRecord.Marker(ConsistencyType.APP_CONSISTENT, T0, "sql-vss")));
    }

    private static List<Integer> recordBoundaries(byte[] segment) {
        List<Integer> boundaries = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.wrap(segment).order(ByteOrder.LITTLE_ENDIAN);
        int position = HEADER_BYTES;
        while (position < segment.length - TRAILER_BYTES) {
            boundaries.add(position);
            position += RECORD_HEADER_BYTES + buffer.getInt(position + 4);
        }
        boundaries.add(position); // before the trailer
        return boundaries;
    }

    private static byte[] headerBytes(long sequence) {
        return new SegmentHeader(DISK, sequence, T0).encode();
    }

    private static byte[] resealHeader(byte[] segment) {
        ByteBuffer.wrap(segment).order(ByteOrder.LITTLE_ENDIAN).putInt(HEADER_BYTES - 4, Crc32c.of(segment, 0, HEADER_BYTES - 4));
        return segment;
    }

    private static byte[] recordHeader(int type, int flags, int stored, long offset, int length, int payloadCrc) {
        ByteBuffer buffer = ByteBuffer.allocate(RECORD_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put((byte) type).put((byte) flags).putShort((short) 0).putInt(stored).putLong(offset).putInt(length)
                .putInt(payloadCrc).putInt(0);
        buffer.putInt(Crc32c.of(buffer.array(), 0, RECORD_HEADER_BYTES - 4));
        return buffer.array();
    }

    private static byte[] withReserved(byte[] record) {
        record[25] = 1;
        ByteBuffer.wrap(record).order(ByteOrder.LITTLE_ENDIAN).putInt(RECORD_HEADER_BYTES - 4,
                Crc32c.of(record, 0, RECORD_HEADER_BYTES - 4));
        return record;
    }

    /** Header + the given record bytes + a correct trailer. */
    private static byte[] sealed(byte[] body) {
        byte[] prefix = concat(headerBytes(1), body);
        long payload = 0;
        ByteBuffer view = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
        for (int position = 0; position < body.length; ) {
            int stored = view.getInt(position + 4);
            payload += stored;
            position += RECORD_HEADER_BYTES + stored;
        }
        ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        trailer.putInt(SegmentFormat.TRAILER_MAGIC).putInt(0).putLong(countRecords(body)).putLong(payload)
                .putInt(Crc32c.of(prefix));
        trailer.putInt(Crc32c.of(trailer.array(), 0, TRAILER_BYTES - 4));
        return concat(prefix, trailer.array());
    }

    private static long countRecords(byte[] body) {
        ByteBuffer view = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
        long count = 0;
        for (int position = 0; position < body.length; count++) {
            position += RECORD_HEADER_BYTES + view.getInt(position + 4);
        }
        return count;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
