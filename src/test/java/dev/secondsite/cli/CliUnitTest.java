package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The CLI's pure parts: table layout, policy settings per type, tags, error bodies. */
class CliUnitTest {

    private static JsonNode json(String text) throws Exception {
        return ApiClient.JSON.readTree(text);
    }

    @Test
    void tableAlignsColumnsAndListsTheValueArray() throws Exception {
        JsonNode list = json("{\"value\":[{\"name\":\"a\",\"properties\":{\"state\":\"Paired\"}},"
                + "{\"name\":\"longer-name\",\"properties\":{}}]}");
        StringWriter out = new StringWriter();
        Output.print(new PrintWriter(out), Output.Format.table, list, List.of(
                Output.Column.at("NAME", "/name"), Output.Column.at("STATE", "/properties/state")));
        assertThat(out.toString().split("\\R")).containsExactly(
                "NAME         STATE",
                "a            Paired",
                "longer-name");
    }

    @Test
    void jsonOutputIsTheResourceAsIs() throws Exception {
        JsonNode resource = json("{\"id\":\"/x\",\"name\":\"n\",\"value\":[1]}");
        StringWriter out = new StringWriter();
        Output.print(new PrintWriter(out), Output.Format.json, resource, List.of());
        assertThat(json(out.toString())).isEqualTo(resource);
        // A resource that happens to have a "value" field is still one row.
        assertThat(Output.rows(resource)).containsExactly(resource);
    }

    @Test
    void policySettingsFollowEachTypesFieldNamesAndUnits() {
        PolicyCommands.Settings s = new PolicyCommands.Settings();
        s.retentionHours = 24;
        s.appConsistentMinutes = 120;
        ObjectNode a2a = s.input("A2A", true);
        assertThat(a2a.path("recoveryPointHistory").asInt()).isEqualTo(1440);
        assertThat(a2a.path("appConsistentFrequencyInMinutes").asInt()).isEqualTo(120);
        assertThat(a2a.path("multiVmSyncStatus").asText()).isEqualTo("Disable");
        assertThat(s.input("A2A", false).has("multiVmSyncStatus")).isFalse();

        ObjectNode rcm = s.input("InMageRcm", true);
        assertThat(rcm.path("recoveryPointHistoryInMinutes").asInt()).isEqualTo(1440);
        assertThat(rcm.has("multiVmSyncStatus")).isFalse();

        ObjectNode hyperV = s.input("HyperVReplicaAzure", true);
        assertThat(hyperV.path("recoveryPointHistoryDuration").asInt()).isEqualTo(24);
        assertThat(hyperV.path("applicationConsistentSnapshotFrequencyInHours").asInt()).isEqualTo(2);

        s.rpoThresholdMinutes = 30;
        assertThat(s.input("InMageAzureV2", true).path("recoveryPointThresholdInMinutes").asInt()).isEqualTo(30);
        assertThatThrownBy(() -> s.input("A2A", true)).isInstanceOfSatisfying(CliException.class,
                e -> assertThat(e.exitCode()).isEqualTo(CliException.USAGE));
        s.rpoThresholdMinutes = null;
        s.appConsistentMinutes = 90;
        assertThatThrownBy(() -> s.input("HyperVReplicaAzure", true)).hasMessageContaining("multiple of 60");
    }

    @Test
    void tagsAndErrorBodies() {
        assertThat(Options.tags(List.of("a=b", "c="))).containsEntry("a", "b").containsEntry("c", "");
        assertThatThrownBy(() -> Options.tags(List.of("nope"))).hasMessageContaining("KEY=VALUE");

        assertThat(ApiClient.error(400, "{\"error\":{\"code\":\"Bad\",\"message\":\"Why.\"}}").getMessage())
                .isEqualTo("Bad: Why.");
        assertThat(ApiClient.error(401, "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS1: no\"}")
                .getMessage()).isEqualTo("invalid_client: AADSTS1: no");
        assertThat(ApiClient.error(502, "").getMessage()).startsWith("HttpError502: ");
        assertThat(ApiClient.lastSegment("https://h:1/a/replicationOperationStatus/j-1?api-version=x"))
                .isEqualTo("j-1");
    }

    @Test
    void jobShowListsTasksThenErrorsAndWarnings() throws Exception {
        JsonNode job = json("{\"properties\":{\"tasks\":[{\"friendlyName\":\"Shut down the source machine\","
                + "\"state\":\"Succeeded\",\"startTime\":\"t1\",\"endTime\":\"t2\"},{\"friendlyName\":"
                + "\"Start the virtual machine\",\"state\":\"NotStarted\"}],\"errors\":[{\"errorLevel\":\"Warning\","
                + "\"serviceErrorDetails\":{\"code\":\"SourceShutdownFailed\",\"message\":\"refused\"}}]}}");
        StringWriter out = new StringWriter();
        JobCommands.printTasksAndErrors(new PrintWriter(out), job);
        assertThat(out.toString().split("\\R")).containsExactly(
                "",
                "TASK                          STATE       START  END",
                "Shut down the source machine  Succeeded   t1     t2",
                "Start the virtual machine     NotStarted",
                "",
                "LEVEL    CODE                  MESSAGE",
                "Warning  SourceShutdownFailed  refused");

        StringWriter none = new StringWriter();
        JobCommands.printTasksAndErrors(new PrintWriter(none), json("{\"properties\":{\"tasks\":[],\"errors\":[]}}"));
        assertThat(none.toString()).doesNotContain("LEVEL");
    }

    @Test
    void everyTableThatShowsRpoGivesItsUnit() throws Exception {
        JsonNode item = json("{\"id\":\"/i\",\"name\":\"web01\",\"properties\":{\"providerSpecificDetails\":"
                + "{\"currentRpoSeconds\":12}}}");
        for (List<Output.Column> table : List.of(ProtectionCommands.ITEM_TABLE, FailoverCommands.ITEM_DETAIL_TABLE)) {
            StringWriter out = new StringWriter();
            Output.print(new PrintWriter(out), Output.Format.table, item, table);
            String[] lines = out.toString().split("\\R");
            int column = lines[0].indexOf("RPO (s)");
            assertThat(column).as(lines[0]).isNotNegative();
            assertThat(lines[1].substring(column).split(" ")[0]).isEqualTo("12");
        }
    }

    @Test
    void recoveredVmIsTheFailoverVmElseTheTestVm() throws Exception {
        assertThat(FailoverCommands.recoveredVm(json("{\"properties\":{\"providerSpecificDetails\":"
                + "{\"targetVmId\":\"/vm/a\",\"testFailoverVmId\":\"/vm/a-test\"}}}"))).isEqualTo("/vm/a");
        assertThat(FailoverCommands.recoveredVm(json("{\"properties\":{\"providerSpecificDetails\":"
                + "{\"targetVmId\":null,\"testFailoverVmId\":\"/vm/a-test\"}}}"))).isEqualTo("/vm/a-test (test)");
        assertThat(FailoverCommands.recoveredVm(json("{\"properties\":{}}"))).isEmpty();
    }
}
