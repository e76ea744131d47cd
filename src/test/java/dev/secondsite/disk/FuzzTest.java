package dev.secondsite.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded mutation fuzzer: every mutated image must either open and read, or fail with
 * DiskFormatException, within a bounded time, never another exception, hang or OOM. Mutations target
 * the structures (headers, tables, BAT, log, footer), often with their checksums fixed so parsing goes
 * past the checksum. A failure prints the seed and mutation, which reproduce it. Longer runs:
 * {@code -Ddisk.fuzz.seed=N -Ddisk.fuzz.iterations=N -Ddisk.fuzz.verbose=true} (the last prints how
 * often each problem was reported).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FuzzTest {

    private static final long MIB = 1 << 20;
    private static final long SEED = Long.getLong("disk.fuzz.seed", 20250101L);
    private static final int ITERATIONS_PER_IMAGE = Integer.getInteger("disk.fuzz.iterations", 150);
    private static final long ITERATION_MILLIS_MAX = 3_000;
    private static final long READ_BYTES_MAX = 8 * MIB;
    private static final int EXTENT_CALLS_MAX = 2_000;

    @TempDir
    Path tmp;

    /**
     * A structure worth mutating: length bytes at `at`, of which the first `fields` bytes hold fields
     * (the rest is reserved); checksumAt >= 0 names its checksum (CRC-32C, or the VHD byte sum).
     */
    record Span(long at, int length, int fields, int checksumAt, boolean vhdSum) {
        Span(long at, int length, int checksumAt, boolean vhdSum) {
            this(at, length, length, checksumAt, vhdSum);
        }

        static Span plain(long at, int length) {
            return new Span(at, length, length, -1, false);
        }

        Span fields(int bytes) {
            return new Span(at, length, bytes, checksumAt, vhdSum);
        }
    }

    record Base(String name, Path file, byte[] original, List<Span> spans) {
    }

    @Test
    void mutatedImagesParseOrFailCleanly() throws Exception {
        List<Base> bases = new ArrayList<>();
        bases.add(vhdFixed());
        bases.add(vhdDynamic());
        bases.add(vhdxWithLog());
        if (Qemu.available()) {
            bases.add(qemuVhdx());
            bases.add(qemuVhd());
        }
        Random rnd = new Random(SEED);
        java.util.Map<String, Integer> problems = new java.util.TreeMap<>();
        int opened = 0;
        int rejected = 0;
        for (Base base : bases) {
            for (int i = 0; i < ITERATIONS_PER_IMAGE; i++) {
                long seed = rnd.nextLong();
                String mutation = mutate(base, new Random(seed));
                boolean writable = new Random(seed).nextInt(8) == 0;
                long start = System.nanoTime();
                try {
                    exercise(base.file(), writable, new Random(seed + 1));
                    opened++;
                } catch (DiskFormatException e) {
                    assertThat(e.getMessage()).matches("^(RAW|VHD|VHDX) .+: .+ at offset \\d+$");
                    rejected++;
                    problems.merge(base.name() + ": " + e.problem().replaceAll("[0-9]+", "N"), 1, Integer::sum);
                } catch (Throwable t) {
                    throw new AssertionError(base.name() + " iteration " + i + " seed " + seed + " (" + mutation
                            + ", writable=" + writable + "): " + t, t);
                }
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertThat(millis).as("%s seed %d (%s) took too long", base.name(), seed, mutation)
                        .isLessThan(ITERATION_MILLIS_MAX);
                restore(base);
            }
        }
        if (Boolean.getBoolean("disk.fuzz.verbose")) {
            problems.forEach((k, v) -> System.out.println(v + "\t" + k));
            System.out.println("opened " + opened + " rejected " + rejected);
        }
        assertThat(opened).as("some mutations still parse").isPositive();
        assertThat(rejected).as("some mutations are rejected").isPositive();
    }

    private static void exercise(Path file, boolean writable, Random rnd) throws IOException {
        try (DiskImage d = DiskImages.open(file, writable)) {
            long size = d.virtualSize();
            ByteBuffer buf = ByteBuffer.allocate((int) MIB);
            for (long off = 0; off < Math.min(size, READ_BYTES_MAX); off += MIB) {
                buf.clear();
                d.read(off, buf);
            }
            if (size > 65536) {
                d.read(size - 65536, buf.clear());
            }
            long off = 0;
            for (int calls = 0; off < size && calls < EXTENT_CALLS_MAX; calls++) {
                off = d.extentAt(off).end();
            }
            if (writable && size > 0) {
                byte[] data = new byte[(int) Math.min(size, 1 + rnd.nextInt(70_000))];
                rnd.nextBytes(data);
                long at = (long) (rnd.nextDouble() * (Math.min(size, READ_BYTES_MAX) - data.length));
                d.write(at, ByteBuffer.wrap(data));
                byte[] back = new byte[data.length];
                d.readFully(at, ByteBuffer.wrap(back));
                assertThat(back).isEqualTo(data);
                d.flush();
            }
        }
    }

    private static String mutate(Base base, Random rnd) throws IOException {
        byte[] orig = base.original();
        int kind = rnd.nextInt(10);
        if (kind == 0) {
            long cut = rnd.nextInt(3) == 0 ? rnd.nextInt(orig.length + 1)
                    : Math.max(0, orig.length - 1 - rnd.nextInt(4 * 4096));
            try (FileChannel ch = FileChannel.open(base.file(), StandardOpenOption.WRITE)) {
                ch.truncate(cut);
            }
            return "truncate to " + cut;
        }
        Span span = base.spans().get(rnd.nextInt(base.spans().size()));
        byte[] bytes = Files.readAllBytes(base.file()).length == 0 ? new byte[0] : readSpan(base.file(), span);
        String what;
        if (kind <= 3) {
            int flips = 1 + rnd.nextInt(4);
            for (int f = 0; f < flips; f++) {
                int bit = rnd.nextInt(span.fields() * 8);
                bytes[bit / 8] ^= (byte) (1 << (bit % 8));
            }
            what = flips + " bit flips";
        } else {
            int width = new int[] {1, 2, 4, 8}[rnd.nextInt(4)];
            int pos = rnd.nextInt(Math.max(1, span.fields() / width)) * width;
            long value = switch (rnd.nextInt(7)) {
                case 0 -> 0;
                case 1 -> -1;
                case 2 -> Long.MAX_VALUE;
                case 3 -> 1L << rnd.nextInt(63);
                case 4 -> rnd.nextInt(4096);
                case 5 -> Integer.MAX_VALUE;
                default -> rnd.nextLong();
            };
            ByteBuffer b = ByteBuffer.wrap(bytes).order(span.vhdSum() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < width && pos + k < bytes.length; k++) {
                int shift = b.order() == ByteOrder.BIG_ENDIAN ? (width - 1 - k) * 8 : k * 8;
                b.put(pos + k, (byte) (value >>> shift));
            }
            what = "field +" + pos + " (" + width + " bytes) = " + value;
        }
        boolean fix = span.checksumAt() >= 0 && rnd.nextInt(4) != 0;
        if (fix) {
            if (span.vhdSum()) {
                ByteBuffer.wrap(bytes).putInt(span.checksumAt(),
                        VhdFooter.checksum(bytes, 0, bytes.length, span.checksumAt()));
            } else {
                MsGuid.putCrc(bytes, 0, bytes.length, span.checksumAt());
            }
        }
        try (FileChannel ch = FileChannel.open(base.file(), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), span.at());
        }
        return what + " in span at " + span.at() + (fix ? " (checksum fixed)" : "");
    }

    private static byte[] readSpan(Path file, Span span) throws IOException {
        byte[] b = new byte[span.length()];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.read(ByteBuffer.wrap(b), span.at());
        }
        return b;
    }

    private static void restore(Base base) throws IOException {
        // Rewrite every byte: writable iterations may have touched anything.
        Files.write(base.file(), base.original());
    }

    // ---- base images --------------------------------------------------------------------------

    private Base base(String name, Path file, List<Span> spans) throws IOException {
        return new Base(name, file, Files.readAllBytes(file), spans);
    }

    private Base vhdFixed() throws IOException {
        Path p = tmp.resolve("fixed.vhd");
        try (DiskImage d = DiskImages.create(p, DiskFormat.VHD_FIXED, MIB)) {
            d.write(1000, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        }
        long size = Files.size(p);
        return base("vhd fixed", p, List.of(new Span(size - 512, 512, 64, true).fields(88)));
    }

    private Base vhdDynamic() throws IOException {
        Path p = tmp.resolve("dynamic.vhd");
        try (DiskImage d = DiskImages.create(p, DiskFormat.VHD_DYNAMIC, 4 * MIB,
                DiskImages.CreateOptions.defaults().withBlockSize(512 << 10))) {
            for (long off : new long[] {0, 1300_000, 3 * MIB + 7}) {
                d.write(off, ByteBuffer.wrap(new byte[] {9, 9, 9, 9}));
            }
        }
        long size = Files.size(p);
        return base("vhd dynamic", p, List.of(new Span(0, 512, 64, true).fields(88),
                new Span(512, 1024, 36, true).fields(40), Span.plain(1536, 32), new Span(size - 512, 512, 64, true)
                        .fields(88), Span.plain(2048, 512)));
    }

    private Base vhdxWithLog() throws IOException {
        Path p = tmp.resolve("log.vhdx");
        try (DiskImage d = DiskImages.create(p, DiskFormat.VHDX, 4 * MIB,
                DiskImages.CreateOptions.defaults().withBlockSize(MIB))) {
            d.write(MIB + 5, ByteBuffer.wrap(new byte[] {1, 2}));
            d.write(3 * MIB, ByteBuffer.wrap(new byte[] {3}));
        }
        long target;
        try (VhdxImage d = (VhdxImage) DiskImages.open(p, false)) {
            target = d.fileOffsetOf(MIB) + 4096;
        }
        long size = Files.size(p);
        UUID guid = UUID.randomUUID();
        byte[] entry = VhdxLogBuilder.entry(3, 0, guid, size, size,
                List.of(VhdxLogBuilder.Desc.data(target, VhdxLogBuilder.sector(5)),
                        VhdxLogBuilder.Desc.zero(target + 4096, 8192)));
        VhdxLogBuilder.writeEntry(p, MIB, MIB, 0, entry);
        VhdxLogBuilder.setLogGuid(p, guid);
        return base("vhdx (ours, dirty log)", p, vhdxSpans(2 * MIB, 3 * MIB, entry.length));
    }

    private static List<Span> vhdxSpans(long metadataAt, long batAt, int logEntryBytes) {
        return List.of(Span.plain(0, 16), new Span(VhdxImage.HEADER1_AT, 4096, 4, false).fields(80),
                new Span(VhdxImage.HEADER2_AT, 4096, 4, false).fields(80),
                new Span(VhdxRegionTable.TABLE1_AT, 65536, 4, false).fields(80),
                new Span(VhdxRegionTable.TABLE2_AT, 65536, 4, false).fields(80),
                new Span(MIB, logEntryBytes, 4, false).fields(160), new Span(MIB, logEntryBytes, 4, false),
                Span.plain(metadataAt, 192), Span.plain(metadataAt + 65536, 48), Span.plain(batAt, 64));
    }

    private Base qemuVhdx() throws IOException {
        Path p = tmp.resolve("qemu.vhdx");
        Qemu.create(p, "vhdx", "block_size=1M", 6 * MIB);
        Qemu.io(p, "vhdx", "write -P 0x33 1M 1M", "write -P 0x44 4M 100k");
        VhdxRegionTable r;
        try (VhdxImage d = (VhdxImage) DiskImages.open(p, false)) {
            r = d.regions();
        }
        return base("vhdx (qemu)", p, vhdxSpans(r.metadataOffset(), r.batOffset(), 8192));
    }

    private Base qemuVhd() throws IOException {
        Path p = tmp.resolve("qemu.vhd");
        Qemu.create(p, "vpc", "subformat=dynamic", 6 * MIB);
        Qemu.io(p, "vpc", "write -P 0x33 1M 1M", "write -P 0x44 4M 100k");
        long size = Files.size(p);
        return base("vhd dynamic (qemu)", p, List.of(new Span(0, 512, 64, true).fields(88),
                new Span(512, 1024, 36, true).fields(40), Span.plain(1536, 16),
                new Span(size - 512, 512, 64, true).fields(88)));
    }
}
