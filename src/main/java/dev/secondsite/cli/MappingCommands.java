package dev.secondsite.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code secondsite mapping ...}: protection container mappings (source container + policy + target). */
@Command(name = "mapping",
        description = "Manage protection container mappings: pair a container with a recovery target under a policy.",
        subcommands = {MappingCommands.Create.class, MappingCommands.Show.class, MappingCommands.ListCmd.class,
                MappingCommands.Delete.class})
final class MappingCommands {
    @Mixin Options.Help help;

    static final String AZURE = "Microsoft Azure";
    static final List<Output.Column> TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("SOURCE", "/properties/sourceProtectionContainerFriendlyName"),
            Output.Column.at("TARGET", "/properties/targetProtectionContainerFriendlyName"),
            Output.Column.at("POLICY", "/properties/policyFriendlyName"),
            Output.Column.at("STATE", "/properties/state"),
            Output.Column.at("HEALTH", "/properties/health"));


    /** The source container of a mapping: --fabric and --container. */
    static final class Source {
        @Option(names = "--fabric", required = true, description = "Fabric of the source container.") String fabric;
        @Option(names = "--container", required = true, description = "Source protection container.") String container;
    }

    static String mappingPath(ApiClient api, Options.Vault vault, Source source, String name) {
        return ContainerCommands.containerPath(api, vault, source.fabric, source.container)
                + "/replicationProtectionContainerMappings/" + ApiClient.seg(name);
    }

    static String path(ApiClient api, Options.Vault vault, Source source, String name) {
        return ApiCommand.versioned(mappingPath(api, vault, source, name), VaultCommands.API_VERSION);
    }

    /** The target container's ARM id from an ARM id, FABRIC/CONTAINER of this vault, or "Microsoft Azure". */
    static String targetId(ApiClient api, Options.Vault vault, String target) {
        if (target.startsWith("/") || target.equalsIgnoreCase(AZURE)) {
            return target.equalsIgnoreCase(AZURE) ? AZURE : target;
        }
        String[] parts = target.split("/");
        if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
            throw CliException.usage("--target-container must be a container's ARM id, FABRIC/CONTAINER, or \""
                    + AZURE + "\"; got '" + target + "'");
        }
        return vault.id(api) + "/replicationFabrics/" + parts[0] + "/replicationProtectionContainers/" + parts[1];
    }

    @Command(name = "create", description = "Create a container mapping (waits for the job).")
    static final class Create extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the container mapping.") String name;
        @Mixin Source source;
        @Option(names = "--policy", required = true, paramLabel = "POLICY",
                description = "Replication policy name (or ARM id).") String policy;
        @Option(names = "--target-container", required = true, paramLabel = "TARGET",
                description = "Recovery container: its ARM id, FABRIC/CONTAINER, or \"Microsoft Azure\".")
        String target;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode properties = body.putObject("properties");
            properties.put("policyId", policy.startsWith("/") ? policy
                    : vault.id(api) + "/replicationPolicies/" + policy);
            properties.put("targetProtectionContainerId", targetId(api, vault, target));
            applyAndShow("PUT", path(api, vault, source, name), body, wait, output, TABLE);
        }
    }

    @Command(name = "show", description = "Show a container mapping.")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the container mapping.") String name;
        @Mixin Source source;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(path(api, vault, source, name)), TABLE);
        }
    }

    @Command(name = "list", description = "List the mappings of a container (--fabric and --container), or of the vault.")
    static final class ListCmd extends ApiCommand {
        @Option(names = "--fabric",
                description = "Fabric of the container (with --container; default: the whole vault).") String fabric;
        @Option(names = "--container",
                description = "Only the mappings of this protection container (with --fabric).") String container;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            if ((fabric == null) != (container == null)) {
                throw CliException.usage("give both --fabric and --container, or neither (the whole vault)");
            }
            String parent = fabric == null ? vault.path(api)
                    : ContainerCommands.containerPath(api, vault, fabric, container);
            print(output, api.list(versioned(parent + "/replicationProtectionContainerMappings",
                    VaultCommands.API_VERSION)), TABLE);
        }
    }

    @Command(name = "delete", description = "Remove a container mapping (POST remove; no item may replicate through it).")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the container mapping.") String name;
        @Mixin Source source;
        @Mixin Options.Vault vault;
        @Mixin Options.Wait wait;

        @Override
        void run() {
            removeAndReport("POST", versioned(mappingPath(api, vault, source, name) + "/remove",
                    VaultCommands.API_VERSION), wait, "mapping '" + name + "'");
        }
    }
}
