package dev.secondsite.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Helpers shared by the disk tests. */
final class TestImages {

    private TestImages() {
    }

    /** The whole virtual disk (tests keep disks at a few MiB). */
    static byte[] readAll(DiskImage img) throws IOException {
        assertThat(img.virtualSize()).isLessThan(256L << 20);
        byte[] all = new byte[(int) img.virtualSize()];
        img.readFully(0, ByteBuffer.wrap(all));
        return all;
    }

    /**
     * Seeded random writes of random bytes, offsets and lengths (often unaligned, often across block
     * boundaries), applied to both the image and the model.
     */
    static void randomWrites(DiskImage img, byte[] model, Random rnd, int count, int lengthMax) throws IOException {
        for (int i = 0; i < count; i++) {
            int len = 1 + rnd.nextInt(lengthMax);
            long off;
            switch (rnd.nextInt(4)) {
                case 0 -> off = (long) rnd.nextInt(model.length / (1 << 20) + 1) * (1 << 20) - len / 2; // straddle 1 MiB
                case 1 -> off = (long) rnd.nextInt(model.length / 512) * 512; // sector-aligned
                default -> off = rnd.nextInt(model.length);
            }
            off = Math.max(0, Math.min(off, model.length - len));
            len = (int) Math.min(len, model.length - off);
            byte[] data = new byte[len];
            rnd.nextBytes(data);
            if (rnd.nextInt(5) == 0) {
                java.util.Arrays.fill(data, (byte) 0); // zero writes too
            }
            img.write(off, ByteBuffer.wrap(data));
            System.arraycopy(data, 0, model, (int) off, len);
        }
    }

    static Path writeRaw(Path file, byte[] content) throws IOException {
        Files.write(file, content);
        return file;
    }

    /** Every unallocated extent reads as zeros and the extents tile the disk. */
    static void assertExtentsConsistent(DiskImage img, byte[] content) throws IOException {
        long off = 0;
        int extents = 0;
        while (off < img.virtualSize()) {
            Extent e = img.extentAt(off);
            assertThat(e.offset()).isEqualTo(off);
            assertThat(e.end()).isLessThanOrEqualTo(img.virtualSize());
            if (!e.allocated()) {
                for (long i = e.offset(); i < e.end(); i++) {
                    if (content[(int) i] != 0) {
                        throw new AssertionError("unallocated extent " + e + " holds data at " + i);
                    }
                }
            }
            off = e.end();
            assertThat(++extents).isLessThan(100_000);
        }
    }
}
