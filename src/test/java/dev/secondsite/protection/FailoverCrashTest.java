package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.ServerProcess;
import org.junit.jupiter.api.AfterEach;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.protection.ProtectionClient.RS;
import static dev.secondsite.protection.ProtectionClient.expect;
import static dev.secondsite.testing.Arm.json;
import static dev.secondsite.testing.ServerProcess.awaitHealthy;
import static dev.secondsite.testing.ServerProcess.freePort;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kill -9 of the server in the middle of a failover: the server process (slowed by --task-delay-ms so the kill
 * lands inside the job) is SIGKILLed once the job has started building the recovery disks and before the VM
 * exists; after a restart on the same data
 * directory and store (embedded and PostgreSQL) the job resumes at its unfinished task and completes. Exactly one VM and one disk exist, the disk is
 * byte-identical to the point, and no staging file is left.
 */
class FailoverCrashTest {
    private static final String COMPUTE = "api-version=2024-07-01";
    private static final String DISKS = "api-version=2024-03-02";

    @TempDir
    Path tmp;

    private final List<Process> children = new ArrayList<>();
    private String schema;
    private String db;

    @AfterEach
    void cleanUp() throws Exception {
        for (Process child : children) {
            if (child.isAlive()) {
                child.destroyForcibly();
                child.waitFor(15, TimeUnit.SECONDS);
            }
        }
        if (schema != null) {
            try (var conn = DriverManager.getConnection(TestServer.POSTGRES_URL, System.getProperty("user.name"), "")) {
                conn.createStatement().execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestServer.Store.class)
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void failoverKilledMidwayResumesAndBuildsOneCompleteVm(TestServer.Store store) throws Exception {
        Path data = tmp.resolve("data");
        if (store == TestServer.Store.POSTGRES) {
            schema = "t_fo_crash_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
            db = TestServer.postgresUrl(schema);
        }
        int port = freePort();
        Process first = start(data, port, "server-1.log", "--task-delay-ms", "1500");
        awaitHealthy(first, data, port, tmp.resolve("server-1.log"));
        ProtectionClient c = new ProtectionClient("https://127.0.0.1:" + port, data);
        FailoverMachine m = new FailoverMachine(c, "crash");
        byte[] atPoint = m.change(30);
        c.awaitItem(m.site, m.item, "Protected", i -> i.path("properties").path("protectionState").asText().equals("Protected"));

        HttpResponse<String> accepted = m.action("unplannedFailover", "{\"properties\":{\"failoverDirection\":"
                + "\"PrimaryToRecovery\",\"sourceSiteOperations\":\"NotRequired\"}}");
        expect(accepted, 202);
        String jobUrl = accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow();
        String jobId = jobUrl.substring(jobUrl.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
        String job = m.site.vault() + "/replicationJobs/" + jobId + "?" + RS;
        ProtectionClient fc = c;
        Arm.await("the job building disks", Duration.ofSeconds(60), Duration.ofMillis(50), () -> fc.api.getOk(job),
                j -> List.of("InProgress", "Succeeded").contains(taskState(j, "CreateDisks"))
                        && !taskState(j, "StartVirtualMachine").equals("Succeeded"));
        first.destroyForcibly();
        assertThat(first.waitFor(15, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).isEqualTo(128 + 9);
        // While the server is down nothing half-built may look ready: either no disk resource, or a whole one.

        Process second = start(data, port, "server-2.log");
        awaitHealthy(second, data, port, tmp.resolve("server-2.log"));
        ProtectionClient c2 = new ProtectionClient("https://127.0.0.1:" + port, data);
        JsonNode done = Arm.await("the failover job", Duration.ofSeconds(90), Duration.ofMillis(200), () -> c2.api.getOk(job),
                j -> List.of("Succeeded", "Failed").contains(j.path("properties").path("state").asText()));
        assertThat(done.path("properties").path("state").asText()).as("%s", done).isEqualTo("Succeeded");
        JsonNode item = c2.item(m.site, m.item);
        assertThat(item.path("properties").path("protectionState").asText()).isEqualTo("UnplannedFailoverCommitPendingStatesBegin");

        assertThat(c2.api.getOk(m.group + "/providers/Microsoft.Compute/virtualMachines?" + COMPUTE).path("value")).hasSize(1);
        assertThat(c2.api.getOk(m.group + "/providers/Microsoft.Compute/disks?" + DISKS).path("value")).hasSize(1);
        String vmId = m.vmId("crash-vm");
        c2.api.awaitSucceeded(c2.api.post(vmId + "/deallocate?" + COMPUTE, null));
        String diskId = c2.api.getOk(vmId + "?" + COMPUTE).path("properties").path("storageProfile").path("osDisk")
                .path("managedDisk").path("id").asText();
        HttpResponse<String> grant = c2.api.post(diskId + "/beginGetAccess?" + DISKS, "{\"access\":\"Read\",\"durationInSeconds\":600}");
        c2.api.awaitSucceeded(grant);
        String sas = json(c2.api.get(grant.headers().firstValue("Location").orElseThrow())).path("accessSAS").asText();
        byte[] vhd = c2.http.send(HttpRequest.newBuilder(URI.create(sas)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray()).body();
        assertThat(Arrays.copyOf(vhd, vhd.length - 512)).isEqualTo(atPoint);
        Path staging = data.resolve("exports/failover");
        if (Files.isDirectory(staging)) {
            try (var left = Files.list(staging)) {
                assertThat(left.toList()).as("staging left behind").isEmpty();
            }
        }
    }

    private static String taskState(JsonNode job, String task) {
        for (JsonNode t : job.path("properties").path("tasks")) {
            if (t.path("name").asText().equals(task)) {
                return t.path("state").asText();
            }
        }
        return "";
    }

    private Process start(Path data, int port, String log, String... options) throws Exception {
        Process p = ServerProcess.start(List.of("--enable-native-access=ALL-UNNAMED"), data, db, port, tmp.resolve(log),
                options);
        children.add(p);
        return p;
    }
}
