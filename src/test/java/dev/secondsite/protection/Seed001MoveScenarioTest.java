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

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.protection.ProtectionClient.RS;
import static dev.secondsite.protection.ProtectionClient.expect;
import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seed 001, "Move Azure VMs between Azure Government and public regions", step by step through the public API
 * only: an Azure VM in US Gov Virginia is replicated as a physical server to a vault in West US (not the source
 * region), with the failback policy created beside the replication policy; test failover into a separate network
 * from "Latest processed", "Latest app-consistent" and a custom point, each recovered disk downloaded through
 * beginGetAccess and compared with the source at that point by {@code qemu-img compare}; cleanup with notes;
 * failover from "Latest" with "Shut down machine before beginning failover"; commit; no direct failback; disable
 * replication, after which the moved VM stays.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class Seed001MoveScenarioTest {
    private static final String COMPUTE = "api-version=2024-07-01";
    private static final String DISKS = "api-version=2024-03-02";

    private SecondSiteServer server;
    private Path dataDir;
    private ProtectionClient c;

    @BeforeAll
    void start() throws Exception {
        dataDir = Files.createTempDirectory("secondsite-seed001");
        server = SecondSiteServer.start(new SecondSiteServer.Options(dataDir, "embedded", "127.0.0.1", 0, 2, 0));
        c = new ProtectionClient("https://127.0.0.1:" + server.port(), dataDir);
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        TestDirs.deleteTree(dataDir);
    }

    /** Writes {@code bytes} and the VM's downloaded disk to files and runs {@code qemu-img compare} on them. */
    private void assertQemuIdentical(byte[] source, String vmId, String name) throws Exception {
        c.api.awaitSucceeded(c.api.post(vmId + "/deallocate?" + COMPUTE, null));
        String diskId = c.api.getOk(vmId + "?" + COMPUTE).path("properties").path("storageProfile").path("osDisk")
                .path("managedDisk").path("id").asText();
        HttpResponse<String> grant = c.api.post(diskId + "/beginGetAccess?" + DISKS, "{\"access\":\"Read\","
                + "\"durationInSeconds\":600}");
        c.api.awaitSucceeded(grant);
        String sas = json(c.api.get(grant.headers().firstValue("Location").orElseThrow())).path("accessSAS").asText();
        Path vhd = dataDir.resolve(name + ".vhd");
        HttpResponse<Path> blob = c.http.send(HttpRequest.newBuilder(URI.create(sas)).GET().build(),
                HttpResponse.BodyHandlers.ofFile(vhd));
        assertThat(blob.statusCode()).isEqualTo(200);
        c.api.awaitSucceeded(c.api.post(diskId + "/endAccess?" + DISKS, null));
        Path src = dataDir.resolve(name + "-source.img");
        Files.write(src, source);
        Process p = new ProcessBuilder("qemu-img", "compare", "-f", "raw", "-F", "vpc", src.toString(), vhd.toString())
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("qemu-img compare: %s", out).isZero();
        assertThat(out).contains("Images are identical");
    }

    private String pointOf(FailoverMachine m, String type) throws Exception {
        for (JsonNode p : c.points(m.site, m.item)) {
            if (p.path("properties").path("recoveryPointType").asText().equals(type)) {
                return p.path("id").asText(); // newest first
            }
        }
        throw new AssertionError("no " + type + " point");
    }

    private void testFailoverAndCleanup(FailoverMachine m, String specific, byte[] expected, String note) throws Exception {
        JsonNode job = c.job(m.site, m.action("testFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\","
                + "\"networkType\":\"VmNetworkAsInput\",\"networkId\":\"" + m.testNet + "\",\"providerSpecificDetails\":{"
                + "\"instanceType\":\"InMageAzureV2\"" + specific + "}}}"));
        assertThat(job.path("properties").path("state").asText()).as("%s", job).isEqualTo("Succeeded");
        // "Make sure that the virtual machine is running, sized appropriately, and connected to the appropriate network."
        JsonNode vm = c.api.getOk(m.vmId("gov-vm-test") + "?" + COMPUTE + "&$expand=instanceView");
        assertThat(vm.path("location").asText()).isEqualTo("westus");
        assertThat(vm.path("properties").path("hardwareProfile").path("vmSize").asText()).isEqualTo("Standard_B2s");
        assertThat(vm.path("properties").path("instanceView").path("statuses").toString()).contains("PowerState/running");
        String nic = vm.path("properties").path("networkProfile").path("networkInterfaces").get(0).path("id").asText();
        assertThat(c.api.getOk(nic + "?api-version=2024-05-01").path("properties").path("ipConfigurations").get(0)
                .path("properties").path("subnet").path("id").asText()).startsWith(m.testNet + "/subnets/");
        assertQemuIdentical(expected, m.vmId("gov-vm-test"), "tfo-" + UUID.randomUUID());
        // "select Cleanup test failover ... In Notes, record and save any observations."
        JsonNode cleanup = c.job(m.site, m.action("testFailoverCleanup", "{\"properties\":{\"comments\":\"" + note + "\"}}"));
        assertThat(cleanup.path("properties").path("customDetails").path("comments").asText()).isEqualTo(note);
        assertError(c.api.get(m.vmId("gov-vm-test") + "?" + COMPUTE), 404, "ResourceNotFound");
    }

    @Test
    void moveFromUsGovVirginiaToWestUs() throws Exception {
        // "Create the vault in any region, except the source region": the vault is in West US (VaultInSourceRegion,
        // the rule for the other case, is tested with the catalogue).
        FailoverMachine m = new FailoverMachine(c, "gov", "usgovvirginia");

        // "By default, a matching policy is automatically created for failback": rep-policy → rep-policy-failback.
        JsonNode failbackPolicy = c.api.getOk(m.site.policy() + "-failback?" + RS);
        assertThat(failbackPolicy.path("properties").path("providerSpecificDetails").path("instanceType").asText())
                .isEqualTo("InMage"); // ASR's failback (Azure to on-premises) policies are InMage policies
        // "After the Finalize Protection job runs, the machine is ready for failover."
        JsonNode jobs = c.api.getOk(m.site.vault() + "/replicationJobs?" + RS).path("value");
        assertThat(jobs.toString()).contains("Finalize protection");

        // Replication: a crash-consistent point, then an app-consistent one, then more crash-consistent changes.
        byte[] first = m.change(16);
        c.awaitItem(m.site, m.item, "Protected", i -> i.path("properties").path("protectionState").asText().equals("Protected"));
        long seq = m.sequence++;
        expect(c.upload(m.agent, m.diskId, seq, ProtectionClient.segment(m.diskId, seq, FailoverMachine.DISK, w -> {
            ProtectionClient.write(w, m.disk, 2 << 20, new byte[] {7, 7, 7, 7});
            w.marker(ConsistencyType.APP_CONSISTENT, Instant.now(), "app");
        })), 201);
        byte[] appConsistent = m.disk.clone();
        byte[] latest = m.change(9);
        c.awaitPoints(m.site, m.item, 3);

        // Test failover, three times: Latest processed, Latest app-consistent, and a custom (the first) point.
        testFailoverAndCleanup(m, ",\"recoveryPointType\":\"LatestProcessed\"", latest, "latest processed ok");
        testFailoverAndCleanup(m, ",\"recoveryPointType\":\"LatestApplicationConsistent\"", appConsistent, "app ok");
        String custom = c.points(m.site, m.item).get(2).path("id").asText();
        assertThat(custom).isNotEqualTo(pointOf(m, "AppConsistent"));
        testFailoverAndCleanup(m, ",\"recoveryPointId\":\"" + custom + "\"", first, "custom ok");
        // "Use a separate Azure virtual machine network for the test failover. Don't use the production network."
        assertError(m.action("testFailover", "{\"properties\":{\"networkId\":\"" + m.prodNet + "\"}}"), 400,
                "TestFailoverNetworkIsProductionNetwork");

        // Failover: "select Latest ... Select Shut down machine before beginning failover."
        byte[] atShutdown = m.change(4);
        HttpResponse<String> accepted = m.action("unplannedFailover", "{\"properties\":{\"failoverDirection\":"
                + "\"PrimaryToRecovery\",\"sourceSiteOperations\":\"Required\",\"providerSpecificDetails\":{"
                + "\"instanceType\":\"InMageAzureV2\",\"recoveryPointType\":\"Latest\"}}}");
        expect(accepted, 202);
        JsonNode answer = Arm.await("the shutdown request", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> json(expect(c.heartbeat(m.agent.authorization(), "{\"agentTime\":\"" + Instant.now() + "\"}"), 200)),
                a -> a.path("shutdown").has("requestId"));
        expect(c.heartbeat(m.agent.authorization(), "{\"agentTime\":\"" + Instant.now() + "\",\"shutdown\":{\"requestId\":\""
                + answer.path("shutdown").path("requestId").asText() + "\",\"status\":\"Completed\"}}"), 200);
        JsonNode failover = c.job(m.site, accepted);
        assertThat(failover.path("properties").path("state").asText()).as("%s", failover).isEqualTo("Succeeded");
        // "check that the virtual machine appears in the target Azure region as expected."
        assertThat(c.api.getOk(m.vmId("gov-vm") + "?" + COMPUTE).path("location").asText()).isEqualTo("westus");
        assertQemuIdentical(atShutdown, m.vmId("gov-vm"), "failover");

        // "Commit. This finishes the move process to the target region."
        c.succeed(m.action("failoverCommit", null));
        assertThat(m.props().path("protectionState").asText()).isEqualTo("PlannedFailoverStatesBegin");
        // "you can't directly perform a fail back to the source region. You have to set up replication again."
        assertError(m.action("reProtect", "{}"), 409, "ReprotectAfterMoveNotSupported");

        // "Disable Replication ... to avoid getting charged"; the moved VM stays.
        c.succeed(m.action("remove", "{\"properties\":{\"disableProtectionReason\":\"MigrationComplete\"}}"));
        assertError(c.api.get(m.site.item(m.item) + "?" + RS), 404, "ResourceNotFound");
        assertThat(c.api.getOk(m.site.vault() + "/replicationProtectedItems?" + RS).path("value")).isEmpty();
        assertQemuIdentical(atShutdown, m.vmId("gov-vm"), "after-disable");
        assertThat(List.of(c.api.getOk(m.vmId("gov-vm") + "?" + COMPUTE).path("tags").toString()))
                .noneMatch(t -> t.contains("secondsite-failover-job"));
        try (var staged = Files.list(dataDir.resolve("exports/failover"))) {
            assertThat(staged.toList()).as("staging files").isEmpty();
        }
    }
}
