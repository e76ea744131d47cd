package dev.secondsite.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code secondsite vault ...}: Recovery Services vaults. */
@Command(name = "vault", description = "Manage Recovery Services vaults.",
        subcommands = {VaultCommands.Create.class, VaultCommands.Show.class, VaultCommands.ListCmd.class,
                VaultCommands.Update.class, VaultCommands.Delete.class, PrivateLinkCommands.VaultConnection.class})
final class VaultCommands {
    @Mixin Options.Help help;

    static final String API_VERSION = "2024-10-01";
    static final List<Output.Column> TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("RESOURCE GROUP", Output::resourceGroup),
            Output.Column.at("LOCATION", "/location"),
            Output.Column.at("SKU", "/sku/name"),
            Output.Column.at("PUBLIC ACCESS", "/properties/publicNetworkAccess"),
            Output.Column.at("STATE", "/properties/provisioningState"));


    /** Resource group, subscription and the vault name as a positional parameter. */
    static final class Target {
        @Parameters(paramLabel = "NAME", description = "Vault name.") String name;
        @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG", description = "Resource group.")
        String group;
        @Mixin Options.Subscription subscription;

        String path(ApiClient api) {
            return ApiCommand.versioned(subscription.path(api) + "/resourceGroups/" + ApiClient.seg(group)
                    + "/providers/Microsoft.RecoveryServices/vaults/" + ApiClient.seg(name), API_VERSION);
        }
    }

    static ObjectNode properties(ObjectNode body, String publicNetworkAccess) {
        if (publicNetworkAccess != null) {
            body.putObject("properties").put("publicNetworkAccess", publicNetworkAccess);
        }
        return body;
    }

    @Command(name = "create", description = "Create (or replace the settings of) a vault: SKU Standard, "
            + "system-assigned identity.")
    static final class Create extends ApiCommand {
        @Mixin Target target;
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION", description = "Region, e.g. westus.") String location;
        @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A tag (repeatable).") List<String> tags;
        @Option(names = "--public-network-access", paramLabel = "Enabled|Disabled",
                description = "Whether the vault is reachable from public networks: Enabled or Disabled.") String publicNetworkAccess;
        @Mixin Options.Wait wait;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", location);
            body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            body.putObject("sku").put("name", "Standard");
            body.putObject("identity").put("type", "SystemAssigned");
            properties(body, publicNetworkAccess);
            applyAndShow("PUT", target.path(api), body, wait, output, TABLE);
        }
    }

    @Command(name = "show", description = "Show a vault.")
    static final class Show extends ApiCommand {
        @Mixin Target target;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(target.path(api)), TABLE);
        }
    }

    @Command(name = "list", description = "List the vaults of a resource group, or of the whole subscription.")
    static final class ListCmd extends ApiCommand {
        @Mixin Options.ListScope scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(scope.path(api) + "/providers/Microsoft.RecoveryServices/vaults", API_VERSION)),
                    TABLE);
        }
    }

    @Command(name = "update", description = "Change a vault's tags or public network access (PATCH).")
    static final class Update extends ApiCommand {
        @Mixin Target target;
        @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A tag (repeatable); replaces all tags.")
        List<String> tags;
        @Option(names = "--public-network-access", paramLabel = "Enabled|Disabled",
                description = "Whether the vault is reachable from public networks: Enabled or Disabled.") String publicNetworkAccess;
        @Mixin Options.Wait wait;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (tags != null) {
                body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            }
            properties(body, publicNetworkAccess);
            applyAndShow("PATCH", target.path(api), body, wait, output, TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a vault (it must hold no replicated items, mappings or private "
            + "endpoint connections).")
    static final class Delete extends ApiCommand {
        @Mixin Target target;
        @Mixin Options.Wait wait;

        @Override
        void run() {
            removeAndReport("DELETE", target.path(api), wait, "vault '" + target.name + "'");
        }
    }
}
