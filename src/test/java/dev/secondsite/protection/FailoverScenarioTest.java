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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.protection.ProtectionClient.RG;
import static dev.secondsite.protection.ProtectionClient.RS;
import static dev.secondsite.protection.ProtectionClient.expect;
import static dev.secondsite.protection.ProtectionClient.marker;
import static dev.secondsite.protection.ProtectionClient.segment;
import static dev.secondsite.protection.ProtectionClient.write;
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
    private static final long DISK = FailoverMachine.DISK;
    private static final String NETWORK = "api-version=2024-05-01";
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
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        TestDirs.deleteTree(dataDir);
    }

    private HttpResponse<String> action(FailoverMachine m, String action, String body) throws Exception {
        return m.action(action, body);
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

    private List<String> pointIds(FailoverMachine m) throws Exception {
        List<String> ids = new ArrayList<>();
        c.points(m.site, m.item).forEach(p -> ids.add(p.path("id").asText()));
        return ids; // newest first
    }

    @Test
    void testFailoverThenCleanupLeavesProductionUntouchedAndNothingBehind() throws Exception {
        FailoverMachine m = new FailoverMachine(c, "tfo");
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
        FailoverMachine m = new FailoverMachine(c, "ufo");
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

        // Reprotect towards a machine that isn't registered: 400 naming the field, nothing starts.
        assertError(action(m, "reProtect", "{\"properties\":{\"providerSpecificDetails\":{\"instanceType\":"
                + "\"InMageAzureV2\",\"failbackProtectableItemId\":\"" + m.site.container()
                + "/replicationProtectableItems/nobody\"}}}"), 400, "FailbackMachineNotFound");

        c.succeed(action(m, "remove", "{\"properties\":{\"disableProtectionReason\":\"MigrationComplete\"}}"));
        assertError(c.api.get(m.site.item(m.item) + "?" + RS), 404, "ResourceNotFound");
        assertThat(downloadOsDisk(m.vmId("ufo-vm"))).isEqualTo(latest);
    }

    @Test
    void plannedFailoverShutsTheSourceDownThroughTheAgentFirst() throws Exception {
        FailoverMachine m = new FailoverMachine(c, "pfo");
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
        FailoverMachine m = new FailoverMachine(c, "pfx");
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

    /** The bytes of a managed disk's file (the VM "writes" there: the local cloud runs no guest). */
    private Path diskFile(String diskId) throws Exception {
        String uniqueId = c.api.getOk(diskId + "?" + DISKS).path("properties").path("uniqueId").asText();
        return dataDir.resolve("cloud/disks/" + uniqueId + ".vhd");
    }

    @Test
    void reprotectReplicatesTheVmBackAndFailbackWritesOnlyWhatChanged() throws Exception {
        FailoverMachine m = new FailoverMachine(c, "rpr");
        m.change(10);
        c.awaitItem(m.site, m.item, "Protected", i -> i.path("properties").path("protectionState").asText().equals("Protected"));
        byte[] primary = m.change(10); // the primary machine's disk as it stops at the failover
        c.awaitPoints(m.site, m.item, 2);
        c.succeed(m.action("unplannedFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\","
                + "\"sourceSiteOperations\":\"NotRequired\"}}"));
        c.succeed(m.action("failoverCommit", null));

        // The recovered VM writes three chunks.
        String vmId = m.vmId("rpr-vm");
        Path vmDisk = diskFile(osDiskOf(c.api.getOk(vmId + "?" + COMPUTE)));
        byte[] vm = primary.clone();
        Random random = new Random(5);
        try (var ch = java.nio.channels.FileChannel.open(vmDisk, java.nio.file.StandardOpenOption.WRITE)) {
            for (int chunk : new int[] {3, 17, 40}) {
                byte[] data = new byte[4096];
                random.nextBytes(data);
                System.arraycopy(data, 0, vm, chunk * 65536 + 512, data.length);
                ch.write(java.nio.ByteBuffer.wrap(data), chunk * 65536L + 512);
            }
        }

        int pointsBefore = c.points(m.site, m.item).size();
        JsonNode reprotect = c.job(m.site, m.action("reProtect", "{\"properties\":{\"providerSpecificDetails\":"
                + "{\"instanceType\":\"InMageAzureV2\"}}}"));
        assertThat(reprotect.path("properties").path("state").asText()).as("%s", reprotect).isEqualTo("Succeeded");
        JsonNode props = m.props();
        assertThat(props.path("protectionState").asText()).isEqualTo("Protected");
        assertThat(props.path("activeLocation").asText()).isEqualTo("Recovery");
        assertThat(props.path("allowedOperations")).extracting(JsonNode::asText).containsExactly("PlannedFailover", "DisableProtection");
        JsonNode pass = props.path("providerSpecificDetails").path("reverseReplication").path("lastPass");
        assertThat(pass.path("chunksScanned").asLong()).isEqualTo(FailoverMachine.DISK / 65536);
        assertThat(pass.path("chunksSent").asLong()).as("delta sync: only what the VM changed").isEqualTo(3);
        assertThat(c.points(m.site, m.item).size()).isEqualTo(pointsBefore + 1);
        // The old agent is not told to replicate while the VM runs on the recovery site.
        assertThat(c.heartbeatDisk(m.agent, DISK).path("replicate").asBoolean()).isFalse();

        // Failback: the agent is asked to write the newest point; it fetches only the chunks that differ.
        HttpResponse<String> accepted = m.action("plannedFailover", "{\"properties\":{\"failoverDirection\":\"RecoveryToPrimary\"}}");
        expect(accepted, 202);
        JsonNode answer = Arm.await("failback request", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> json(expect(c.heartbeat(m.agent.authorization(), "{\"agentTime\":\"" + Instant.now() + "\"}"), 200)),
                a -> a.path("failback").has("requestId"));
        String requestId = answer.path("failback").path("requestId").asText();
        JsonNode disk = answer.path("failback").path("disks").get(0);
        assertThat(answer.path("failback").has("server")).as("server-side fields stay on the server").isFalse();
        String base = "/agent/v1/failback/" + requestId + "/disks/" + disk.path("diskId").asText();
        JsonNode digests = json(expect(c.agentCall("GET", base + "/digests?from=0&count=4096", m.agent.authorization(), null), 200));
        int fetched = 0;
        for (int i = 0; i < digests.path("digests").size(); i++) {
            JsonNode d = digests.path("digests").get(i);
            byte[] local = Arrays.copyOfRange(primary, i * 65536, (i + 1) * 65536);
            String mine = dev.secondsite.replication.chunk.ChunkDigest.of(local).hex();
            boolean localZero = Arrays.equals(local, new byte[65536]);
            if (d.isNull() ? localZero : d.asText().equals(mine)) {
                continue;
            }
            HttpResponse<byte[]> chunk = c.http.send(HttpRequest.newBuilder(URI.create(c.baseUrl + base + "/chunks/" + i))
                    .header("Authorization", m.agent.authorization()).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(chunk.statusCode()).isEqualTo(200);
            System.arraycopy(chunk.body(), 0, primary, i * 65536, chunk.body().length);
            fetched++;
        }
        assertThat(fetched).as("chunks written back").isEqualTo(3);
        expect(c.heartbeat(m.agent.authorization(), "{\"agentTime\":\"" + Instant.now() + "\",\"failback\":{\"requestId\":\""
                + requestId + "\",\"status\":\"Completed\"}}"), 200);
        JsonNode job = c.job(m.site, accepted);
        assertThat(job.path("properties").path("state").asText()).as("%s", job).isEqualTo("Succeeded");
        assertThat(primary).as("the primary disk after failback").isEqualTo(vm);
        props = m.props();
        assertThat(props.path("protectionState").asText()).isEqualTo("PlannedFailoverCommitRequired");
        assertThat(props.path("activeLocation").asText()).isEqualTo("Primary");

        // Commit removes the recovered VM; reprotect resumes replication from the primary with a resync (delta).
        c.succeed(m.action("failoverCommit", null));
        assertError(c.api.get(vmId + "?" + COMPUTE), 404, "ResourceNotFound");
        assertThat(m.props().path("allowedOperations")).extracting(JsonNode::asText).contains("ReverseReplicate");
        assertThat(m.props().path("providerSpecificDetails").path("targetVmId").isNull()).as("no recovered VM").isTrue();
        c.succeed(m.action("reProtect", "{}"));
        props = m.props();
        assertThat(props.path("protectionState").asText()).isEqualTo("Protected");
        assertThat(props.path("activeLocation").asText()).isEqualTo("Primary");
        JsonNode beat = c.heartbeatDisk(m.agent, DISK);
        assertThat(beat.path("replicate").asBoolean()).isTrue();
        assertThat(beat.path("nextSequence").asLong()).as("where the failback left the replica")
                .isEqualTo(disk.path("nextSequence").asLong());
    }

    @Test
    void vmMovedFromGovernmentToPublicHasNoDirectFailback() throws Exception {
        // Seed 001: an Azure VM in US Gov Virginia replicated as a physical server to a vault in West US.
        FailoverMachine m = new FailoverMachine(c, "gov", "usgovvirginia");
        byte[] moved = m.change(12);
        c.awaitItem(m.site, m.item, "Protected", i -> i.path("properties").path("protectionState").asText().equals("Protected"));
        c.succeed(m.action("unplannedFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\","
                + "\"sourceSiteOperations\":\"NotRequired\"}}"));
        c.succeed(m.action("failoverCommit", null));
        assertThat(downloadOsDisk(m.vmId("gov-vm"))).isEqualTo(moved);
        JsonNode error = assertError(m.action("reProtect", "{}"), 409, "ReprotectAfterMoveNotSupported");
        assertThat(error.path("message").asText()).contains("usgovvirginia", "Enable replication again");
        assertThat(m.props().path("protectionState").asText()).isEqualTo("PlannedFailoverStatesBegin");
    }

    @Test
    void aFailedFailoverRollsBackAndARestartStartsOver() throws Exception {
        FailoverMachine m = new FailoverMachine(c, "rbk");
        byte[] content = m.change(8);
        c.awaitItem(m.site, m.item, "Protected", i -> i.path("properties").path("protectionState").asText().equals("Protected"));
        // The user already has a disk with the name the recovered VM's disk would get.
        String theirs = m.group + "/providers/Microsoft.Compute/disks/rbk-vm-disk0";
        expect(c.api.put(theirs + "?" + DISKS, "{\"location\":\"westus\",\"properties\":{"
                + "\"creationData\":{\"createOption\":\"Empty\"},\"diskSizeGB\":1}}"), 200);

        HttpResponse<String> accepted = m.action("unplannedFailover", "{\"properties\":{\"failoverDirection\":"
                + "\"PrimaryToRecovery\",\"sourceSiteOperations\":\"NotRequired\"}}");
        JsonNode job = c.job(m.site, accepted);
        assertThat(job.path("properties").path("state").asText()).isEqualTo("Failed");
        assertThat(job.path("properties").path("errors").get(0).path("serviceErrorDetails").path("code").asText())
                .isEqualTo("FailoverResourceExists");
        JsonNode props = m.props();
        assertThat(props.path("protectionState").asText()).as("rolled back").isEqualTo("Protected");
        assertThat(props.path("activeLocation").asText()).isEqualTo("Primary");
        assertThat(c.heartbeatDisk(m.agent, DISK).path("replicate").asBoolean()).as("replicating again").isTrue();
        assertThat(c.api.getOk(theirs + "?" + DISKS).path("name").asText()).as("the user's disk is untouched")
                .isEqualTo("rbk-vm-disk0");

        // The user removes the obstacle and restarts the job: it starts over and completes.
        expect(c.api.delete(theirs + "?" + DISKS), 200);
        String status = accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow();
        String jobId = status.substring(status.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
        expect(c.api.post(m.site.vault() + "/replicationJobs/" + jobId + "/restart?" + RS, null), 200);
        JsonNode again = Arm.await("restarted job", Duration.ofSeconds(60), Duration.ofMillis(200),
                () -> c.api.getOk(m.site.vault() + "/replicationJobs/" + jobId + "?" + RS),
                j -> List.of("Succeeded", "Failed").contains(j.path("properties").path("state").asText()));
        assertThat(again.path("properties").path("state").asText()).as("%s", again).isEqualTo("Succeeded");
        assertThat(m.props().path("protectionState").asText()).isEqualTo("UnplannedFailoverCommitPendingStatesBegin");
        assertThat(downloadOsDisk(m.vmId("rbk-vm"))).isEqualTo(content);
    }

    @Test
    void withoutATargetNetworkFailoverCreatesOneForTheItem() throws Exception {
        FailoverMachine m = FailoverMachine.withoutTargetNetwork(c, "net");
        byte[] content = m.change(6);
        c.awaitItem(m.site, m.item, "Protected", i -> i.path("properties").path("protectionState").asText().equals("Protected"));
        c.succeed(m.action("unplannedFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\","
                + "\"sourceSiteOperations\":\"NotRequired\"}}"));
        JsonNode vm = c.api.getOk(m.vmId("net-vm") + "?" + COMPUTE);
        String nic = vm.path("properties").path("networkProfile").path("networkInterfaces").get(0).path("id").asText();
        String auto = m.group + "/providers/Microsoft.Network/virtualNetworks/net-item-recovery-vnet";
        assertThat(c.api.getOk(nic + "?" + NETWORK).path("properties").path("ipConfigurations").get(0).path("properties")
                .path("subnet").path("id").asText()).isEqualToIgnoringCase(auto + "/subnets/default");
        assertThat(c.api.getOk(auto + "?" + NETWORK).path("tags").path("secondsite-protected-item").asText())
                .isEqualTo("net-item");
        assertThat(downloadOsDisk(m.vmId("net-vm"))).isEqualTo(content);
    }
}
