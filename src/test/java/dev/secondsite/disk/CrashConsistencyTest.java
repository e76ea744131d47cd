package dev.secondsite.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Crash states of a write, simulated: every write and force is recorded, and the image is rebuilt as
 * a crash could leave it: everything before some force durable, and any subset of the writes after it
 * (the OS may persist them in any order). Every such state must open, and an allocating write must be
 * all-or-nothing: the BAT never names a block whose data is not there.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CrashConsistencyTest {

    private static final long MIB = 1 << 20;
    private static final int PENDING_WRITES_MAX = 12;

    @TempDir
    Path tmp;

    sealed interface Event permits Write, Force {
    }

    record Write(long position, byte[] bytes) implements Event {
    }

    record Force() implements Event {
    }

    private static final class Recorder implements ImageFile.IoTrace {
        final List<Event> events = new ArrayList<>();

        @Override
        public void write(long position, byte[] bytes) {
            events.add(new Write(position, bytes));
        }

        @Override
        public void force() {
            events.add(new Force());
        }
    }

    @ParameterizedTest
    @EnumSource(value = DiskFormat.class, names = {"VHD_DYNAMIC", "VHDX"})
    void allocatingWriteIsAllOrNothingAtEveryCrashPoint(DiskFormat format) throws Exception {
        Path img = tmp.resolve("disk");
        try (DiskImage d = DiskImages.create(img, format, 8 * MIB, DiskImages.CreateOptions.defaults()
                .withBlockSize(format == DiskFormat.VHDX ? MIB : 0))) {
            d.write(100, ByteBuffer.wrap(new byte[] {7, 7, 7}));
        }
        byte[] data = new byte[100_000];
        new Random(1).nextBytes(data);
        // Into a never-written block: allocation.
        checkCrashStates(img, format, 4 * MIB + 12345, data, true);
        // Into the now-allocated block again: an in-place overwrite may tear, but must never corrupt.
        new Random(2).nextBytes(data);
        checkCrashStates(img, format, 4 * MIB + 5000, data, false);
    }

    private void checkCrashStates(Path img, DiskFormat format, long offset, byte[] data, boolean allOrNothing)
            throws Exception {
        byte[] original = Files.readAllBytes(img);
        byte[] before = content(img, format);
        Recorder rec = new Recorder();
        try (DiskImage d = DiskImages.open(img, format, true, rec)) {
            d.write(offset, ByteBuffer.wrap(data));
        }
        byte[] after = content(img, format);
        assertThat(Arrays.copyOfRange(after, (int) offset, (int) offset + data.length)).isEqualTo(data);

        List<List<Write>> segments = new ArrayList<>();
        segments.add(new ArrayList<>());
        for (Event e : rec.events) {
            if (e instanceof Write w) {
                segments.getLast().add(w);
            } else {
                segments.add(new ArrayList<>());
            }
        }
        Path state = tmp.resolve("state");
        int states = 0;
        for (int durable = 0; durable < segments.size(); durable++) {
            List<Write> pending = segments.get(durable);
            assertThat(pending.size()).isLessThanOrEqualTo(PENDING_WRITES_MAX);
            for (int mask = 0; mask < (1 << pending.size()); mask++) {
                Files.write(state, original);
                try (FileChannel ch = FileChannel.open(state, StandardOpenOption.WRITE)) {
                    for (int s = 0; s < durable; s++) {
                        for (Write w : segments.get(s)) {
                            ch.write(ByteBuffer.wrap(w.bytes()), w.position());
                        }
                    }
                    for (int i = 0; i < pending.size(); i++) {
                        if ((mask & (1 << i)) != 0) {
                            ch.write(ByteBuffer.wrap(pending.get(i).bytes()), pending.get(i).position());
                        }
                    }
                }
                String label = format + " crash after force " + durable + " with pending writes mask " + mask;
                byte[] seen = content(state, format);
                if (allOrNothing) {
                    assertThat(Arrays.equals(seen, before) || Arrays.equals(seen, after))
                            .as("%s: disk is neither the old nor the new content", label).isTrue();
                } else {
                    for (int i = 0; i < seen.length; i++) {
                        if (seen[i] != before[i] && seen[i] != after[i]) {
                            throw new AssertionError(label + ": byte " + i + " is neither old nor new");
                        }
                    }
                }
                if (Qemu.available() && (mask == 0 || mask == (1 << pending.size()) - 1)) {
                    // qemu reads every crash state the way we do (a crash may leak the space of a
                    // block that was never linked, so the strict VHD layout check does not apply).
                    String qfmt = Qemu.qemuFormat(format);
                    if (format == DiskFormat.VHDX) {
                        Qemu.checkClean(state, qfmt);
                    }
                    assertThat(Arrays.mismatch(Qemu.toRaw(state, qfmt, tmp), seen)).as(label).isEqualTo(-1);
                }
                states++;
            }
        }
        assertThat(states).isGreaterThanOrEqualTo(3);
    }

    private static byte[] content(Path img, DiskFormat format) throws Exception {
        try (DiskImage d = DiskImages.open(img, format, false)) {
            return TestImages.readAll(d);
        }
    }
}
