package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.segment.SegmentRecord;

/**
 * The CDP write splitter without NBD: writes through {@link TrackedDisk} are marked, a pass's
 * {@link PassSnapshot} reads the taken pages as they were when taken (copy-on-write), and a tracked pass
 * therefore makes a point of exactly that instant while later writes go with the next pass.
 */
class TrackedDiskTest {
    static final int MIB = 1 << 20;
    static final int CHUNK = 64 << 10;
    static final int PAGE = 4096;

    @TempDir
    Path tmp;

    @Test
    void aPassReadsTakenPagesAsTheyWereWhenTakenEvenIfOverwrittenMeanwhile() throws Exception {
        Path image = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(image, 4 * MIB);
        try (TrackedDisk disk = TrackedDisk.open("disk0", image, tmp.resolve("disk0.changes"), m -> { })) {
            disk.write(0, fill(0x11, PAGE), 0, PAGE);
            disk.write(3 * MIB, fill(0x22, PAGE), 0, PAGE);
            try (PassSnapshot pass = disk.beginPass()) {
                assertThat(pass.taken().pages().cardinality()).isEqualTo(2);
                disk.write(3 * MIB, fill(0x33, 2 * PAGE), 0, 2 * PAGE); // a taken page, and one that was not

                byte[] page = new byte[PAGE];
                pass.readFully(3 * MIB, page, 0, PAGE);
                assertThat(page).as("the taken page as of the pass's start").isEqualTo(fill(0x22, PAGE));
                pass.readFully(0, page, 0, PAGE);
                assertThat(page).isEqualTo(fill(0x11, PAGE));
                pass.readFully(3 * MIB + PAGE, page, 0, PAGE);
                assertThat(page).as("not taken: current content").isEqualTo(fill(0x33, PAGE));
            }
            assertThat(disk.tracker().take().pages().stream().boxed().toList()).as("the overwrite is in the next set")
                    .containsExactly(3 * MIB / PAGE, 3 * MIB / PAGE + 1);
        }
        byte[] now = new byte[PAGE];
        ReplicatorTest.read(image, 3 * MIB, now);
        assertThat(now).as("the image has the new content").isEqualTo(fill(0x33, PAGE));
    }

    @Test
    void aWholeDiskPassReadsARawImagePastThePageCacheAndSeesEveryWriteMadeBefore() throws Exception {
        Path image = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(image, 4 * MIB);
        try (TrackedDisk disk = TrackedDisk.open("disk0", image, tmp.resolve("disk0.changes"), m -> { })) {
            disk.write(MIB + 512, fill(0x44, PAGE), 0, PAGE); // in the page cache, not yet on the disk
            try (PassSnapshot pass = disk.beginPass()) {
                // Raw: zeros are found by reading, once; asking first would read every window twice.
                assertThat(pass.mayHoldData(2 * MIB, 2 * MIB)).isTrue();
                byte[] all = new byte[4 * MIB];
                pass.readOnce(0, all, 0, all.length);
                byte[] expected = new byte[4 * MIB];
                Arrays.fill(expected, MIB + 512, MIB + 512 + PAGE, (byte) 0x44);
                assertThat(all).as("a direct read sees the write still cached").isEqualTo(expected);
                assertThat(directDescriptors(image)).as("descriptors of the image opened O_DIRECT").isEqualTo(1);
            }
            assertThat(directDescriptors(image)).as("kept open with the image: closing it would drop its lock")
                    .isEqualTo(1);
        }
        assertThat(directDescriptors(image)).as("closed with the image").isZero();
    }

