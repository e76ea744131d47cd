package dev.secondsite.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Disks past one chunk (chunk ratio x block size = 4 GiB at 512-byte sectors) have sector-bitmap
 * entries interleaved in the BAT; qemu and we must agree on where each payload entry is.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VhdxLayoutTest {

    private static final long MIB = 1 << 20;
    private static final long GIB = 1L << 30;

    @TempDir
    Path tmp;


    @Test
    void payloadEntriesPastTheFirstChunkAgreeWithQemu() throws Exception {
        Qemu.assumeAvailable();
        Path theirs = tmp.resolve("qemu.vhdx");
        Qemu.create(theirs, "vhdx", "block_size=1M", 6 * GIB);
        Qemu.io(theirs, "vhdx", "write -P 0x5a 5G 64k", "write -P 0x6b " + (4 * GIB - 4096) + " 8k");
        try (DiskImage d = DiskImages.open(theirs, false)) {
            assertThat(d.isAllocated(5 * GIB, 1)).isTrue();
            byte[] b = new byte[65536];
            d.readFully(5 * GIB, ByteBuffer.wrap(b));
            assertThat(b).containsOnly(0x5a);
            b = new byte[8192];
            d.readFully(4 * GIB - 4096, ByteBuffer.wrap(b));
            assertThat(b).containsOnly(0x6b);
        }

        Path ours = tmp.resolve("ours.vhdx");
        try (DiskImage d = DiskImages.create(ours, DiskFormat.VHDX, 6 * GIB,
                DiskImages.CreateOptions.defaults().withBlockSize(MIB))) {
            byte[] fill = new byte[65536];
            Arrays.fill(fill, (byte) 0x5a);
            d.write(5 * GIB, ByteBuffer.wrap(fill));
            Arrays.fill(fill, (byte) 0x6b);
            d.write(4 * GIB - 4096, ByteBuffer.wrap(fill, 0, 8192));
        }
        Qemu.checkClean(ours, "vhdx");
        Qemu.ok("qemu-io", "-f", "vhdx", "-c", "read -P 0x5a 5G 64k", "-c", "read -P 0x6b " + (4 * GIB - 4096) + " 8k",
                "-c", "read -P 0 " + (4 * GIB + 4096) + " 64k", ours.toString());
    }

    @Test
    void fourKibLogicalSectors() throws Exception {
        Qemu.assumeAvailable();
        Path p = tmp.resolve("4k.vhdx");
        try (DiskImage d = DiskImages.create(p, DiskFormat.VHDX, 64 * MIB,
                DiskImages.CreateOptions.defaults().withBlockSize(2 * MIB).withSectorSizes(4096, 4096))) {
            assertThat(d.logicalSectorSize()).isEqualTo(4096);
            byte[] fill = new byte[12288];
            Arrays.fill(fill, (byte) 0x21);
            d.write(3 * MIB, ByteBuffer.wrap(fill));
        }
        try (DiskImage d = DiskImages.open(p, false)) {
            assertThat(d.logicalSectorSize()).isEqualTo(4096);
            byte[] back = new byte[16384];
            d.readFully(3 * MIB - 2048, ByteBuffer.wrap(back));
            assertThat(Arrays.copyOfRange(back, 2048, 2048 + 12288)).containsOnly(0x21);
            assertThat(Arrays.copyOfRange(back, 0, 2048)).containsOnly(0);
        }
        // qemu's VHDX driver only opens 512-byte logical sectors, so it cannot be the oracle here.
        assertThat(Qemu.run(java.util.List.of("qemu-img", "info", p.toString())).output())
                .contains("Operation not supported");
    }
}
