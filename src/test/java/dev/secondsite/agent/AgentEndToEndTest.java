package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.secondsite.Main;
import dev.secondsite.server.SecondSiteServer;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.TestServer;
import picocli.CommandLine;

/**
 * The agent against the real server, through the public API only: register with a key from
 * generateRegistrationKey, enable protection, initial replication, change detection, resync, app-consistent
 * points, and an agent killed mid-initial-replication; every recovery point is exported and compared with
 * the source disk by {@code qemu-img compare}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class AgentEndToEndTest {
    static final String RS = "api-version=2024-10-01";
    static final String POLICY = "{\"properties\":{\"providerSpecificInput\":{\"instanceType\":\"InMageAzureV2\","
            + "\"recoveryPointHistory\":1440,\"recoveryPointThresholdInMinutes\":30,"
            + "\"appConsistentFrequencyInMinutes\":60,\"crashConsistentFrequencyInMinutes\":5,"
            + "\"multiVmSyncStatus\":\"Enable\"}}}";
    static final Duration POINT_TIMEOUT = Duration.ofSeconds(60);

    TestServer server;
    ArmClient api;
    String sub;
    /** Where the agent helpers point: the shared test server, or a test's own. */
    String baseUrl;
    Path serverData;
    @TempDir
    Path tmp;

    @BeforeAll
    void startServer() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
        api = ArmClient.of(server).asAdmin();
        sub = UUID.randomUUID().toString();
        baseUrl = server.baseUrl();
        serverData = server.dataDir();
    }

    @AfterAll
    void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void initialReplicationThenChangesEachPointByteIdenticalToTheDisks() throws Exception {
        Site site = site("e2e");
        Path key = registrationKey(site);
        Path disk0 = tmp.resolve("web01-0.raw");
        Path disk1 = tmp.resolve("web01-1.vhdx");
        qemu("qemu-img", "create", "-f", "raw", disk0.toString(), "16M");
        qemu("qemu-io", "-f", "raw", "-c", "write -P 0x5a 1M 64k", disk0.toString());
        qemu("qemu-img", "create", "-f", "vhdx", disk1.toString(), "64M");
        qemu("qemu-io", "-f", "vhdx", "-c", "write -P 0x33 40M 200k", disk1.toString());
        Path state = tmp.resolve("state-e2e");

        // First run: registration; nothing replicates yet.
        Run first = agent("--registration-key-file", key.toString(), "--name", "web01", "--state-dir", state.toString(),
                "--disk", disk0.toString(), "--disk", disk1.toString());
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.out()).contains("registered machine web01");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("agent.json"))))
                .isEqualTo("rw-------");
        api.getOk(site.fabric() + "/replicationRecoveryServicesProviders/web01?" + RS);
        JsonNode protectable = api.getOk(site.container() + "/replicationProtectableItems/web01?" + RS);

        String item = enable(site, "web01", protectable.path("id").asText());

        // Initial replication: both disks, one machine point.
        Run initial = agent("--state-dir", state.toString(), "--disk", disk0.toString(), "--disk", disk1.toString());
        assertThat(initial.exitCode()).as(initial.toString()).isZero();
        assertThat(initial.out()).contains("disk0", "disk1", "initial pass");
        JsonNode point1 = awaitPoints(item, 1).getFirst();
        assertThat(point1.path("properties").path("recoveryPointType").asText()).isEqualTo("CrashConsistent");
        assertThat(point1.path("properties").path("providerSpecificDetails").path("disks"))
                .allSatisfy(d -> assertThat(d.path("tag").asText()).isEqualTo("initial"));
        assertSameContent(export(item, point1, "disk0"), "raw", disk0, "raw");
        assertSameContent(export(item, point1, "disk1"), "raw", disk1, "vhdx");

        // Changes: new data, an overwrite and a zeroed region.
        qemu("qemu-io", "-f", "raw", "-c", "write -P 0x77 5M 128k", disk0.toString());
        qemu("qemu-io", "-f", "raw", "-c", "write -z 1M 64k", disk0.toString());
        qemu("qemu-io", "-f", "vhdx", "-c", "write -P 0x44 40M 4k", disk1.toString());
        Run changes = agent("--state-dir", state.toString(), "--disk", disk0.toString(), "--disk", disk1.toString());
        assertThat(changes.exitCode()).as(changes.toString()).isZero();
        assertThat(changes.out()).contains("changes pass sent 3 changed chunks", "changes pass sent 1 changed chunk ");
        JsonNode point2 = awaitPoints(item, 2).getFirst();
        assertThat(point2.path("name").asText()).isNotEqualTo(point1.path("name").asText());
        assertSameContent(export(item, point2, "disk0"), "raw", disk0, "raw");
        assertSameContent(export(item, point2, "disk1"), "raw", disk1, "vhdx");
        // The first point is untouched by the second.
        assertThat(Files.mismatch(export(item, point1, "disk0"), export(item, point2, "disk0"))).isNotEqualTo(-1L);

        Arm.await("item Protected", POINT_TIMEOUT, Duration.ofMillis(200),
                () -> api.getOk(item + "?" + RS).path("properties").path("protectionState").asText(),
                "Protected"::equals);
    }

    @Test
    void quiesceHooksMakeAppConsistentPointsAndAFailingHookACrashConsistentOne() throws Exception {
        Site site = site("app");
        Path disk = tmp.resolve("db01.raw");
        qemu("qemu-img", "create", "-f", "raw", disk.toString(), "8M");
        qemu("qemu-io", "-f", "raw", "-c", "write -P 0x21 0 64k", disk.toString());
        Path state = tmp.resolve("state-app");
        assertThat(agent("--registration-key-file", registrationKey(site).toString(), "--name", "db01",
                "--state-dir", state.toString(), "--disk", disk.toString()).exitCode()).isZero();
        String item = enable(site, "db01", site.container() + "/replicationProtectableItems/db01");
        assertThat(agent("--state-dir", state.toString(), "--disk", disk.toString()).exitCode()).isZero();
        awaitPoints(item, 1);

        Path trace = tmp.resolve("hooks.log");
        qemu("qemu-io", "-f", "raw", "-c", "write -P 0x22 2M 64k", disk.toString());
        Run app = agent("--state-dir", state.toString(), "--disk", disk.toString(),
                "--pre-snapshot-script", "echo $SECONDSITE_QUIESCE_PHASE >> " + trace,
                "--post-snapshot-script", "echo $SECONDSITE_QUIESCE_PHASE >> " + trace);
        assertThat(app.exitCode()).as(app.toString()).isZero();
        assertThat(Files.readAllLines(trace)).containsExactly("pre", "post");
        JsonNode appPoint = awaitPoints(item, 2).getFirst();
        assertThat(appPoint.path("properties").path("recoveryPointType").asText()).isEqualTo("AppConsistent");
        assertSameContent(export(item, appPoint, "disk0"), "raw", disk, "raw");

        qemu("qemu-io", "-f", "raw", "-c", "write -P 0x23 3M 64k", disk.toString());
        Run failing = agent("--state-dir", state.toString(), "--disk", disk.toString(),
                "--pre-snapshot-script", "exit 7", "--post-snapshot-script", "true");
        assertThat(failing.exitCode()).as(failing.toString()).isZero();
        assertThat(failing.err()).contains("exited with status 7", "crash-consistent only");
        JsonNode crashPoint = awaitPoints(item, 3).getFirst();
        assertThat(crashPoint.path("properties").path("recoveryPointType").asText()).isEqualTo("CrashConsistent");
        assertSameContent(export(item, crashPoint, "disk0"), "raw", disk, "raw");
    }

    @Test
    void aResyncResendsTheDiskAndEndsWithItsTaggedMarker() throws Exception {
        Site site = site("resync");
        Path disk = tmp.resolve("app01.raw");
        qemu("qemu-img", "create", "-f", "raw", disk.toString(), "8M");
        qemu("qemu-io", "-f", "raw", "-c", "write -P 0x61 0 192k", disk.toString());
        Path state = tmp.resolve("state-resync");
        assertThat(agent("--registration-key-file", registrationKey(site).toString(), "--name", "app01",
                "--state-dir", state.toString(), "--disk", disk.toString()).exitCode()).isZero();
        String item = enable(site, "app01", site.container() + "/replicationProtectableItems/app01");
        assertThat(agent("--state-dir", state.toString(), "--disk", disk.toString()).exitCode()).isZero();
        awaitPoints(item, 1);

        api.awaitSucceeded(api.post(item + "/repairReplication?" + RS, null));
        // One chunk changes: the resync compares with the replica's digests and sends only that one.
        qemu("qemu-io", "-f", "raw", "-c", "write -P 0x62 64k 4k", disk.toString());
        Run resync = agent("--state-dir", state.toString(), "--disk", disk.toString());
        assertThat(resync.exitCode()).as(resync.toString()).isZero();
        assertThat(resync.out()).contains("resync:", "pass sent 1 changed chunk ", "read 8388608 bytes in ");
        JsonNode point = awaitPoints(item, 2).getFirst();
        assertThat(point.path("properties").path("providerSpecificDetails").path("disks").get(0).path("tag").asText())
                .startsWith("resync:");
        assertSameContent(export(item, point, "disk0"), "raw", disk, "raw");

        // Once the resync's marker is applied the server stops asking: the next pass is plain change detection.
        Arm.await("resync cleared", POINT_TIMEOUT, Duration.ofMillis(200),
                () -> api.getOk(item + "?" + RS).path("properties").path("protectionState").asText(),
                "Protected"::equals);
        Run after = agent("--state-dir", state.toString(), "--disk", disk.toString());
        assertThat(after.out()).contains("changes pass sent 0 changed chunks");
    }

    @Test
    void registrationRefusalsAreClearErrors() throws Exception {
        Site site = site("refusals");
        Path disk = tmp.resolve("x.raw");
        qemu("qemu-img", "create", "-f", "raw", disk.toString(), "1M");

        Path bogus = tmp.resolve("bogus.key");
        Files.writeString(bogus, "not-a-key");
        Run invalid = agent("--registration-key-file", bogus.toString(), "--name", "x1",
                "--state-dir", tmp.resolve("s1").toString(), "--disk", disk.toString());
        assertThat(invalid.exitCode()).isEqualTo(Agent.EXIT_REGISTRATION_REFUSED);
        assertThat(invalid.err()).contains("registration refused by the server: InvalidRegistrationKey:");

        Run skewed = agent("--registration-key-file", registrationKey(site).toString(), "--name", "x2",
                "--state-dir", tmp.resolve("s2").toString(), "--disk", disk.toString(), "--clock-offset-seconds", "1800");
        assertThat(skewed.exitCode()).isEqualTo(Agent.EXIT_REGISTRATION_REFUSED);
        assertThat(skewed.err()).contains("ServerClockSkewTooLarge:");
        assertThat(tmp.resolve("s2/agent.json")).doesNotExist();

        // Stored credentials the server no longer accepts: a clear error, or a new registration given a key.
        Path key = registrationKey(site);
        Path state = tmp.resolve("s3");
        assertThat(agent("--registration-key-file", key.toString(), "--name", "x3", "--state-dir", state.toString(),
                "--disk", disk.toString()).exitCode()).isZero();
        Path identity = state.resolve("agent.json");
        Files.writeString(identity, Files.readString(identity).replaceAll("\"agentSecret\" : \"[^\"]+\"",
                "\"agentSecret\" : \"wrong\""));
        Run rejected = agent("--state-dir", state.toString(), "--disk", disk.toString());
        assertThat(rejected.exitCode()).as(rejected.toString()).isEqualTo(Agent.EXIT_CREDENTIALS_REJECTED);
        assertThat(rejected.err()).contains("InvalidAgentCredentials", "--registration-key-file");
        Run reregistered = agent("--registration-key-file", key.toString(), "--name", "x3",
                "--state-dir", state.toString(), "--disk", disk.toString());
        assertThat(reregistered.exitCode()).as(reregistered.toString()).isZero();
        assertThat(reregistered.err()).contains("registering again");
    }

    @Test
    void anAgentKilledMidInitialReplicationResumesAndTheFinalPointMatchesTheDisk() throws Exception {
        Site site = site("restart");
        Path disk = tmp.resolve("big01.raw");
        qemu("qemu-img", "create", "-f", "raw", disk.toString(), "128M");
        byte[] block = new byte[1 << 20];
        Random random = new Random(42);
        for (int mib = 0; mib < 128; mib += 1 + mib % 3) { // incompressible data, some holes
            random.nextBytes(block);
            ReplicatorTest.write(disk, (long) mib << 20, block);
        }
        Path state = tmp.resolve("state-restart");
        assertThat(agent("--registration-key-file", registrationKey(site).toString(), "--name", "big01",
                "--state-dir", state.toString(), "--disk", disk.toString()).exitCode()).isZero();
        String item = enable(site, "big01", site.container() + "/replicationProtectableItems/big01");

        Path log = tmp.resolve("agent.log");
        Process agent = agentProcess(log, "--state-dir", state.toString(), "--disk", disk.toString(), "--verbose",
                "--segment-pause-ms", "5000");
        try {
            Arm.await("first acknowledged segment", Duration.ofSeconds(60), Duration.ofMillis(20),
                    () -> Files.exists(log) ? Files.readString(log) : "",
                    text -> text.contains("acknowledged") || !agent.isAlive());
            assertThat(agent.isAlive()).as("agent still running:\n%s", Files.readString(log)).isTrue();
            agent.destroyForcibly();
            assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            agent.destroyForcibly();
        }
        assertThat(Files.readString(log)).contains("segment 1 of disk").doesNotContain("point at");

        Run resumed = agent("--state-dir", state.toString(), "--disk", disk.toString());
        assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
        // After the acknowledged segment 1, or after segments 2 and 3 too if they were in flight and stored when killed.
        assertThat(resumed.out()).as("resumes after what the server stored").containsPattern("segments? \\[[234]\\.\\.");
        assertThat(resumed.err()).doesNotContain("resending the whole disk");
        JsonNode point = awaitPoints(item, 1).getFirst();
        assertSameContent(export(item, point, "disk0"), "raw", disk, "raw");
    }

    @Test
    void aCdpAgentKilledRightAfterWritesThroughItsExportLosesNoneOfThem() throws Exception {
        Site site = site("cdp");
        Path disk = tmp.resolve("cdp01.raw");
        qemu("qemu-img", "create", "-f", "raw", disk.toString(), "32M");
        qemu("qemu-io", "-f", "raw", "-c", "write -P 0x5a 1M 1M", disk.toString());
        Path state = tmp.resolve("state-cdp");
        assertThat(agent("--registration-key-file", registrationKey(site).toString(), "--name", "cdp01",
                "--state-dir", state.toString(), "--disk", disk.toString()).exitCode()).isZero();
        String item = enable(site, "cdp01", site.container() + "/replicationProtectableItems/cdp01");
        String nbd = "127.0.0.1:" + freePort();

        Path log = tmp.resolve("agent-cdp.log");
        Process agent = agentProcess(log, "--state-dir", state.toString(), "--disk", disk.toString(),
                "--nbd-listen", nbd, "--scan-interval-seconds", "1");
        try {
            awaitPoints(item, 1);
            // Acknowledged to the machine (qemu-io returned), then the agent dies at once: its tracker is lost.
            qemu("qemu-io", "-f", "raw", "nbd://" + nbd + "/disk0", "-c", "write -P 0x61 4M 4k",
                    "-c", "write -P 0x62 20M 100k", "-c", "write -z 1M 64k");
            agent.destroyForcibly();
            assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            agent.destroyForcibly();
        }
        assertThat(state.resolve("cdp/disk0.changes")).as("nothing saved by a killed agent").doesNotExist();

        Run resumed = agent("--state-dir", state.toString(), "--disk", disk.toString(), "--nbd-listen", nbd);
        assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
        assertThat(resumed.out()).contains("first pass scans the disk").doesNotContain("tracked changes pass");
        // The server applies the resumed pass's segments in the background: its point is the newest once
        // applied. A lost write would keep every point different from the disk until the timeout.
        Arm.await("the newest point equal to the disk", POINT_TIMEOUT, Duration.ofMillis(500), () -> {
            JsonNode newest = api.getOk(item + "/recoveryPoints?" + RS).path("value").get(0);
            return Qemu.run("qemu-img", "compare", "-f", "raw", "-F", "raw", export(item, newest, "disk0").toString(),
                    disk.toString()).exitCode();
        }, code -> code == 0);
        assertThat(state.resolve("cdp/disk0.changes")).as("saved at the clean stop of --once").exists();
    }

    @Test
    void theAgentLoopRidesOutAServerRestartAndKeepsMakingMatchingPoints() throws Exception {
        Path data = tmp.resolve("own-server");
        int port = freePort();
        SecondSiteServer.Options options = new SecondSiteServer.Options(data, "embedded", "127.0.0.1", port, 2, 0);
        SecondSiteServer own = SecondSiteServer.start(options);
        ArmClient shared = api;
        Process agent = null;
        Path log = tmp.resolve("loop-agent.log");
        try {
            api = ArmClient.connect("https://127.0.0.1:" + port, data).asAdmin();
            baseUrl = "https://127.0.0.1:" + port;
            serverData = data;
            Site site = site("loop");
            Path disk = tmp.resolve("loop01.raw");
            qemu("qemu-img", "create", "-f", "raw", disk.toString(), "8M");
            qemu("qemu-io", "-f", "raw", "-c", "write -P 0x01 0 64k", disk.toString());
            Path state = tmp.resolve("state-loop");
            assertThat(agent("--registration-key-file", registrationKey(site).toString(), "--name", "loop01",
                    "--state-dir", state.toString(), "--disk", disk.toString()).exitCode()).isZero();
            String item = enable(site, "loop01", site.container() + "/replicationProtectableItems/loop01");

            agent = agentProcess(log, "--state-dir", state.toString(), "--disk", disk.toString(),
                    "--scan-interval-seconds", "1");
            awaitPoints(item, 1);

            own.close(); // the network goes away under the running agent
            qemu("qemu-io", "-f", "raw", "-c", "write -P 0x02 4M 100k", disk.toString());
            Thread.sleep(3000);
            assertThat(agent.isAlive()).as("agent survives the outage:\n%s", Files.readString(log)).isTrue();
            own = SecondSiteServer.start(options);

            // The change made during the outage reaches a recovery point once the server is back.
            Process running = agent;
            JsonNode latest = Arm.await("a point holding the change made during the outage", POINT_TIMEOUT,
                    Duration.ofMillis(500), () -> {
                        assertThat(running.isAlive()).as("agent alive:\n%s", Files.readString(log)).isTrue();
                        JsonNode newest = awaitPoints(item, 1).getFirst();
                        Path exported = export(item, newest, "disk0");
                        return Qemu.run("qemu-img", "compare", "-f", "raw", "-F", "raw", exported.toString(),
                                disk.toString()).exitCode() == 0 ? newest : null;
                    }, point -> true);
            assertThat(latest).isNotNull();
            assertThat(Files.readString(log)).contains("retrying in");

            agent.destroy(); // SIGTERM: the agent stops cleanly
            assertThat(agent.waitFor(20, TimeUnit.SECONDS)).as("agent stops on SIGTERM:\n%s", Files.readString(log))
                    .isTrue();
        } finally {
            if (agent != null) {
                agent.destroyForcibly();
            }
            own.close();
            api = shared;
            baseUrl = server.baseUrl();
            serverData = server.dataDir();
        }
    }

    // ---------------------------------------------------------------------------------------------

    static int freePort() throws IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    record Site(String vault, String fabric, String container, String policy) {
    }

    /** RG, vault, VMware fabric, container, InMageAzureV2 policy and its mapping to "Microsoft Azure". */
    Site site(String name) throws Exception {
        String rg = "/subscriptions/" + sub + "/resourceGroups/rg-" + name;
        ok(api.put(rg + "?api-version=2021-04-01", "{\"location\":\"westus\"}"), 201);
        String vault = rg + "/providers/Microsoft.RecoveryServices/vaults/" + name;
        ok(api.put(vault + "?" + RS, "{\"location\":\"westus\",\"sku\":{\"name\":\"RS0\"}}"), 201);
        String fabric = vault + "/replicationFabrics/" + name + "-cs";
        api.awaitSucceeded(api.put(fabric + "?" + RS, "{\"properties\":{\"customDetails\":{\"instanceType\":\"VMware\"}}}"));
        String container = fabric + "/replicationProtectionContainers/" + name + "-container";
        api.awaitSucceeded(api.put(container + "?" + RS, "{\"properties\":{}}"));
        String policy = vault + "/replicationPolicies/" + name + "-policy";
        api.awaitSucceeded(api.put(policy + "?" + RS, POLICY));
        api.awaitSucceeded(api.put(container + "/replicationProtectionContainerMappings/" + name + "-mapping?" + RS,
                "{\"properties\":{\"policyId\":\"" + policy + "\",\"targetProtectionContainerId\":\"Microsoft Azure\"}}"));
        return new Site(vault, fabric, container, policy);
    }

    Path registrationKey(Site site) throws Exception {
        HttpResponse<String> r = api.post(site.fabric() + "/generateRegistrationKey?" + RS, null);
        ok(r, 200);
        Path file = tmp.resolve("key-" + UUID.randomUUID() + ".json");
        Files.writeString(file, r.body()); // the agent takes the JSON answer as it is
        return file;
    }

    String enable(Site site, String machine, String protectableItemId) throws Exception {
        String item = site.container() + "/replicationProtectedItems/" + machine;
        api.awaitSucceeded(api.put(item + "?" + RS, "{\"properties\":{\"policyId\":\"" + site.policy()
                + "\",\"protectableItemId\":\"" + protectableItemId
                + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}"));
        return item;
    }

    /** The item's recovery points, newest first, once there are at least {@code count}. */
    List<JsonNode> awaitPoints(String item, int count) throws Exception {
        JsonNode list = Arm.await(count + " recovery point(s) of " + item, POINT_TIMEOUT, Duration.ofMillis(200),
                () -> api.getOk(item + "/recoveryPoints?" + RS).path("value"), v -> v.size() >= count);
        List<JsonNode> points = new ArrayList<>();
        list.forEach(points::add);
        return points;
    }

    /** Exports one disk of a point as a raw image through the API; returns the file. */
    Path export(String item, JsonNode point, String diskName) throws Exception {
        String path = "e2e-" + UUID.randomUUID() + ".img";
        HttpResponse<String> accepted = api.post(item + "/recoveryPoints/" + point.path("name").asText()
                + "/exportDisk?" + RS, "{\"diskName\":\"" + diskName + "\",\"format\":\"raw\",\"path\":\"" + path + "\"}");
        api.awaitSucceeded(accepted);
        Path file = Path.of(Arm.json(accepted).path("path").asText());
        assertThat(file).exists();
        return file;
    }

    static void assertSameContent(Path exported, String exportedFormat, Path source, String sourceFormat)
            throws IOException, InterruptedException {
        Qemu result = Qemu.run("qemu-img", "compare", "-f", exportedFormat, "-F", sourceFormat, exported.toString(),
                source.toString());
        assertThat(result.exitCode()).as("qemu-img compare %s %s: %s", exported, source, result.output()).isZero();
    }

    static void ok(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as("%s %s: %s", response.request().method(), response.uri(), response.body())
                .isEqualTo(status);
    }

    static void qemu(String... command) throws IOException, InterruptedException {
        Qemu result = Qemu.run(command);
        assertThat(result.exitCode()).as("%s: %s", String.join(" ", command), result.output()).isZero();
    }

    record Qemu(int exitCode, String output) {
        static Qemu run(String... command) throws IOException, InterruptedException {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
            return new Qemu(process.exitValue(), output);
        }
    }

    record Run(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** {@code secondsite agent --once} in this JVM against the test server. */
    Run agent(String... args) {
        List<String> full = new ArrayList<>(List.of("agent", "--once", "--server", baseUrl,
                "--data-dir", serverData.toString()));
        full.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        synchronized (AgentEndToEndTest.class) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            try {
                CommandLine cli = Main.commandLine();
                cli.setOut(new PrintWriter(System.out, true));
                cli.setErr(new PrintWriter(System.err, true));
                int code = cli.execute(full.toArray(String[]::new));
                return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
            } finally {
                System.setOut(oldOut);
                System.setErr(oldErr);
            }
        }
    }

    /** {@code secondsite agent} (not --once) in a child JVM, output to a log file. */
    Process agentProcess(Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElseThrow(() -> new IllegalStateException("no java command")),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "agent",
                "--server", baseUrl, "--data-dir", serverData.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }
}
