package dev.secondsite.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What we write, qemu reads: random writes into images made by qemu and by us, then qemu-img check
 * and qemu-img compare against a raw file holding the same bytes.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QemuWriteCompatibilityTest {

    private static final long SIZE = 12L << 20;

    @TempDir
    Path tmp;

    @BeforeAll
    static void qemu() {
        Qemu.assumeAvailable();
    }

    /** (label, format, qemu create options or null when we create the image, our block size). */
    static Stream<Arguments> images() {
        return Stream.of(
                Arguments.of("qemu raw", DiskFormat.RAW, "", 0L),
                Arguments.of("qemu vpc fixed", DiskFormat.VHD_FIXED, "subformat=fixed", 0L),
                Arguments.of("qemu vpc dynamic", DiskFormat.VHD_DYNAMIC, "subformat=dynamic", 0L),
                Arguments.of("qemu vhdx 1M blocks", DiskFormat.VHDX, "block_size=1M", 0L),
                Arguments.of("qemu vhdx default", DiskFormat.VHDX, "", 0L),
                Arguments.of("ours raw", DiskFormat.RAW, null, 0L),
                Arguments.of("ours vhd fixed", DiskFormat.VHD_FIXED, null, 0L),
                Arguments.of("ours vhd dynamic 2M", DiskFormat.VHD_DYNAMIC, null, 0L),
                Arguments.of("ours vhd dynamic 512K", DiskFormat.VHD_DYNAMIC, null, 512L << 10),
                Arguments.of("ours vhdx 1M", DiskFormat.VHDX, null, 1L << 20),
                Arguments.of("ours vhdx 32M default", DiskFormat.VHDX, null, 0L));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void randomWritesReadBackIdenticallyInQemu(String label, DiskFormat format, String qemuOptions, long blockSize)
            throws Exception {
        String qfmt = Qemu.qemuFormat(format);
        Path img = tmp.resolve("disk." + qfmt);
        if (qemuOptions != null) {
            Qemu.create(img, qfmt, qemuOptions, SIZE);
            Qemu.io(img, qfmt, "write -P 0x42 3M 100k");
        } else {
            DiskImages.create(img, format, SIZE, DiskImages.CreateOptions.defaults().withBlockSize(blockSize)).close();
        }
        byte[] model;
        try (DiskImage disk = DiskImages.open(img, true)) {
            assertThat(disk.format()).isEqualTo(format);
            model = TestImages.readAll(disk);
            TestImages.randomWrites(disk, model, new Random(label.hashCode()), 40, 300_000);
            assertThat(TestImages.readAll(disk)).isEqualTo(model);
        }
        // A second session on the same file.
        try (DiskImage disk = DiskImages.open(img, true)) {
            TestImages.randomWrites(disk, model, new Random(label.hashCode() + 1), 10, 3 << 20);
            disk.flush();
        }
        Qemu.checkClean(img, qfmt);
        Path raw = TestImages.writeRaw(tmp.resolve("expected.raw"), model);
        Qemu.assertIdentical(img, qfmt, raw, "raw");
        try (DiskImage disk = DiskImages.open(img, false)) {
            byte[] back = TestImages.readAll(disk);
            assertThat(Arrays.mismatch(back, model)).isEqualTo(-1);
            TestImages.assertExtentsConsistent(disk, back);
        }
    }

    @Test
    void vhdxWriteSessionBumpsSequenceAndWriteGuids() throws Exception {
        Path img = tmp.resolve("s.vhdx");
        DiskImages.create(img, DiskFormat.VHDX, 4L << 20, DiskImages.CreateOptions.defaults().withBlockSize(1 << 20))
                .close();
        VhdxHeader before;
        try (VhdxImage disk = (VhdxImage) DiskImages.open(img, false)) {
            before = disk.currentHeader();
        }
        try (VhdxImage disk = (VhdxImage) DiskImages.open(img, true)) {
            assertThat(disk.currentHeader()).as("opening writable changes nothing").isEqualTo(before);
            disk.write(0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
            VhdxHeader after = disk.currentHeader();
            assertThat(after.sequenceNumber()).isEqualTo(before.sequenceNumber() + 2);
            assertThat(after.fileWriteGuid()).isNotEqualTo(before.fileWriteGuid());
            assertThat(after.dataWriteGuid()).isNotEqualTo(before.dataWriteGuid());
            disk.write(4096, ByteBuffer.wrap(new byte[] {4}));
            assertThat(disk.currentHeader()).as("one header update per session").isEqualTo(after);
        }
        // Both header copies are current and valid.
        byte[] file = Files.readAllBytes(img);
        for (long at : new long[] {VhdxImage.HEADER1_AT, VhdxImage.HEADER2_AT}) {
            assertThat(VhdxHeader.problem(Arrays.copyOfRange(file, (int) at, (int) at + VhdxHeader.SIZE))).isNull();
        }
        Qemu.checkClean(img, "vhdx");
    }

    @Test
    void vhdWritesLeaveFooterAtEndAndCopyAtStart() throws Exception {
        Path img = tmp.resolve("f.vhd");
        DiskImages.create(img, DiskFormat.VHD_DYNAMIC, 8L << 20).close();
        try (DiskImage disk = DiskImages.open(img, true)) {
            disk.write(5L << 20, ByteBuffer.wrap(new byte[70_000]).put(0, (byte) 9));
        }
        byte[] file = Files.readAllBytes(img);
        byte[] tail = Arrays.copyOfRange(file, file.length - 512, file.length);
        assertThat(VhdFooter.problem(tail)).isNull();
        assertThat(Arrays.copyOf(file, 512)).isEqualTo(tail);
        assertThat(file.length).isEqualTo(512 + 1024 + 512 + (512 + (2 << 20)) + 512);
    }
}
