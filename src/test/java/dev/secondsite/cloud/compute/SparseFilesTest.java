package dev.secondsite.cloud.compute;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Copies keep holes and bytes; data ranges cover every written byte; zeroing reads back zeros. */
class SparseFilesTest {
    @TempDir
    Path tmp;

    @Test
    void copyOfASparseFileIsIdenticalAndStaysSparse() throws Exception {
        Path src = tmp.resolve("src");
        long size = 2L << 30;
        byte[] data = new byte[300_000];
        new Random(7).nextBytes(data);
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), 5L << 20);
            ch.write(ByteBuffer.wrap(data), (1L << 30) + 12345);
            ch.write(ByteBuffer.wrap(new byte[] {1}), size - 1);
        }
        List<SparseFiles.Range> ranges = SparseFiles.dataRanges(src, 0, size);
        assertThat(ranges).isNotEmpty();
        for (long at : new long[] {5L << 20, (1L << 30) + 12345, size - 1}) {
            assertThat(ranges).as("a range covers %d", at).anyMatch(r -> r.start() <= at && at < r.end());
        }

        Path dst = tmp.resolve("dst");
        SparseFiles.copy(src, dst);
        assertThat(Files.size(dst)).isEqualTo(size);
        assertThat(Files.mismatch(src, dst)).isEqualTo(-1);
        assertThat(DiskTransferTest.allocatedBytes(dst)).as("copy stays sparse").isLessThan(16L << 20);
    }

    @Test
    void zeroMakesARangeReadAsZeros() throws Exception {
        Path file = tmp.resolve("f");
        byte[] ones = new byte[1 << 20];
        Arrays.fill(ones, (byte) 1);
        Files.write(file, ones);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            SparseFiles.zero(ch, file, 4096, 8192);
            ByteBuffer back = ByteBuffer.allocate(1 << 20);
            ch.read(back, 0);
            byte[] expected = ones.clone();
            Arrays.fill(expected, 4096, 4096 + 8192, (byte) 0);
            assertThat(Arrays.equals(back.array(), expected)).isTrue();
        }
        assertThat(Files.size(file)).isEqualTo(1 << 20);
    }
}
