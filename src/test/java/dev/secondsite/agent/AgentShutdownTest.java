package dev.secondsite.agent;

import static dev.secondsite.agent.ReplicatorTest.createRaw;
import static dev.secondsite.agent.ReplicatorTest.pattern;
import static dev.secondsite.agent.ReplicatorTest.random;
import static dev.secondsite.agent.ReplicatorTest.write;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.secondsite.replication.ConsistencyType;

/**
 * Shutdown before a planned failover (agent-protocol §3.1) and {@code --azure-region}, with the real agent
 * loop and HTTP client against {@link FakeAgentServer}: the final tagged pass, the shutdown command, the
 * report in the heartbeat body, no passes while the request stands, resuming when it is withdrawn, and the
 * persisted outcome across a restart.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AgentShutdownTest {
    static final long MIB = 1 << 20;
    static final Duration AWAIT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;
    Path disk;
    Path state;
    Path key;
    FakeAgentServer server;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void setUp() throws IOException {
        disk = tmp.resolve("web01.raw");
        createRaw(disk, 4 * MIB);
        write(disk, 0, random((int) MIB, 1));
        state = tmp.resolve("state");
        key = tmp.resolve("key");
        Files.writeString(key, "key-1");
        server = new FakeAgentServer(tmp.resolve("store"), 4 * MIB);
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    @Test
    void aShutdownRequestEndsInATaggedPointThenTheCommandThenCompletedAndNoMorePasses() throws Exception {
        Path trace = tmp.resolve("trace");
        Path markers = tmp.resolve("markers.log");
        server.logMarkersTo(markers);
        // The command records its request id and the markers the server had stored when it ran.
        String command = "echo $SECONDSITE_SHUTDOWN_REQUEST_ID >> " + trace + "; cp " + markers + " " + tmp.resolve("seen");
        try (RunningAgent agent = start(agent(false, command, null))) {
            await("initial point", () -> server.markerTags().contains("initial"));
            write(disk, 2 * MIB, pattern(0x42, 100_000)); // written just before the failover
            server.shutdownRequest("req-1");
            await("shutdown reported", () -> report(last(server.heartbeats())) != null);

            JsonNode report = report(last(server.heartbeats()));
            assertThat(report.path("requestId").asText()).isEqualTo("req-1");
            assertThat(report.path("status").asText()).isEqualTo("Completed");
            assertThat(report.has("message")).as("no message when completed: " + report).isFalse();
            assertThat(server.markerTags()).last().isEqualTo("shutdown:req-1");
            assertThat(server.markerTags()).containsOnlyOnce("shutdown:req-1");
            assertThat(server.markers().getLast().type()).isEqualTo(ConsistencyType.CRASH_CONSISTENT);
            assertRestoredEquals(); // every write before the request is in the final point
            assertThat(Files.readAllLines(trace)).containsExactly("req-1");
            assertThat(Files.readAllLines(tmp.resolve("seen"))).as("the command ran after the final marker was stored")
                    .contains("shutdown:req-1");

            // The machine keeps writing (no real shutdown here), but nothing more is replicated while the
            // request stands; every heartbeat says Completed.
            int segments = server.segments().size();
            write(disk, 3 * MIB, pattern(0x43, 4096));
            int beats = server.heartbeatCount();
            await("ten more heartbeats", () -> server.heartbeatCount() >= beats + 10);
            assertThat(server.segments()).hasSize(segments);
            List<JsonNode> after = server.heartbeats().subList(beats, server.heartbeatCount());
            assertThat(after).allSatisfy(beat -> {
                assertThat(report(beat).path("requestId").asText()).isEqualTo("req-1");
                assertThat(report(beat).path("status").asText()).isEqualTo("Completed");
            });
            assertThat(Files.readAllLines(trace)).containsExactly("req-1");
        }
        // Before the request no heartbeat carried a shutdown report.
        assertThat(server.heartbeats().getFirst().has("shutdown")).isFalse();
    }

    @Test
    void aRequestIsSeenAtTheNextHeartbeatBetweenCyclesNotAfterTheWholeScanInterval() throws Exception {
        FastClock clock = new FastClock();
        Agent.Config config = new Agent.Config("web01", List.of(disk), state, key, null, null, List.of(),
                Duration.ofSeconds(60), false, Duration.ofHours(10), server.uri().toString(), false, Duration.ZERO,
                null, null, null, null);
        try (RunningAgent agent = start(new Agent(config, client(), clock, clock::sleep, print(out), print(err)))) {
            await("initial point", () -> server.markerTags().contains("initial"));
            Instant requested = clock.instant();
            server.shutdownRequest("req-7");
            await("shutdown reported", () -> report(last(server.heartbeats())) != null);

            JsonNode first = server.heartbeats().stream().filter(beat -> report(beat) != null).findFirst().orElseThrow();
            Duration latency = Duration.between(requested, Instant.parse(first.path("agentTime").asText()));
            assertThat(latency).as("agent time from request to report").isLessThan(Duration.ofMinutes(1));
            assertThat(server.markerTags()).containsExactly("initial", "shutdown:req-7");
        }
    }

    @Test
    void aFailingShutdownCommandIsReportedAsFailedWithItsReason() throws Exception {
        assertThat(agent(true, null, null).run()).isEqualTo(Agent.EXIT_OK);
        server.shutdownRequest("req-2");

        int code = agent(true, "echo going down; exit 3", null).run();

        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isEqualTo(Agent.EXIT_FAILED);
        JsonNode report = report(last(server.heartbeats()));
        assertThat(report.path("requestId").asText()).isEqualTo("req-2");
        assertThat(report.path("status").asText()).isEqualTo("Failed");
        assertThat(report.path("message").asText()).contains("shutdown command exited with status 3");
        // The data is safe all the same: the final pass came first.
        assertThat(server.markerTags()).last().isEqualTo("shutdown:req-2");
        assertRestoredEquals();
    }

    @Test
    void aShutdownCommandThatHangsIsKilledAtTheTimeoutAndReportedAsFailed() throws Exception {
        server.shutdownRequest("req-3");
        long start = System.nanoTime();

        int code = agent(true, "sleep 60", Duration.ofSeconds(1)).run();

        assertThat(code).isEqualTo(Agent.EXIT_FAILED);
        assertThat((System.nanoTime() - start) / 1e9).isLessThan(30);
        JsonNode report = report(last(server.heartbeats()));
        assertThat(report.path("status").asText()).isEqualTo("Failed");
        assertThat(report.path("message").asText()).contains("did not finish within 1 s");
        // Requested before anything was replicated: the initial pass itself is the final one.
        assertThat(server.markerTags()).containsExactly("shutdown:req-3");
    }

    @Test
    void aFinalPassTheServerDoesNotTakeIsReportedAsFailedAndTheCommandStillRuns() throws Exception {
        assertThat(agent(true, null, null).run()).isEqualTo(Agent.EXIT_OK);
        write(disk, 2 * MIB, pattern(0x44, 4096));
        server.shutdownRequest("req-4");
        server.failUploadsWith(503);
        Path trace = tmp.resolve("trace");

        int code = agent(true, "echo $SECONDSITE_SHUTDOWN_REQUEST_ID >> " + trace, null).run();

        assertThat(code).isEqualTo(Agent.EXIT_FAILED);
        JsonNode report = report(last(server.heartbeats()));
        assertThat(report.path("status").asText()).isEqualTo("Failed");
        assertThat(report.path("message").asText()).contains("final pass failed", "disk0", "CacheStorageUnavailable");
        assertThat(server.markerTags()).containsExactly("initial");
        assertThat(Files.readAllLines(trace)).containsExactly("req-4");
    }

    @Test
    void whenTheRequestIsWithdrawnReplicationResumes() throws Exception {
        try (RunningAgent agent = start(agent(false, null, null))) {
            await("initial point", () -> server.markerTags().contains("initial"));
            server.shutdownRequest("req-5");
            await("shutdown reported", () -> report(last(server.heartbeats())) != null);
            assertThat(state.resolve(StateDir.SHUTDOWN_FILE)).exists();
            int stopped = server.markerTags().size();

            write(disk, 3 * MIB, pattern(0x45, 4096)); // not replicated while shut down
            server.shutdownRequest(null); // failover rolled back
            await("a pass after the withdrawal", () -> server.markerTags().size() > stopped);

            assertThat(server.markerTags().subList(stopped, server.markerTags().size())).allMatch("changes"::equals);
            // The heartbeat that brought the withdrawal still carried the report; the ones after it do not.
            int beats = server.heartbeatCount();
            await("a later heartbeat", () -> server.heartbeatCount() > beats);
            assertThat(last(server.heartbeats()).has("shutdown")).isFalse();
            assertThat(state.resolve(StateDir.SHUTDOWN_FILE)).doesNotExist();
        }
        assertRestoredEquals();
    }

    @Test
    void anAgentRestartedAfterTheShutdownDoesNotReplicateAndReportsTheSameOutcome() throws Exception {
        assertThat(agent(true, null, null).run()).isEqualTo(Agent.EXIT_OK);
        server.shutdownRequest("req-6");
        Path trace = tmp.resolve("trace");
        String command = "echo $SECONDSITE_SHUTDOWN_REQUEST_ID >> " + trace;
        assertThat(agent(true, command, null).run()).isEqualTo(Agent.EXIT_OK);
        assertThat(server.markerTags()).containsExactly("initial", "shutdown:req-6");

        // The machine comes back (or only the agent restarts) while the failover still stands.
        write(disk, 2 * MIB, pattern(0x46, 4096));
        int beats = server.heartbeatCount();
        int segments = server.segments().size();
        assertThat(agent(true, command, null).run()).isEqualTo(Agent.EXIT_OK);

        assertThat(server.segments()).hasSize(segments);
        assertThat(Files.readAllLines(trace)).containsExactly("req-6");
        List<JsonNode> restarted = server.heartbeats().subList(beats, server.heartbeatCount());
        assertThat(restarted).isNotEmpty().allSatisfy(beat -> {
            assertThat(report(beat).path("requestId").asText()).isEqualTo("req-6");
            assertThat(report(beat).path("status").asText()).isEqualTo("Completed");
        });
    }

    @Test
    void theAzureRegionIsSentAtRegistrationOnlyWhenGivenAndAChangeRegistersAgain() throws Exception {
        assertThat(run(config(true, null, null, null))).isZero();
        assertThat(server.registers()).singleElement().satisfies(body -> assertThat(body.has("azureRegion")).isFalse());

        // Registered without a region, started with one: registers again to report it, once.
        assertThat(run(config(true, null, null, "usgovvirginia"))).isZero();
        assertThat(run(config(true, null, null, "usgovvirginia"))).isZero();
        assertThat(server.registers()).hasSize(2);
        assertThat(server.registers().get(1).path("azureRegion").asText()).isEqualTo("usgovvirginia");
        assertThat(server.registers().get(1).path("machineName").asText()).isEqualTo("web01");
    }

    @Test
    void theCommandLineNormalisesTheAzureRegion() throws Exception {
        AgentCommandTest.Run run = AgentCommandTest.run("--server", server.uri().toString(), "--name", "vm02",
                "--registration-key-file", key.toString(), "--state-dir", state.toString(), "--disk", disk.toString(),
                "--azure-region", "US Gov Virginia", "--once");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(server.registers()).singleElement()
                .satisfies(body -> assertThat(body.path("azureRegion").asText()).isEqualTo("usgovvirginia"));
    }

    // ---------------------------------------------------------------------------------------------

    /** Agent time that passes only when the agent sleeps (a 30 s wait takes about 0.1 s), plus 1 µs per read. */
    static final class FastClock extends Clock {
        private final Instant start = Instant.now();
        private final AtomicLong nanos = new AtomicLong();

        @Override
        public Instant instant() {
            return start.plusNanos(nanos.addAndGet(1_000));
        }

        void sleep(Duration duration) throws InterruptedException {
            nanos.addAndGet(duration.toNanos());
            Thread.sleep(1);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    private RunningAgent start(Agent agent) {
        return new RunningAgent(agent);
    }

    private Agent agent(boolean once, String shutdownCommand, Duration shutdownTimeout) {
        return new Agent(config(once, shutdownCommand, shutdownTimeout, null), client(), Clock.systemUTC(),
                AgentShutdownTest::sleep, print(out), print(err));
    }

    /** Cycles every 50 ms so a test sees many of them. */
    private Agent.Config config(boolean once, String shutdownCommand, Duration shutdownTimeout, String azureRegion) {
        return new Agent.Config("web01", List.of(disk), state, key, null, null, List.of(), Duration.ofSeconds(60),
                once, Duration.ofMillis(50), server.uri().toString(), false, Duration.ZERO, shutdownCommand,
                shutdownTimeout, azureRegion, null);
    }

    private int run(Agent.Config config) throws Exception {
        return new Agent(config, client(), Clock.systemUTC(), AgentShutdownTest::sleep, print(out), print(err)).run();
    }

    private AgentClient client() {
        return new AgentClient(server.uri(), null);
    }

    /** Retry backoff shortened to at most 20 ms (the agent's loop still waits its real intervals). */
    private static void sleep(Duration duration) throws InterruptedException {
        Thread.sleep(Math.max(1, Math.min(duration.toMillis(), 20)));
    }

    private static PrintStream print(ByteArrayOutputStream to) {
        return new PrintStream(to, true, StandardCharsets.UTF_8);
    }

    private static JsonNode last(List<JsonNode> beats) {
        return beats.isEmpty() ? null : beats.getLast();
    }

    /** The heartbeat body's shutdown report, or null. */
    private static JsonNode report(JsonNode beat) {
        return beat == null || !beat.has("shutdown") ? null : beat.get("shutdown");
    }

    private void await(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + AWAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what + "\nagent out:\n"
                        + out.toString(StandardCharsets.UTF_8) + "\nagent err:\n" + err.toString(StandardCharsets.UTF_8));
            }
            Thread.sleep(20);
        }
    }

    private void assertRestoredEquals() throws IOException {
        Path restored = server.restoreLatest(tmp.resolve("restored-" + UUID.randomUUID() + ".raw"));
        assertThat(Files.mismatch(restored, disk)).as("first differing byte").isEqualTo(-1L);
    }
}
