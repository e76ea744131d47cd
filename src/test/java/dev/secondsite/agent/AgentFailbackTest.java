package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The agent's loop with a failback request in the heartbeat answer (agent-protocol §7), against
 * {@link FailbackFakeServer}: no segment is sent while the request is present, the outcome rides in every
 * heartbeat body, a second run does not write again, and once the request is gone replication resumes as a
 * delta from the failed-back content (its ledger was reset to it).
 */
class AgentFailbackTest {
    static final int CHUNK = 64 << 10;

    @TempDir
    Path tmp;
    FailbackFakeServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    record Run(int exitCode, String out, String err) {
    }

    Run agent(Path stateDir, Path disk) throws Exception {
        return agent(stateDir, disk, null);
    }

    /** One cycle ({@code --once}); with {@code nbdListen} in CDP mode. */
    Run agent(Path stateDir, Path disk, java.net.InetSocketAddress nbdListen) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Agent.Config config = new Agent.Config("web01", List.of(disk), stateDir, null, null, null, List.of(),
                Duration.ofSeconds(10), true, null, server.uri().toString(), false, Duration.ZERO, null, null, null,
                nbdListen);
        int code = new Agent(config, server.client(), Clock.systemUTC(), d -> { },
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
                .run();
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    String answer(UUID diskId, long nextSequence, ObjectNode failback) {
        ObjectNode answer = AgentClient.JSON.createObjectNode().put("serverTime", "2026-11-23T12:00:00Z");
        answer.putArray("disks").addObject().put("name", "disk0").put("diskId", diskId.toString())
                .put("replicate", true).put("nextSequence", nextSequence).put("chunkBytes", CHUNK)
                .put("resync", false).put("crashConsistentSeconds", 300).put("appConsistentSeconds", 0);
        if (failback != null) {
            answer.set("failback", failback);
        }
        return answer.toString();
    }

    @Test
    void noReplicationWhileAFailbackIsAskedThenADeltaFromTheWrittenContent() throws Exception {
        UUID diskId = UUID.randomUUID();
        server = new FailbackFakeServer("fb-agent");
        long size = 16L * CHUNK;
        byte[] remote = new byte[(int) size];
        for (int i = 0; i < remote.length; i += 4096) {
            remote[i] = (byte) (1 + i / CHUNK); // distinct data in every chunk but 4 and 12, which are zero
        }
        Arrays.fill(remote, 4 * CHUNK, 5 * CHUNK, (byte) 0);
        Arrays.fill(remote, 12 * CHUNK, 13 * CHUNK, (byte) 0);
        server.disks.put(diskId, new FailbackFakeServer.Disk(remote, CHUNK));
        Path disk = tmp.resolve("web01.raw");
        byte[] local = remote.clone();
        local[3 * CHUNK + 7] = 0x11;
        local[9 * CHUNK + 7] = 0x22;
        local[12 * CHUNK + 7] = 0x33; // zeroed without a download
        Files.write(disk, local);
        Path stateDir = tmp.resolve("state");
        try (StateDir state = StateDir.open(stateDir)) {
            state.saveIdentity(new StateDir.Identity("agent-1", "secret-1", server.uri().toString(), "web01", null,
                    null, "2026-11-23T11:00:00Z", null));
            // Forward replication had reached sequence 5 before the failover.
            DiskLedger.create(state.diskDir(diskId), diskId, size, CHUNK, 5, DiskLedger.ZERO).close();
        }
        server.heartbeatAnswer = answer(diskId, 6, server.failbackRequest(Map.of("disk0", diskId)));

        Run first = agent(stateDir, disk);

        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.out()).contains("failback fb-agent completed");
        assertThat(Files.readAllBytes(disk)).isEqualTo(remote);
        assertThat(server.chunkCalls).containsExactly(3L, 9L);
        assertThat(server.segments).isEmpty();
        JsonNode report = server.heartbeats.getLast().path("failback");
        assertThat(report.path("requestId").asText()).isEqualTo("fb-agent");
        assertThat(report.path("status").asText()).isEqualTo("Completed");
        assertThat(report.path("chunksWritten").asLong()).isEqualTo(3);
        assertThat(report.path("bytesWritten").asLong()).isEqualTo(3L * CHUNK);
        assertThat(server.heartbeats.getFirst().has("failback")).isFalse(); // nothing to report before it ran

        // Restarted while the server still asks: reported from the first heartbeat, not written again.
        int heartbeats = server.heartbeats.size();
        Run second = agent(stateDir, disk);
        assertThat(second.exitCode()).as(second.toString()).isZero();
        assertThat(server.chunkCalls).hasSize(2);
        assertThat(server.digestCalls).hasSize(1);
        assertThat(server.segments).isEmpty();
        assertThat(server.heartbeats.subList(heartbeats, server.heartbeats.size()))
                .allSatisfy(h -> assertThat(h.path("failback").path("status").asText()).isEqualTo("Completed"));

        // The request is gone: replication resumes, and finds nothing to send (the ledger is the written content).
        server.heartbeatAnswer = answer(diskId, 6, null);
        heartbeats = server.heartbeats.size();
        Run third = agent(stateDir, disk);
        assertThat(third.exitCode()).as(third.toString()).isZero();
        assertThat(third.out()).contains("changes pass sent 0 changed chunks");
        assertThat(server.segments).containsExactly(6L);
        assertThat(server.heartbeats.get(heartbeats).has("failback")).isTrue(); // until it saw the request gone
        assertThat(server.heartbeats.getLast().has("failback")).isFalse();
    }

