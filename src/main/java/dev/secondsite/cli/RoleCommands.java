package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** {@code secondsite role ...}: role assignments (who may do what, where). */
@Command(name = "role", description = "Manage role assignments.",
        subcommands = {RoleCommands.Assign.class, RoleCommands.ListCmd.class, RoleCommands.Delete.class})
final class RoleCommands {
    @Mixin Options.Help help;

    static final String API_VERSION = "2022-04-01";
    static final String PROVIDER = "/providers/Microsoft.Authorization";
    static final List<Output.Column> TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("ROLE", "/properties/roleName"),
            Output.Column.at("PRINCIPAL", "/properties/principalId"),
            Output.Column.at("SCOPE", "/properties/scope"));


    /** A scope as a URL path prefix: "/" becomes "", each name percent-encoded. */
    static String scopePath(String scope) {
        if (!scope.startsWith("/")) {
            throw CliException.usage("--scope must start with '/', e.g. /subscriptions/ID/resourceGroups/RG; got '"
                    + scope + "'");
        }
        StringBuilder path = new StringBuilder();
        for (String part : scope.split("/")) {
            if (!part.isEmpty()) {
                path.append('/').append(ApiClient.seg(part));
            }
        }
        return path.toString();
    }

    /** The role definition's GUID for a role name ("Reader") or id, as the scope lists them. */
    static String roleDefinitionGuid(ApiClient api, String scope, String role) {
        JsonNode definitions = api.list(ApiCommand.versioned(scopePath(scope) + PROVIDER + "/roleDefinitions",
                API_VERSION));
        String wanted = role.substring(role.lastIndexOf('/') + 1);
        List<String> names = new ArrayList<>();
        for (JsonNode d : definitions.path("value")) {
            String roleName = d.at("/properties/roleName").asText();
            names.add(roleName);
            if (roleName.equalsIgnoreCase(role) || d.path("name").asText().equalsIgnoreCase(wanted)) {
                return d.path("name").asText();
            }
        }
        throw CliException.api("RoleDefinitionDoesNotExist", "no role '" + role + "' at scope " + scope
                + "; roles: " + String.join(", ", names));
    }

    /** An object id from an object id, or a service principal's name or client id. */
    static String principalId(ApiClient api, String assignee) {
        for (JsonNode sp : ServicePrincipalCommands.list(api).path("value")) {
            if (sp.path("name").asText().equals(assignee) || sp.at("/properties/clientId").asText().equals(assignee)) {
                return sp.at("/properties/objectId").asText();
            }
        }
        try {
            UUID.fromString(assignee);
            return assignee;
        } catch (IllegalArgumentException e) {
            throw CliException.api("PrincipalNotFound", "no service principal named '" + assignee
                    + "' (see `secondsite sp list`)");
        }
    }

    @Command(name = "assign", description = "Give a principal a role at a scope (and everything under it).")
    static final class Assign extends ApiCommand {
        @Option(names = "--role", required = true, paramLabel = "ROLE",
                description = "Role name (e.g. Reader, \"Site Recovery Contributor\") or role definition id.")
        String role;
        @Option(names = "--assignee", required = true, paramLabel = "PRINCIPAL",
                description = "Object id, or a service principal's name or client id.")
        String assignee;
        @Option(names = "--scope", required = true, paramLabel = "SCOPE",
                description = "ARM scope, e.g. /subscriptions/ID/resourceGroups/RG, or / for everything.")
        String scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode properties = body.putObject("properties");
            properties.put("roleDefinitionId", PROVIDER + "/roleDefinitions/" + roleDefinitionGuid(api, scope, role));
            properties.put("principalId", principalId(api, assignee));
            JsonNode assignment = api.send("PUT", versioned(scopePath(scope) + PROVIDER + "/roleAssignments/"
                    + UUID.randomUUID(), API_VERSION), body).body();
            print(output, assignment, TABLE);
        }
    }

    @Command(name = "list", description = "List role assignments at, above and below a scope.")
    static final class ListCmd extends ApiCommand {
        @Option(names = "--scope", defaultValue = "/", paramLabel = "SCOPE", description = "ARM scope (default: /).")
        String scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(scopePath(scope) + PROVIDER + "/roleAssignments", API_VERSION)), TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a role assignment by its id or name (GUID).")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "ID", description = "The role assignment's ARM id, or its name (a GUID).") String id;

        @Override
        void run() {
            String assignmentId = id;
            if (!id.startsWith("/")) {
                assignmentId = null;
                for (JsonNode a : api.list(versioned(PROVIDER + "/roleAssignments", API_VERSION)).path("value")) {
                    if (a.path("name").asText().equalsIgnoreCase(id)) {
                        assignmentId = a.path("id").asText();
                    }
                }
                if (assignmentId == null) {
                    throw CliException.api("RoleAssignmentNotFound", "no role assignment named '" + id + "'");
                }
            }
            removeAndReport("DELETE", versioned(scopePath(assignmentId), API_VERSION), new Options.Wait(),
                    "role assignment '" + id + "'");
        }
    }
}
