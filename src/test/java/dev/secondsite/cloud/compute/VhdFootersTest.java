package dev.secondsite.cloud.compute;

import dev.secondsite.testing.Qemu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.assertj.core.api.Assertions.assertThat;

/** Fixed VHD footers: what we write qemu-img reads; what qemu-img writes we accept; resizes keep the id. */
class VhdFootersTest {
    @TempDir
    Path tmp;

    @Test
    void qemuReadsOurFooterAtTheExactSize() throws Exception {
        Qemu.assumeAvailable();
        for (long size : new long[] {20L << 20, (1L << 30) + 3 * 512, 2040L << 30}) {
            Path file = tmp.resolve("d" + size + ".vhd");
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(VhdFooters.fixed(size)), size);
            }
            String info = Qemu.ok("qemu-img", "info", "--output=json", "-f", "vpc", file.toString());
            assertThat(info).as("size %d", size).contains("\"virtual-size\": " + size);
            Files.delete(file);
        }
        // Azure's disks go to 32 TiB, past the VHD specification's 2040 GiB (which qemu keeps to): the footer still
        // records the exact size and the geometry saturates.
        byte[] big = VhdFooters.fixed(32L << 40);
        assertThat(VhdFooters.problem(big, 32L << 40)).isNull();
        assertThat(ByteBuffer.wrap(big).getLong(48)).isEqualTo(32L << 40);
        assertThat(ByteBuffer.wrap(big).getShort(56) & 0xFFFF).isEqualTo(65535);
    }

    @Test
    void acceptsQemuFixedVhdsAndExplainsOthers() throws Exception {
        Qemu.assumeAvailable();
        Path fixed = tmp.resolve("fixed.vhd");
        Qemu.ok("qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", fixed.toString(), "30M");
        byte[] footer = tail(fixed);
        assertThat(VhdFooters.problem(footer, Files.size(fixed) - 512)).isNull();
        assertThat(VhdFooters.problem(footer, Files.size(fixed))).contains("virtual size");

        Path dynamic = tmp.resolve("dynamic.vhd");
        Qemu.ok("qemu-img", "create", "-q", "-f", "vpc", dynamic.toString(), "30M");
        assertThat(VhdFooters.problem(tail(dynamic), -1)).contains("only fixed VHDs");
        assertThat(VhdFooters.problem(new byte[512], -1)).contains("cookie value 'conectix'");
        byte[] corrupt = footer.clone();
        corrupt[100] ^= 1;
        assertThat(VhdFooters.problem(corrupt, -1)).contains("checksum");

        byte[] grown = VhdFooters.resized(footer, 64L << 20);
        assertThat(VhdFooters.problem(grown, 64L << 20)).isNull();
        assertThat(java.util.Arrays.copyOfRange(grown, 68, 84)).as("unique id kept")
                .isEqualTo(java.util.Arrays.copyOfRange(footer, 68, 84));
    }

    private static byte[] tail(Path file) throws Exception {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer b = ByteBuffer.allocate(512);
            ch.read(b, ch.size() - 512);
            return b.array();
        }
    }
}
