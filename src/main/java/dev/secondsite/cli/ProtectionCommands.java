package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.Plural;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Replication of registered machines: {@code secondsite item ...} (protected items), {@code secondsite point ...}
 * (their recovery points and disk export) and {@code secondsite provider ...} (registered agents).
 */
final class ProtectionCommands {
    private ProtectionCommands() {}

    static final String API_VERSION = VaultCommands.API_VERSION;

    static void register(CommandLine cli) {
        cli.addSubcommand(new Item());
        cli.addSubcommand(new Point());
        cli.addSubcommand(new Provider());
    }

    /** The item's current RPO, in seconds as the API gives it; every table that shows RPO uses this column. */
    static final Output.Column RPO_COLUMN = Output.Column.at("RPO (s)",
            "/properties/providerSpecificDetails/currentRpoSeconds");

    static final List<Output.Column> ITEM_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("STATE", "/properties/protectionState"),
            Output.Column.at("HEALTH", "/properties/replicationHealth"),
            RPO_COLUMN,
            Output.Column.at("RESYNC%", "/properties/providerSpecificDetails/resyncProgressPercentage"));

    static final List<Output.Column> POINT_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("TIME", "/properties/recoveryPointTime"),
            Output.Column.at("TYPE", "/properties/recoveryPointType"));

    static final List<Output.Column> PROVIDER_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("LAST CONTACT", "/properties/lastHeartBeat"),
            Output.Column.at("STATUS", "/properties/connectionStatus"));

    /** --fabric and --container of a protected item; both optional: the item is then looked up by name. */
    static final class Place {
        @Option(names = "--fabric", paramLabel = "FABRIC",
                description = "Fabric of the item (with --container; default: find the item by name in the vault).")
        String fabric;
        @Option(names = "--container", paramLabel = "CONTAINER", description = "Protection container of the item.")
        String container;
    }

    static String containerPath(ApiClient api, Options.Vault vault, String fabric, String container) {
        return FabricCommands.fabricPath(api, vault, fabric) + "/replicationProtectionContainers/"
                + ApiClient.seg(container);
    }

    /** An ARM id as a URL path: each segment percent-encoded. */
    static String encodeId(String id) {
        StringBuilder path = new StringBuilder();
        for (String part : id.split("/")) {
            if (!part.isEmpty()) {
                path.append('/').append(ApiClient.seg(part));
            }
        }
        return path.toString();
    }

    /** The item's URL path (no api-version): from --fabric/--container, else found by name in the vault. */
    static String itemPath(ApiClient api, Options.Vault vault, Place place, String name) {
        if (place.fabric != null && place.container != null) {
            return containerPath(api, vault, place.fabric, place.container) + "/replicationProtectedItems/"
                    + ApiClient.seg(name);
        }
        if (place.fabric != null || place.container != null) {
            throw CliException.usage("give both --fabric and --container, or neither");
        }
        JsonNode all = api.list(ApiCommand.versioned(vault.path(api) + "/replicationProtectedItems", API_VERSION));
        List<String> ids = new ArrayList<>();
        all.path("value").forEach(i -> {
            if (i.path("name").asText().equalsIgnoreCase(name)) {
                ids.add(i.path("id").asText());
            }
        });
        if (ids.isEmpty()) {
            throw CliException.api("NotFound", "no protected item '" + name + "' in vault '" + vault.vault + "'.");
        }
        if (ids.size() > 1) {
            throw CliException.usage("protected item '" + name + "' is in several containers; give --fabric and "
                    + "--container");
        }
        return encodeId(ids.getFirst());
    }

    // ============================================================================================ item

    @Command(name = "item", description = "Protected items: enable, watch and disable replication of registered "
            + "machines, and fail them over.",
            subcommands = {Enable.class, Validate.class, Show.class, ListItems.class, Resync.class, Disable.class, SetChurnMode.class,
                    WaitProtected.class, FailoverCommands.TestFailover.class, FailoverCommands.CleanupTestFailover.class,
                    FailoverCommands.Failover.class, FailoverCommands.Commit.class, FailoverCommands.Reprotect.class})
    static final class Item {
        @Mixin Options.Help help;
    }

    /** The Azure target of an enable (InMageAzureV2EnableProtectionInput); all optional. */
    static final class TargetOptions {
        @Option(names = "--storage-account", paramLabel = "ID",
                description = "Target storage account (ARM id); must be in the vault's region.")
        String storageAccount;
        @Option(names = "--network", paramLabel = "ID", description = "Target virtual network (ARM id).")
        String network;
        @Option(names = "--subnet", paramLabel = "NAME", description = "Subnet of --network (name or ARM id).")
        String subnet;
        @Option(names = "--vm-size", paramLabel = "SIZE",
                description = "Target VM size (default: the same or closest size).")
        String vmSize;
        @Option(names = "--target-vm-name", paramLabel = "NAME", description = "Name of the VM after failover.")
        String vmName;
        @Option(names = "--target-resource-group", paramLabel = "ID",
                description = "Resource group (ARM id) the VM is recovered into.")
        String resourceGroup;

        void apply(ObjectNode specific) {
            putIf(specific, "storageAccountId", storageAccount);
            putIf(specific, "targetAzureNetworkId", network);
            putIf(specific, "targetAzureSubnetId", subnet);
            putIf(specific, "targetVmSize", vmSize);
            putIf(specific, "targetAzureVmName", vmName);
            putIf(specific, "targetAzureV2ResourceGroupId", resourceGroup);
        }

        private static void putIf(ObjectNode node, String field, String value) {
            if (value != null) {
                node.put(field, value);
            }
        }
    }

    /** The enable body both enable and validate send. */
    static ObjectNode enableBody(String vaultId, String fabric, String container, String machine, String policy,
                                 TargetOptions target) {
        ObjectNode body = ApiClient.JSON.createObjectNode();
        ObjectNode p = body.putObject("properties");
        p.put("policyId", vaultId + "/replicationPolicies/" + policy);
        p.put("protectableItemId", vaultId + "/replicationFabrics/" + fabric + "/replicationProtectionContainers/"
                + container + "/replicationProtectableItems/" + machine);
        ObjectNode specific = p.putObject("providerSpecificDetails").put("instanceType", "InMageAzureV2");
        target.apply(specific);
        return body;
    }

    @Command(name = "enable", description = "Enable replication of a registered machine (PUT the protected item; "
            + "waits for the job).")
    static final class Enable extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the new protected item.") String name;
        @Option(names = "--fabric", required = true, paramLabel = "FABRIC",
                description = "Fabric the machine is registered with.") String fabric;
        @Option(names = "--container", required = true, paramLabel = "CONTAINER",
                description = "Protection container of the machine.") String container;
        @Option(names = "--machine", required = true, paramLabel = "MACHINE",
                description = "The registered machine (its protectable item, named as the agent's --name).")
        String machine;
        @Option(names = "--policy", required = true, paramLabel = "POLICY", description = "Replication policy (name).")
        String policy;
        @Mixin TargetOptions target;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = enableBody(vault.id(api), fabric, container, machine, policy, target);
            String path = containerPath(api, vault, fabric, container) + "/replicationProtectedItems/"
                    + ApiClient.seg(name);
            applyAndShow("PUT", versioned(path, API_VERSION), body, wait, output, ITEM_TABLE);
        }
    }

    static final List<Output.Column> VIOLATION_TABLE = List.of(
            Output.Column.at("CODE", "/code"),
            Output.Column.at("SEED", "/seed"),
            Output.Column.at("MESSAGE", "/message"));

    @Command(name = "validate", description = "Check an enable against every seed rule without enabling (POST "
            + "validate); lists every violation. Exit code 0 when valid, 1 otherwise.")
    static final class Validate extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name the protected item would get.") String name;
        @Option(names = "--fabric", required = true, paramLabel = "FABRIC",
                description = "Fabric the machine is registered with.") String fabric;
        @Option(names = "--container", required = true, paramLabel = "CONTAINER",
                description = "Protection container of the machine.") String container;
        @Option(names = "--machine", required = true, paramLabel = "MACHINE",
                description = "The registered machine (its protectable item, named as the agent's --name).")
        String machine;
        @Option(names = "--policy", required = true, paramLabel = "POLICY", description = "Replication policy (name).")
        String policy;
        @Mixin TargetOptions target;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = enableBody(vault.id(api), fabric, container, machine, policy, target);
            String path = containerPath(api, vault, fabric, container) + "/replicationProtectedItems/"
                    + ApiClient.seg(name) + "/validate";
            JsonNode result = api.send("POST", versioned(path, API_VERSION), body).body();
            JsonNode violations = result.path("violations");
            if (output.format == Output.Format.json) {
                print(output, result, VIOLATION_TABLE);
            } else if (violations.isEmpty()) {
                out().println("Valid: no seed rule is violated.");
            } else {
                print(output, violations, VIOLATION_TABLE);
            }
            out().flush();
            if (!result.path("valid").asBoolean(false)) {
                throw CliException.api("ValidationFailed", Plural.of(violations.size(), "rule") + " violated.");
            }
        }
    }

    @Command(name = "show", description = "Show a protected item: its state, failover state, allowed operations "
            + "and recovered VM.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the protected item.") String name;
        @Mixin Place place;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(versioned(itemPath(api, vault, place, name), API_VERSION)),
                    FailoverCommands.ITEM_DETAIL_TABLE);
        }
    }

    @Command(name = "list", description = "List the protected items of a container (--fabric and --container), "
            + "or of the vault.")
    static final class ListItems extends ApiCommand {
        @Mixin Place place;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            String path;
            if (place.fabric != null && place.container != null) {
                path = containerPath(api, vault, place.fabric, place.container) + "/replicationProtectedItems";
            } else if (place.fabric == null && place.container == null) {
                path = vault.path(api) + "/replicationProtectedItems";
            } else {
                throw CliException.usage("give both --fabric and --container, or neither");
            }
            print(output, api.list(versioned(path, API_VERSION)), ITEM_TABLE);
        }
    }

    @Command(name = "resync", description = "Resynchronize a protected item (POST repairReplication; waits for the "
            + "job; the agent then resends its disks).")
    static final class Resync extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the protected item.") String name;
        @Mixin Place place;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;
        @Mixin Options.Format output;

        @Override
        void run() {
            String item = itemPath(api, vault, place, name);
            ApiClient.Submitted submitted = api.submit("POST", versioned(item + "/repairReplication", API_VERSION),
                    null, wait.noWait);
            if (submitted.pending()) {
                out().println(submitted.jobId());
                return;
            }
            print(output, api.get(versioned(item, API_VERSION)), ITEM_TABLE);
        }
    }

    @Command(name = "disable", description = "Disable replication of a protected item (POST remove; waits for the "
            + "job). Its recovery points are deleted.")
    static final class Disable extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the protected item.") String name;
        @Mixin Place place;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;

        @Override
        void run() {
            String item = itemPath(api, vault, place, name);
            ApiClient.Submitted submitted = api.submit("POST", versioned(item + "/remove", API_VERSION),
                    ApiClient.JSON.createObjectNode(), wait.noWait);
            if (submitted.pending()) {
                out().println(submitted.jobId());
            } else {
                out().println("Disabled protection of item '" + name + "'.");
            }
        }
    }

    @Command(name = "set-churn-mode", description = "Set a protected item's churn mode (PATCH; waits for the job).")
    static final class SetChurnMode extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the protected item.") String name;
        @Option(names = "--mode", required = true, paramLabel = "Normal|High",
                description = "Churn mode: Normal or High.") String mode;
        @Mixin Place place;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;
        @Mixin Options.Format output;

        @Override
        void run() {
            String normalized = switch (mode.toLowerCase(Locale.ROOT)) {
                case "normal" -> "Normal";
                case "high" -> "High";
                default -> throw CliException.usage("invalid --mode '" + mode + "': use Normal or High");
            };
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.putObject("properties").putObject("providerSpecificDetails")
                    .put("instanceType", "InMageAzureV2").put("churnMode", normalized);
            applyAndShow("PATCH", versioned(itemPath(api, vault, place, name), API_VERSION), body, wait, output,
                    ITEM_TABLE);
        }
    }

    @Command(name = "wait-protected", description = "Wait until a protected item's protectionState is Protected "
            + "(initial replication done); exit 1 on timeout.")
    static final class WaitProtected extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the protected item.") String name;
        @Option(names = "--timeout-seconds", defaultValue = "600", paramLabel = "N",
                description = "Give up after N seconds (default: ${DEFAULT-VALUE}).") long timeoutSeconds;
        @Option(names = "--interval-seconds", defaultValue = "2", paramLabel = "N",
                description = "Seconds between polls (default: ${DEFAULT-VALUE}).") long intervalSeconds;
        @Mixin Place place;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            if (timeoutSeconds < 0 || intervalSeconds < 1) {
                throw CliException.usage("--timeout-seconds must be >= 0 and --interval-seconds >= 1");
            }
            String item = versioned(itemPath(api, vault, place, name), API_VERSION);
            Instant deadline = Instant.now().plusSeconds(timeoutSeconds);
            String state;
            while (true) {
                JsonNode body = api.get(item);
                state = body.path("properties").path("protectionState").asText("");
                if (state.equals("Protected")) {
                    print(output, body, ITEM_TABLE);
                    return;
                }
                if (Instant.now().isAfter(deadline)) {
                    break;
                }
                ApiClient.sleep(Duration.ofSeconds(intervalSeconds));
            }
            throw CliException.api("Timeout", "item '" + name + "' is still " + (state.isEmpty() ? "not protected"
                    : state) + " after " + timeoutSeconds + " s.");
        }
    }

    // ============================================================================================ point

    @Command(name = "point", description = "Recovery points of a protected item, and exporting their disks.",
            subcommands = {ListPoints.class, LatestPoint.class, Export.class})
    static final class Point {
        @Mixin Options.Help help;
    }

    /** --item and where it is. */
    static final class ItemRef {
        @Option(names = "--item", required = true, paramLabel = "ITEM", description = "The protected item.")
        String item;
        @Mixin Place place;
    }

    static List<JsonNode> pointsNewestFirst(ApiClient api, String item) {
        List<JsonNode> points = new ArrayList<>();
        api.list(ApiCommand.versioned(item + "/recoveryPoints", API_VERSION)).path("value").forEach(points::add);
        points.sort((a, b) -> time(b).compareTo(time(a)));
        return points;
    }

    private static Instant time(JsonNode point) {
        try {
            return Instant.parse(point.path("properties").path("recoveryPointTime").asText());
        } catch (DateTimeParseException e) {
            return Instant.EPOCH;
        }
    }

    static JsonNode latest(ApiClient api, String item, String itemName) {
        List<JsonNode> points = pointsNewestFirst(api, item);
        if (points.isEmpty()) {
            throw CliException.api("NoRecoveryPoints", "item '" + itemName + "' has no recovery point yet.");
        }
        return points.getFirst();
    }

    @Command(name = "list", description = "List the recovery points of a protected item, newest first.")
    static final class ListPoints extends ApiCommand {
        @Mixin ItemRef ref;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            String item = itemPath(api, vault, ref.place, ref.item);
            ObjectNode all = ApiClient.JSON.createObjectNode();
            pointsNewestFirst(api, item).forEach(all.putArray("value")::add);
            print(output, all, POINT_TABLE);
        }
    }

    @Command(name = "latest", description = "Print the name of a protected item's newest recovery point "
            + "(exit 1 if it has none).")
    static final class LatestPoint extends ApiCommand {
        @Mixin ItemRef ref;
        @Mixin Options.Vault vault;

        @Override
        void run() {
            out().println(latest(api, itemPath(api, vault, ref.place, ref.item), ref.item).path("name").asText());
        }
    }

    /** The image formats exportDisk accepts, spelled as the API spells them. */
    enum ExportFormat { raw, vhd, vhdDynamic, vhdx }

    @Command(name = "export", description = {"Export one disk of a recovery point as an image file under the "
            + "server's export directory (POST exportDisk; waits for the job), then print its path and SHA-256.",
            "POINT may be 'latest'."})
    static final class Export extends ApiCommand {
        @Parameters(paramLabel = "POINT", description = "Recovery point name, or 'latest'.") String point;
        @Mixin ItemRef ref;
        @Option(names = "--disk", required = true, paramLabel = "DISK", description = "Disk name, e.g. disk0.")
        String disk;
        @Option(names = "--format", defaultValue = "raw", paramLabel = "FORMAT",
                description = "Image format: ${COMPLETION-CANDIDATES} (vhd is a fixed VHD, vhdDynamic a dynamic one; "
                        + "default: ${DEFAULT-VALUE}).") ExportFormat format;
        @Option(names = "--path", paramLabel = "PATH",
                description = "File name under the server's export directory (default: chosen by the server).")
        String path;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() throws IOException {
            String fmt = format.name();
            String item = itemPath(api, vault, ref.place, ref.item);
            String name = point.equalsIgnoreCase("latest") ? latest(api, item, ref.item).path("name").asText() : point;
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("diskName", disk);
            body.put("format", fmt);
            if (path != null) {
                body.put("path", path);
            }
            ApiClient.Response accepted = api.send("POST", versioned(item + "/recoveryPoints/" + ApiClient.seg(name)
                    + "/exportDisk", API_VERSION), body);
            JsonNode answer = accepted.body() == null ? ApiClient.JSON.createObjectNode() : accepted.body();
            if (accepted.status() == 202) {
                awaitOperation(accepted);
            }
            String file = answer.path("path").asText("");
            ObjectNode result = ApiClient.JSON.createObjectNode();
            result.put("recoveryPoint", name);
            result.put("recoveryPointTime", answer.path("recoveryPointTime").asText(null));
            result.put("disk", disk);
            result.put("format", answer.path("format").asText(fmt));
            result.put("path", file);
            result.put("sha256", sha256(file).orElse(null));
            if (output.format == Output.Format.json) {
                out().println(Output.pretty(result));
            } else {
                out().println("Exported " + disk + " of recovery point " + name + " ("
                        + result.path("recoveryPointTime").asText("") + ") as " + result.path("format").asText() + ".");
                out().println("path:   " + file);
                out().println("sha256: " + result.path("sha256").asText("(unknown: " + file
                        + ".json is not readable from here)"));
            }
        }

        /** Polls the export's operation until it ends; a failure becomes the ARM error (exit 1). */
        private void awaitOperation(ApiClient.Response accepted) {
            Optional<String> poll = accepted.header("Azure-AsyncOperation");
            if (poll.isEmpty()) {
                return;
            }
            Progress progress = new Progress(err(), "Export recovery point '" + point + "' " + disk);
            progress.update("InProgress");
            try {
                Duration interval = ApiClient.retryAfter(accepted);
                while (true) {
                    ApiClient.sleep(interval);
                    ApiClient.Response status = api.send("GET", poll.get(), null);
                    JsonNode s = status.body() == null ? ApiClient.JSON.createObjectNode() : status.body();
                    String state = s.path("status").asText("InProgress");
                    progress.update(state);
                    switch (state.toLowerCase(Locale.ROOT)) {
                        case "succeeded" -> {
                            return;
                        }
                        case "failed", "canceled", "cancelled" -> throw CliException.api(
                                s.path("error").path("code").asText("Operation" + state),
                                s.path("error").path("message").asText("The export ended " + state + "."));
                        default -> interval = ApiClient.retryAfter(status);
                    }
                }
            } finally {
                progress.finish();
            }
        }

        /** The SHA-256 the server recorded in the {@code .json} beside the exported file, when readable here. */
        private static Optional<String> sha256(String file) {
            if (file.isEmpty()) {
                return Optional.empty();
            }
            Path sidecar = Path.of(file + ".json");
            try {
                if (Files.isReadable(sidecar)) {
                    JsonNode info = ApiClient.JSON.readTree(Files.readString(sidecar));
                    return Optional.ofNullable(info.path("sha256").textValue());
                }
            } catch (IOException | RuntimeException e) {
                // not ours to read: say it is unknown
            }
            return Optional.empty();
        }
    }

    // ============================================================================================ provider

    @Command(name = "provider", description = "Registered machines (Recovery Services providers: SecondSite agents).",
            subcommands = {ListProviders.class, ShowProvider.class})
    static final class Provider {
        @Mixin Options.Help help;
    }

    @Command(name = "list", description = "List the registered machines of a fabric (--fabric), or of the vault.")
    static final class ListProviders extends ApiCommand {
        @Option(names = "--fabric", paramLabel = "FABRIC",
                description = "Only the machines registered with this fabric (default: every fabric of the vault).") String fabric;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            String path = fabric != null
                    ? FabricCommands.fabricPath(api, vault, fabric) + "/replicationRecoveryServicesProviders"
                    : vault.path(api) + "/replicationRecoveryServicesProviders";
            print(output, api.list(versioned(path, API_VERSION)), PROVIDER_TABLE);
        }
    }

    @Command(name = "show", description = "Show a registered machine.")
    static final class ShowProvider extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the registered machine.") String name;
        @Option(names = "--fabric", required = true, paramLabel = "FABRIC",
                description = "Fabric the machine is registered with.") String fabric;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(versioned(FabricCommands.fabricPath(api, vault, fabric)
                    + "/replicationRecoveryServicesProviders/" + ApiClient.seg(name), API_VERSION)), PROVIDER_TABLE);
        }
    }
}
