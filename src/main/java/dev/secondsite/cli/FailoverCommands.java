package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

import static dev.secondsite.cli.ProtectionCommands.API_VERSION;

/**
 * Failover of a protected item, under {@code secondsite item ...}: test-failover, cleanup-test-failover, failover
 * (planned or unplanned), commit and reprotect. Each POSTs the item's ARM action, waits for its job (progress on
 * stderr, the job's warnings after it), then prints the item; --no-wait prints the job id instead.
 */
final class FailoverCommands {
    private FailoverCommands() {}

    /** ASR's recoveryPointType values. */
    enum PointType { Latest, LatestProcessed, LatestApplicationConsistent, LatestCrashConsistent }

    /** The item with its failover state (item show and the failover commands). */
    static final List<Output.Column> ITEM_DETAIL_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("STATE", "/properties/protectionState"),
            Output.Column.at("ACTIVE LOCATION", "/properties/activeLocation"),
            Output.Column.at("TEST FAILOVER", "/properties/testFailoverState"),
            Output.Column.at("HEALTH", "/properties/replicationHealth"),
            ProtectionCommands.RPO_COLUMN,
            Output.Column.at("ALLOWED OPERATIONS", "/properties/allowedOperations"),
            Output.Column.at("LAST FAILOVER", "/properties/lastSuccessfulFailoverTime"),
            new Output.Column("RECOVERED VM", FailoverCommands::recoveredVm));

    /** The VM a failover recovered into, else a pending test failover's VM marked "(test)". */
    static String recoveredVm(JsonNode item) {
        JsonNode details = item.at("/properties/providerSpecificDetails");
        String vm = Output.text(details.path("targetVmId"));
        if (!vm.isEmpty()) {
            return vm;
        }
        String test = Output.text(details.path("testFailoverVmId"));
        return test.isEmpty() ? "" : test + " (test)";
    }

    /** --point or --point-type (at most one). */
    static final class PointChoice {
        @Option(names = "--point", paramLabel = "POINT",
                description = "Recovery point to recover from: its name (as `point list` shows) or ARM id.")
        String point;
        @Option(names = "--point-type", paramLabel = "TYPE",
                description = "The newest point of a kind instead: ${COMPLETION-CANDIDATES} (default: the server's, "
                        + "LatestProcessed).")
        PointType type;

        boolean given() {
            return point != null || type != null;
        }

        void validate() {
            if (point != null && type != null) {
                throw CliException.usage("give --point or --point-type, not both");
            }
        }

        /** {instanceType, recoveryPointId | recoveryPointType}. */
        ObjectNode details(ApiClient api, String itemPath) {
            ObjectNode details = ApiClient.JSON.createObjectNode().put("instanceType", "InMageAzureV2");
            if (point != null) {
                String id = point.contains("/") ? point
                        : api.get(ApiCommand.versioned(itemPath, API_VERSION)).path("id").asText()
                        + "/recoveryPoints/" + point;
                details.put("recoveryPointId", id);
            } else if (type != null) {
                details.put("recoveryPointType", type.name());
            }
            return details;
        }
    }

    /** An action on one item: POST {item}/{action}, wait for the job, report its warnings, show the item. */
    abstract static class ItemAction extends ApiCommand {
        @Parameters(paramLabel = "ITEM", description = "The protected item.") String name;
        @Mixin ProtectionCommands.Place place;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;
        @Mixin Options.Format output;

        /** The ARM action's name, e.g. testFailover. */
        abstract String action();

        /** The request body (null for none). */
        abstract JsonNode body(String itemPath);

        /** Usage checks, before any request. */
        void validate() {}

        @Override
        void run() {
            validate();
            String item = ProtectionCommands.itemPath(api, vault, place, name);
            JsonNode body = body(item);
            ApiClient.Submitted submitted = api.submit("POST", versioned(item + "/" + action(), API_VERSION), body,
                    wait.noWait);
            if (submitted.pending()) {
                out().println(submitted.jobId());
                return;
            }
            if (submitted.jobId() != null) {
                warnings(submitted.jobId());
            }
            print(output, api.get(versioned(item, API_VERSION)), ITEM_DETAIL_TABLE);
        }

        /** A job that succeeded with warnings (CompletedWithInformation): each on stderr. */
        private void warnings(String jobId) {
            JsonNode job = api.get(versioned(JobCommands.jobPath(api, vault, jobId), API_VERSION));
            for (JsonNode e : job.at("/properties/errors")) {
                if (e.path("errorLevel").asText().equals("Warning")) {
                    JsonNode details = e.path("serviceErrorDetails");
                    err().println("secondsite: warning: " + details.path("code").asText() + ": "
                            + details.path("message").asText());
                }
            }
            err().flush();
        }
    }

    static ObjectNode properties(ObjectNode body) {
        return body.putObject("properties");
    }

    @Command(name = "test-failover", description = {"Test failover: recover the item's VM into an isolated network "
            + "(POST testFailover; waits for the job). Replication goes on; clean up with cleanup-test-failover."})
    static final class TestFailover extends ItemAction {
        @Option(names = "--network", required = true, paramLabel = "VNET",
                description = "The isolated virtual network for the test VM: ARM id, or name (looked up in the "
                        + "subscription). Must be in the vault's region and not the recovery network.")
        String network;
        @Mixin PointChoice point;

        @Override
        String action() {
            return "testFailover";
        }

        @Override
        void validate() {
            point.validate();
        }

        @Override
        JsonNode body(String itemPath) {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode p = properties(body);
            p.put("failoverDirection", "PrimaryToRecovery");
            p.put("networkType", "VmNetworkAsInput");
            p.put("networkId", networkId(api, vault, network));
            p.set("providerSpecificDetails", point.details(api, itemPath));
            return body;
        }
    }

    /** A virtual network's ARM id: the value itself when it is one, else the one network of that name. */
    static String networkId(ApiClient api, Options.Vault vault, String network) {
        if (network.startsWith("/")) {
            return network;
        }
        JsonNode all = api.list(ApiCommand.versioned(vault.subscription.path(api)
                + "/providers/Microsoft.Network/virtualNetworks", NetworkCommands.API_VERSION));
        List<String> ids = new ArrayList<>();
        all.path("value").forEach(v -> {
            if (v.path("name").asText().equalsIgnoreCase(network)) {
                ids.add(v.path("id").asText());
            }
        });
        if (ids.isEmpty()) {
            throw CliException.api("NotFound", "no virtual network '" + network + "' in subscription "
                    + api.subscription(vault.subscription.id) + ".");
        }
        if (ids.size() > 1) {
            throw CliException.usage("several virtual networks are named '" + network + "': give the ARM id of "
                    + "one of " + String.join(", ", ids));
        }
        return ids.getFirst();
    }

    @Command(name = "cleanup-test-failover", description = "End a test failover: delete the test VM, its disks and "
            + "network interface, and record the notes (POST testFailoverCleanup; waits for the job).")
    static final class CleanupTestFailover extends ItemAction {
        @Option(names = "--comments", paramLabel = "TEXT",
                description = "Notes on the test (at most 1024 characters), kept on the cleanup job.")
        String comments;

        @Override
        String action() {
            return "testFailoverCleanup";
        }

        @Override
        JsonNode body(String itemPath) {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode p = properties(body);
            if (comments != null) {
                p.put("comments", comments);
            }
            return body;
        }
    }

    @Command(name = "failover", description = {"Fail the item over to Azure: recover its VM in the recovery network "
            + "and stop replication (POST unplannedFailover, or plannedFailover with --planned; waits for the job). "
            + "Then commit, or disable replication.",
            "A planned failover shuts the source down through its agent first and uses the latest point.",
            "After reprotect (the item runs on the recovery site and replicates back), --planned is the failback: the "
                    + "recovered VM is shut down and the newest point is written back onto the primary machine."})
    static final class Failover extends ItemAction {
        @Option(names = "--planned", description = "Planned failover: shut the source down first, lose no data.")
        boolean planned;
        @Option(names = "--shutdown-source", description = "Unplanned failover: try to shut the source down first "
                + "(sourceSiteOperations Required); it goes on if that fails.")
        boolean shutdownSource;
        @Mixin PointChoice point;

        @Override
        String action() {
            return planned ? "plannedFailover" : "unplannedFailover";
        }

        @Override
        void validate() {
            if (planned && (shutdownSource || point.given())) {
                throw CliException.usage("--planned always shuts the source down and uses the latest point: "
                        + "leave out --shutdown-source, --point and --point-type");
            }
            point.validate();
        }

        @Override
        JsonNode body(String itemPath) {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode p = properties(body);
            if (!planned) { // a planned failover's direction follows the item (failback after reprotect)
                p.put("failoverDirection", "PrimaryToRecovery");
                p.put("sourceSiteOperations", shutdownSource ? "Required" : "NotRequired");
                p.set("providerSpecificDetails", point.details(api, itemPath));
            }
            return body;
        }
    }

    @Command(name = "commit", description = "Commit a failover: the recovered VM is yours from now on "
            + "(POST failoverCommit; waits for the job).")
    static final class Commit extends ItemAction {
        @Override
        String action() {
            return "failoverCommit";
        }

        @Override
        JsonNode body(String itemPath) {
            return null;
        }
    }

    @Command(name = "reprotect", description = {"After a committed failover, replicate the recovered VM back "
            + "towards the primary machine (a delta from the failover's point); after a committed failback, resume "
            + "replication from the primary machine (POST reProtect; waits for the job).",
            "--failback-machine sends the failback to another registered machine (it gets a full copy)."})
    static final class Reprotect extends ItemAction {
        @Option(names = "--failback-machine", paramLabel = "PROTECTABLE_ITEM_ID",
                description = "The protectable item id of the registered machine to fail back to (default: the "
                        + "machine that failed over).")
        String failbackMachine;

        @Override
        String action() {
            return "reProtect";
        }

        @Override
        JsonNode body(String itemPath) {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode details = properties(body).putObject("providerSpecificDetails");
            details.put("instanceType", "InMageAzureV2");
            if (failbackMachine != null) {
                details.put("failbackProtectableItemId", failbackMachine);
            }
            return body;
        }
    }
}
