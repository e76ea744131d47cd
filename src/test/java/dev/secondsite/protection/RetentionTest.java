package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.Random;
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
        try (SecondSiteServer server = SecondSiteServer.start(
                new SecondSiteServer.Options(data, "embedded", "127.0.0.1", 0, 2, 0),
                ProtectionModule.Options.defaults(data).withHousekeepingEvery(Duration.ofMillis(300)))) {
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

    private static long chunkFiles(Path dir) throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith(".")).count();
        }
    }
}
