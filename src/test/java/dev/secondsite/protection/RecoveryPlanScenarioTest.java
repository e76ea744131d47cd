package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.server.SecondSiteServer;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.TestDirs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.protection.ProtectionClient.RS;
import static dev.secondsite.protection.ProtectionClient.expect;
import static dev.secondsite.testing.Arm.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Recovery plans through the public API: create with ASR's shape (Shutdown and Failover groups inserted), field-path
 * 400s, one plan job running group actions and each item's failover steps in group order, cleanup of every item's
 * test resources, unplanned failover and commit of all items, and a failing script failing the plan job.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class RecoveryPlanScenarioTest {
    private static final String COMPUTE = "api-version=2024-07-01";
    private static final String DISKS = "api-version=2024-03-02";
    private static final Set<String> DONE = Set.of("Succeeded", "Failed", "Cancelled");

    private SecondSiteServer server;
    private Path dataDir;
    private Path scripts;
    private ProtectionClient c;

    @BeforeAll
    void start() throws Exception {
        dataDir = Files.createTempDirectory("secondsite-plans");
        scripts = Files.createTempDirectory("secondsite-plan-scripts");
        server = SecondSiteServer.start(new SecondSiteServer.Options(dataDir, "embedded", "127.0.0.1", 0, 2, 0));
        c = new ProtectionClient("https://127.0.0.1:" + server.port(), dataDir);
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        TestDirs.deleteTree(dataDir);
        TestDirs.deleteTree(scripts);
    }

    /** A machine replicating with at least one recovery point, so it allows failovers. */
    private FailoverMachine protectedMachine(ProtectionClient.Site site, String name) throws Exception {
        FailoverMachine m = new FailoverMachine(c, site, name);
        m.change(10);
        c.awaitItem(m.site, m.item, "Protected", i -> i.path("properties").path("protectionState").asText()
                .equals("Protected"));
        c.awaitPoints(m.site, m.item, 1);
        return m;
    }

    /** An executable shell script in the scripts directory. */
    private Path script(String name, String body) throws Exception {
        Path file = scripts.resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
        return file;
    }

    private static String scriptAction(String name, Path path, String timeout, String... types) {
        return "{\"actionName\":\"" + name + "\",\"failoverTypes\":[\"" + String.join("\",\"", types) + "\"],"
                + "\"failoverDirections\":[\"PrimaryToRecovery\"],\"customDetails\":{\"instanceType\":"
                + "\"ScriptActionDetails\",\"path\":\"" + path + "\",\"fabricLocation\":\"Recovery\""
                + (timeout == null ? "" : ",\"timeout\":\"" + timeout + "\"") + "}}";
    }

    private static String bootGroup(String start, String end, FailoverMachine... items) {
        List<String> refs = new ArrayList<>();
        for (FailoverMachine m : items) {
            refs.add("{\"id\":\"" + m.id() + "\",\"virtualMachineId\":\"" + m.item + "\"}");
        }
        return "{\"groupType\":\"Boot\",\"replicationProtectedItems\":[" + String.join(",", refs) + "],"
                + "\"startGroupActions\":[" + start + "],\"endGroupActions\":[" + end + "]}";
    }

    private static String planBody(ProtectionClient.Site site, String... groups) {
        return "{\"properties\":{\"primaryFabricId\":\"" + site.fabric() + "\",\"recoveryFabricId\":\"Microsoft Azure\","
                + "\"failoverDeploymentModel\":\"ResourceManager\",\"groups\":[" + String.join(",", groups) + "]}}";
    }

    private String plan(ProtectionClient.Site site, String name) {
        return site.vault() + "/replicationRecoveryPlans/" + name;
    }

    private HttpResponse<String> planAction(String plan, String action, String body) throws Exception {
        return c.api.post(plan + "/" + action + "?" + RS, body);
    }

    /** Waits (up to 3 minutes: a plan fails over its items one after the other) for the plan job to end. */
    private JsonNode job(ProtectionClient.Site site, HttpResponse<String> accepted) throws Exception {
        expect(accepted, 202);
        String status = accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow();
        String path = URI.create(status).getPath();
        String id = path.substring(path.lastIndexOf('/') + 1);
        return Arm.await("plan job " + id, Duration.ofMinutes(3), Duration.ofMillis(200),
                () -> c.api.getOk(site.vault() + "/replicationJobs/" + id + "?" + RS),
                j -> DONE.contains(j.path("properties").path("state").asText()));
    }

    private static List<String> texts(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(field == null ? n.asText() : n.path(field).asText()));
        return out;
    }

    @Test
    void createShowsAsrShapeAndBadInputIsRefusedByField() throws Exception {
        ProtectionClient.Site site = c.site("rpshape", 1440);
        FailoverMachine a = protectedMachine(site, "rpsa");
        FailoverMachine b = protectedMachine(site, "rpsb");
        Path marker = script("noop.sh", "true");
        String plan = plan(site, "plan1");

        // Unknown item, an item in two groups, a runbook action, a bad group type, a fabric of no vault: 400s.
        String unknown = site.item("nosuch-item");
        JsonNode e = assertError(c.api.put(plan + "?" + RS, planBody(site, "{\"groupType\":\"Boot\","
                + "\"replicationProtectedItems\":[{\"id\":\"" + unknown + "\"}]}")), 400, "ProtectedItemNotFound");
        assertThat(e.path("target").asText()).isEqualTo("properties.groups[0].replicationProtectedItems[0].id");
        e = assertError(c.api.put(plan + "?" + RS, planBody(site, bootGroup("", "", a), bootGroup("", "", b, a))),
                400, "ProtectedItemInMultipleGroups");
        assertThat(e.path("target").asText()).isEqualTo("properties.groups[1].replicationProtectedItems[1].id");
        assertThat(e.path("message").asText()).contains("properties.groups[0].replicationProtectedItems[0].id");
        e = assertError(c.api.put(plan + "?" + RS, planBody(site, bootGroup("{\"actionName\":\"rb\",\"failoverTypes\":"
                + "[\"TestFailover\"],\"failoverDirections\":[\"PrimaryToRecovery\"],\"customDetails\":{\"instanceType\":"
                + "\"AutomationRunbookActionDetails\",\"runbookId\":\"x\",\"fabricLocation\":\"Recovery\"}}", "", a))),
                400, "AutomationRunbookNotSupported");
        assertThat(e.path("target").asText()).isEqualTo("properties.groups[0].startGroupActions[0].customDetails.instanceType");
        e = assertError(c.api.put(plan + "?" + RS, planBody(site, "{\"groupType\":\"Reboot\"}")), 400,
                "InvalidRequestContent");
        assertThat(e.path("target").asText()).isEqualTo("properties.groups[0].groupType");
        e = assertError(c.api.put(plan + "?" + RS, planBody(site, bootGroup(scriptAction("s", marker, "forever",
                "TestFailover"), "", a))), 400, "InvalidRequestContent");
        assertThat(e.path("target").asText()).isEqualTo("properties.groups[0].startGroupActions[0].customDetails.timeout");
        // A script action names an executable file on the server, never a command line.
        e = assertError(c.api.put(plan + "?" + RS, planBody(site, bootGroup("", scriptAction("s", Path.of(marker
                + " && rm -rf ~"), null, "TestFailover"), a))), 400, "InvalidRequestContent");
        assertThat(e.path("target").asText()).isEqualTo("properties.groups[0].endGroupActions[0].customDetails.path");
        e = assertError(c.api.put(plan + "?" + RS, planBody(site, bootGroup("", scriptAction("s",
                scripts.resolve("absent.sh"), null, "TestFailover"), a))), 400, "ScriptNotFound");
        assertThat(e.path("target").asText()).isEqualTo("properties.groups[0].endGroupActions[0].customDetails.path");
        e = assertError(c.api.put(plan + "?" + RS, planBody(site, bootGroup("", "", a)).replace(site.fabric(),
                site.vault() + "/replicationFabrics/nosuch")), 400, "FabricNotFound");
        assertThat(e.path("target").asText()).isEqualTo("properties.primaryFabricId");
        assertError(c.api.get(plan + "?" + RS), 404, "ResourceNotFound");

        // Two items in two Boot groups with a script action: ASR's shape, Shutdown and Failover groups first.
        c.succeed(c.api.put(plan + "?" + RS, planBody(site, bootGroup(scriptAction("prep", marker, "60", "TestFailover"),
                "", a), bootGroup("", "", b))));
        JsonNode body = c.api.getOk(plan + "?" + RS);
        assertThat(body.path("type").asText()).isEqualTo("Microsoft.RecoveryServices/vaults/replicationRecoveryPlans");
        assertThat(body.path("name").asText()).isEqualTo("plan1");
        JsonNode p = body.path("properties");
        assertThat(p.path("friendlyName").asText()).isEqualTo("plan1");
        assertThat(p.path("primaryFabricId").asText()).isEqualTo(site.fabric());
        assertThat(p.path("primaryFabricFriendlyName").asText()).isNotEmpty();
        assertThat(p.path("recoveryFabricId").asText()).isEqualTo("Microsoft Azure");
        assertThat(p.path("recoveryFabricFriendlyName").asText()).isEqualTo("Microsoft Azure");
        assertThat(p.path("failoverDeploymentModel").asText()).isEqualTo("ResourceManager");
        assertThat(texts(p.path("replicationProviders"), null)).containsExactly("InMageAzureV2");
        assertThat(texts(p.path("allowedOperations"), null))
                .containsExactly("PlannedFailover", "UnplannedFailover", "TestFailover");
        assertThat(texts(p.path("groups"), "groupType")).containsExactly("Shutdown", "Failover", "Boot", "Boot");
        assertThat(p.path("groups").get(0).path("replicationProtectedItems")).isEmpty();
        assertThat(p.path("groups").get(2).path("replicationProtectedItems").get(0).path("id").asText())
                .isEqualToIgnoringCase(a.id());
        assertThat(p.path("groups").get(3).path("replicationProtectedItems").get(0).path("virtualMachineId").asText())
                .isEqualTo(b.item);
        JsonNode action = p.path("groups").get(2).path("startGroupActions").get(0);
        assertThat(action.path("customDetails").path("path").asText()).isEqualTo(marker.toString());
        assertThat(action.path("customDetails").path("instanceType").asText()).isEqualTo("ScriptActionDetails");
        assertThat(c.api.getOk(site.vault() + "/replicationRecoveryPlans?" + RS).path("value")).hasSize(1);

        // PATCH changes the groups only: both items in one Boot group now.
        c.succeed(c.api.patch(plan + "?" + RS, "{\"properties\":{\"groups\":[" + bootGroup("", "", b, a) + "]}}"));
        p = c.api.getOk(plan + "?" + RS).path("properties");
        assertThat(texts(p.path("groups"), "groupType")).containsExactly("Shutdown", "Failover", "Boot");
        assertThat(texts(p.path("groups").get(2).path("replicationProtectedItems"), "virtualMachineId"))
                .containsExactly(b.item, a.item);
        assertThat(p.path("primaryFabricId").asText()).isEqualTo(site.fabric());

        HttpResponse<String> deleted = c.api.delete(plan + "?" + RS);
        expect(deleted, 202);
        c.succeed(deleted);
        assertError(c.api.get(plan + "?" + RS), 404, "ResourceNotFound");
        expect(c.api.delete(plan + "?" + RS), 204);
    }

    @Test
    void planTestFailoverCleanupThenFailoverAndCommitRunGroupsInOrder() throws Exception {
        ProtectionClient.Site site = c.site("rpflow", 1440);
        FailoverMachine a = protectedMachine(site, "rpfa");
        FailoverMachine b = protectedMachine(site, "rpfb");
        Path ran = scripts.resolve("ran.txt");
        Path marker = script("marker.sh", "echo \"$SECONDSITE_RECOVERY_PLAN_NAME|$SECONDSITE_GROUP|"
                + "$SECONDSITE_FAILOVER_TYPE|$SECONDSITE_FAILOVER_DIRECTION\" >> " + ran + "\necho marker written");
        String plan = plan(site, "flow");
        String manual = "{\"actionName\":\"check-app\",\"failoverTypes\":[\"TestFailover\"],\"failoverDirections\":"
                + "[\"PrimaryToRecovery\"],\"customDetails\":{\"instanceType\":\"ManualActionDetails\","
                + "\"description\":\"Log in and check the app\"}}";
        c.succeed(c.api.put(plan + "?" + RS, planBody(site,
                bootGroup(scriptAction("marker", marker, "PT1M", "TestFailover", "UnplannedFailover"), "", a),
                bootGroup("", manual, b))));

        // Test failover of the whole plan: one job, its tasks in group order.
        assertError(planAction(plan, "testFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\","
                + "\"networkType\":\"VmNetworkAsInput\",\"networkId\":\"" + a.testNet + "\",\"providerSpecificDetails\":"
                + "[{\"instanceType\":\"InMageAzureV2\",\"recoveryPointType\":\"Sometime\"}]}}"), 400,
                "InvalidRequestContent");
        JsonNode job = job(site, planAction(plan, "testFailover", "{\"properties\":{\"failoverDirection\":"
                + "\"PrimaryToRecovery\",\"networkType\":\"VmNetworkAsInput\",\"networkId\":\"" + a.testNet + "\","
                + "\"providerSpecificDetails\":[{\"instanceType\":\"InMageAzureV2\",\"recoveryPointType\":"
                + "\"LatestProcessed\"}]}}"));
        JsonNode jp = job.path("properties");
        assertThat(jp.path("state").asText()).as(job.toString()).isEqualTo("Succeeded");
        assertThat(jp.path("stateDescription").asText()).isEqualTo("CompletedWithInformation"); // the manual action
        assertThat(jp.path("targetInstanceType").asText()).isEqualTo("RecoveryPlan");
        assertThat(texts(jp.path("tasks"), "friendlyName")).containsExactly(
                "Prerequisites check for test failover of the recovery plan",
                "Group 1 (start): script 'marker'",
                "Group 1: Test failover of 'rpfa-item'",
                "Group 2: Test failover of 'rpfb-item'",
                "Group 2 (end): manual action 'check-app'",
                "Complete test failover of the recovery plan");
        assertThat(texts(jp.path("tasks"), "state")).containsOnly("Succeeded");
        for (JsonNode t : jp.path("tasks")) {
            assertThat(t.path("startTime").asText()).isNotEmpty();
            assertThat(t.path("endTime").asText()).isNotEmpty();
        }
        JsonNode scriptTask = jp.path("tasks").get(1);
        assertThat(scriptTask.path("customDetails").path("instanceType").asText()).isEqualTo("ScriptActionTaskDetails");
        assertThat(scriptTask.path("customDetails").path("output").asText()).isEqualTo("marker written");
        JsonNode itemTask = jp.path("tasks").get(2);
        assertThat(texts(itemTask.path("groupTaskCustomDetails").path("childTasks"), "name")).containsExactly(
                "PrerequisitesCheck", "ChooseRecoveryPoint", "CreateDisks", "CreateNetworkInterface",
                "StartVirtualMachine", "CompleteTestFailover");
        JsonNode manualTask = jp.path("tasks").get(4);
        assertThat(manualTask.path("errors").get(0).path("serviceErrorDetails").path("message").asText())
                .isEqualTo("Manual action: Log in and check the app");
        assertThat(manualTask.path("errors").get(0).path("errorLevel").asText()).isEqualTo("Warning");
        // The script ran once, before the first group's item, with the plan's context.
        assertThat(Files.readAllLines(ran)).containsExactly("flow|Group 1|TestFailover|PrimaryToRecovery");
        assertThat(time(scriptTask.path("endTime")).compareTo(time(itemTask.path("startTime")))).isLessThanOrEqualTo(0);
        assertThat(time(itemTask.path("endTime")).compareTo(time(jp.path("tasks").get(3).path("startTime"))))
                .isLessThanOrEqualTo(0);

        for (FailoverMachine m : List.of(a, b)) {
            JsonNode props = m.props();
            assertThat(props.path("testFailoverState").asText()).isEqualTo("WaitingForCompletion");
            assertThat(props.path("currentScenario").path("jobId").asText()).isNotEmpty();
            JsonNode vm = c.api.getOk(m.vmId(m.item.replace("-item", "-vm-test")) + "?" + COMPUTE);
            String nic = vm.path("properties").path("networkProfile").path("networkInterfaces").get(0).path("id").asText();
            assertThat(c.api.getOk(nic + "?" + FailoverMachine.NETWORK).path("properties").path("ipConfigurations").get(0)
                    .path("properties").path("subnet").path("id").asText()).startsWith(a.testNet + "/subnets/");
        }
        JsonNode p = c.api.getOk(plan + "?" + RS).path("properties");
        assertThat(texts(p.path("allowedOperations"), null)).containsExactly("TestFailoverCleanup");
        assertThat(p.path("lastTestFailoverTime").asText()).isNotEmpty();
        assertThat(p.path("currentScenario").path("scenarioName").asText()).isEqualTo("TestFailover");
        assertThat(p.path("currentScenario").path("jobId").asText()).isEqualTo(job.path("id").asText());
        assertThat(p.path("currentScenarioStatus").asText()).isEqualTo("Succeeded");

        // A second test failover is refused while the tests wait for cleanup: 409 naming an item.
        assertError(planAction(plan, "testFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\","
                + "\"networkType\":\"VmNetworkAsInput\",\"networkId\":\"" + a.testNet + "\"}}"), 409,
                "OperationNotAllowedInCurrentState");

        // Cleanup of the plan: every item's test VM, NIC and disks are gone, the notes are on the job.
        JsonNode cleanup = job(site, planAction(plan, "testFailoverCleanup",
                "{\"properties\":{\"comments\":\"both apps answered\"}}"));
        assertThat(cleanup.path("properties").path("state").asText()).as(cleanup.toString()).isEqualTo("Succeeded");
        assertThat(cleanup.path("properties").path("customDetails").path("comments").asText())
                .isEqualTo("both apps answered");
        assertThat(Files.readAllLines(ran)).hasSize(1); // the script is for TestFailover/UnplannedFailover only
        for (FailoverMachine m : List.of(a, b)) {
            assertThat(m.props().path("testFailoverState").asText()).isEqualTo("None");
            assertError(c.api.get(m.vmId(m.item.replace("-item", "-vm-test")) + "?" + COMPUTE), 404, "ResourceNotFound");
            assertThat(c.api.getOk(m.group + "/providers/Microsoft.Compute/disks?" + DISKS).path("value")).isEmpty();
            assertThat(c.api.getOk(m.group + "/providers/Microsoft.Network/networkInterfaces?" + FailoverMachine.NETWORK)
                    .path("value")).isEmpty();
        }
        assertThat(texts(c.api.getOk(plan + "?" + RS).path("properties").path("allowedOperations"), null))
                .containsExactly("PlannedFailover", "UnplannedFailover", "TestFailover");

        // Unplanned failover of the plan, then commit: both items recovered and committed.
        assertError(planAction(plan, "unplannedFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\"}}"),
                400, "MissingRequiredProperty");
        JsonNode failover = job(site, planAction(plan, "unplannedFailover", "{\"properties\":{\"failoverDirection\":"
                + "\"PrimaryToRecovery\",\"sourceSiteOperations\":\"NotRequired\"}}"));
        assertThat(failover.path("properties").path("state").asText()).as(failover.toString()).isEqualTo("Succeeded");
        assertThat(Files.readAllLines(ran)).containsExactly("flow|Group 1|TestFailover|PrimaryToRecovery",
                "flow|Group 1|UnplannedFailover|PrimaryToRecovery");
        for (FailoverMachine m : List.of(a, b)) {
            assertThat(m.props().path("protectionState").asText()).isEqualTo("UnplannedFailoverCommitPendingStatesBegin");
            c.api.getOk(m.vmId(m.item.replace("-item", "-vm")) + "?" + COMPUTE);
        }
        p = c.api.getOk(plan + "?" + RS).path("properties");
        assertThat(texts(p.path("allowedOperations"), null)).containsExactly("Commit");
        assertThat(p.path("lastUnplannedFailoverTime").asText()).isNotEmpty();

        JsonNode commit = job(site, planAction(plan, "failoverCommit", null));
        assertThat(commit.path("properties").path("state").asText()).as(commit.toString()).isEqualTo("Succeeded");
        for (FailoverMachine m : List.of(a, b)) {
            JsonNode props = m.props();
            assertThat(props.path("protectionState").asText()).isEqualTo("PlannedFailoverStatesBegin");
            assertThat(texts(props.path("allowedOperations"), null)).containsExactly("ReverseReplicate", "DisableProtection");
        }
        assertThat(c.api.getOk(plan + "?" + RS).path("properties").path("allowedOperations")).isEmpty();
    }

    @Test
    void failingScriptFailsThePlanJobButAShutdownGroupScriptOnlyWarns() throws Exception {
        ProtectionClient.Site site = c.site("rpfail", 1440);
        FailoverMachine a = protectedMachine(site, "rpxa");
        Path slow = script("slow.sh", "sleep 30");
        Path failing = script("failing.sh", "echo 'database not reachable' >&2\nexit 3");
        String plan = plan(site, "failing");
        c.succeed(c.api.put(plan + "?" + RS, planBody(site,
                "{\"groupType\":\"Shutdown\",\"startGroupActions\":[" + scriptAction("slow", slow, "1", "TestFailover")
                        + "]}",
                bootGroup(scriptAction("failing", failing, null, "TestFailover"), "", a))));
        JsonNode shape = c.api.getOk(plan + "?" + RS).path("properties");
        assertThat(texts(shape.path("groups"), "groupType")).containsExactly("Shutdown", "Failover", "Boot");

        long started = System.nanoTime();
        JsonNode job = job(site, planAction(plan, "testFailover", "{\"properties\":{\"failoverDirection\":"
                + "\"PrimaryToRecovery\",\"networkType\":\"VmNetworkAsInput\",\"networkId\":\"" + a.testNet + "\"}}"));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(25)); // slow.sh was stopped
        JsonNode jp = job.path("properties");
        assertThat(jp.path("state").asText()).as(job.toString()).isEqualTo("Failed");
        assertThat(texts(jp.path("tasks"), "state")).containsExactly("Succeeded", "Succeeded", "Failed", "NotStarted",
                "NotStarted");
        JsonNode shutdownTask = jp.path("tasks").get(1);
        assertThat(shutdownTask.path("friendlyName").asText()).isEqualTo("Shutdown (start): script 'slow'");
        assertThat(shutdownTask.path("errors").get(0).path("serviceErrorDetails").path("code").asText())
                .isEqualTo("ScriptActionTimedOut");
        assertThat(shutdownTask.path("errors").get(0).path("errorLevel").asText()).isEqualTo("Warning");
        JsonNode failed = jp.path("tasks").get(2);
        assertThat(failed.path("errors").get(0).path("serviceErrorDetails").path("code").asText())
                .isEqualTo("ScriptActionFailed");
        assertThat(failed.path("errors").get(0).path("serviceErrorDetails").path("message").asText())
                .contains("exited with code 3", "database not reachable");
        assertThat(jp.path("errors").get(0).path("serviceErrorDetails").path("code").asText())
                .isEqualTo("ScriptActionFailed");

        // The item was not touched; the plan shows the failed scenario and allows a new test failover.
        JsonNode props = a.props();
        assertThat(props.path("testFailoverState").asText()).isEqualTo("None");
        assertError(c.api.get(a.vmId("rpxa-vm-test") + "?" + COMPUTE), 404, "ResourceNotFound");
        JsonNode p = c.api.getOk(plan + "?" + RS).path("properties");
        assertThat(p.path("currentScenarioStatus").asText()).isEqualTo("Failed");
        assertThat(texts(p.path("allowedOperations"), null)).contains("TestFailover");
        assertThat(p.has("lastTestFailoverTime")).isFalse();

        // Once the script is fixed, restarting the job resumes at the failed step and finishes the plan.
        Files.writeString(failing, "#!/bin/sh\necho fixed\n");
        expect(c.api.post(job.path("id").asText() + "/restart?" + RS, null), 200);
        JsonNode restarted = Arm.await("restarted plan job", Duration.ofMinutes(2), Duration.ofMillis(200),
                () -> c.api.getOk(job.path("id").asText() + "?" + RS),
                j -> j.path("properties").path("state").asText().equals("Succeeded")
                        || j.path("properties").path("state").asText().equals("Failed"));
        assertThat(texts(restarted.path("properties").path("tasks"), "state")).as(restarted.toString())
                .containsOnly("Succeeded");
        assertThat(restarted.path("properties").path("tasks").get(2).path("customDetails").path("output").asText())
                .isEqualTo("fixed");
        assertThat(a.props().path("testFailoverState").asText()).isEqualTo("WaitingForCompletion");
        c.api.getOk(a.vmId("rpxa-vm-test") + "?" + COMPUTE);
        assertThat(c.api.getOk(plan + "?" + RS).path("properties").path("currentScenarioStatus").asText())
                .isEqualTo("Succeeded");
    }

    @Test
    void plannedFailoverOfAPlanShutsTheSourceDownThroughItsAgent() throws Exception {
        ProtectionClient.Site site = c.site("rpplan", 1440);
        FailoverMachine a = protectedMachine(site, "rppa");
        String plan = plan(site, "planned");
        c.succeed(c.api.put(plan + "?" + RS, planBody(site, bootGroup("", "", a))));
        assertError(planAction(plan, "plannedFailover", "{\"properties\":{\"failoverDirection\":\"RecoveryToPrimary\"}}"),
                400, "InvalidRequestContent");
        HttpResponse<String> accepted = planAction(plan, "plannedFailover",
                "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\",\"providerSpecificDetails\":[]}}");
        expect(accepted, 202);
        JsonNode answer = Arm.await("shutdown request", Duration.ofSeconds(60), Duration.ofMillis(100),
                () -> Arm.json(expect(c.heartbeat(a.agent.authorization(), "{\"agentTime\":\"" + java.time.Instant.now()
                        + "\"}"), 200)), h -> h.path("shutdown").has("requestId"));
        expect(c.heartbeat(a.agent.authorization(), "{\"agentTime\":\"" + java.time.Instant.now() + "\",\"shutdown\":"
                + "{\"requestId\":\"" + answer.path("shutdown").path("requestId").asText() + "\",\"status\":\"Completed\"}}"),
                200);
        JsonNode job = job(site, accepted);
        assertThat(job.path("properties").path("state").asText()).as(job.toString()).isEqualTo("Succeeded");
        assertThat(job.path("properties").path("stateDescription").asText()).isEqualTo("Completed");
        assertThat(texts(job.path("properties").path("tasks").get(1).path("groupTaskCustomDetails").path("childTasks"),
                "name")).contains("ShutdownSource", "StopReplication", "CompleteFailover");
        assertThat(a.props().path("protectionState").asText()).isEqualTo("PlannedFailoverCommitRequired");
        c.api.getOk(a.vmId("rppa-vm") + "?" + COMPUTE);
        JsonNode p = c.api.getOk(plan + "?" + RS).path("properties");
        assertThat(p.path("lastPlannedFailoverTime").asText()).isNotEmpty();
        assertThat(p.path("currentScenario").path("scenarioName").asText()).isEqualTo("PlannedFailover");
        assertThat(texts(p.path("allowedOperations"), null)).containsExactly("Commit");
    }

    @Test
    void aPlanRefusesToFailBackAnItemThatReplicatesBack() throws Exception {
        ProtectionClient.Site site = c.site("rpback", 1440);
        FailoverMachine m = protectedMachine(site, "rpbk");
        String plan = plan(site, "back");
        c.succeed(c.api.put(plan + "?" + RS, planBody(site, bootGroup("", "", m))));
        c.succeed(m.action("unplannedFailover", "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\","
                + "\"sourceSiteOperations\":\"NotRequired\"}}"));
        c.succeed(m.action("failoverCommit", null));
        c.succeed(m.action("reProtect", "{}"));
        assertThat(m.props().path("activeLocation").asText()).isEqualTo("Recovery");
        assertError(planAction(plan, "plannedFailover", "{\"properties\":{\"failoverDirection\":"
                + "\"RecoveryToPrimary\"}}"), 400, "InvalidRequestContent");
        JsonNode error = assertError(planAction(plan, "plannedFailover", "{\"properties\":{\"failoverDirection\":"
                + "\"PrimaryToRecovery\"}}"), 409, "PlanFailbackNotSupported");
        assertThat(error.path("message").asText()).contains("rpbk-item");
        assertThat(m.props().path("protectionState").asText()).as("nothing started").isEqualTo("Protected");
    }

    private static java.time.Instant time(JsonNode time) {
        return java.time.Instant.parse(time.asText());
    }
}
