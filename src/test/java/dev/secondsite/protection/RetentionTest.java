package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.server.SecondSiteServer;
import dev.secondsite.testing.Arm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.secondsite.protection.ProtectionClient.RS;
import static dev.secondsite.protection.ProtectionClient.expect;
import static dev.secondsite.protection.ProtectionClient.segment;
import static dev.secondsite.protection.ProtectionClient.write;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retention per policy: housekeeping prunes recovery points older than the policy's recoveryPointHistory
 * (never a disk's newest) and garbage-collects the chunks only they referenced; the point that remains
 * still restores exactly.
 */
class RetentionTest {
    private static final long DISK = 1 << 20;
    private static final int CHUNK = 64 << 10;

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void prunesOldPointsAndCollectsTheirChunks() throws Exception {
        Path data = tmp.resolve("data");
        try (SecondSiteServer server = startServer(data)) {
            ProtectionClient c = new ProtectionClient("https://127.0.0.1:" + server.port(), data);
            ProtectionClient.Site site = c.site("ret", 0); // keep only the newest point
            ProtectionClient.Agent agent = c.registerOk(site, "ret01", DISK);
            c.enable(site, "ret01", agent);
            String diskId = c.heartbeatDisk(agent, DISK).path("diskId").asText();

            byte[] disk = new byte[(int) DISK];
            Random random = new Random(3);
            Instant t = Instant.now().minusSeconds(30).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
            for (int sequence = 1; sequence <= 3; sequence++) {
                Instant at = t.plusSeconds(sequence);
                expect(c.upload(agent, diskId, sequence, segment(diskId, sequence, DISK, w -> {
                    for (int chunk = 0; chunk < DISK / CHUNK; chunk++) {
                        byte[] content = new byte[CHUNK];
                        random.nextBytes(content);
                        write(w, disk, (long) chunk * CHUNK, content);
                    }
                    w.marker(ConsistencyType.CRASH_CONSISTENT, at, "changes");
                })), 201);
            }
            Arm.await("the third point", Duration.ofSeconds(20), Duration.ofMillis(100),
                    () -> c.item(site, "ret01"), i -> i.path("properties").path("providerSpecificDetails")
                            .path("protectedDisks").get(0).path("lastAppliedSequence").asLong() == 3);
            JsonNode points = Arm.await("retention down to one point", Duration.ofSeconds(20), Duration.ofMillis(100),
                    () -> c.points(site, "ret01"), p -> p.size() == 1);
            assertThat(points.get(0).path("properties").path("recoveryPointTime").asText())
                    .isEqualTo(t.plusSeconds(3).toString());
            // Each segment's chunks and node went into one pack; the first two points' packs are collected whole,
            // the remaining point's pack (16 chunks and the tree node) stays.
            Arm.await("garbage collection", Duration.ofSeconds(20), Duration.ofMillis(100),
                    () -> chunkFiles(data.resolve("recovery/packs")), n -> n == 1);

            HttpResponse<String> accepted = c.api.post(site.item("ret01") + "/recoveryPoints/"
                    + points.get(0).path("name").asText() + "/exportDisk?" + RS, "{\"format\":\"raw\"}");
            expect(accepted, 202);
            assertThat(c.job(site, accepted).path("properties").path("state").asText()).isEqualTo("Succeeded");
            assertThat(Files.readAllBytes(Path.of(json(accepted).path("path").asText()))).isEqualTo(disk);
            // The remaining state and point share one tree: a disk's worth of chunks plus its node.
            Arm.await("recoveryStoreBytes measured", Duration.ofSeconds(20), Duration.ofMillis(100),
                    () -> c.item(site, "ret01").path("properties").path("providerSpecificDetails").path("protectedDisks")
                            .get(0).path("recoveryStoreBytes"),
                    b -> b.isNumber() && b.asLong() >= DISK && b.asLong() <= DISK + 64 * 1024);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void thinsPointsOlderThanAnHourToOnePerHourPreferringAppConsistentOnes() throws Exception {
        Path data = tmp.resolve("data");
        try (SecondSiteServer server = startServer(data)) {
            ProtectionClient c = new ProtectionClient("https://127.0.0.1:" + server.port(), data);
            ProtectionClient.Site site = c.site("thin", 1440); // a day of history, crash-consistent every 5 minutes
            ProtectionClient.Agent agent = c.registerOk(site, "thin01", DISK);
            c.enable(site, "thin01", agent);
            String diskId = c.heartbeatDisk(agent, DISK).path("diskId").asText();

            Instant now = Instant.now();
            Instant hour = now.truncatedTo(java.time.temporal.ChronoUnit.HOURS).minus(Duration.ofHours(3));
            List<Instant> times = List.of(hour.plus(Duration.ofMinutes(10)), hour.plus(Duration.ofMinutes(20)),
                    hour.plus(Duration.ofMinutes(70)), hour.plus(Duration.ofMinutes(80)),
                    now.minusSeconds(10).truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
            // A test failover chose the oldest point: it stays while the failover record names it.
            ObjectNode failover = Json.object();
            failover.putObject("test").put("recoveryPointTime", times.get(0).toString());
            String itemId = c.item(site, "thin01").path("id").asText();
            ProtectionStore.Item row = server.protection().store().item(itemId).orElseThrow();
            assertThat(server.protection().store().updateFailover(itemId, row.state(), null, null, null, null, failover))
                    .isTrue();
            upload(c, agent, diskId, 1, times, Set.of(times.get(2)));
            // Kept: the newest of the first hour, the app-consistent point of the second (not the newer crash one),
            // the recent point, and the test failover's.
            JsonNode points = Arm.await("thinning", Duration.ofSeconds(20), Duration.ofMillis(100),
                    () -> c.points(site, "thin01"), p -> p.size() == 4 && times(p).getFirst().equals(times.get(4).toString()));
            assertThat(times(points)).containsExactly(times.get(4).toString(), times.get(2).toString(),
                    times.get(1).toString(), times.get(0).toString());
            assertThat(points.get(1).path("properties").path("recoveryPointType").asText()).isEqualTo("AppConsistent");
            Arm.await("the disk's point count after thinning", Duration.ofSeconds(20), Duration.ofMillis(100),
                    () -> c.item(site, "thin01").path("properties").path("providerSpecificDetails")
                            .path("protectedDisks").get(0).path("recoveryPointCount"), n -> n.isInt() && n.asInt() == 4);
            assertThat(c.api.call("GET", "/metrics", null, null).body())
                    .containsPattern("secondsite_disk_recovery_points\\{[^}]*item=\"thin01\"[^}]*\\} 4\n");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void thinsMachinePointsAndKeepsADisksPointsTheOtherDiskHasNotAppliedYet() throws Exception {
        Path data = tmp.resolve("data");
        try (SecondSiteServer server = startServer(data)) {
            ProtectionClient c = new ProtectionClient("https://127.0.0.1:" + server.port(), data);
            ProtectionClient.Site site = c.site("two", 1440);
            ProtectionClient.Agent agent = c.registerOk(site, "two01", DISK, null, 2);
            c.enable(site, "two01", agent);
            Map<String, String> ids = c.heartbeatDisks(agent, DISK, 2);
            assertThat(ids).containsOnlyKeys("disk0", "disk1");

            Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
            Instant hour = now.truncatedTo(java.time.temporal.ChronoUnit.HOURS).minus(Duration.ofHours(3));
            Instant h10 = hour.plus(Duration.ofMinutes(10));
            Instant h20 = hour.plus(Duration.ofMinutes(20));
            Instant h25 = hour.plus(Duration.ofMinutes(25));
            Instant h30 = hour.plus(Duration.ofMinutes(30));
            // disk1's pass at h25 failed, and it has not applied its last two points yet
            List<Instant> disk0 = List.of(h10, h20, h25, h30, now.minusSeconds(20), now.minusSeconds(10));
            List<Instant> disk1 = List.of(h10, h20, h30);
            upload(c, agent, ids.get("disk0"), 1, disk0, Set.of());
            upload(c, agent, ids.get("disk1"), 1, disk1, Set.of());

            // Machine points h10 and h20 are thinned away, h30 stays (the newest of its hour); on disk0, h25 (never a
            // machine point) goes, and the two points newer than h30 stay for disk1 to catch up with.
            Arm.await("thinning", Duration.ofSeconds(20), Duration.ofMillis(100),
                    () -> manifests(data, ids.get("disk0")), n -> n == 3);
            assertThat(times(c.points(site, "two01"))).containsExactly(h30.toString());
            Arm.await("thinning on disk1", Duration.ofSeconds(20), Duration.ofMillis(100),
                    () -> manifests(data, ids.get("disk1")), n -> n == 1);

            upload(c, agent, ids.get("disk1"), 4, List.of(now.minusSeconds(20), now.minusSeconds(10)), Set.of());
            JsonNode points = Arm.await("disk1 caught up", Duration.ofSeconds(20), Duration.ofMillis(100),
                    () -> c.points(site, "two01"), p -> p.size() == 3);
            assertThat(times(points)).containsExactly(now.minusSeconds(10).toString(),
                    now.minusSeconds(20).toString(), h30.toString());
        }
    }

    /** A server whose housekeeping (retention, garbage collection) runs every 300 ms. */
    private static SecondSiteServer startServer(Path data) throws Exception {
        return SecondSiteServer.start(new SecondSiteServer.Options(data, "embedded", "127.0.0.1", 0, 2, 0),
                ProtectionModule.Options.defaults(data).withHousekeepingEvery(Duration.ofMillis(300)));
    }

    /**
     * Uploads one segment per point time, sequences from {@code first}, each writing a chunk and marking a point
     * (app-consistent at the times in {@code app}).
     */
    private static void upload(ProtectionClient c, ProtectionClient.Agent agent, String diskId, long first,
                               List<Instant> times, Set<Instant> app) throws Exception {
        Random random = new Random(first);
        for (int i = 0; i < times.size(); i++) {
            Instant at = times.get(i);
            long sequence = first + i;
            expect(c.upload(agent, diskId, sequence, segment(diskId, sequence, DISK, w -> {
                byte[] content = new byte[CHUNK];
                random.nextBytes(content);
                write(w, new byte[(int) DISK], 0, content);
                w.marker(app.contains(at) ? ConsistencyType.APP_CONSISTENT : ConsistencyType.CRASH_CONSISTENT, at,
                        "changes");
            })), 201);
        }
    }

    private static List<String> times(JsonNode points) {
        List<String> times = new java.util.ArrayList<>();
        points.forEach(p -> times.add(p.path("properties").path("recoveryPointTime").asText()));
        return times;
    }

    private static long manifests(Path data, String diskId) throws Exception {
        Path dir = data.resolve("recovery/points").resolve(diskId);
        return Files.isDirectory(dir) ? chunkFiles(dir) : 0;
    }

    private static long chunkFiles(Path dir) throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith(".")).count();
        }
    }
}
