package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.Locale;

/** {@code secondsite policy ...}: replication policies. */
@Command(name = "policy", description = "Manage replication policies.",
        subcommands = {PolicyCommands.Create.class, PolicyCommands.Show.class, PolicyCommands.ListCmd.class,
                PolicyCommands.Update.class, PolicyCommands.Delete.class})
final class PolicyCommands {
    @Mixin Options.Help help;

    static final List<Output.Column> TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("TYPE", "/properties/providerSpecificDetails/instanceType"),
            new Output.Column("RETENTION", p -> retention(p.at("/properties/providerSpecificDetails"))),
            new Output.Column("APP CONSISTENT", p -> appConsistent(p.at("/properties/providerSpecificDetails"))));


    static String path(ApiClient api, Options.Vault vault, String name) {
        return ApiCommand.versioned(vault.path(api) + "/replicationPolicies/" + ApiClient.seg(name),
                VaultCommands.API_VERSION);
    }

    /** The settings every policy type has in some form; each type names and scales them its own way. */
    static final class Settings {
        @Option(names = "--rpo-threshold-minutes", paramLabel = "N",
                description = "RPO alert threshold in minutes (InMageAzureV2).")
        Integer rpoThresholdMinutes;

        @Option(names = "--retention-hours", paramLabel = "H", description = "How long recovery points are kept.")
        Integer retentionHours;

        @Option(names = "--app-consistent-minutes", paramLabel = "M",
                description = "App-consistent snapshot frequency (HyperVReplicaAzure: whole hours only).")
        Integer appConsistentMinutes;

        @Option(names = "--crash-consistent-minutes", paramLabel = "C",
                description = "Crash-consistent snapshot frequency (A2A, InMageAzureV2, InMageRcm).")
        Integer crashConsistentMinutes;

        @Option(names = "--multi-vm-sync", paramLabel = "Enable|Disable",
                description = "Multi-VM consistency (A2A, InMageAzureV2, InMageRcm).")
        String multiVmSync;

        /**
         * The provider-specific input of a policy of {@code type}: only the settings given, except that
         * creating an A2A or InMageAzureV2 policy always states multiVmSyncStatus (default Disable).
         */
        ObjectNode input(String type, boolean create) {
            ObjectNode d = ApiClient.JSON.createObjectNode();
            d.put("instanceType", type);
            switch (type.toLowerCase(Locale.ROOT)) {
                case "a2a", "inmageazurev2" -> {
                    boolean physical = type.equalsIgnoreCase("InMageAzureV2");
                    if (physical) {
                        putIfSet(d, "recoveryPointThresholdInMinutes", rpoThresholdMinutes);
                    } else {
                        notFor(type, "--rpo-threshold-minutes", rpoThresholdMinutes);
                    }
                    putIfSet(d, "recoveryPointHistory", retentionHours == null ? null : retentionHours * 60);
                    putIfSet(d, "appConsistentFrequencyInMinutes", appConsistentMinutes);
                    putIfSet(d, "crashConsistentFrequencyInMinutes", crashConsistentMinutes);
                    if (multiVmSync != null || create) {
                        d.put("multiVmSyncStatus", multiVmSync == null ? "Disable" : multiVmSync);
                    }
                }
                case "inmagercm" -> {
                    notFor(type, "--rpo-threshold-minutes", rpoThresholdMinutes);
                    putIfSet(d, "recoveryPointHistoryInMinutes", retentionHours == null ? null : retentionHours * 60);
                    putIfSet(d, "appConsistentFrequencyInMinutes", appConsistentMinutes);
                    putIfSet(d, "crashConsistentFrequencyInMinutes", crashConsistentMinutes);
                    if (multiVmSync != null) {
                        if (!multiVmSync.equalsIgnoreCase("Enable") && !multiVmSync.equalsIgnoreCase("Disable")) {
                            throw CliException.usage("--multi-vm-sync must be Enable or Disable, got '" + multiVmSync + "'");
                        }
                        d.put("enableMultiVmSync", multiVmSync.equalsIgnoreCase("Enable") ? "true" : "false");
                    }
                }
                case "hypervreplicaazure" -> {
                    notFor(type, "--rpo-threshold-minutes", rpoThresholdMinutes);
                    notFor(type, "--crash-consistent-minutes", crashConsistentMinutes);
                    notFor(type, "--multi-vm-sync", multiVmSync);
                    putIfSet(d, "recoveryPointHistoryDuration", retentionHours);
                    if (appConsistentMinutes != null) {
                        if (appConsistentMinutes % 60 != 0) {
                            throw CliException.usage("HyperVReplicaAzure takes app-consistent snapshots every whole "
                                    + "hour: --app-consistent-minutes must be a multiple of 60, got " + appConsistentMinutes);
                        }
                        d.put("applicationConsistentSnapshotFrequencyInHours", appConsistentMinutes / 60);
                    }
                }
                default -> {
                    // Another type: the server says whether it knows it.
                }
            }
            return d;
        }

        private static void putIfSet(ObjectNode d, String field, Integer value) {
            if (value != null) {
                d.put(field, value);
            }
        }

        private static void notFor(String type, String option, Object value) {
            if (value != null) {
                throw CliException.usage(option + " does not apply to " + type + " policies");
            }
        }
    }

    static String retention(JsonNode d) {
        if (d.has("recoveryPointHistoryDurationInHours")) {
            return d.path("recoveryPointHistoryDurationInHours").asInt() + "h";
        }
        JsonNode minutes = d.has("recoveryPointHistoryInMinutes") ? d.path("recoveryPointHistoryInMinutes")
                : d.path("recoveryPointHistory");
        return minutes.isNumber() ? minutesText(minutes.asInt()) : "";
    }

    static String appConsistent(JsonNode d) {
        if (d.has("applicationConsistentSnapshotFrequencyInHours")) {
            return d.path("applicationConsistentSnapshotFrequencyInHours").asInt() + "h";
        }
        JsonNode minutes = d.path("appConsistentFrequencyInMinutes");
        return minutes.isNumber() ? minutesText(minutes.asInt()) : "";
    }

    private static String minutesText(int minutes) {
        return minutes != 0 && minutes % 60 == 0 ? minutes / 60 + "h" : minutes + "m";
    }

    @Command(name = "create", description = "Create a replication policy (waits for the job).")
    static final class Create extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the replication policy.") String name;
        @Option(names = "--type", required = true, paramLabel = "TYPE",
                description = "InMageAzureV2, A2A, HyperVReplicaAzure or InMageRcm.") String type;
        @Mixin Settings settings;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.putObject("properties").set("providerSpecificInput", settings.input(type, true));
            applyAndShow("PUT", path(api, vault, name), body, wait, output, TABLE);
        }
    }

    @Command(name = "show", description = "Show a replication policy.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the replication policy.") String name;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(path(api, vault, name)), TABLE);
        }
    }

    @Command(name = "list", description = "List the replication policies of a vault.")
    static final class ListCmd extends ApiCommand {
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(vault.path(api) + "/replicationPolicies", VaultCommands.API_VERSION)),
                    TABLE);
        }
    }

    @Command(name = "update", description = "Change settings of a replication policy; others keep their value.")
    static final class Update extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the replication policy.") String name;
        @Option(names = "--type", paramLabel = "TYPE", description = "The policy's type (default: read from it).")
        String type;
        @Mixin Settings settings;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;
        @Mixin Options.Format output;

        @Override
        void run() {
            String path = path(api, vault, name);
            String policyType = type != null ? type
                    : api.get(path).at("/properties/providerSpecificDetails/instanceType").asText();
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.putObject("properties").set("replicationProviderSettings", settings.input(policyType, false));
            applyAndShow("PATCH", path, body, wait, output, TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a replication policy (it must not be used by a mapping).")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the replication policy.") String name;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;

        @Override
        void run() {
            removeAndReport("DELETE", path(api, vault, name), wait, "policy '" + name + "'");
        }
    }
}
