package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.server.SecondSiteServer;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.TestDirs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.protection.ProtectionClient.RS;
import static dev.secondsite.protection.ProtectionClient.expect;
import static dev.secondsite.protection.ProtectionClient.segment;
import static dev.secondsite.testing.Arm.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * RPO threshold alerts as replicationEvents: a Warning event when an item's newest point is older than the
 * policy's recoveryPointThresholdInMinutes (30 here), one only while it stays so, and an OK event when a new point
 * brings it back; $filter by severity; get by name.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RpoAlertTest {
    private static final long DISK = 1 << 20;
    private SecondSiteServer server;
    private Path data;
    private ProtectionClient c;

    @BeforeAll
    void start() throws Exception {
        data = Files.createTempDirectory("secondsite-rpo");
        server = SecondSiteServer.start(new SecondSiteServer.Options(data, "embedded", "127.0.0.1", 0, 2, 0),
                dev.secondsite.protection.ProtectionModule.Options.defaults(data).withHousekeepingEvery(Duration.ofMillis(200)));
        c = new ProtectionClient("https://127.0.0.1:" + server.port(), data);
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        TestDirs.deleteTree(data);
    }

    private JsonNode events(ProtectionClient.Site site, String filter) throws Exception {
        return c.api.getOk(site.vault() + "/replicationEvents?" + RS + (filter == null ? "" : "&$filter="
                + Arm.enc(filter))).path("value");
    }

    @Test
    void anOldPointRaisesOneWarningAndANewOneClearsIt() throws Exception {
        ProtectionClient.Site site = c.site("rpo", 1440);
        ProtectionClient.Agent agent = c.registerOk(site, "rpo01", DISK);
        c.enable(site, "rpo01", agent);
        String diskId = c.heartbeatDisk(agent, DISK).path("diskId").asText();
        Instant old = Instant.now().minus(Duration.ofMinutes(45));
        expect(c.upload(agent, diskId, 1, segment(diskId, 1, DISK, w -> {
            w.data(0, new byte[4096]);
            w.marker(ConsistencyType.CRASH_CONSISTENT, old, "old");
        })), 201);
        JsonNode warnings = Arm.await("an RPO warning event", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> events(site, "severity eq 'Warning'"), e -> e.size() > 0);
        JsonNode event = warnings.get(0).path("properties");
        assertThat(event.path("eventCode").asText()).isEqualTo("RpoThresholdExceeded");
        assertThat(event.path("affectedObjectFriendlyName").asText()).isEqualTo("rpo01");
        assertThat(event.path("healthErrors").get(0).path("errorCode").asText()).isEqualTo("RpoThresholdExceeded");
        Thread.sleep(1000); // several housekeeping passes: still one warning
        assertThat(events(site, "severity eq 'Warning'")).hasSize(1);
        JsonNode one = c.api.getOk(warnings.get(0).path("id").asText() + "?" + RS);
        assertThat(one.path("name").asText()).isEqualTo(warnings.get(0).path("name").asText());

        expect(c.upload(agent, diskId, 2, segment(diskId, 2, DISK, w -> {
            w.data(8192, new byte[] {1, 2, 3});
            w.marker(ConsistencyType.CRASH_CONSISTENT, Instant.now(), "fresh");
        })), 201);
        JsonNode ok = Arm.await("the all-clear event", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> events(site, "eventCode eq 'RpoBackWithinThreshold'"), e -> e.size() > 0);
        assertThat(ok.get(0).path("properties").path("severity").asText()).isEqualTo("OK");
        assertThat(events(site, null)).hasSize(2);
        assertError(c.api.get(site.vault() + "/replicationEvents?" + RS + "&$filter=" + Arm.enc("colour eq 'red'")),
                400, "InvalidFilter");
    }
}
