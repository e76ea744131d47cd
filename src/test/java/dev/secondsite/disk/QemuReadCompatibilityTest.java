package dev.secondsite.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Images made and written by qemu read back byte-for-byte as qemu reads them. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QemuReadCompatibilityTest {

    @TempDir
    Path tmp;

    @BeforeAll
    static void qemu() {
        Qemu.assumeAvailable();
    }

    static Stream<Arguments> images() {
        return Stream.of(
                Arguments.of("raw", "", DiskFormat.RAW),
                Arguments.of("vpc", "subformat=fixed", DiskFormat.VHD_FIXED),
                Arguments.of("vpc", "subformat=dynamic", DiskFormat.VHD_DYNAMIC),
                Arguments.of("vpc", "subformat=dynamic,force_size=on", DiskFormat.VHD_DYNAMIC),
                Arguments.of("vpc", "subformat=fixed,force_size=on", DiskFormat.VHD_FIXED),
                Arguments.of("vhdx", "", DiskFormat.VHDX),
                Arguments.of("vhdx", "block_size=1M", DiskFormat.VHDX),
                Arguments.of("vhdx", "block_size=1M,block_state_zero=off", DiskFormat.VHDX),
                Arguments.of("vhdx", "subformat=fixed,block_size=2M", DiskFormat.VHDX));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("images")
    void readsWhatQemuWrote(String qfmt, String options, DiskFormat expected) throws Exception {
        Path img = tmp.resolve("disk." + qfmt);
        Qemu.create(img, qfmt, options, 24L << 20);
        long size = Qemu.virtualSize(img, qfmt);
        Qemu.io(img, qfmt,
                "write -P 0x5a 1M 64k",
                "write -P 0xa5 1984k 128k",      // across the 2 MiB block boundary
                "write -P 0x11 0 512",
                "write -P 0x3c 7M 3M",           // several whole blocks
                "write -z 8M 1M",                // zeros over written data
                "write -P 0x77 " + (size - 4096) + " 4k");

        assertThat(DiskImages.detect(img)).isEqualTo(expected);
        byte[] oracle = Qemu.toRaw(img, qfmt, tmp);
        try (DiskImage disk = DiskImages.open(img, false)) {
            assertThat(disk.format()).isEqualTo(expected);
            assertThat(disk.virtualSize()).isEqualTo(size).isEqualTo(oracle.length);
            byte[] ours = TestImages.readAll(disk);
            assertThat(java.util.Arrays.mismatch(ours, oracle)).as("first differing byte").isEqualTo(-1);
            TestImages.assertExtentsConsistent(disk, ours);
            if (expected == DiskFormat.VHD_DYNAMIC || options.startsWith("block_size=1M")) {
                assertThat(disk.isAllocated(12L << 20, 4L << 20)).as("never-written blocks").isFalse();
            }
            assertThat(disk.isAllocated(1L << 20, 1)).isTrue();
        }
    }
}
