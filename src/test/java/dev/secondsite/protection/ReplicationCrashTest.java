package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.ServerProcess;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.protection.ProtectionClient.RS;
import static dev.secondsite.protection.ProtectionClient.expect;
import static dev.secondsite.protection.ProtectionClient.segment;
import static dev.secondsite.protection.ProtectionClient.write;
import static dev.secondsite.testing.Arm.json;
import static dev.secondsite.testing.ServerProcess.awaitHealthy;
import static dev.secondsite.testing.ServerProcess.freePort;
import static dev.secondsite.testing.ServerProcess.tail;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server side of "no acknowledged byte is lost": a server process killed with SIGKILL right after it
 * acknowledged segment uploads (the engine is typically in the middle of applying them) is started again on
 * the same data directory and store; every acknowledged segment ends up applied exactly once (its recovery
 * point exists and restores to the bytes sent), and points that existed before are unchanged.
 */
class ReplicationCrashTest {
    private static final long DISK = 16L << 20;
    private static final int CHUNK = 64 << 10;

    @TempDir
    Path tmp;

    private final List<Process> children = new ArrayList<>();
    private final List<String> schemas = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (Process child : children) {
            if (child.isAlive()) {
                child.destroyForcibly();
                child.waitFor(15, TimeUnit.SECONDS);
            }
        }
        for (String schema : schemas) {
            try (var c = DriverManager.getConnection(TestServer.POSTGRES_URL, System.getProperty("user.name"), "")) {
                c.createStatement().execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestServer.Store.class)
    @Timeout(value = 100, unit = TimeUnit.SECONDS)
    void acknowledgedSegmentsSurviveSigkill(TestServer.Store store) throws Exception {
        Path data = tmp.resolve("data");
        String db = null;
        if (store == TestServer.Store.POSTGRES) {
            String schema = "t_repl_crash_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
            schemas.add(schema);
            db = TestServer.postgresUrl(schema);
        }
        int port = freePort();
        Process first = startServer(data, db, port, tmp.resolve("server-1.log"));
        awaitHealthy(first, data, port, tmp.resolve("server-1.log"));
        ProtectionClient c = new ProtectionClient("https://127.0.0.1:" + port, data);
        ProtectionClient.Site site = c.site("crash", 1440);
        ProtectionClient.Agent agent = c.registerOk(site, "crash01", DISK);
        c.enable(site, "crash01", agent);
        String diskId = c.heartbeatDisk(agent, DISK).path("diskId").asText();

        byte[] disk = new byte[(int) DISK];
        Random random = new Random(7);
        Instant t1 = Instant.now().minusSeconds(60).truncatedTo(ChronoUnit.MILLIS);
        expect(c.upload(agent, diskId, 1, segment(diskId, 1, DISK, w -> {
            for (int chunk = 0; chunk < DISK / CHUNK; chunk += 4) {
                byte[] data1 = new byte[CHUNK];
                random.nextBytes(data1);
                write(w, disk, (long) chunk * CHUNK, data1);
            }
            w.marker(ConsistencyType.CRASH_CONSISTENT, t1, "initial");
        })), 201);
        JsonNode point1 = c.awaitPoints(site, "crash01", 1).get(0);
        String root1 = root(point1);

        // Round 1: one large segment (128 chunks to apply), killed right after its acknowledgement.
        Instant t2 = t1.plusSeconds(1);
        byte[] seg2 = segment(diskId, 2, DISK, w -> {
            byte[] changes = new byte[8 << 20];
            random.nextBytes(changes);
            write(w, disk, 4L << 20, changes);
            w.marker(ConsistencyType.CRASH_CONSISTENT, t2, "changes");
        });
        expect(c.upload(agent, diskId, 2, seg2), 201);
        kill(first);
        // Informative: whether the kill came before the engine finished the apply (segment still in cache).
        System.out.println("ReplicationCrashTest: segment 2 still in cache at the kill: "
                + Files.exists(data.resolve("cache").resolve(diskId).resolve(String.format("%020d.seg", 2))));
        byte[] atT2 = disk.clone();

        Process second = startServer(data, db, port, tmp.resolve("server-2.log"));
        awaitHealthy(second, data, port, tmp.resolve("server-2.log"));
        c = new ProtectionClient("https://127.0.0.1:" + port, data);
        JsonNode points = awaitPoints(c, site, 2, "server-2.log");
        assertThat(points.get(1).path("name").asText()).isEqualTo(point1.path("name").asText());
        assertThat(root(points.get(1))).as("the earlier point is unchanged").isEqualTo(root1);
        assertThat(points.get(0).path("properties").path("recoveryPointTime").asText()).isEqualTo(t2.toString());
        assertThat(Files.readAllBytes(export(c, site, points.get(0)))).isEqualTo(atT2);
        String root2 = root(points.get(0));

        // Round 2: two segments acknowledged back to back, then the kill.
        Instant t3 = t2.plusSeconds(1);
        Instant t4 = t3.plusSeconds(1);
        expect(c.upload(agent, diskId, 3, segment(diskId, 3, DISK, w -> {
            byte[] changes = new byte[2 << 20];
            random.nextBytes(changes);
            write(w, disk, 1L << 20, changes);
            w.marker(ConsistencyType.CRASH_CONSISTENT, t3, "changes");
        })), 201);
        expect(c.upload(agent, diskId, 4, segment(diskId, 4, DISK, w -> {
            byte[] changes = new byte[3 << 20];
            random.nextBytes(changes);
            write(w, disk, 10L << 20, changes);
            w.zero(0, CHUNK);
            java.util.Arrays.fill(disk, 0, CHUNK, (byte) 0);
            w.marker(ConsistencyType.APP_CONSISTENT, t4, "changes");
        })), 201);
        kill(second);
        System.out.println("ReplicationCrashTest: segments 3, 4 still in cache at the kill: "
                + Files.exists(data.resolve("cache").resolve(diskId).resolve(String.format("%020d.seg", 3))) + ", "
                + Files.exists(data.resolve("cache").resolve(diskId).resolve(String.format("%020d.seg", 4))));

        Process third = startServer(data, db, port, tmp.resolve("server-3.log"));
        awaitHealthy(third, data, port, tmp.resolve("server-3.log"));
        c = new ProtectionClient("https://127.0.0.1:" + port, data);
        points = awaitPoints(c, site, 4, "server-3.log");
        assertThat(points).extracting(p -> p.path("properties").path("recoveryPointTime").asText())
                .containsExactly(t4.toString(), t3.toString(), t2.toString(), t1.toString());
        assertThat(root(points.get(2))).isEqualTo(root2);
        assertThat(root(points.get(3))).isEqualTo(root1);
        assertThat(points.get(0).path("properties").path("recoveryPointType").asText()).isEqualTo("AppConsistent");
        assertThat(Files.readAllBytes(export(c, site, points.get(0)))).isEqualTo(disk);

        // Bookkeeping agrees with the stores: nothing pending, next sequence 5, item Protected.
        JsonNode item = c.item(site, "crash01");
        assertThat(item.path("properties").path("protectionState").asText()).isEqualTo("Protected");
        JsonNode d0 = item.path("properties").path("providerSpecificDetails").path("protectedDisks").get(0);
        assertThat(d0.path("lastAppliedSequence").asLong()).isEqualTo(4);
        assertThat(d0.path("nextSequence").asLong()).isEqualTo(5);
        assertThat(d0.path("cacheBytes").asLong()).isZero();
        assertThat(c.heartbeatDisk(agent, DISK).path("nextSequence").asLong()).isEqualTo(5);
        HttpResponse<String> replay = expect(c.upload(agent, diskId, 2, seg2), 200);
        assertThat(json(replay).path("result").asText()).isEqualTo("AlreadyApplied");
        Path cacheDir = data.resolve("cache").resolve(diskId); // absent if every segment was applied from memory
        try (var files = Files.isDirectory(cacheDir) ? Files.list(cacheDir) : java.util.stream.Stream.<Path>empty()) {
            assertThat(files.filter(f -> f.getFileName().toString().endsWith(".seg")).toList()).isEmpty();
        }
    }

    private JsonNode awaitPoints(ProtectionClient c, ProtectionClient.Site site, int count, String log) throws Exception {
        try {
            return c.awaitPoints(site, "crash01", count);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n--- " + log + " ---\n" + tail(tmp.resolve(log)), e);
        }
    }

    private Path export(ProtectionClient c, ProtectionClient.Site site, JsonNode point) throws Exception {
        HttpResponse<String> accepted = c.api.post(site.item("crash01") + "/recoveryPoints/" + point.path("name").asText()
                + "/exportDisk?" + RS, "{\"format\":\"raw\"}");
        expect(accepted, 202);
        JsonNode job = c.job(site, accepted);
        assertThat(job.path("properties").path("state").asText()).as("%s", job).isEqualTo("Succeeded");
        return Path.of(json(accepted).path("path").asText());
    }

    private static String root(JsonNode point) {
        return point.path("properties").path("providerSpecificDetails").path("disks").get(0).path("rootDigest").asText();
    }

    private static void kill(Process process) throws InterruptedException {
        process.destroyForcibly();
        assertThat(process.waitFor(15, TimeUnit.SECONDS)).as("killed server exits").isTrue();
        assertThat(process.exitValue()).as("exit value of a SIGKILLed JVM").isEqualTo(128 + 9);
    }

    /** `secondsite server` in a child JVM, killed in {@link #cleanUp}. */
    private Process startServer(Path data, String db, int port, Path log) throws IOException {
        Process process = ServerProcess.start(List.of("--enable-native-access=ALL-UNNAMED"), data, db, port, log);
        children.add(process);
        return process;
    }
}
