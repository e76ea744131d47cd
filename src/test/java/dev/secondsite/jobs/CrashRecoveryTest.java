package dev.secondsite.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.ServerProcess;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.ServerProcess.awaitHealthy;
import static dev.secondsite.testing.ServerProcess.freePort;
import static dev.secondsite.testing.ServerProcess.tail;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job engine survives its server: a server killed with SIGKILL in the middle of a job is started
 * again on the same store, and the job resumes and completes exactly once. Also: cancel and restart.
 */
class CrashRecoveryTest {
    private static final String RS = "api-version=2024-04-01";
    private static final long TASK_DELAY_MILLIS = 1500;
    private static final String POLICY = "{\"properties\":{\"providerSpecificInput\":{\"instanceType\":\"InMageAzureV2\","
            + "\"recoveryPointHistory\":1440,\"recoveryPointThresholdInMinutes\":30,\"appConsistentFrequencyInMinutes\":60,"
            + "\"multiVmSyncStatus\":\"Enable\"}}}";

    @TempDir
    Path tmp;

    private final List<Process> children = new ArrayList<>();
    private final List<String> schemas = new ArrayList<>();
    private final List<AutoCloseable> servers = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (Process child : children) {
            if (child.isAlive()) {
                child.destroyForcibly();
                child.waitFor(15, TimeUnit.SECONDS);
            }
        }
        for (AutoCloseable server : servers) {
            server.close();
        }
        for (String schema : schemas) {
            try (var c = DriverManager.getConnection(TestServer.POSTGRES_URL, System.getProperty("user.name"), "")) {
                c.createStatement().execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }

    // ---- the kill -9 case ----

    @ParameterizedTest
    @EnumSource(TestServer.Store.class)
    @Timeout(value = 110, unit = TimeUnit.SECONDS)
    void jobInterruptedBySigkillResumesAfterRestart(TestServer.Store store) throws Exception {
        Path data = tmp.resolve("data");
        String db = null;
        if (store == TestServer.Store.POSTGRES) {
            String schema = "t_crash_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            schemas.add(schema);
            db = TestServer.postgresUrl(schema);
        }
        int port = freePort();
        Process first = startServer(data, db, port, tmp.resolve("server-1.log"));
        ArmClient api = awaitHealthy(first, data, port, tmp.resolve("server-1.log")).asAdmin();

        String sub = UUID.randomUUID().toString();
        String group = "/subscriptions/" + sub + "/resourceGroups/rg-crash";
        String vault = group + "/providers/Microsoft.RecoveryServices/vaults/vault-crash";
        HttpResponse<String> r = api.put(group + "?api-version=2021-04-01", "{\"location\":\"westus\",\"tags\":{\"k\":\"v\"}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        r = api.put(vault + "?" + RS, "{\"location\":\"West US\",\"identity\":{\"type\":\"SystemAssigned\"},"
                + "\"tags\":{\"team\":\"dr\"}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode groupBefore = api.getOk(group + "?api-version=2021-04-01");
        JsonNode vaultBefore = api.getOk(vault + "?" + RS);

        HttpResponse<String> accepted = api.put(vault + "/replicationPolicies/crash-policy?" + RS, POLICY);
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        String jobId = lastSegment(accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow());
        String jobPath = vault + "/replicationJobs/" + jobId + "?" + RS;
        JsonNode running = Arm.await("job " + jobId + " InProgress", Duration.ofSeconds(15), Duration.ofMillis(25),
                () -> api.getOk(jobPath), j -> !j.path("properties").path("state").asText().equals("NotStarted"));
        assertThat(running.path("properties").path("state").asText())
                .as("the job must be caught running, not finished: %s", running).isEqualTo("InProgress");

        first.destroyForcibly();
        assertThat(first.waitFor(15, TimeUnit.SECONDS)).as("killed server exits").isTrue();
        assertThat(first.exitValue()).as("exit value of a SIGKILLed JVM").isEqualTo(128 + 9);
        Instant killedAt = Instant.now();

        Process second = startServer(data, db, port, tmp.resolve("server-2.log"));
        ArmClient again = awaitHealthy(second, data, port, tmp.resolve("server-2.log")).asAdmin();
        Instant restartedAt = Instant.now();
        JsonNode done;
        try {
            done = Arm.await("job " + jobId + " to end after the restart", Duration.ofSeconds(70),
                    Duration.ofMillis(250), () -> again.getOk(jobPath),
                    j -> Set.of("Succeeded", "Failed", "Cancelled").contains(j.path("properties").path("state").asText()));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n--- first server ---\n" + tail(tmp.resolve("server-1.log"))
                    + "\n--- restarted server ---\n" + tail(tmp.resolve("server-2.log")), e);
        }
        Instant endedAt = Instant.now();

        JsonNode p = done.path("properties");
        assertThat(p.path("state").asText()).as("job after restart: %s\n%s", done, tail(tmp.resolve("server-2.log")))
                .isEqualTo("Succeeded");
        assertThat(p.path("errors")).isEmpty();
        assertThat(p.path("allowedActions")).isEmpty();
        assertThat(p.path("tasks")).hasSize(2);
        for (JsonNode task : p.path("tasks")) {
            assertThat(task.path("state").asText()).as("task %s", task).isEqualTo("Succeeded");
            assertThat(Instant.parse(task.path("endTime").asText())).isAfterOrEqualTo(Instant.parse(task.path("startTime").asText()));
        }
        // The work left at the kill was done by the restarted server.
        JsonNode lastTask = p.path("tasks").get(p.path("tasks").size() - 1);
        assertThat(Instant.parse(lastTask.path("endTime").asText())).isAfter(killedAt);
        if (store == TestServer.Store.POSTGRES) {
            // A shared store cannot know the old server is dead: its lease must run out before anyone resumes.
            Instant claimed = Instant.parse(p.path("startTime").asText());
            assertThat(Duration.between(claimed, Instant.parse(lastTask.path("startTime").asText())))
                    .as("resume waited for the lease").isGreaterThanOrEqualTo(Duration.ofMillis(JobEngine.LEASE_MILLIS - 1000));
        }
        if (store == TestServer.Store.EMBEDDED) {
            // The embedded store frees the dead server's leases at start: no waiting for them to expire.
            assertThat(Duration.between(restartedAt, endedAt)).as("resume delay on the embedded store")
                    .isLessThan(Duration.ofSeconds(JobEngine.LEASE_MILLIS / 1000 / 2));
        }

        JsonNode status = again.getOk(accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow());
        assertThat(status.path("status").asText()).isEqualTo("Succeeded");
        List<String> policies = new ArrayList<>();
        again.getOk(vault + "/replicationPolicies?" + RS).path("value").forEach(v -> policies.add(v.path("name").asText()));
        assertThat(policies).containsExactlyInAnyOrder("crash-policy", "crash-policy-failback");
        assertThat(again.getOk(vault + "/replicationPolicies/crash-policy-failback?" + RS)
                .path("properties").path("providerSpecificDetails").path("instanceType").asText()).isEqualTo("InMage");
        JsonNode jobs = again.getOk(vault + "/replicationJobs?" + RS).path("value");
        assertThat(jobs).as("one job, not a duplicate").hasSize(1);

        assertThat(again.getOk(group + "?api-version=2021-04-01")).isEqualTo(groupBefore);
        assertThat(again.getOk(vault + "?" + RS)).isEqualTo(vaultBefore);
    }

    // ---- cancel and restart ----

    @ParameterizedTest
    @EnumSource(TestServer.Store.class)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void cancelledJobCanBeRestarted(TestServer.Store store) throws Exception {
        TestServer server = TestServer.start(store, tmp.resolve("cancel"), TASK_DELAY_MILLIS);
        servers.add(server);
        ArmClient api = ArmClient.of(server).asAdmin();
        String sub = UUID.randomUUID().toString();
        String group = "/subscriptions/" + sub + "/resourceGroups/rg-cancel";
        String vault = group + "/providers/Microsoft.RecoveryServices/vaults/vault-cancel";
        assertThat(api.put(group + "?api-version=2021-04-01", "{\"location\":\"westus\"}").statusCode()).isEqualTo(201);
        assertThat(api.put(vault + "?" + RS, "{\"location\":\"westus\"}").statusCode()).isEqualTo(201);

        String policy = vault + "/replicationPolicies/cancel-policy";
        HttpResponse<String> accepted = api.put(policy + "?" + RS, POLICY);
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        String jobId = lastSegment(accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow());
        String job = vault + "/replicationJobs/" + jobId;
        JsonNode running = Arm.await("job InProgress", Duration.ofSeconds(15), Duration.ofMillis(25),
                () -> api.getOk(job + "?" + RS), j -> !j.path("properties").path("state").asText().equals("NotStarted"));
        assertThat(running.path("properties").path("state").asText()).isEqualTo("InProgress");
        assertThat(running.path("properties").path("allowedActions")).extracting(JsonNode::asText).containsExactly("Cancel");

        // While it runs, both polling URLs say so and ask the client to come back.
        HttpResponse<String> polling = api.get(accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow());
        assertThat(json(polling).path("status").asText()).isEqualTo("InProgress");
        assertThat(polling.headers().firstValue("Retry-After")).isPresent();
        HttpResponse<String> pending = api.get(accepted.headers().firstValue("Location").orElseThrow());
        assertThat(pending.statusCode()).as(pending.body()).isEqualTo(202);
        assertThat(pending.headers().firstValue("Location")).isPresent();
        assertThat(pending.headers().firstValue("Retry-After")).isPresent();

        HttpResponse<String> cancel = api.post(job + "/cancel?" + RS, null);
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);
        JsonNode cancelled = Arm.await("job Cancelled", Duration.ofSeconds(15), Duration.ofMillis(100),
                () -> api.getOk(job + "?" + RS),
                j -> Set.of("Succeeded", "Failed", "Cancelled").contains(j.path("properties").path("state").asText()));
        JsonNode p = cancelled.path("properties");
        assertThat(p.path("state").asText()).as("%s", cancelled).isEqualTo("Cancelled");
        assertThat(p.path("allowedActions")).extracting(JsonNode::asText).containsExactly("Restart");
        assertThat(p.path("tasks")).extracting(t -> t.path("state").asText()).contains("Cancelled")
                .doesNotContain("InProgress", "NotStarted");
        assertError(api.get(policy + "?" + RS), 404, "ResourceNotFound");
        assertThat(api.getOk(accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow())
                .path("status").asText()).isEqualTo("Canceled");
        assertError(api.get(accepted.headers().firstValue("Location").orElseThrow()), 409, "OperationCancelled");
        assertThat(names(api.getOk(vault + "/replicationJobs?" + RS + "&%24filter=" + Arm.enc("jobStatus eq 'Cancelled'"))))
                .containsExactly(jobId);
        assertThat(names(api.getOk(vault + "/replicationJobs?" + RS + "&%24filter=" + Arm.enc("jobStatus eq 'Succeeded'"))))
                .isEmpty();
        assertError(api.post(job + "/cancel?" + RS, null), 409, "JobNotCancellable");

        HttpResponse<String> restart = api.post(job + "/restart?" + RS, null);
        assertThat(restart.statusCode()).as(restart.body()).isEqualTo(200);
        assertThat(json(restart).path("properties").path("state").asText()).isIn("NotStarted", "InProgress");
        JsonNode done = Arm.await("restarted job to end", Duration.ofSeconds(20), Duration.ofMillis(100),
                () -> api.getOk(job + "?" + RS),
                j -> Set.of("Succeeded", "Failed", "Cancelled").contains(j.path("properties").path("state").asText()));
        p = done.path("properties");
        assertThat(p.path("state").asText()).as("%s", done).isEqualTo("Succeeded");
        assertThat(p.path("allowedActions")).isEmpty();
        assertThat(p.path("tasks")).extracting(t -> t.path("state").asText()).containsOnly("Succeeded");
        assertThat(api.getOk(accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow())
                .path("status").asText()).isEqualTo("Succeeded");
        HttpResponse<String> result = api.get(accepted.headers().firstValue("Location").orElseThrow());
        assertThat(result.statusCode()).as(result.body()).isEqualTo(200);
        assertThat(json(result)).isEqualTo(api.getOk(policy + "?" + RS));
        assertThat(api.getOk(policy + "-failback?" + RS).path("name").asText()).isEqualTo("cancel-policy-failback");
        assertThat(names(api.getOk(vault + "/replicationJobs?" + RS))).containsExactly(jobId);
        assertError(api.post(job + "/restart?" + RS, null), 409, "JobNotRestartable");
    }

    // ---- helpers ----

    private static List<String> names(JsonNode list) {
        List<String> names = new ArrayList<>();
        list.path("value").forEach(v -> names.add(v.path("name").asText()));
        return names;
    }

    private static String lastSegment(String url) {
        String path = URI.create(url).getPath();
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** `secondsite server` in a child JVM (tasks slowed so a kill lands mid-job), killed in {@link #cleanUp}. */
    private Process startServer(Path data, String db, int port, Path log) throws IOException {
        Process process = ServerProcess.start(List.of(), data, db, port, log,
                "--task-delay-ms", Long.toString(TASK_DELAY_MILLIS));
        children.add(process);
        return process;
    }
}
