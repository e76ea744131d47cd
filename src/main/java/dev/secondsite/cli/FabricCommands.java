package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

/** {@code secondsite fabric ...}: replication fabrics (sites). */
@Command(name = "fabric",
        description = "Manage fabrics: an Azure region, a Hyper-V site or a VMware/physical configuration server.",
        subcommands = {FabricCommands.Create.class, FabricCommands.Show.class, FabricCommands.ListCmd.class,
                FabricCommands.Delete.class, FabricCommands.RegistrationKey.class})
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
        @Parameters(paramLabel = "NAME", description = "Name of the fabric.") String name;
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
        @Parameters(paramLabel = "NAME", description = "Name of the fabric.") String name;
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
        @Parameters(paramLabel = "NAME", description = "Name of the fabric.") String name;
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

    @Command(name = "registration-key", description = {"Generate a registration key for agents of a fabric "
            + "(POST generateRegistrationKey).",
            "With --file the JSON answer is written there (mode 0600) for `secondsite agent "
            + "--registration-key-file`; else the key is printed. The expiry is printed either way."})
    static final class RegistrationKey extends ApiCommand {
        @Parameters(paramLabel = "FABRIC", description = "The fabric the agents register with.") String name;
        @Option(names = "--file", paramLabel = "FILE", description = "Write the key (JSON) to this file, mode 0600.")
        Path file;
        @Mixin Options.Vault vault;

        @Override
        void run() throws IOException {
            if (file != null) {
                Output.requireDirectoryOf(file, "the registration key to");
            }
            JsonNode answer = api.send("POST", versioned(fabricPath(api, vault, name) + "/generateRegistrationKey",
                    VaultCommands.API_VERSION), null).body();
            if (answer == null || !answer.path("registrationKey").isTextual()) {
                throw CliException.api("UnexpectedResponse", "the server answered no registration key.");
            }
            String expires = answer.path("expiresAt").asText("");
            if (file == null) {
                out().println(answer.path("registrationKey").asText());
                err().println("expires at " + expires);
                err().flush();
                return;
            }
            writePrivate(file, Output.pretty(answer) + "\n");
            out().println("Registration key for fabric '" + name + "' written to " + file + ".");
            out().println("Expires at " + expires + ".");
        }

        /** Writes {@code text} to a file that is never readable by others, even for a moment. */
        static void writePrivate(Path file, String text) throws IOException {
            Set<PosixFilePermission> owner = PosixFilePermissions.fromString("rw-------");
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(owner));
            } catch (FileAlreadyExistsException e) {
                Files.setPosixFilePermissions(file, owner);
            } catch (UnsupportedOperationException e) {
                Files.deleteIfExists(file); // not POSIX: best effort
            }
            Files.writeString(file, text);
        }
    }
}
