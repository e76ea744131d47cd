package dev.secondsite.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

/** Converting between formats through the library (read one, write another) keeps every byte. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConvertTest {

    private static final long SIZE = 10L << 20;

    @TempDir
    Path tmp;

    @BeforeAll
    static void qemu() {
        Qemu.assumeAvailable();
    }

    static Stream<Arguments> pairs() {
        List<Arguments> pairs = new ArrayList<>();
        for (DiskFormat from : DiskFormat.values()) {
            for (DiskFormat to : DiskFormat.values()) {
                pairs.add(Arguments.of(from, to));
            }
        }
        return pairs.stream();
    }

    /** Copies only allocated extents, the way replication and failover materialization do. */
    static long convert(DiskImage from, DiskImage to) throws IOException {
        assertThat(to.virtualSize()).isEqualTo(from.virtualSize());
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        long copied = 0;
        for (long off = 0; off < from.virtualSize(); ) {
            Extent e = from.extentAt(off);
            if (e.allocated()) {
                for (long pos = e.offset(); pos < e.end(); ) {
                    buf.clear().limit((int) Math.min(buf.capacity(), e.end() - pos));
                    from.readFully(pos, buf);
                    buf.flip();
                    to.write(pos, buf);
                    pos += buf.limit();
                    copied += buf.limit();
                }
            }
            off = e.end();
        }
        to.flush();
        return copied;
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void convertsEveryPair(DiskFormat from, DiskFormat to) throws Exception {
        Path src = tmp.resolve("src." + Qemu.qemuFormat(from));
        Path dst = tmp.resolve("dst." + Qemu.qemuFormat(to));
        var options = DiskImages.CreateOptions.defaults().withBlockSize(from == DiskFormat.VHDX ? 1 << 20 : 0);
        try (DiskImage s = DiskImages.create(src, from, SIZE, options)) {
            byte[] model = new byte[(int) SIZE];
            Random rnd = new Random(from.ordinal() * 31 + to.ordinal());
            // Data in the first 3 MiB and the last MiB only, so sparse formats have holes to skip.
            for (int i = 0; i < 20; i++) {
                byte[] data = new byte[1 + rnd.nextInt(100_000)];
                rnd.nextBytes(data);
                long off = i % 4 == 0 ? SIZE - (1 << 20) + rnd.nextInt((1 << 20) - data.length)
                        : rnd.nextInt((3 << 20) - data.length);
                s.write(off, ByteBuffer.wrap(data));
                System.arraycopy(data, 0, model, (int) off, data.length);
            }
        }
        long copied;
        try (DiskImage s = DiskImages.open(src, false); DiskImage d = DiskImages.create(dst, to, SIZE)) {
            copied = convert(s, d);
        }
        if (from == DiskFormat.VHDX || from == DiskFormat.VHD_DYNAMIC) {
            assertThat(copied).as("holes skipped").isLessThanOrEqualTo(6L << 20);
        }
        Qemu.checkClean(dst, Qemu.qemuFormat(to));
        Qemu.assertIdentical(src, Qemu.qemuFormat(from), dst, Qemu.qemuFormat(to));
    }

    @Test
    void qemuVhdxFailsOverToVhdAndBack() throws Exception {
        // Seed 002: VHDX -> VHD on failover to Azure, and back to VHDX on failback.
        Path vhdx = tmp.resolve("source.vhdx");
        Qemu.create(vhdx, "vhdx", "", 20L << 20);
        Qemu.io(vhdx, "vhdx", "write -P 0x61 0 1M", "write -P 0x62 9M 2M", "write -P 0x63 19M 1M");
        Path vhd = tmp.resolve("failover.vhd");
        Path back = tmp.resolve("failback.vhdx");
        try (DiskImage s = DiskImages.open(vhdx, false); DiskImage d = DiskImages.create(vhd, DiskFormat.VHD_FIXED,
                s.virtualSize())) {
            convert(s, d);
        }
        try (DiskImage s = DiskImages.open(vhd, false); DiskImage d = DiskImages.create(back, DiskFormat.VHDX,
                s.virtualSize())) {
            convert(s, d);
        }
        Qemu.assertIdentical(vhdx, "vhdx", vhd, "vpc");
        Qemu.assertIdentical(vhdx, "vhdx", back, "vhdx");
        Qemu.checkClean(back, "vhdx");
    }
}
