package dev.secondsite.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The public API's contract, and the small encodings every format rests on. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DiskImagesTest {

    private static final long MIB = 1 << 20;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(DiskFormat.class)
    void createdImagesStartEmptyAndRoundTripData(DiskFormat format) throws Exception {
        Path p = tmp.resolve("img");
        byte[] data = new byte[3 * 512 + 77];
        new Random(format.ordinal()).nextBytes(data);
        try (DiskImage d = DiskImages.create(p, format, 6 * MIB)) {
            assertThat(d.format()).isEqualTo(format);
            assertThat(d.virtualSize()).isEqualTo(6 * MIB);
            assertThat(d.writable()).isTrue();
            assertThat(d.isAllocated(0, 6 * MIB)).isFalse();
            assertThat(TestImages.readAll(d)).isEqualTo(new byte[(int) (6 * MIB)]);
            d.write(2 * MIB - 700, ByteBuffer.wrap(data));
            d.flush();
        }
        try (var files = Files.list(tmp)) {
            assertThat(files.map(f -> f.getFileName().toString())).as("no temporary files left").containsExactly("img");
        }
        assertThat(DiskImages.detect(p)).isEqualTo(format);
        try (DiskImage d = DiskImages.open(p, false)) {
            byte[] back = new byte[data.length];
            d.readFully(2 * MIB - 700, ByteBuffer.wrap(back));
            assertThat(back).isEqualTo(data);
            assertThat(d.isAllocated(2 * MIB - 700, data.length)).isTrue();
            assertThat(d.writable()).isFalse();
            assertThatThrownBy(() -> d.write(0, ByteBuffer.allocate(1)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("read-only");
        }
    }

    @Test
    void onlyOneWriterAtATime() throws Exception {
        Path p = tmp.resolve("w.vhd");
        try (DiskImage writer = DiskImages.create(p, DiskFormat.VHD_DYNAMIC, 4 * MIB)) {
            assertThatThrownBy(() -> DiskImages.open(p, true))
                    .isInstanceOf(java.io.IOException.class).hasMessageContaining("already open for writing");
            try (DiskImage reader = DiskImages.open(p, false)) {
                assertThat(reader.virtualSize()).isEqualTo(writer.virtualSize());
            }
        }
        DiskImages.open(p, true).close();
    }

    @Test
    void readAndWriteBoundsAreChecked() throws Exception {
        try (DiskImage d = DiskImages.create(tmp.resolve("b.vhdx"), DiskFormat.VHDX, 4 * MIB)) {
            ByteBuffer buf = ByteBuffer.allocate(1000);
            assertThat(d.read(4 * MIB - 100, buf)).isEqualTo(100);
            assertThat(d.read(4 * MIB, buf.clear())).isEqualTo(-1);
            assertThatThrownBy(() -> d.read(4 * MIB + 1, ByteBuffer.allocate(1)))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> d.write(4 * MIB - 10, ByteBuffer.allocate(11)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("write of 11 bytes at offset 4194294 does not fit in the disk (4194304 bytes)");
            assertThatThrownBy(() -> d.extentAt(4 * MIB)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void createRefusesExistingFilesAndBadSizes() throws Exception {
        Path p = tmp.resolve("exists");
        Files.write(p, new byte[] {1});
        assertThatThrownBy(() -> DiskImages.create(p, DiskFormat.RAW, MIB)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readAllBytes(p)).containsExactly(1);
        assertThatThrownBy(() -> DiskImages.create(tmp.resolve("a"), DiskFormat.VHD_FIXED, MIB + 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 512");
        assertThatThrownBy(() -> DiskImages.create(tmp.resolve("b"), DiskFormat.VHD_DYNAMIC, 2041L << 30))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2040 GiB");
        assertThatThrownBy(() -> DiskImages.create(tmp.resolve("c"), DiskFormat.VHDX, 65L << 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("64 TiB");
        assertThatThrownBy(() -> DiskImages.create(tmp.resolve("d"), DiskFormat.VHDX, MIB,
                DiskImages.CreateOptions.defaults().withBlockSize(3 * MIB)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("power of two from 1 MiB");
        assertThatThrownBy(() -> DiskImages.create(tmp.resolve("e"), DiskFormat.VHDX, MIB,
                DiskImages.CreateOptions.defaults().withSectorSizes(1024, 512)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("logical sector size");
        try (var files = Files.list(tmp)) {
            assertThat(files.count()).as("failed creates leave nothing behind").isEqualTo(1);
        }
    }

    @Test
    void detectsByContent() throws Exception {
        Path empty = Files.createFile(tmp.resolve("empty"));
        assertThat(DiskImages.detect(empty)).isEqualTo(DiskFormat.RAW);
        byte[] noise = new byte[70_000];
        new Random(3).nextBytes(noise);
        Path raw = Files.write(tmp.resolve("noise"), noise);
        assertThat(DiskImages.detect(raw)).isEqualTo(DiskFormat.RAW);
        try (DiskImage d = DiskImages.open(raw, false)) {
            assertThat(d.virtualSize()).isEqualTo(70_000);
            assertThat(TestImages.readAll(d)).isEqualTo(noise);
        }
    }

    @Test
    void rawExtentsFollowZeroRuns() throws Exception {
        try (DiskImage d = DiskImages.create(tmp.resolve("z.raw"), DiskFormat.RAW, 4 * MIB)) {
            d.write(MIB + 10, ByteBuffer.wrap(new byte[] {1}));
            assertThat(d.extentAt(0)).isEqualTo(new Extent(0, MIB, false));
            assertThat(d.extentAt(MIB)).isEqualTo(new Extent(MIB, 65536, true));
            assertThat(d.extentAt(MIB + 65536)).isEqualTo(new Extent(MIB + 65536, 3 * MIB - 65536, false));
        }
    }

    @Test
    void vhdChecksumAndGeometryFollowTheSpecification() {
        // Appendix examples: small disks use 17 sectors per track, large ones cap at 65535/16/255.
        assertThat(VhdFooter.geometry(131104)).containsExactly(964, 8, 17);
        assertThat(VhdFooter.geometry(2097152)).containsExactly(2080, 16, 63);
        assertThat(VhdFooter.geometry(4L << 31)).containsExactly(65535, 16, 255);
        byte[] f = VhdFooter.create(VhdFooter.TYPE_DYNAMIC, 64 * MIB, 512).encode();
        assertThat(VhdFooter.problem(f)).isNull();
        int sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += i >= 64 && i < 68 ? 0 : f[i] & 0xFF;
        }
        assertThat(ByteBuffer.wrap(f).getInt(64)).as("one's complement of the byte sum").isEqualTo(~sum);
        assertThat(new String(f, 28, 4, StandardCharsets.US_ASCII)).isEqualTo("win ");
        assertThat(VhdFooter.decode(f).currentSize()).isEqualTo(64 * MIB);
    }

    @Test
    void vhdGeometryMatchesQemu() throws Exception {
        Qemu.assumeAvailable();
        for (String size : new String[] {"20M", "100M", "1G", "3000M", "127G"}) {
            Path p = tmp.resolve("g" + size + ".vhd");
            Qemu.create(p, "vpc", "", Long.parseLong(size.replaceAll("\\D", ""))
                    << (size.endsWith("G") ? 30 : 20));
            byte[] b = Files.readAllBytes(p);
            VhdFooter footer = VhdFooter.decode(Arrays.copyOfRange(b, b.length - 512, b.length));
            assertThat(VhdFooter.geometry(footer.currentSize() / 512)).as(size)
                    .containsExactly(footer.cylinders(), footer.heads(), footer.sectorsPerTrack());
        }
    }

    @Test
    void guidsAndCrc32c() {
        ByteBuffer b = ByteBuffer.wrap(new byte[] {0x66, 0x77, (byte) 0xc2, 0x2d, 0x23, (byte) 0xf6, 0x00, 0x42,
                (byte) 0x9d, 0x64, 0x11, 0x5e, (byte) 0x9b, (byte) 0xfd, 0x4a, 0x08});
        assertThat(MsGuid.read(b, 0)).isEqualTo(VhdxRegionTable.BAT);
        ByteBuffer out = ByteBuffer.allocate(16);
        MsGuid.write(out, 0, VhdxRegionTable.BAT);
        assertThat(out.array()).isEqualTo(b.array());
        UUID any = UUID.randomUUID();
        MsGuid.write(out, 0, any);
        assertThat(MsGuid.read(out, 0)).isEqualTo(any);
        CRC32C crc = new CRC32C();
        crc.update("123456789".getBytes(StandardCharsets.US_ASCII));
        assertThat(crc.getValue()).as("CRC-32C check value").isEqualTo(0xE3069283L);
    }

    @ParameterizedTest
    @ValueSource(ints = {512, 4096})
    void vhdxChunkRatioAndBatSize(int logicalSector) {
        VhdxMetadata m = new VhdxMetadata(MIB, false, false, 6L << 30, logicalSector, 4096, UUID.randomUUID());
        assertThat(m.chunkRatio()).isEqualTo((1L << 23) * logicalSector / MIB);
        long data = 6L << 10;
        assertThat(m.totalBatEntries()).isEqualTo(data + (data - 1) / m.chunkRatio());
        VhdxMetadata big = new VhdxMetadata(256 * MIB, false, false, 64L << 40, 512, 512, UUID.randomUUID());
        assertThat(big.chunkRatio()).isEqualTo(16);
        assertThat(big.totalBatEntries()).isEqualTo(262144 + 262143 / 16);
    }
}
