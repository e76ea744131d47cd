package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.server.SecondSiteServer;
import dev.secondsite.testing.Arm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.protection.ProtectionClient.RS;
import static dev.secondsite.protection.ProtectionClient.expect;
import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failover orchestration through the public API (issue 4): test failover into an isolated network from a chosen
 * point, production untouched meanwhile, cleanup with notes leaving nothing behind, the state machine's 409s,
 * planned failover with the source shut down through the agent protocol, unplanned failover from the latest
 * point, commit, disable after failover, and reprotect refused. Every recovered disk is downloaded through
 * beginGetAccess and compared byte for byte with the disk as it was at the chosen point.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class FailoverScenarioTest {
    private static final long DISK = Machine.DISK;
    private static final String NETWORK = Machine.NETWORK;
    private static final String COMPUTE = "api-version=2024-07-01";
    private static final String DISKS = "api-version=2024-03-02";

    private SecondSiteServer server;
    private Path dataDir;
    private ProtectionClient c;

    @BeforeAll
    void start() throws Exception {
        dataDir = Files.createTempDirectory("secondsite-failover");
        server = SecondSiteServer.start(new SecondSiteServer.Options(dataDir, "embedded", "127.0.0.1", 0, 2, 0));
        c = new ProtectionClient("https://127.0.0.1:" + server.port(), dataDir);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private HttpResponse<String> action(Machine m, String action, String body) throws Exception {
        return c.api.post(m.site.item(m.item) + "/" + action + "?" + RS, body);
    }

    /**
     * Deallocates the VM (Azure exports no disk of a running VM), downloads its OS disk through beginGetAccess (SAS)
     * and returns the disk's data bytes (the VHD footer dropped).
     */
    private byte[] downloadOsDisk(String vmId) throws Exception {
        c.api.awaitSucceeded(c.api.post(vmId + "/deallocate?" + COMPUTE, null));
        String diskId = osDiskOf(c.api.getOk(vmId + "?" + COMPUTE));
        HttpResponse<String> accepted = c.api.post(diskId + "/beginGetAccess?" + DISKS,
                "{\"access\":\"Read\",\"durationInSeconds\":600}");
        c.api.awaitSucceeded(accepted);
        JsonNode result = json(c.api.get(accepted.headers().firstValue("Location").orElseThrow()));
        HttpResponse<byte[]> blob = c.http.send(HttpRequest.newBuilder(URI.create(result.path("accessSAS").asText()))
                .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(blob.statusCode()).isEqualTo(200);
        c.api.awaitSucceeded(c.api.post(diskId + "/endAccess?" + DISKS, null));
        return Arrays.copyOf(blob.body(), blob.body().length - 512);
    }

    private String osDiskOf(JsonNode vm) {
        return vm.path("properties").path("storageProfile").path("osDisk").path("managedDisk").path("id").asText();
    }

    private List<String> pointIds(Machine m) throws Exception {
        List<String> ids = new ArrayList<>();
        c.points(m.site, m.item).forEach(p -> ids.add(p.path("id").asText()));
        return ids; // newest first
    }

    @Test
    void testFailoverThenCleanupLeavesProductionUntouchedAndNothingBehind() throws Exception {
        Machine m = new Machine(c, "tfo");
        byte[] atFirst = m.change(20);
        c.awaitItem(m.site, m.item, "Protected", i -> i.path("properties").path("protectionState").asText().equals("Protected"));
        assertThat(m.props().path("allowedOperations")).extracting(JsonNode::asText)
                .contains("TestFailover", "PlannedFailover", "UnplannedFailover", "DisableProtection");
        m.change(10);
        c.awaitPoints(m.site, m.item, 2);
        String firstPoint = pointIds(m).getLast();

        // The production network is refused (seed 001), and nothing starts.
        assertError(action(m, "testFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\","
                + "\"networkType\":\"VmNetworkAsInput\",\"networkId\":\"" + m.prodNet + "\"}}"), 400,
                "TestFailoverNetworkIsProductionNetwork");
        assertError(action(m, "testFailover", "{\"properties\":{\"networkId\":\"" + m.testNet + "\","
                + "\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\",\"recoveryPointId\":\""
                + m.site.item(m.item) + "/recoveryPoints/" + UUID.randomUUID() + "\"}}}"), 400, "RecoveryPointNotFound");

        JsonNode job = c.job(m.site, action(m, "testFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\","
                + "\"networkType\":\"VmNetworkAsInput\",\"networkId\":\"" + m.testNet + "\",\"providerSpecificDetails\":{"
                + "\"instanceType\":\"InMageAzureV2\",\"recoveryPointId\":\"" + firstPoint + "\"}}}"));
        assertThat(job.path("properties").path("tasks")).extracting(t -> t.path("state").asText()).containsOnly("Succeeded");
        JsonNode props = m.props();
        assertThat(props.path("testFailoverState").asText()).isEqualTo("WaitingForCompletion");
        assertThat(props.path("protectionState").asText()).isEqualTo("Protected");
        assertThat(props.path("failoverRecoveryPointId").asText()).isEqualToIgnoringCase(firstPoint);
        assertThat(props.path("allowedOperations")).extracting(JsonNode::asText)
                .containsExactly("TestFailoverCleanup", "DisableProtection");

        // The test VM runs in the test network, on a disk identical to the source at the chosen point.
        JsonNode vm = c.api.getOk(m.vmId("tfo-vm-test") + "?" + COMPUTE);
        assertThat(vm.path("properties").path("hardwareProfile").path("vmSize").asText()).isEqualTo("Standard_B2s");
        String nicId = vm.path("properties").path("networkProfile").path("networkInterfaces").get(0).path("id").asText();
        JsonNode nic = c.api.getOk(nicId + "?" + NETWORK);
        assertThat(nic.path("properties").path("ipConfigurations").get(0).path("properties").path("subnet").path("id")
                .asText()).startsWith(m.testNet + "/subnets/");
        assertThat(downloadOsDisk(vm.path("id").asText())).isEqualTo(atFirst);

        // Production keeps replicating during the test.
        m.change(5);
        c.awaitPoints(m.site, m.item, 3);
        assertThat(m.props().path("replicationHealth").asText()).isNotEqualTo("Critical");

        // Failover is not allowed while the test waits for cleanup: 409 naming the state.
        JsonNode error = assertError(action(m, "unplannedFailover", "{\"properties\":{\"failoverDirection\":"
                + "\"PrimaryToRecovery\",\"sourceSiteOperations\":\"NotRequired\"}}"), 409, "OperationNotAllowedInCurrentState");
        assertThat(error.path("message").asText()).contains("WaitingForCompletion", "TestFailoverCleanup");

        JsonNode cleanup = c.job(m.site, action(m, "testFailoverCleanup", "{\"properties\":{\"comments\":\"boots fine, app ok\"}}"));
        assertThat(cleanup.path("properties").path("customDetails").path("comments").asText()).isEqualTo("boots fine, app ok");
        assertThat(m.props().path("testFailoverState").asText()).isEqualTo("None");
        assertError(c.api.get(m.vmId("tfo-vm-test") + "?" + COMPUTE), 404, "ResourceNotFound");
        assertError(c.api.get(nicId + "?" + NETWORK), 404, "ResourceNotFound");
        assertError(c.api.get(osDiskOf(vm) + "?" + DISKS), 404, "ResourceNotFound");
        assertThat(c.api.getOk(m.group + "/providers/Microsoft.Compute/disks?" + DISKS).path("value")).isEmpty();
        try (var staged = Files.list(Files.createDirectories(dataDir.resolve("exports/failover")))) {
            assertThat(staged.toList()).as("staging files").isEmpty();
        }
    }

    @Test
    void unplannedFailoverCommitAndDisableKeepTheRecoveredVm() throws Exception {
        Machine m = new Machine(c, "ufo");
        m.change(10);
        c.awaitItem(m.site, m.item, "Protected", i -> i.path("properties").path("protectionState").asText().equals("Protected"));
        byte[] latest = m.change(15);
        c.awaitPoints(m.site, m.item, 2);

        assertError(action(m, "failoverCommit", null), 409, "OperationNotAllowedInCurrentState");
        c.succeed(action(m, "unplannedFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\","
                + "\"sourceSiteOperations\":\"NotRequired\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}"));
        JsonNode props = m.props();
        assertThat(props.path("protectionState").asText()).isEqualTo("UnplannedFailoverCommitPendingStatesBegin");
        assertThat(props.path("activeLocation").asText()).isEqualTo("Recovery");
        assertThat(props.path("allowedOperations")).extracting(JsonNode::asText).containsExactly("Commit", "DisableProtection");
        JsonNode vm = c.api.getOk(m.vmId("ufo-vm") + "?" + COMPUTE);
        assertThat(props.path("providerSpecificDetails").path("targetVmId").asText()).isEqualToIgnoringCase(vm.path("id").asText());
        assertThat(downloadOsDisk(vm.path("id").asText())).isEqualTo(latest);
        // Replication of the source stopped: the agent is told not to replicate.
        assertThat(c.heartbeatDisk(m.agent, DISK).path("replicate").asBoolean()).isFalse();

        c.succeed(action(m, "failoverCommit", null));
        props = m.props();
        assertThat(props.path("protectionState").asText()).isEqualTo("PlannedFailoverStatesBegin");
        assertThat(props.path("allowedOperations")).extracting(JsonNode::asText)
                .containsExactly("ReverseReplicate", "DisableProtection");
        assertThat(c.api.getOk(m.vmId("ufo-vm") + "?" + COMPUTE).path("tags").has("secondsite-failover-job")).isFalse();

        // No direct reprotect for a physical machine: a clear 409 pointing at re-enabling replication.
        assertError(action(m, "reProtect", "{}"), 409, "ReprotectNotSupported");

        c.succeed(action(m, "remove", "{\"properties\":{\"disableProtectionReason\":\"MigrationComplete\"}}"));
        assertError(c.api.get(m.site.item(m.item) + "?" + RS), 404, "ResourceNotFound");
        assertThat(downloadOsDisk(m.vmId("ufo-vm"))).isEqualTo(latest);
    }

    @Test
    void plannedFailoverShutsTheSourceDownThroughTheAgentFirst() throws Exception {
        Machine m = new Machine(c, "pfo");
        m.change(10);
        c.awaitItem(m.site, m.item, "Protected", i -> i.path("properties").path("protectionState").asText().equals("Protected"));
        HttpResponse<String> accepted = action(m, "plannedFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\"}}");
        expect(accepted, 202);
        // The agent sees the request, sends its last writes with a point, and reports the shutdown.
        JsonNode answer = Arm.await("shutdown request", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> json(expect(c.heartbeat(m.agent.authorization(), "{\"agentTime\":\"" + Instant.now() + "\"}"), 200)),
                a -> a.path("shutdown").has("requestId"));
        byte[] last = m.change(7);
        c.awaitPoints(m.site, m.item, 2);
        expect(c.heartbeat(m.agent.authorization(), "{\"agentTime\":\"" + Instant.now() + "\",\"shutdown\":{\"requestId\":\""
                + answer.path("shutdown").path("requestId").asText() + "\",\"status\":\"Completed\"}}"), 200);
        JsonNode job = c.job(m.site, accepted);
        assertThat(job.path("properties").path("stateDescription").asText()).isEqualTo("Completed");
        assertThat(m.props().path("protectionState").asText()).isEqualTo("PlannedFailoverCommitRequired");
        assertThat(downloadOsDisk(m.vmId("pfo-vm"))).isEqualTo(last);
    }

    @Test
    void plannedFailoverContinuesWhenTheSourceCannotBeShutDown() throws Exception {
        Machine m = new Machine(c, "pfx");
        byte[] only = m.change(10);
        c.awaitItem(m.site, m.item, "Protected", i -> i.path("properties").path("protectionState").asText().equals("Protected"));
        HttpResponse<String> accepted = action(m, "plannedFailover", "{}");
        JsonNode answer = Arm.await("shutdown request", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> json(expect(c.heartbeat(m.agent.authorization(), "{\"agentTime\":\"" + Instant.now() + "\"}"), 200)),
                a -> a.path("shutdown").has("requestId"));
        expect(c.heartbeat(m.agent.authorization(), "{\"agentTime\":\"" + Instant.now() + "\",\"shutdown\":{\"requestId\":\""
                + answer.path("shutdown").path("requestId").asText() + "\",\"status\":\"Failed\",\"message\":"
                + "\"shutdown -h refused\"}}"), 200);
        JsonNode job = c.job(m.site, accepted);
        assertThat(job.path("properties").path("stateDescription").asText()).isEqualTo("CompletedWithInformation");
        assertThat(job.path("properties").path("errors").get(0).path("serviceErrorDetails").path("message").asText())
                .contains("shutdown -h refused");
        assertThat(downloadOsDisk(m.vmId("pfx-vm"))).isEqualTo(only);
    }
}
