package dev.secondsite.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.secondsite.disk.VhdxLogBuilder.Desc;

/** A dirty VHDX log (written by hand per [MS-VHDX] 2.3) is replayed on open. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VhdxLogReplayTest {

    private static final long MIB = 1 << 20;
    private static final long LOG_AT = MIB;
    private static final long LOG_LENGTH = MIB;

    @TempDir
    Path tmp;
    Path img;
    /** File offset of virtual byte 2 MiB + 8 KiB (inside block 2, which holds 0x11 everywhere). */
    long target;
    long fileSize;

    @BeforeEach
    void image() throws Exception {
        img = tmp.resolve("log.vhdx");
        try (DiskImage d = DiskImages.create(img, DiskFormat.VHDX, 8 * MIB,
                DiskImages.CreateOptions.defaults().withBlockSize(MIB))) {
            byte[] fill = new byte[(int) MIB];
            Arrays.fill(fill, (byte) 0x11);
            d.write(2 * MIB, ByteBuffer.wrap(fill));
        }
        try (VhdxImage d = (VhdxImage) DiskImages.open(img, false)) {
            target = d.fileOffsetOf(2 * MIB + 8192);
        }
        fileSize = Files.size(img);
    }

    private byte[] virtual(long offset, int len) throws Exception {
        try (DiskImage d = DiskImages.open(img, false)) {
            byte[] b = new byte[len];
            d.readFully(offset, ByteBuffer.wrap(b));
            return b;
        }
    }

    private static byte[] filled(int len, int value) {
        byte[] b = new byte[len];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private void dirty(UUID guid, long position, byte[] entry) throws Exception {
        VhdxLogBuilder.writeEntry(img, LOG_AT, LOG_LENGTH, position, entry);
        VhdxLogBuilder.setLogGuid(img, guid);
    }

    @Test
    void writableOpenReplaysDataDescriptorAndClearsLogGuid() throws Exception {
        UUID guid = UUID.randomUUID();
        byte[] sector = VhdxLogBuilder.sector(0x40);
        dirty(guid, 0, VhdxLogBuilder.entry(7, 0, guid, fileSize, fileSize, List.of(Desc.data(target, sector))));
        if (Qemu.available()) {
            // qemu replays our hand-made entry the same way: an independent check of the entry layout.
            Path copy = Files.copy(img, tmp.resolve("qemu-replay.vhdx"));
            Qemu.Result r = Qemu.run(List.of("qemu-img", "check", "-r", "all", "-f", "vhdx", copy.toString()));
            assertThat(r.exitCode()).as(r.output()).isZero();
            byte[] raw = Qemu.toRaw(copy, "vhdx", tmp);
            assertThat(Arrays.copyOfRange(raw, (int) (2 * MIB + 8192), (int) (2 * MIB + 12288))).isEqualTo(sector);
        }

        try (VhdxImage d = (VhdxImage) DiskImages.open(img, true)) {
            assertThat(d.logReplayed()).isTrue();
            assertThat(d.currentHeader().logGuid()).isEqualTo(MsGuid.ZERO);
        }
        assertThat(virtual(2 * MIB + 8192, 4096)).isEqualTo(sector);
        assertThat(virtual(2 * MIB, 8192)).isEqualTo(filled(8192, 0x11));
        assertThat(virtual(2 * MIB + 12288, 4096)).isEqualTo(filled(4096, 0x11));
        try (VhdxImage d = (VhdxImage) DiskImages.open(img, true)) {
            assertThat(d.logReplayed()).as("second open: log already clean").isFalse();
        }
        if (Qemu.available()) {
            Qemu.checkClean(img, "vhdx");
            byte[] raw = Qemu.toRaw(img, "vhdx", tmp);
            assertThat(Arrays.copyOfRange(raw, (int) (2 * MIB + 8192), (int) (2 * MIB + 12288))).isEqualTo(sector);
        }
    }

    @Test
    void readOnlyOpenReplaysInMemoryAndLeavesTheFileAlone() throws Exception {
        UUID guid = UUID.randomUUID();
        byte[] sector = VhdxLogBuilder.sector(0x50);
        dirty(guid, 0, VhdxLogBuilder.entry(3, 0, guid, fileSize, fileSize, List.of(Desc.data(target, sector))));
        byte[] before = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(img));

        try (VhdxImage d = (VhdxImage) DiskImages.open(img, false)) {
            assertThat(d.logReplayed()).isFalse();
            assertThat(d.currentHeader().logGuid()).isEqualTo(guid);
            byte[] b = new byte[4096];
            d.readFully(2 * MIB + 8192, ByteBuffer.wrap(b));
            assertThat(b).isEqualTo(sector);
        }
        assertThat(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(img))).isEqualTo(before);
    }

    @Test
    void loggedBatUpdateAllocatesABlock() throws Exception {
        // What a real writer does: payload first (at the end of the file), then the BAT change via the log.
        VhdxRegionTable regions;
        try (VhdxImage d = (VhdxImage) DiskImages.open(img, false)) {
            regions = d.regions();
            assertThat(d.blockState(5 * MIB)).isEqualTo(VhdxImage.PAYLOAD_NOT_PRESENT);
        }
        long blockAt = (fileSize + MIB - 1) / MIB * MIB;
        byte[] batSector = new byte[4096];
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(filled((int) MIB, 0x77)), blockAt);
            ch.read(ByteBuffer.wrap(batSector), regions.batOffset());
        }
        ByteBuffer.wrap(batSector).order(ByteOrder.LITTLE_ENDIAN).putLong(5 * 8, blockAt | VhdxImage.PAYLOAD_FULLY_PRESENT);
        UUID guid = UUID.randomUUID();
        long newSize = blockAt + MIB;
        dirty(guid, 0, VhdxLogBuilder.entry(1, 0, guid, newSize, newSize,
                List.of(Desc.data(regions.batOffset(), batSector), Desc.zero(target, 4096))));

        assertThat(virtual(5 * MIB, (int) MIB)).as("read-only, in memory").isEqualTo(filled((int) MIB, 0x77));
        try (DiskImage d = DiskImages.open(img, true)) {
            assertThat(d.isAllocated(5 * MIB, MIB)).isTrue();
        }
        assertThat(virtual(5 * MIB, (int) MIB)).isEqualTo(filled((int) MIB, 0x77));
        assertThat(virtual(2 * MIB + 8192, 4096)).as("zero descriptor").isEqualTo(new byte[4096]);
        if (Qemu.available()) {
            Qemu.checkClean(img, "vhdx");
        }
    }

    @Test
    void replaysOnlyTheNewestCompleteSequenceFromItsTail() throws Exception {
        UUID guid = UUID.randomUUID();
        // An old, complete sequence at the start of the log.
        byte[] old = VhdxLogBuilder.entry(2, 0, guid, fileSize, fileSize, List.of(Desc.data(target, filled(4096, 1))));
        // The active sequence: entries 10 and 11 at 64 KiB, both with the tail at 64 KiB.
        long p = 64 * 1024;
        byte[] e10 = VhdxLogBuilder.entry(10, p, guid, fileSize, fileSize, List.of(Desc.data(target, filled(4096, 2))));
        byte[] e11 = VhdxLogBuilder.entry(11, p, guid, fileSize, fileSize,
                List.of(Desc.data(target + 4096, filled(4096, 3)), Desc.zero(target - 4096, 4096)));
        // Entry 12 follows but its checksum is broken: a torn write, not part of the sequence.
        byte[] e12 = VhdxLogBuilder.entry(12, p, guid, fileSize, fileSize, List.of(Desc.data(target, filled(4096, 4))));
        e12[100] ^= 1;
        VhdxLogBuilder.writeEntry(img, LOG_AT, LOG_LENGTH, 0, old);
        VhdxLogBuilder.writeEntry(img, LOG_AT, LOG_LENGTH, p, e10);
        VhdxLogBuilder.writeEntry(img, LOG_AT, LOG_LENGTH, p + e10.length, e11);
        VhdxLogBuilder.writeEntry(img, LOG_AT, LOG_LENGTH, p + e10.length + e11.length, e12);
        VhdxLogBuilder.setLogGuid(img, guid);

        try (DiskImage d = DiskImages.open(img, true)) {
            assertThat(((VhdxImage) d).logReplayed()).isTrue();
        }
        assertThat(virtual(2 * MIB + 4096, 4096)).isEqualTo(new byte[4096]);
        assertThat(virtual(2 * MIB + 8192, 4096)).isEqualTo(filled(4096, 2));
        assertThat(virtual(2 * MIB + 12288, 4096)).isEqualTo(filled(4096, 3));
    }

    @Test
    void entryMayWrapAroundTheEndOfTheLog() throws Exception {
        UUID guid = UUID.randomUUID();
        long p = LOG_LENGTH - 4096;
        byte[] e = VhdxLogBuilder.entry(5, p, guid, fileSize, fileSize, List.of(Desc.data(target, filled(4096, 9))));
        assertThat(e.length).isEqualTo(8192);
        dirty(guid, p, e);
        assertThat(virtual(2 * MIB + 8192, 4096)).isEqualTo(filled(4096, 9));
    }

    @Test
    void ignoresSequencesWhoseTailIsOutsideThemAndEntriesOfAnotherLog() throws Exception {
        UUID guid = UUID.randomUUID();
        VhdxLogBuilder.writeEntry(img, LOG_AT, LOG_LENGTH, 0,
                VhdxLogBuilder.entry(4, 512 * 1024, guid, fileSize, fileSize, List.of(Desc.data(target, filled(4096, 5)))));
        VhdxLogBuilder.writeEntry(img, LOG_AT, LOG_LENGTH, 128 * 1024, VhdxLogBuilder.entry(9, 128 * 1024,
                UUID.randomUUID(), fileSize, fileSize, List.of(Desc.data(target, filled(4096, 6)))));
        VhdxLogBuilder.setLogGuid(img, guid);
        try (VhdxImage d = (VhdxImage) DiskImages.open(img, true)) {
            assertThat(d.logReplayed()).isFalse();
            d.write(0, ByteBuffer.wrap(new byte[] {1}));
            assertThat(d.currentHeader().logGuid()).as("first write clears a log with nothing to replay")
                    .isEqualTo(MsGuid.ZERO);
        }
        assertThat(virtual(2 * MIB + 8192, 4096)).isEqualTo(filled(4096, 0x11));
    }

    @Test
    void rejectsALogWrittenForALongerFile() throws Exception {
        UUID guid = UUID.randomUUID();
        dirty(guid, 0, VhdxLogBuilder.entry(1, 0, guid, fileSize + MIB, fileSize + MIB,
                List.of(Desc.data(target, filled(4096, 1)))));
        assertThatThrownBy(() -> DiskImages.open(img, true))
                .isInstanceOf(DiskFormatException.class)
                .hasMessageContaining("FlushedFileOffset")
                .hasMessageContaining("truncated");
    }

    @Test
    void replayExtendsTheFileToLastFileOffsetWithinLimits() throws Exception {
        UUID guid = UUID.randomUUID();
        long last = fileSize + 3 * MIB;
        dirty(guid, 0, VhdxLogBuilder.entry(1, 0, guid, fileSize, last, List.of(Desc.data(target, filled(4096, 8)))));
        DiskImages.open(img, true).close();
        assertThat(Files.size(img)).isEqualTo(last);
        assertThat(virtual(2 * MIB + 8192, 4096)).isEqualTo(filled(4096, 8));

        Files.delete(img);
        image();
        dirty(guid, 0, VhdxLogBuilder.entry(1, 0, guid, fileSize, fileSize + (2L << 40),
                List.of(Desc.data(target, filled(4096, 8)))));
        assertThatThrownBy(() -> DiskImages.open(img, true))
                .isInstanceOf(DiskFormatException.class).hasMessageContaining("LOG_FILE_GROWTH_MAX");
    }
}
