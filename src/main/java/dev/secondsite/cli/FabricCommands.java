package dev.secondsite.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code secondsite fabric ...}: replication fabrics (sites). */
@Command(name = "fabric",
        description = "Manage fabrics: an Azure region, a Hyper-V site or a VMware/physical configuration server.",
        subcommands = {FabricCommands.Create.class, FabricCommands.Show.class, FabricCommands.ListCmd.class,
                FabricCommands.Delete.class})
final class FabricCommands {
    @Mixin Options.Help help;

    static final List<Output.Column> TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("TYPE", "/properties/customDetails/instanceType"),
            Output.Column.at("LOCATION", "/properties/customDetails/location"),
            Output.Column.at("HEALTH", "/properties/health"));


    static String fabricPath(ApiClient api, Options.Vault vault, String name) {
        return vault.path(api) + "/replicationFabrics/" + ApiClient.seg(name);
    }

    static String path(ApiClient api, Options.Vault vault, String name) {
        return ApiCommand.versioned(fabricPath(api, vault, name), VaultCommands.API_VERSION);
    }

    @Command(name = "create", description = "Create a fabric (waits for the job).")
    static final class Create extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;
        @Option(names = "--type", required = true, paramLabel = "TYPE", description = "Azure, HyperVSite or VMware.")
        String type;
        @Option(names = {"-l", "--location"}, paramLabel = "LOCATION", description = "The region of an Azure fabric.") String location;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode custom = body.putObject("properties").putObject("customDetails");
            custom.put("instanceType", type);
            if (location != null) {
                custom.put("location", location);
            }
            applyAndShow("PUT", path(api, vault, name), body, wait, output, TABLE);
        }
    }

    @Command(name = "show", description = "Show a fabric.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(path(api, vault, name)), TABLE);
        }
    }

    @Command(name = "list", description = "List the fabrics of a vault.")
    static final class ListCmd extends ApiCommand {
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(vault.path(api) + "/replicationFabrics", VaultCommands.API_VERSION)),
                    TABLE);
        }
    }

    @Command(name = "delete", description = "Remove a fabric; it must be empty unless --purge is given.")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "NAME") String name;
        @Option(names = "--purge", description = "Delete the fabric and everything it holds (DELETE).") boolean purge;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;

        @Override
        void run() {
            String fabric = fabricPath(api, vault, name);
            if (purge) {
                removeAndReport("DELETE", versioned(fabric, VaultCommands.API_VERSION), wait, "fabric '" + name + "'");
            } else {
                removeAndReport("POST", versioned(fabric + "/remove", VaultCommands.API_VERSION), wait,
                        "fabric '" + name + "'");
            }
        }
    }
}
