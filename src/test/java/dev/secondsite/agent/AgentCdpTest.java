package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.secondsite.replication.segment.SegmentRecord;
import dev.secondsite.testing.Qemu;

/**
 * CDP mode (agent {@code --nbd-listen}) against {@link FakeAgentServer} (a real recovery store): writes
 * made through the NBD export by a real client (qemu-io) are sent by tracked passes as exactly the written
 * bytes; a clean stop saves the tracker and the next start sends what was pending without scanning; a
 * start without saved changes (what kill -9 leaves) scans and still finds a change the tracker never saw;
 * and while the agent runs, nothing else can open the image for writing.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AgentCdpTest {
    static final long MIB = 1 << 20;
    static final Duration AWAIT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;
    Path disk;
    Path state;
    Path key;
    int port;
    FakeAgentServer server;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void setUp() throws IOException {
        Qemu.assumeAvailable();
        disk = tmp.resolve("web01.raw");
        try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
            file.setLength(4 * MIB);
            byte[] data = new byte[(int) MIB];
            new Random(1).nextBytes(data);
            file.write(data);
        }
        state = tmp.resolve("state");
        key = tmp.resolve("key");
        Files.writeString(key, "key-1");
        server = new FakeAgentServer(tmp.resolve("store"), 4 * MIB);
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    @Test
    void writesThroughTheExportAreSentByTrackedPassesAsExactlyTheWrittenBytes() throws Exception {
        try (RunningAgent agent = new RunningAgent(agent(false, Duration.ofMillis(50)))) {
            await("initial point", () -> server.markerTags().contains("initial"));
            await("the first tracked pass", () -> output().contains("tracked changes pass"));

            Qemu.ok("qemu-io", "-f", "raw", url(), "-c", "write -P 0x5a 2M 4k", "-c", "write -P 0x3c 3000 1000");
            await("both writes sent", () -> dataRecords().stream().anyMatch(r -> r.offset() == 2 * MIB)
                    && dataRecords().stream().anyMatch(r -> r.offset() == 0));
            SegmentRecord.Data page = dataRecords().stream().filter(r -> r.offset() == 2 * MIB).findFirst().orElseThrow();
            assertThat(page.bytes()).as("a 4 KiB write is sent as 4 KiB, not a 64 KiB chunk").hasSize(4096);
            SegmentRecord.Data small = dataRecords().stream().filter(r -> r.offset() == 0 && r.bytes().length == 4096)
                    .findFirst().orElseThrow(() -> new AssertionError("the page holding bytes 3000..3999: " + dataRecords()));
            assertThat(small.bytes()[3000]).isEqualTo((byte) 0x3c);
            int markers = server.markerTags().size();
            await("a point after the writes", () -> server.markerTags().size() > markers);
            assertRestoredEquals();
        }
        assertThat(output()).doesNotContain("pass failed");
    }

    @Test
    void aCleanStopSavesPendingChangesAndTheNextStartSendsThemWithoutScanning() throws Exception {
        try (RunningAgent agent = new RunningAgent(agent(false, Duration.ofHours(1)))) {
            await("initial point", () -> server.markerTags().contains("initial"));
            await("agent idle", () -> output().contains("pass sent"));
            Qemu.ok("qemu-io", "-f", "raw", url(), "-c", "write -P 0x77 1M 8k");
        }
        assertThat(state.resolve("cdp/disk0.changes")).as("saved at the clean stop").exists();
        out.reset();

        assertThat(agent(true, Duration.ofMillis(50)).run()).isZero();
        assertThat(output()).contains("changes since the last stop reloaded").contains("tracked changes pass")
                .contains("8192 data bytes");
        assertRestoredEquals();
    }

    @Test
    void withoutSavedChangesTheFirstPassScansAndFindsAWriteTheTrackerNeverSaw() throws Exception {
        try (RunningAgent agent = new RunningAgent(agent(false, Duration.ofHours(1)))) {
            await("initial point", () -> server.markerTags().contains("initial"));
        }
        // What kill -9 leaves: no saved tracker, and a write the dead agent had acknowledged to its client.
        Files.delete(state.resolve("cdp/disk0.changes"));
        try (RandomAccessFile file = new RandomAccessFile(disk.toFile(), "rw")) {
            file.seek(3 * MIB + 512);
            file.write(new byte[] {1, 2, 3, 4});
        }
        out.reset();

        assertThat(agent(true, Duration.ofMillis(50)).run()).isZero();
        assertThat(output()).contains("first pass scans the disk").doesNotContain("tracked changes pass")
                .contains("changes pass sent 1 changed chunk ");
        assertRestoredEquals();
    }

    @Test
    void whileTheAgentServesTheDiskNothingElseCanOpenItForWriting() throws Exception {
        try (RunningAgent agent = new RunningAgent(agent(false, Duration.ofHours(1)))) {
            await("initial point", () -> server.markerTags().contains("initial"));
            Qemu.Result direct = Qemu.run("qemu-io", "-f", "raw", disk.toString(), "-c", "write -P 1 0 4k");
            assertThat(direct.exitCode()).as(direct.output()).isNotZero();
            assertThat(direct.output()).containsIgnoringCase("lock");
        }
        assertRestoredEquals();
    }

    @Test
    void aListenAddressInUseIsAClearUsageError() throws Exception {
        try (ServerSocket taken = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            Agent.Fatal fatal = org.junit.jupiter.api.Assertions.assertThrows(Agent.Fatal.class,
                    () -> agent(true, Duration.ofMillis(50)).run());
            assertThat(fatal.exitCode).isEqualTo(Agent.EXIT_USAGE);
            assertThat(fatal.getMessage()).contains("cannot listen for NBD on").contains(String.valueOf(port));
        }
        // the image was released: it can be opened for writing again
        Qemu.ok("qemu-io", "-f", "raw", disk.toString(), "-c", "read 0 4k");
    }

    // ---------------------------------------------------------------------------------------------

    String url() {
        return "nbd://127.0.0.1:" + port + "/disk0";
    }

    List<SegmentRecord.Data> dataRecords() {
        return server.segments().stream().flatMap(s -> s.records().stream())
                .filter(SegmentRecord.Data.class::isInstance).map(SegmentRecord.Data.class::cast)
                .filter(r -> r.bytes().length != 64 << 10) // the initial pass's whole chunks
                .toList();
    }

    Agent agent(boolean once, Duration interval) {
        Agent.Config config = new Agent.Config("web01", List.of(disk), state, key, null, null, List.of(),
                Duration.ofSeconds(60), once, interval, server.uri().toString(), false, Duration.ZERO, null, null,
                null, new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return new Agent(config, new AgentClient(server.uri(), null), Clock.systemUTC(),
                d -> Thread.sleep(Math.max(1, Math.min(d.toMillis(), 20))),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    String output() {
        return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    }

    void await(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + AWAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what + "\nagent output:\n" + output());
            }
            Thread.sleep(20);
        }
    }

    void assertRestoredEquals() throws IOException {
        Path restored = server.restoreLatest(tmp.resolve("restored-" + UUID.randomUUID() + ".raw"));
        assertThat(Files.mismatch(restored, disk)).as("first differing byte").isEqualTo(-1L);
    }
}
