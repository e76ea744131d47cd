package dev.secondsite.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Damaged images fail with one clear DiskFormatException: "<format> <path>: <problem> at offset N". */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MalformedImageTest {

    private static final long MIB = 1 << 20;
    private static final String SHAPE = "^(RAW|VHD|VHDX) .+: .+ at offset \\d+$";

    @TempDir
    Path tmp;

    // ---- helpers ------------------------------------------------------------------------------

    private Path vhdDynamic() throws IOException {
        Path p = tmp.resolve("d.vhd");
        try (DiskImage d = DiskImages.create(p, DiskFormat.VHD_DYNAMIC, 8 * MIB)) {
            d.write(3 * MIB, ByteBuffer.wrap(new byte[] {1, 2, 3}));
            d.write(6 * MIB, ByteBuffer.wrap(new byte[] {4, 5, 6}));
        }
        return p;
    }

    private Path vhdFixed() throws IOException {
        Path p = tmp.resolve("f.vhd");
        DiskImages.create(p, DiskFormat.VHD_FIXED, 2 * MIB).close();
        return p;
    }

    private Path vhdx() throws IOException {
        Path p = tmp.resolve("x.vhdx");
        try (DiskImage d = DiskImages.create(p, DiskFormat.VHDX, 8 * MIB,
                DiskImages.CreateOptions.defaults().withBlockSize(MIB))) {
            d.write(MIB, ByteBuffer.wrap(new byte[] {1}));
            d.write(5 * MIB, ByteBuffer.wrap(new byte[] {2}));
        }
        return p;
    }

    private static void edit(Path p, long at, int len, Consumer<ByteBuffer> change) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(len);
            ch.read(b, at);
            b.flip();
            change.accept(b);
            b.rewind();
            ch.write(b, at);
        }
    }

    /** Edits the big-endian VHD footer at the end (and the copy at 0), keeping the checksum valid. */
    private static void editVhdFooter(Path p, Consumer<ByteBuffer> change) throws IOException {
        long size = Files.size(p);
        for (long at : new long[] {size - 512, 0}) {
            edit(p, at, 512, b -> {
                if (!Arrays.equals(b.array(), 0, 8, VhdFooter.COOKIE, 0, 8)) {
                    return;
                }
                change.accept(b.order(ByteOrder.BIG_ENDIAN));
                b.putInt(64, VhdFooter.checksum(b.array(), 0, 512, 64));
            });
        }
    }

    private static void editVhdHeader(Path p, Consumer<ByteBuffer> change) throws IOException {
        edit(p, 512, 1024, b -> {
            change.accept(b.order(ByteOrder.BIG_ENDIAN));
            b.putInt(36, VhdFooter.checksum(b.array(), 0, 1024, 36));
        });
    }

    /** Edits both VHDX headers, keeping their CRCs valid. */
    private static void editVhdxHeaders(Path p, Consumer<ByteBuffer> change) throws IOException {
        for (long at : new long[] {VhdxImage.HEADER1_AT, VhdxImage.HEADER2_AT}) {
            edit(p, at, 4096, b -> {
                change.accept(b.order(ByteOrder.LITTLE_ENDIAN));
                MsGuid.putCrc(b.array(), 0, 4096, 4);
            });
        }
    }

    private static void editRegionTables(Path p, Consumer<ByteBuffer> change) throws IOException {
        for (long at : new long[] {VhdxRegionTable.TABLE1_AT, VhdxRegionTable.TABLE2_AT}) {
            edit(p, at, 65536, b -> {
                change.accept(b.order(ByteOrder.LITTLE_ENDIAN));
                MsGuid.putCrc(b.array(), 0, 65536, 4);
            });
        }
    }

    /** Our VHDX layout: metadata region at 2 MiB, items from 2 MiB + 64 KiB, BAT at 3 MiB. */
    private static final long META = 2 * MIB;
    private static final long ITEMS = META + 65536;
    private static final long BAT = 3 * MIB;

    private AbstractThrowableAssert<?, ? extends Throwable> assertRejected(Path p, DiskFormat format) {
        return assertThatThrownBy(() -> DiskImages.open(p, format, false).close())
                .isInstanceOf(DiskFormatException.class)
                .satisfies(e -> assertThat(e.getMessage()).matches(SHAPE).contains(p.toString()));
    }

    // ---- VHD ----------------------------------------------------------------------------------

    @Test
    void vhdTruncatedAnywhereIsRejected() throws Exception {
        Path p = vhdDynamic();
        byte[] whole = Files.readAllBytes(p);
        for (long cut : new long[] {0, 7, 511, 600, 2000, 3 * MIB, whole.length - 513}) {
            Files.write(p, Arrays.copyOf(whole, (int) cut));
            assertRejected(p, DiskFormat.VHD_DYNAMIC);
        }
        // Only the trailing footer damaged, every block intact: recovered from the copy at offset 0.
        Files.write(p, Arrays.copyOf(whole, whole.length - 1));
        DiskImages.open(p, false).close();
        Files.write(p, Arrays.copyOf(whole, whole.length - 1000));
        assertRejected(p, DiskFormat.VHD_DYNAMIC).hasMessageContaining("points past the end of the file");
    }

    @Test
    void vhdFooterChecksumMismatch() throws Exception {
        Path p = vhdFixed();
        edit(p, Files.size(p) - 512 + 40, 1, b -> b.put(0, (byte) 0x55));
        assertRejected(p, DiskFormat.VHD_FIXED).hasMessageContaining("footer checksum mismatch")
                .hasMessageEndingWith("at offset " + (Files.size(p) - 512));
    }

    @Test
    void vhdDynamicHeaderChecksumMismatch() throws Exception {
        Path p = vhdDynamic();
        edit(p, 512 + 100, 1, b -> b.put(0, (byte) 1));
        assertRejected(p, DiskFormat.VHD_DYNAMIC).hasMessageContaining("dynamic header checksum mismatch")
                .hasMessageEndingWith("at offset 512");
    }

    @Test
    void vhdBatEntryPastEndOfFile() throws Exception {
        Path p = vhdDynamic();
        edit(p, 1536 + 4, 4, b -> b.putInt(0, 0x00FFFFFF));
        assertRejected(p, DiskFormat.VHD_DYNAMIC).hasMessageContaining("BAT entry 1 points past the end of the file")
                .hasMessageEndingWith("at offset " + (1536 + 4));
    }

    @Test
    void vhdBatEntriesSharingABlock() throws Exception {
        Path p = vhdDynamic();
        int[] e = new int[1];
        edit(p, 1536 + 4, 4, b -> e[0] = b.getInt(0));
        edit(p, 1536, 4, b -> b.putInt(0, e[0]));
        assertRejected(p, DiskFormat.VHD_DYNAMIC).hasMessageContaining("overlapping");
    }

    @Test
    void vhdAbsurdSizes() throws Exception {
        Path p = vhdDynamic();
        byte[] good = Files.readAllBytes(p);
        editVhdFooter(p, b -> b.putLong(48, 1L << 62));
        assertRejected(p, DiskFormat.VHD_DYNAMIC).hasMessageContaining("exceeds the VHD maximum");
        Files.write(p, good);
        editVhdHeader(p, b -> b.putInt(28, -1));
        assertRejected(p, DiskFormat.VHD_DYNAMIC).hasMessageContaining("exceeds BAT_ENTRIES_MAX");
        Files.write(p, good);
        editVhdHeader(p, b -> b.putInt(32, 0));
        assertRejected(p, DiskFormat.VHD_DYNAMIC).hasMessageContaining("block size 0");
        Files.write(p, good);
        editVhdHeader(p, b -> b.putLong(16, Long.MAX_VALUE - 10));
        assertRejected(p, DiskFormat.VHD_DYNAMIC).hasMessageContaining("block allocation table");
        Files.write(p, good);
        editVhdFooter(p, b -> b.putLong(16, -5));
        assertRejected(p, DiskFormat.VHD_DYNAMIC).hasMessageContaining("dynamic header");
        Path f = vhdFixed();
        editVhdFooter(f, b -> b.putLong(48, 64 * MIB));
        assertRejected(f, DiskFormat.VHD_FIXED).hasMessageContaining("truncated");
    }

    @Test
    void vhdDifferencingIsNotSupported() throws Exception {
        Path p = vhdDynamic();
        editVhdFooter(p, b -> b.putInt(60, VhdFooter.TYPE_DIFFERENCING));
        assertRejected(p, DiskFormat.VHD_DYNAMIC).hasMessageContaining("differencing disks not supported");
        assertThatThrownBy(() -> DiskImages.open(p, false)).hasMessageContaining("differencing disks not supported");
    }

    @Test
    void vhdWithLostTrailingFooterOpensFromTheCopyAndIsRepairedOnWritableOpen() throws Exception {
        Path p = vhdDynamic();
        byte[] whole = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(whole, whole.length - 512));
        assertThat(DiskImages.detect(p)).isEqualTo(DiskFormat.VHD_DYNAMIC);
        try (DiskImage d = DiskImages.open(p, false)) {
            byte[] b = new byte[3];
            d.readFully(6 * MIB, ByteBuffer.wrap(b));
            assertThat(b).containsExactly(4, 5, 6);
        }
        DiskImages.open(p, true).close();
        assertThat(Files.readAllBytes(p)).isEqualTo(whole);
    }

    @Test
    void explicitFormatMustMatch() throws Exception {
        Path p = vhdFixed();
        assertRejected(p, DiskFormat.VHD_DYNAMIC).hasMessageContaining("is a VHD_FIXED image, not VHD_DYNAMIC");
    }

    // ---- VHDX ---------------------------------------------------------------------------------

    @Test
    void vhdxTruncated() throws Exception {
        Path p = vhdx();
        byte[] whole = Files.readAllBytes(p);
        for (long cut : new long[] {8, 4096, 70_000, MIB - 1, MIB + 5, 2 * MIB + 100, 3 * MIB + 8}) {
            Files.write(p, Arrays.copyOf(whole, (int) cut));
            assertRejected(p, DiskFormat.VHDX);
        }
        Files.write(p, Arrays.copyOf(whole, 100));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("smaller than the 1 MiB header section");
        Files.write(p, Arrays.copyOf(whole, whole.length - 1));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("points past the end of the file");
    }

    @Test
    void vhdxOneBadHeaderIsToleratedTwoAreNot() throws Exception {
        Path p = vhdx();
        edit(p, VhdxImage.HEADER2_AT + 200, 1, b -> b.put(0, (byte) 9));
        DiskImages.open(p, false).close();
        edit(p, VhdxImage.HEADER1_AT + 8, 1, b -> b.put(0, (byte) (b.get(0) + 1)));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("both headers are invalid")
                .hasMessageContaining("CRC-32C mismatch").hasMessageEndingWith("at offset 65536");
    }

    @Test
    void vhdxHeadersWithEqualSequenceNumbersMustBeIdentical() throws Exception {
        Path p = vhdx();
        editVhdxHeaders(p, b -> b.putLong(8, 42));
        DiskImages.open(p, false).close(); // identical copies (as Disk2VHD writes them) are fine
        edit(p, VhdxImage.HEADER2_AT, 4096, b -> {
            MsGuid.write(b, 16, UUID.randomUUID());
            MsGuid.putCrc(b.array(), 0, 4096, 4);
        });
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("same sequence number");
    }

    @Test
    void vhdxRegionTables() throws Exception {
        Path p = vhdx();
        byte[] good = Files.readAllBytes(p);
        edit(p, VhdxRegionTable.TABLE1_AT + 20, 1, b -> b.put(0, (byte) 0));
        DiskImages.open(p, false).close(); // table 2 still good
        edit(p, VhdxRegionTable.TABLE2_AT + 20, 1, b -> b.put(0, (byte) 0));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("both region tables are invalid");
        Files.write(p, good);
        editRegionTables(p, b -> {
            b.putInt(8, 3);
            MsGuid.write(b, 16 + 64, UUID.randomUUID());
            b.putLong(16 + 64 + 16, 4 * MIB);
            b.putInt(16 + 64 + 24, (int) MIB);
            b.putInt(16 + 64 + 28, 1);
        });
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("unsupported required region");
        Files.write(p, good);
        editRegionTables(p, b -> b.putLong(32, 1L << 50));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("BAT region").hasMessageContaining("past the end");
        Files.write(p, good);
        editRegionTables(p, b -> b.putInt(8, 100_000));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("entry count 100000 exceeds 2047");
    }

    @Test
    void vhdxMetadata() throws Exception {
        Path p = vhdx();
        byte[] good = Files.readAllBytes(p);
        edit(p, ITEMS + 8, 8, b -> b.order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 50));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("64 TiB").hasMessageEndingWith("at offset " + (ITEMS + 8));
        Files.write(p, good);
        edit(p, ITEMS + 8, 8, b -> b.order(ByteOrder.LITTLE_ENDIAN).putLong(0, 8 * MIB + 100));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("not a multiple of the logical sector size");
        Files.write(p, good);
        edit(p, ITEMS, 4, b -> b.order(ByteOrder.LITTLE_ENDIAN).putInt(0, 3 << 20));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("not a power of two");
        Files.write(p, good);
        edit(p, ITEMS + 32, 4, b -> b.order(ByteOrder.LITTLE_ENDIAN).putInt(0, 1000));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("logical sector size 1000");
        Files.write(p, good);
        edit(p, META + 10, 2, b -> b.order(ByteOrder.LITTLE_ENDIAN).putShort(0, (short) 4000));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("exceeds METADATA_ENTRIES_MAX");
        Files.write(p, good);
        edit(p, META + 32 + 20, 4, b -> b.order(ByteOrder.LITTLE_ENDIAN).putInt(0, Integer.MAX_VALUE));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("metadata item");
        Files.write(p, good);
        edit(p, META + 32 + 16, 4, b -> b.order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) MIB - 4));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("outside the metadata region");
        Files.write(p, good);
        edit(p, META + 32, 16, b -> MsGuid.write(b, 0, UUID.randomUUID()));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("unsupported required metadata item");
        Files.write(p, good);
        edit(p, META, 8, b -> b.put(0, (byte) 'M'));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("signature \"metadata\" missing");
    }

    @Test
    void vhdxDifferencingIsNotSupported() throws Exception {
        Path p = vhdx();
        edit(p, ITEMS + 4, 4, b -> b.order(ByteOrder.LITTLE_ENDIAN).putInt(0, 2));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("differencing disks not supported");
    }

    @Test
    void vhdxBatEntries() throws Exception {
        Path p = vhdx();
        byte[] good = Files.readAllBytes(p);
        edit(p, BAT + 8, 8, b -> b.order(ByteOrder.LITTLE_ENDIAN).putLong(0, (1000L << 20) | 6));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("BAT entry 1 points past the end of the file")
                .hasMessageEndingWith("at offset " + (BAT + 8));
        Files.write(p, good);
        edit(p, BAT + 16, 8, b -> b.order(ByteOrder.LITTLE_ENDIAN).putLong(0, (2L << 20) | 6));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("log, BAT or metadata region");
        Files.write(p, good);
        edit(p, BAT + 16, 8, b -> b.order(ByteOrder.LITTLE_ENDIAN).putLong(0, 7));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("PARTIALLY_PRESENT");
        Files.write(p, good);
        edit(p, BAT + 16, 8, b -> b.order(ByteOrder.LITTLE_ENDIAN).putLong(0, 4));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("invalid payload block state 4");
        Files.write(p, good);
        long[] e = new long[1];
        edit(p, BAT + 8, 8, b -> e[0] = b.order(ByteOrder.LITTLE_ENDIAN).getLong(0));
        edit(p, BAT + 16, 8, b -> b.order(ByteOrder.LITTLE_ENDIAN).putLong(0, e[0]));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("overlapping");
        Files.write(p, good);
        edit(p, BAT + 16, 8, b -> b.order(ByteOrder.LITTLE_ENDIAN).putLong(0, 3)); // UNMAPPED: fine, zeros
        try (DiskImage d = DiskImages.open(p, false)) {
            assertThat(d.isAllocated(2 * MIB, MIB)).isFalse();
        }
    }

    @Test
    void vhdxLogOutsideTheFile() throws Exception {
        Path p = vhdx();
        editVhdxHeaders(p, b -> b.putLong(72, 1L << 40));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("log");
        editVhdxHeaders(p, b -> b.putLong(72, 12345));
        assertRejected(p, DiskFormat.VHDX).hasMessageContaining("not 1 MiB-aligned");
    }
}
