package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectReadsTest {
    @TempDir
    Path dir;

    /** Reads run at once (ReadAhead's readers), each through a buffer of its own: none sees another's bytes. */
    @Test
    void readsAtOnceEachGetTheirOwnRange() throws Exception {
        int windows = 8;
        int window = DirectReads.BUFFER_BYTES + 64 * 1024; // two pieces per read: the buffer is reused within one
        byte[] disk = new byte[windows * window];
        new SplittableRandom(3).nextBytes(disk);
        Path file = dir.resolve("disk.raw");
        Files.write(file, disk);
        try (DirectReads direct = new DirectReads(file)) {
            assumeTrue(direct.read(0, new byte[window], 0, window), "the file system offers no O_DIRECT");
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Boolean>> reads = new ArrayList<>();
                for (int round = 0; round < 8; round++) {
                    for (int i = 0; i < windows; i++) {
                        int at = i * window;
                        reads.add(pool.submit(() -> { // compared here, so no read's bytes are kept
                            byte[] out = new byte[window];
                            return direct.read(at, out, 0, window)
                                    && Arrays.equals(out, 0, window, disk, at, at + window);
                        }));
                    }
                }
                for (int r = 0; r < reads.size(); r++) {
                    assertThat(reads.get(r).get()).as("window %d of read %d", r % windows, r).isTrue();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void declinesUnalignedRangesAndReadsNothingAfterClose() throws Exception {
        Path file = dir.resolve("disk.raw");
        Files.write(file, new byte[1 << 20]);
        DirectReads direct = new DirectReads(file);
        assumeTrue(direct.read(0, new byte[4096], 0, 4096), "the file system offers no O_DIRECT");
        assertThat(direct.read(512 * 3, new byte[4096], 0, 4096)).isFalse();
        direct.close();
        assertThat(direct.read(0, new byte[4096], 0, 4096)).isFalse();
    }
}
