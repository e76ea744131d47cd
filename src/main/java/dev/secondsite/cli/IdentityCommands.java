package dev.secondsite.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code secondsite identity ...}: user-assigned managed identities (give one a role with {@code role assign --assignee PRINCIPAL_ID}). */
@Command(name = "identity", description = "Manage user-assigned managed identities.",
        subcommands = {IdentityCommands.Create.class, IdentityCommands.Show.class, IdentityCommands.ListCmd.class,
                IdentityCommands.Delete.class})
final class IdentityCommands {
    @Mixin Options.Help help;

    static final String API_VERSION = "2023-01-31";
    static final List<Output.Column> TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("LOCATION", "/location"),
            Output.Column.at("PRINCIPAL ID", "/properties/principalId"),
            Output.Column.at("CLIENT ID", "/properties/clientId"));

    static String path(ApiClient api, Options.Subscription subscription, String group, String name) {
        return ApiCommand.versioned(subscription.path(api) + "/resourceGroups/" + ApiClient.seg(group)
                + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + ApiClient.seg(name), API_VERSION);
    }

    @Command(name = "create", description = "Create a user-assigned identity (or update its tags).")
    static final class Create extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the managed identity.") String name;
        @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG",
                description = "Resource group.") String group;
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION", description = "Region, e.g. westus.") String location;
        @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A tag (repeatable).") List<String> tags;
        @Mixin Options.Subscription subscription;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", location);
            body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            String path = path(api, subscription, group, name);
            api.send("PUT", path, body);
            print(output, api.get(path), TABLE);
        }
    }

    @Command(name = "show", description = "Show a user-assigned identity.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the managed identity.") String name;
        @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG",
                description = "Resource group.") String group;
        @Mixin Options.Subscription subscription;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(path(api, subscription, group, name)), TABLE);
        }
    }

    @Command(name = "list", description = "List user-assigned identities (-g: of one resource group).")
    static final class ListCmd extends ApiCommand {
        @Mixin Options.ListScope scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(scope.path(api) + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
                    API_VERSION)), TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a user-assigned identity.")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the managed identity.") String name;
        @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG",
                description = "Resource group.") String group;
        @Mixin Options.Subscription subscription;
        @Mixin Options.Wait wait;

        @Override
        void run() {
            removeAndReport("DELETE", path(api, subscription, group, name), wait, "identity '" + name + "'");
        }
    }
}