    @Test
    void inCdpModeTheAgentReleasesTheImageForTheWriteBackAndScansBeforeTrustingItsTrackerAgain() throws Exception {
        UUID diskId = UUID.randomUUID();
        server = new FailbackFakeServer("fb-cdp");
        byte[] remote = new byte[16 * CHUNK];
        Arrays.fill(remote, 2 * CHUNK, 3 * CHUNK, (byte) 0x42);
        server.disks.put(diskId, new FailbackFakeServer.Disk(remote, CHUNK));
        Path disk = tmp.resolve("web01.raw");
        Files.write(disk, new byte[16 * CHUNK]);
        Path stateDir = tmp.resolve("state");
        try (StateDir state = StateDir.open(stateDir)) {
            state.saveIdentity(new StateDir.Identity("agent-1", "secret-1", server.uri().toString(), "web01", null,
                    null, "2026-11-23T11:00:00Z", null));
            DiskLedger.create(state.diskDir(diskId), diskId, remote.length, CHUNK, 5, DiskLedger.ZERO).close();
        }
        java.net.InetSocketAddress nbd;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            nbd = new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), probe.getLocalPort());
        }
        server.heartbeatAnswer = answer(diskId, 6, server.failbackRequest(Map.of("disk0", diskId)));

        Run failback = agent(stateDir, disk, nbd);
        assertThat(failback.exitCode()).as(failback.toString()).isZero();
        assertThat(failback.out()).contains("served at nbd://").contains("failback fb-cdp completed");
        assertThat(Files.readAllBytes(disk)).isEqualTo(remote);
        assertThat(stateDir.resolve("cdp/disk0.changes")).as("a tracker that missed the write-back is not saved")
                .doesNotExist();

        server.heartbeatAnswer = answer(diskId, 6, null);
        Run resumed = agent(stateDir, disk, nbd);
        assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
        assertThat(resumed.out()).contains("first pass scans the disk").contains("changes pass sent 0 changed chunks")
                .doesNotContain("tracked");
    }

    @Test
    void aFailedFailbackMakesAOnceRunExitNonZeroAndReplicatesNothing() throws Exception {
        UUID diskId = UUID.randomUUID();
        server = new FailbackFakeServer("fb-too-big");
        server.disks.put(diskId, new FailbackFakeServer.Disk(new byte[32 * CHUNK], CHUNK));
        Path disk = tmp.resolve("web01.raw");
        Files.write(disk, new byte[16 * CHUNK]);
        Path stateDir = tmp.resolve("state");
        try (StateDir state = StateDir.open(stateDir)) {
            state.saveIdentity(new StateDir.Identity("agent-1", "secret-1", server.uri().toString(), "web01", null,
                    null, "2026-11-23T11:00:00Z", null));
        }
        server.heartbeatAnswer = answer(diskId, 1, server.failbackRequest(Map.of("disk0", diskId)));

        Run run = agent(stateDir, disk);

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(Agent.EXIT_FAILED);
        assertThat(server.segments).isEmpty();
        JsonNode report = server.heartbeats.getLast().path("failback");
        assertThat(report.path("status").asText()).isEqualTo("Failed");
        assertThat(report.path("message").asText()).contains("smaller than the " + 32 * CHUNK + " bytes");
    }
}
