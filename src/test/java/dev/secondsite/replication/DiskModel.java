package dev.secondsite.replication;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentWriter;

/**
 * The test oracle: a disk as a plain byte array, plus a seeded generator of change-log segments that
 * applies each change to the array as it writes it. Whatever the engine builds must read back equal to
 * this model. Same seed, same segments: a failing seed reproduces.
 */
public final class DiskModel {
    /** The disk as it was at a segment's marker. */
    public record Snapshot(Instant timestamp, ConsistencyType type, String tag, long sequence, byte[] content) {
    }

    /** One generated segment. */
    public record Generated(String name, long sequence, byte[] bytes, List<Snapshot> snapshots) {
    }

    public final UUID diskId;
    public final DiskGeometry geometry;
    public final byte[] bytes;
    private final Random random;
    private long nextSequence = ReplicaDisk.SEQUENCE_FIRST;
    private Instant time = Instant.parse("2025-01-01T00:00:00Z");

    public DiskModel(long seed, DiskGeometry geometry) {
        this.random = new Random(seed);
        this.diskId = new UUID(random.nextLong(), random.nextLong());
        this.geometry = geometry;
        this.bytes = new byte[Math.toIntExact(geometry.virtualBytes())];
    }

    /** Fills the disk with a realistic mix: random, repetitive, duplicated and zero chunks. */
    public DiskModel fillMixed() {
        int chunk = geometry.chunkBytes();
        for (long index = 0; index < geometry.chunkCount(); index++) {
            int from = (int) (index * chunk);
            int length = geometry.chunkLength(index);
            switch (random.nextInt(5)) {
                case 0 -> { } // zeros
                case 1 -> fillRandom(from, length);
                case 2 -> fillPattern(from, length);
                case 3 -> { // a copy of an earlier chunk (dedup)
                    if (index > 0) {
                        long source = random.nextLong(index);
                        System.arraycopy(bytes, (int) (source * chunk), bytes, from,
                                Math.min(length, geometry.chunkLength(source)));
                    }
                }
                default -> {
                    fillRandom(from, length);
                    Arrays.fill(bytes, from, from + random.nextInt(length), (byte) 0); // partly zero
                }
            }
        }
        return this;
    }

    public Instant now() {
        return time;
    }

    public long nextSequence() {
        return nextSequence;
    }

    /** Generates the next segment of {@code records} random records and applies them to the model. */
    public Generated nextSegment(int records, SegmentWriter.Compression compression) throws IOException {
        long sequence = nextSequence++;
        time = time.plusMillis(1 + random.nextInt(1000));
        SegmentHeader header = new SegmentHeader(diskId, sequence, time);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SegmentWriter writer = SegmentWriter.start(out, header, compression, geometry.virtualBytes());
        List<Snapshot> snapshots = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            int kind = random.nextInt(20);
            if (kind < 12) {
                long offset = randomOffset();
                int length = (int) Math.min(randomLength(), geometry.virtualBytes() - offset);
                byte[] data = new byte[length];
                switch (random.nextInt(4)) {
                    case 0 -> random.nextBytes(data);
                    case 1 -> { } // zeros written as data
                    default -> {
                        for (int j = 0; j < length; j++) {
                            data[j] = (byte) ("change " + sequence).charAt(j % 8 + 0);
                        }
                    }
                }
                writer.data(offset, data);
                System.arraycopy(data, 0, bytes, (int) offset, length);
            } else if (kind < 17) {
                long offset = randomOffset();
                long length = Math.min(randomLength(), geometry.virtualBytes() - offset);
                writer.zero(offset, length);
                Arrays.fill(bytes, (int) offset, (int) (offset + length), (byte) 0);
            } else {
                time = time.plusMillis(1 + random.nextInt(1000));
                ConsistencyType type = random.nextBoolean() ? ConsistencyType.CRASH_CONSISTENT : ConsistencyType.APP_CONSISTENT;
                String tag = random.nextInt(4) == 0 ? "" : "tag " + sequence + "/" + i + (random.nextBoolean() ? " é✓" : "");
                writer.marker(type, time, tag);
                snapshots.add(new Snapshot(time, type, tag, sequence, bytes.clone()));
            }
        }
        if (snapshots.isEmpty() || random.nextBoolean()) { // most segments end in a consistency point
            time = time.plusMillis(1 + random.nextInt(1000));
            writer.marker(ConsistencyType.CRASH_CONSISTENT, time, "end " + sequence);
            snapshots.add(new Snapshot(time, ConsistencyType.CRASH_CONSISTENT, "end " + sequence, sequence, bytes.clone()));
        }
        writer.seal();
        return new Generated(header.name(), sequence, out.toByteArray(), snapshots);
    }

    private long randomOffset() {
        int chunk = geometry.chunkBytes();
        return switch (random.nextInt(3)) {
            case 0 -> random.nextLong(geometry.chunkCount()) * chunk; // chunk-aligned
            case 1 -> Math.max(0, geometry.virtualBytes() - 1 - random.nextInt(2 * chunk)); // near the end
            default -> random.nextLong(geometry.virtualBytes());
        };
    }

    private long randomLength() {
        int chunk = geometry.chunkBytes();
        return switch (random.nextInt(4)) {
            case 0 -> 1 + random.nextInt(16);
            case 1 -> chunk;
            case 2 -> 1 + random.nextInt(3 * chunk);
            default -> 1 + random.nextInt(chunk);
        };
    }

    private void fillRandom(int from, int length) {
        byte[] noise = new byte[length];
        random.nextBytes(noise);
        System.arraycopy(noise, 0, bytes, from, length);
    }

    private void fillPattern(int from, int length) {
        byte value = (byte) (1 + random.nextInt(255));
        for (int i = 0; i < length; i++) {
            bytes[from + i] = (i % 7 == 0) ? value : (byte) (i >>> 9);
        }
    }

    /** The whole logical content of a tree, read chunk by chunk (verified). */
    public static byte[] contentOf(DiskTree tree) throws IOException {
        DiskGeometry geometry = tree.geometry();
        byte[] content = new byte[Math.toIntExact(geometry.virtualBytes())];
        for (long index = 0; index < geometry.chunkCount(); index++) {
            byte[] chunk = tree.readChunk(index);
            System.arraycopy(chunk, 0, content, (int) (index * geometry.chunkBytes()), geometry.chunkLength(index));
        }
        return content;
    }

    public static String sha256(byte[] content) {
        return HexFormat.of().formatHex(ChunkDigest.sha256().digest(content));
    }
}
