package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.CliRunner;
import dev.secondsite.testing.LoggedInCliTest;
import dev.secondsite.testing.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.cli.ProtectionCliTest.args;
import static dev.secondsite.cli.ProtectionCliTest.ok;
import static dev.secondsite.cli.ProtectionCliTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The failover commands (item test-failover, cleanup-test-failover, failover, commit, reprotect), item show's
 * failover columns and job show's tasks, against a real in-process server: a machine protected by the in-process
 * agent with an Azure target (resource group, recovery and test networks, storage account), and the recovered
 * VMs' disks downloaded and compared with the source disk at the chosen point.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class FailoverCliTest extends LoggedInCliTest {
    private void agent(String... more) {
        List<String> all = new ArrayList<>(List.of("agent", "--once", "--server", server.baseUrl(),
                "--data-dir", server.dataDir().toString()));
        all.addAll(List.of(more));
        ok(all.toArray(String[]::new));
    }

    /** Deallocates a VM and downloads its OS disk's bytes (no VHD footer) through the CLI. */
    private byte[] osDisk(String vm, String group) throws Exception {
        ok("vm", "deallocate", vm, "-g", group);
        String diskId = ok("vm", "show", vm, "-g", group, "-o", "json").json()
                .at("/properties/storageProfile/osDisk/managedDisk/id").asText();
        Path file = temp.resolve(vm + ".raw");
        ok("disk", "download", diskId.substring(diskId.lastIndexOf('/') + 1), file.toString(), "-g", group, "--raw");
        return Files.readAllBytes(file);
    }

    @Test
    void testFailoverCleanupFailoverCommitAndTheirRefusals() throws Exception {
        List<String> v = ProtectionCliTest.site();
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String target = "rg-target-" + suffix;
        String prodNet = "prod-" + suffix;
        String testNet = "test-" + suffix;
        ok("group", "create", target, "-l", "westus");
        ok("network", "vnet", "create", prodNet, "-g", target, "-l", "westus", "--address-prefix", "10.1.0.0/16",
                "--subnet", "default=10.1.0.0/24");
        ok("network", "vnet", "create", testNet, "-g", target, "-l", "westus", "--address-prefix", "10.2.0.0/16",
                "--subnet", "default=10.2.0.0/24");
        String storage = ok("storage", "create", "st" + suffix, "-g", target, "-l", "westus", "-o", "json").json()
                .path("id").asText();
        String groupId = ok("group", "show", target, "-o", "json").json().path("id").asText();
        String prodNetId = ok("network", "vnet", "show", prodNet, "-g", target, "-o", "json").json().path("id").asText();

        // A protected machine with two points: the disk as first replicated, then with a change.
        Path key = temp.resolve("key.json");
        ok(args(v, "fabric", "registration-key", "cs", "--file", key.toString()));
        Path disk = temp.resolve("disk.raw");
        byte[] bytes = new byte[4 << 20];
        new Random(11).nextBytes(bytes);
        Files.write(disk, bytes);
        Path state = temp.resolve("agent-state");
        agent("--registration-key-file", key.toString(), "--name", "m1", "--state-dir", state.toString(),
                "--disk", disk.toString());
        ok(args(v, "item", "enable", "m1", "--fabric", "cs", "--container", "cs-c", "--machine", "m1", "--policy", "pol",
                "--storage-account", storage, "--network", prodNetId, "--subnet", "default", "--target-vm-name", "m1-vm",
                "--target-resource-group", groupId, "--vm-size", "Standard_B2s"));
        agent("--state-dir", state.toString(), "--disk", disk.toString());
        ok(args(v, "item", "wait-protected", "m1", "--timeout-seconds", "60", "--interval-seconds", "1"));
        byte[] atFirst = bytes.clone();
        byte[] change = new byte[65536];
        new Random(12).nextBytes(change);
        System.arraycopy(change, 0, bytes, 2 << 20, change.length);
        Files.write(disk, bytes);
        agent("--state-dir", state.toString(), "--disk", disk.toString());
        JsonNode points = ok(args(v, "point", "list", "--item", "m1", "-o", "json")).json().path("value");
        assertThat(points).hasSize(2);
        String firstPoint = points.get(1).path("name").asText(); // newest first

        Run shown = ok(args(v, "item", "show", "m1"));
        assertThat(shown.out()).contains("STATE", "ACTIVE LOCATION", "TEST FAILOVER", "ALLOWED OPERATIONS",
                "LAST FAILOVER", "RECOVERED VM", "Protected", "Primary",
                "PlannedFailover,UnplannedFailover,DisableProtection,TestFailover,RepairReplication");

        // The state machine's 409 is the ARM code and message, exit code 1.
        Run commitTooEarly = run(args(v, "item", "commit", "m1"));
        assertThat(commitTooEarly.exit()).as(commitTooEarly.toString()).isEqualTo(1);
        assertThat(commitTooEarly.err()).startsWith("secondsite: OperationNotAllowedInCurrentState: Commit is not "
                + "allowed while 'm1' is Protected");
        // Usage errors (exit 2) before any request; the production network is refused by the server (exit 1).
        assertThat(run(args(v, "item", "test-failover", "m1", "--network", testNet, "--point", firstPoint,
                "--point-type", "Latest")).exit()).isEqualTo(2);
        assertThat(run(args(v, "item", "test-failover", "m1", "--network", testNet, "--point-type", "Newest")).exit())
                .isEqualTo(2);
        assertThat(run(args(v, "item", "failover", "m1", "--planned", "--point-type", "Latest")).exit()).isEqualTo(2);
        Run production = run(args(v, "item", "test-failover", "m1", "--network", prodNet));
        assertThat(production.exit()).isEqualTo(1);
        assertThat(production.err()).contains("TestFailoverNetworkIsProductionNetwork");
        Run noSuchNet = run(args(v, "item", "test-failover", "m1", "--network", "nowhere-" + suffix));
        assertThat(noSuchNet.exit()).isEqualTo(1);
        assertThat(noSuchNet.err()).contains("NotFound", "nowhere-" + suffix);

        // Test failover into the test network (by name) from the first point.
        Run tested = ok(args(v, "item", "test-failover", "m1", "--network", testNet, "--point", firstPoint,
                "-o", "json"));
        assertThat(tested.err()).contains("Test failover 'm1'");
        JsonNode props = tested.json().path("properties");
        assertThat(props.path("protectionState").asText()).isEqualTo("Protected");
        assertThat(props.path("testFailoverState").asText()).isEqualTo("WaitingForCompletion");
        assertThat(props.path("failoverRecoveryPointId").asText()).endsWithIgnoringCase("/" + firstPoint);
        String testVm = props.at("/providerSpecificDetails/testFailoverVmId").asText();
        assertThat(testVm).endsWithIgnoringCase("/virtualMachines/m1-vm-test");
        assertThat(ok(args(v, "item", "show", "m1")).out()).contains("WaitingForCompletion",
                "TestFailoverCleanup,DisableProtection", testVm + " (test)");
        assertThat(osDisk("m1-vm-test", target)).isEqualTo(atFirst);

        Run plannedDuringTest = run(args(v, "item", "failover", "m1", "--planned"));
        assertThat(plannedDuringTest.exit()).isEqualTo(1);
        assertThat(plannedDuringTest.err()).contains("OperationNotAllowedInCurrentState", "PlannedFailover is not allowed",
                "WaitingForCompletion", "Allowed now: TestFailoverCleanup, DisableProtection");

        Run cleaned = ok(args(v, "item", "cleanup-test-failover", "m1", "--comments", "boots fine", "-o", "json"));
        assertThat(cleaned.json().at("/properties/testFailoverState").asText()).isEqualTo("None");
        assertThat(cleaned.json().at("/properties/providerSpecificDetails/testFailoverVmId").isNull()).isTrue();
        assertThat(run("vm", "show", "m1-vm-test", "-g", target).exit()).isEqualTo(1);

        // job show lists the cleanup job's tasks; the notes are on the job.
        String cleanupJob = null;
        for (JsonNode job : ok(args(v, "job", "list", "-o", "json")).json().path("value")) {
            if (job.at("/properties/scenarioName").asText().equals("TestFailoverCleanup")) {
                cleanupJob = job.path("name").asText();
            }
        }
        assertThat(cleanupJob).isNotNull();
        Run job = ok(args(v, "job", "show", cleanupJob));
        assertThat(job.out()).contains("TASK", "Prerequisites check for test failover cleanup",
                "Delete the test failover virtual machine, disks and network interface", "Succeeded");
        assertThat(job.out()).doesNotContain("LEVEL");
        assertThat(ok(args(v, "job", "show", cleanupJob, "-o", "json")).json()
                .at("/properties/customDetails/comments").asText()).isEqualTo("boots fine");

        // Unplanned failover (--no-wait: the job id), from the newest point; then commit.
        Run started = ok(args(v, "item", "failover", "m1", "--no-wait"));
        String failoverJob = started.out().strip();
        assertThat(failoverJob).doesNotContain("\n").isNotEmpty();
        ok(args(v, "job", "wait", failoverJob, "--timeout-seconds", "120"));
        Run failedOver = ok(args(v, "item", "show", "m1"));
        assertThat(failedOver.out()).contains("UnplannedFailoverCommitPendingStatesBegin", "Recovery",
                "Commit,DisableProtection", "/virtualMachines/m1-vm");
        Run committed = ok(args(v, "item", "commit", "m1", "-o", "json"));
        props = committed.json().path("properties");
        assertThat(props.path("protectionState").asText()).isEqualTo("PlannedFailoverStatesBegin");
        assertThat(props.path("activeLocation").asText()).isEqualTo("Recovery");
        assertThat(props.path("lastSuccessfulFailoverTime").asText()).isNotBlank();
        assertThat(props.path("allowedOperations")).extracting(JsonNode::asText)
                .containsExactly("ReverseReplicate", "DisableProtection");
        assertThat(props.at("/providerSpecificDetails/targetVmId").asText()).endsWithIgnoringCase("/virtualMachines/m1-vm");
        assertThat(osDisk("m1-vm", target)).isEqualTo(bytes);

        Run refused = run(args(v, "item", "reprotect", "m1", "--failback-machine", "/subscriptions/x/nothing"));
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).startsWith("secondsite: FailbackMachineNotFound: ");
        Run reprotected = ok(args(v, "item", "reprotect", "m1", "-o", "json"));
        assertThat(reprotected.json().at("/properties/activeLocation").asText()).isEqualTo("Recovery");
        assertThat(reprotected.json().at("/properties/allowedOperations/0").asText()).isEqualTo("PlannedFailover");
    }
}
