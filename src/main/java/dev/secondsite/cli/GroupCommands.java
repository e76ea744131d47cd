package dev.secondsite.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code secondsite group ...}: resource groups. */
@Command(name = "group", description = "Manage resource groups.",
        subcommands = {GroupCommands.Create.class, GroupCommands.Show.class, GroupCommands.ListCmd.class,
                GroupCommands.Delete.class})
final class GroupCommands {
    @Mixin Options.Help help;

    static final String API_VERSION = "2021-04-01";
    static final List<Output.Column> TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("LOCATION", "/location"),
            Output.Column.at("STATE", "/properties/provisioningState"),
            Output.Column.at("TAGS", "/tags"));


    static String path(ApiClient api, Options.Subscription subscription, String name) {
        return ApiCommand.versioned(subscription.path(api) + "/resourcegroups/" + ApiClient.seg(name), API_VERSION);
    }

    @Command(name = "create", description = "Create or update a resource group.")
    static final class Create extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the resource group.") String name;
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION", description = "Region, e.g. westus.") String location;
        @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A tag (repeatable).") List<String> tags;
        @Mixin Options.Subscription subscription;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", location);
            body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            String path = path(api, subscription, name);
            api.send("PUT", path, body);
            print(output, api.get(path), TABLE);
        }
    }

    @Command(name = "show", description = "Show a resource group.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the resource group.") String name;
        @Mixin Options.Subscription subscription;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(path(api, subscription, name)), TABLE);
        }
    }

    @Command(name = "list", description = "List the resource groups of the subscription.")
    static final class ListCmd extends ApiCommand {
        @Mixin Options.Subscription subscription;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(subscription.path(api) + "/resourcegroups", API_VERSION)), TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a resource group and everything in it.")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the resource group.") String name;
        @Mixin Options.Subscription subscription;
        @Mixin Options.Wait wait;

        @Override
        void run() {
            removeAndReport("DELETE", path(api, subscription, name), wait, "resource group '" + name + "'");
        }
    }
}
