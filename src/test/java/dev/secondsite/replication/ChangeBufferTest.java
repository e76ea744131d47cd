package dev.secondsite.replication;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import java.util.UUID;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeBuilder;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentName;
import dev.secondsite.replication.segment.SegmentWriter;

import static org.assertj.core.api.Assertions.assertThat;

class ChangeBufferTest {

    /**
     * The bounds only decide when work happens, never the result: with tiny bounds (store after every
     * change, fold after every staged chunk) the buffer reaches the same content and the same root as the
     * model and as a full scan.
     */
    @ParameterizedTest
    @CsvSource({"0, 1", "8192, 3", "65536, 50", "67108864, 65536"})
    void boundsDoNotChangeTheResult(long dirtyBytesMax, int stagedChunksMax) throws IOException {
        Random random = new Random(dirtyBytesMax + stagedChunksMax);
        DiskModel model = new DiskModel(501, new DiskGeometry((1 << 20) + 100, 4096)).fillMixed();
        ChunkStore store = new ChunkStore(new MemoryBlobStore());
        DiskTree base = TreeBuilder.scan(store, model.geometry, new ByteArrayInputStream(model.bytes));
        ChangeBuffer buffer = new ChangeBuffer(base, dirtyBytesMax, stagedChunksMax);
        int size = model.bytes.length;

        for (int i = 0; i < 300; i++) {
            int offset = random.nextInt(size);
            int length = 1 + random.nextInt(Math.min(size - offset, random.nextBoolean() ? 20 : 12_000));
            change(buffer, model, random, offset, length, random.nextInt(3) == 0);
            if (i % 100 == 99) {
                DiskTree tree = buffer.commit();
                assertThat(DiskModel.contentOf(tree)).isEqualTo(model.bytes);
            }
        }
        DiskTree tree = buffer.commit();
        assertThat(DiskModel.contentOf(tree)).isEqualTo(model.bytes);
        assertThat(tree.root()).isEqualTo(TreeBuilder.scan(new ChunkStore(new MemoryBlobStore()), model.geometry,
                new ByteArrayInputStream(model.bytes)).root());
    }

    /**
     * With 64 KiB chunks, chunks are changed from their block digests (ADR 0007, "Block digests"): whole-block
     * writes without reading the chunk, partial-block writes and zeroing after reading its base, over full
     * chunks and over deltas from earlier commits. Whatever path a chunk took, the content and the root are
     * those of a full scan of the same bytes: names depend on content alone.
     */
    @ParameterizedTest
    @CsvSource({"0, 1", "67108864, 65536"})
    void blockAndPartialWritesOverDeltasReachTheScannedRoot(long dirtyBytesMax, int stagedChunksMax)
            throws IOException {
        Random random = new Random(7 + dirtyBytesMax);
        int block = ChunkDigest.BLOCK_BYTES;
        DiskModel model = new DiskModel(502, new DiskGeometry((4 << 20) + 100, 64 << 10)).fillMixed();
        ChunkStore store = new ChunkStore(new MemoryBlobStore());
        DiskTree tree = TreeBuilder.scan(store, model.geometry, new ByteArrayInputStream(model.bytes));
        int size = model.bytes.length;
        for (int round = 0; round < 6; round++) {
            ChangeBuffer buffer = new ChangeBuffer(tree, dirtyBytesMax, stagedChunksMax);
            for (int i = 0; i < 60; i++) {
                int kind = random.nextInt(4);
                int offset;
                int length;
                if (kind <= 1) { // 4 KiB-aligned, 4 to 64 KiB: what guests write
                    length = block * (1 + random.nextInt(16));
                    offset = random.nextInt((size - length) / block + 1) * block;
                } else {
                    offset = random.nextInt(size);
                    length = 1 + random.nextInt(Math.min(size - offset, 9000));
                }
                change(buffer, model, random, offset, length, kind == 3);
            }
            tree = buffer.commit();
            assertThat(DiskModel.contentOf(tree)).as("round " + round).isEqualTo(model.bytes);
        }
        assertThat(tree.root()).isEqualTo(TreeBuilder.scan(new ChunkStore(new MemoryBlobStore()), model.geometry,
                new ByteArrayInputStream(model.bytes)).root());
        assertThat(store.writtenCount()).isPositive();
    }

    /** Zeros or random bytes at {@code [offset, offset + length)}, in the buffer and in the model alike. */
    private static void change(ChangeBuffer buffer, DiskModel model, Random random, int offset, int length,
                               boolean zero) throws IOException {
        if (zero) {
            buffer.zero(offset, length);
            Arrays.fill(model.bytes, offset, offset + length, (byte) 0);
        } else {
            byte[] data = new byte[length];
            random.nextBytes(data);
            buffer.write(offset, data);
            System.arraycopy(data, 0, model.bytes, offset, length);
        }
    }

    /** A discard of a whole large disk goes through several intermediate folds and ends at the ZERO root. */
    @Test
    void zeroingALargeSparseDiskFoldsInBatches() throws Exception {
        DiskGeometry geometry = new DiskGeometry(1L << 30, 4096); // 262144 chunks: 4 folds of 65536
        RecoveryStore store = new RecoveryStore(new MemoryBlobStore());
        UUID diskId = UUID.fromString("6f1c2d3e-0000-4000-8000-000000000001");
        ReplicaDisk disk = ReplicaDisk.create(store, diskId, geometry);
        Random random = new Random(502);

        ByteArrayOutputStream first = new ByteArrayOutputStream();
        SegmentWriter writer = SegmentWriter.start(first, new SegmentHeader(diskId, 1, Instant.EPOCH),
                SegmentWriter.Compression.LZ4, geometry.virtualBytes());
        for (int i = 0; i < 40; i++) {
            byte[] data = new byte[5000];
            random.nextBytes(data);
            writer.data(random.nextLong(geometry.virtualBytes() - data.length), data);
        }
        writer.seal();
        disk.apply(SegmentName.of(diskId, 1), new ByteArrayInputStream(first.toByteArray()));
        assertThat(disk.currentTree().root()).isNotEqualTo(ChunkDigest.ZERO);

        ByteArrayOutputStream second = new ByteArrayOutputStream();
        SegmentWriter discard = SegmentWriter.start(second, new SegmentHeader(diskId, 2, Instant.EPOCH),
                SegmentWriter.Compression.LZ4, geometry.virtualBytes());
        discard.zero(0, geometry.virtualBytes());
        discard.marker(ConsistencyType.CRASH_CONSISTENT, Instant.parse("2025-01-01T00:00:00Z"), "after discard");
        discard.seal();
        ApplyResult result = disk.apply(SegmentName.of(diskId, 2), new ByteArrayInputStream(second.toByteArray()));

        assertThat(result.root()).isEqualTo(ChunkDigest.ZERO);
        assertThat(result.points()).singleElement().satisfies(point -> assertThat(point.root()).isEqualTo(ChunkDigest.ZERO));
    }
}
