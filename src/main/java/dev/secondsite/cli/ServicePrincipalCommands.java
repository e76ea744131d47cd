package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code secondsite sp ...}: service principals, the credentials scripts and people log in with. */
@Command(name = "sp",
        description = "Manage service principals (client id + secret); give them roles with `secondsite role assign`.",
        subcommands = {ServicePrincipalCommands.Create.class, ServicePrincipalCommands.Show.class,
                ServicePrincipalCommands.ListCmd.class, ServicePrincipalCommands.Delete.class})
final class ServicePrincipalCommands {
    @Mixin Options.Help help;

    static final String API_VERSION = "2024-10-01";
    static final String COLLECTION = "/providers/SecondSite.Identity/servicePrincipals";
    static final List<Output.Column> TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("CLIENT ID", "/properties/clientId"),
            Output.Column.at("OBJECT ID", "/properties/objectId"),
            Output.Column.at("CREATED", "/properties/createdOn"));
    static final List<Output.Column> CREATED_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("CLIENT ID", "/properties/clientId"),
            Output.Column.at("OBJECT ID", "/properties/objectId"),
            Output.Column.at("TENANT ID", "/properties/tenantId"),
            Output.Column.at("CLIENT SECRET", "/properties/clientSecret"));


    static String path(String name) {
        return ApiCommand.versioned(COLLECTION + "/" + ApiClient.seg(name), API_VERSION);
    }

    /** Every service principal ({"value": [...]}). */
    static JsonNode list(ApiClient api) {
        return api.list(ApiCommand.versioned(COLLECTION, API_VERSION));
    }

    @Command(name = "create", description = "Create a service principal; its client secret is shown this once.")
    static final class Create extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the service principal.") String name;
        @Mixin Options.Format output;

        @Override
        void run() {
            JsonNode created = api.send("PUT", path(name), ApiClient.JSON.createObjectNode()).body();
            print(output, created, CREATED_TABLE);
            err().println("Save the client secret now: it cannot be shown again. Log in with `secondsite login "
                    + "--client-id " + created.at("/properties/clientId").asText() + " --client-secret ...`.");
            err().flush();
        }
    }

    @Command(name = "show", description = "Show a service principal (without its secret).")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the service principal.") String name;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(path(name)), TABLE);
        }
    }

    @Command(name = "list", description = "List service principals.")
    static final class ListCmd extends ApiCommand {
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, list(api), TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a service principal; its tokens stop working.")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the service principal.") String name;

        @Override
        void run() {
            removeAndReport("DELETE", path(name), new Options.Wait(), "service principal '" + name + "'");
        }
    }
}
