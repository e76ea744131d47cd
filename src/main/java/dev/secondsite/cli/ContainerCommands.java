package dev.secondsite.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code secondsite container ...}: protection containers inside a fabric. */
@Command(name = "container", description = "Manage protection containers.",
        subcommands = {ContainerCommands.Create.class, ContainerCommands.Show.class, ContainerCommands.ListCmd.class,
                ContainerCommands.Delete.class})
final class ContainerCommands {
    @Mixin Options.Help help;

    static final List<Output.Column> TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("FABRIC", "/properties/fabricFriendlyName"),
            Output.Column.at("TYPE", "/properties/fabricType"),
            Output.Column.at("PAIRING", "/properties/pairingStatus"),
            Output.Column.at("PROTECTED ITEMS", "/properties/protectedItemCount"));


    static String containerPath(ApiClient api, Options.Vault vault, String fabric, String name) {
        return FabricCommands.fabricPath(api, vault, fabric) + "/replicationProtectionContainers/" + ApiClient.seg(name);
    }

    static String path(ApiClient api, Options.Vault vault, String fabric, String name) {
        return ApiCommand.versioned(containerPath(api, vault, fabric, name), VaultCommands.API_VERSION);
    }

    @Command(name = "create", description = "Create a protection container in a fabric (waits for the job).")
    static final class Create extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the protection container.") String name;
        @Option(names = "--fabric", required = true, description = "Fabric of the container.") String fabric;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.putObject("properties").putArray("providerSpecificInput");
            applyAndShow("PUT", path(api, vault, fabric, name), body, wait, output, TABLE);
        }
    }

    @Command(name = "show", description = "Show a protection container.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the protection container.") String name;
        @Option(names = "--fabric", required = true, description = "Fabric of the container.") String fabric;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(path(api, vault, fabric, name)), TABLE);
        }
    }

    @Command(name = "list", description = "List the protection containers of a fabric, or of the whole vault.")
    static final class ListCmd extends ApiCommand {
        @Option(names = "--fabric",
                description = "Only the containers of this fabric (default: every fabric of the vault).") String fabric;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            String parent = fabric == null ? vault.path(api) : FabricCommands.fabricPath(api, vault, fabric);
            print(output, api.list(versioned(parent + "/replicationProtectionContainers", VaultCommands.API_VERSION)),
                    TABLE);
        }
    }

    @Command(name = "delete", description = "Remove a protection container (POST remove; it must have no mappings).")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the protection container.") String name;
        @Option(names = "--fabric", required = true, description = "Fabric of the container.") String fabric;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;

        @Override
        void run() {
            removeAndReport("POST", versioned(containerPath(api, vault, fabric, name) + "/remove",
                    VaultCommands.API_VERSION), wait, "container '" + name + "'");
        }
    }
}