    /** How many of this process's descriptors are open on {@code file} with O_DIRECT (Linux /proc). */
    private static long directDescriptors(Path file) throws Exception {
        Path real = file.toRealPath();
        long count = 0;
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (!Files.readSymbolicLink(fd).equals(real)) {
                        continue;
                    }
                    String flags = Files.readAllLines(Path.of("/proc/self/fdinfo", fd.getFileName().toString()))
                            .stream().filter(l -> l.startsWith("flags:")).findFirst().orElseThrow();
                    if ((Long.parseLong(flags.substring("flags:".length()).strip(), 8) & 040000) != 0) {
                        count++;
                    }
                } catch (java.io.IOException gone) {
                    // a descriptor closed while listing
                }
            }
        }
        return count;
    }

    @Test
    void aWriterWaitsForThePassOnlySoLongThenTheSnapshotGivesUpExactnessInsteadOfFreezingTheDisk() throws Exception {
        Path image = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(image, MIB);
        ChangeTracker tracker = new ChangeTracker(MIB);
        tracker.mark(0, 4 * PAGE);
        try (dev.secondsite.disk.DiskImage disk = dev.secondsite.disk.DiskImages.open(image, false);
             PassSnapshot pass = new PassSnapshot(disk, null, tracker.take(), () -> { }, 2 * PAGE,
                     java.time.Duration.ofMillis(100))) {
            pass.beforeWrite(0, 2 * PAGE); // preserved: the limit is reached
            assertThat(pass.exact()).isTrue();
            long start = System.nanoTime();
            pass.beforeWrite(2 * PAGE, PAGE); // would need more: waits 100 ms for the pass, then gives up
            assertThat((System.nanoTime() - start) / 1_000_000).isBetween(90L, 5_000L);
            assertThat(pass.exact()).isFalse();
            pass.beforeWrite(3 * PAGE, PAGE); // no more waiting
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000L);
            byte[] page = new byte[PAGE];
            pass.readFully(0, page, 0, PAGE); // what was preserved is still used
            assertThat(page).isEqualTo(new byte[PAGE]);
        }
    }

    @Test
    void theDisksOfAMachineAreTakenAtOneInstantAndAWriterNeverSeesAHalfTakenMachine() throws Exception {
        Path a = tmp.resolve("a.raw");
        Path b = tmp.resolve("b.raw");
        ReplicatorTest.createRaw(a, MIB);
        ReplicatorTest.createRaw(b, MIB);
        try (TrackedDisk disk0 = TrackedDisk.open("disk0", a, tmp.resolve("disk0.changes"), m -> { });
             TrackedDisk disk1 = TrackedDisk.open("disk1", b, tmp.resolve("disk1.changes"), m -> { })) {
            // A "database" writing its log on disk0 then its data on disk1, in order, all the time: taking disk0
            // and then, a moment later, disk1 would catch data newer than its log.
            java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 1; running.get(); i++) {
                        byte[] stamp = java.nio.ByteBuffer.allocate(PAGE).putInt(i).array();
                        disk0.write(0, stamp, 0, PAGE); // log record i
                        disk1.write(0, stamp, 0, PAGE); // then data i
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            int judged = 0;
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            try {
                for (int round = 0; judged < 50 && System.nanoTime() < deadline; round++) {
                    List<PassSnapshot> passes = TrackedDisk.beginPasses(List.of(disk0, disk1));
                    byte[] log = new byte[PAGE];
                    byte[] data = new byte[PAGE];
                    passes.get(0).readFully(0, log, 0, PAGE);
                    Thread.yield(); // let the writer run between the two reads
                    passes.get(1).readFully(0, data, 0, PAGE);
                    passes.forEach(PassSnapshot::close);
                    if (!passes.get(0).taken().pages().get(0) || !passes.get(1).taken().pages().get(0)) {
                        Thread.sleep(1); // a page not written since the last round is not part of the pass
                        continue;
                    }
                    judged++;
                    int logStamp = java.nio.ByteBuffer.wrap(log).getInt();
                    int dataStamp = java.nio.ByteBuffer.wrap(data).getInt();
                    // Crash-consistent across the disks: never data newer than its log record.
                    assertThat(logStamp).as("round %d: log %d, data %d", round, logStamp, dataStamp)
                            .isGreaterThanOrEqualTo(dataStamp);
                }
            } finally {
                running.set(false);
                writer.join();
            }
            assertThat(failure.get()).isNull();
            assertThat(judged).as("rounds in which both pages were taken").isEqualTo(50);
        }
    }

    @Test
    void aTrackedPassMakesAPointOfItsStartAndTheNextPassBringsWhatWasWrittenDuringIt() throws Exception {
        long size = 16 * MIB;
        Path image = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(image, size);
        UUID diskId = UUID.randomUUID();
        ReplicaSink sink = new ReplicaSink(tmp.resolve("store"), diskId, size, CHUNK);
        Replicator replicator = new Replicator(diskId, tmp.resolve("state"), sink, Clock.systemUTC());
        try (TrackedDisk disk = TrackedDisk.open("disk0", image, tmp.resolve("disk0.changes"), m -> { })) {
            pass(replicator, disk, sink, tick -> { }); // initial: a full read, the tracker becomes complete
            assertThat(disk.tracker().complete()).isTrue();

            byte[] run = ReplicatorTest.random(5 * MIB, 3); // read first, and long enough to tick after it
            disk.write(0, run, 0, run.length);
            disk.write(12 * MIB, fill(0x44, PAGE), 0, PAGE);
            byte[] expected = Files.readAllBytes(image); // the disk when the next pass starts
            byte[] later = fill(0x55, PAGE);
            Replicator.PassResult tracked = pass(replicator, disk, sink, written -> {
                if (!written[0]) { // while the pass reads: the page at 12 MiB is taken but not read yet
                    written[0] = true;
                    disk.write(12 * MIB, later, 0, PAGE);
                }
            });

            assertThat(tracked.tracked()).isTrue();
            assertThat(tracked.dataBytes()).isEqualTo(run.length + PAGE);
            assertThat(Files.mismatch(sink.restoreLatest(tmp.resolve("p1.raw")), tmpFile(expected)))
                    .as("the point is the disk at the pass's start").isEqualTo(-1L);
            List<SegmentRecord.Data> sent = sink.received.getLast().records().stream()
                    .filter(SegmentRecord.Data.class::isInstance).map(SegmentRecord.Data.class::cast).toList();
            assertThat(sent.getLast().offset()).isEqualTo(12 * MIB);
            assertThat(sent.getLast().bytes()).isEqualTo(fill(0x44, PAGE));

            Replicator.PassResult next = pass(replicator, disk, sink, tick -> { });
            assertThat(next.dataBytes()).isEqualTo(PAGE);
            assertThat(Files.mismatch(sink.restoreLatest(tmp.resolve("p2.raw")), image)).isEqualTo(-1L);
        }
    }

    interface WhileReading {
        void run(boolean[] done) throws Exception;
    }

    private static Replicator.PassResult pass(Replicator replicator, TrackedDisk disk, ReplicaSink sink,
                                              WhileReading whileReading) throws Exception {
        Replicator.PassKind kind = replicator.prepare(disk.sizeBytes(), CHUNK, sink.nextSequence(), false);
        boolean[] done = {false};
        Replicator.Pass pass;
        try (PassSnapshot snapshot = disk.beginPass()) {
            pass = replicator.scan(kind, snapshot, disk.tracker(), snapshot.taken(), sink.nextSequence(), false,
                    null, () -> {
                        try {
                            whileReading.run(done);
                        } catch (Exception e) {
                            throw new java.io.IOException(e);
                        }
                    });
        }
        Thread.sleep(2);
        return pass.finish(ConsistencyType.CRASH_CONSISTENT, Instant.now());
    }

    private Path tmpFile(byte[] content) throws java.io.IOException {
        Path file = tmp.resolve("expected-" + UUID.randomUUID() + ".raw");
        Files.write(file, content);
        return file;
    }

    private static byte[] fill(int value, int length) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }
}
