package dev.secondsite.cli;

import picocli.CommandLine;

import java.io.PrintWriter;

/** Registers the CLI subcommands (everything but {@code server}) and how their failures are reported. */
public final class CliCommands {
    private CliCommands() {}

    public static void register(CommandLine cli) {
        cli.addSubcommand(new LoginCommand());
        cli.addSubcommand(new TokenCommand());
        cli.addSubcommand(new GroupCommands());
        cli.addSubcommand(new VaultCommands());
        cli.addSubcommand(new PolicyCommands());
        cli.addSubcommand(new FabricCommands());
        cli.addSubcommand(new ContainerCommands());
        cli.addSubcommand(new MappingCommands());
        cli.addSubcommand(new JobCommands());
        cli.addSubcommand(new ServicePrincipalCommands());
        cli.addSubcommand(new RoleCommands());
        cli.addSubcommand(new StorageCommands());
        cli.addSubcommand(new NetworkCommands());
        cli.addSubcommand(new IdentityCommands());
        ComputeCommands.register(cli);
        ProtectionCommands.register(cli);
        cli.setExecutionExceptionHandler(CliCommands::handle);
    }

    /**
     * {@code secondsite: <message>} and the exception's exit code for our failures; anything else thrown by
     * a CLI command is reported in one line too (exit 1). Failures of other commands (server) are left
     * to picocli's default handling.
     */
    private static int handle(Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult)
            throws Exception {
        PrintWriter err = commandLine.getErr();
        if (e instanceof CliException cli) {
            err.println("secondsite: " + cli.getMessage());
            err.flush();
            return cli.exitCode();
        }
        if (commandLine.getCommand().getClass().getPackageName().equals(CliCommands.class.getPackageName())) {
            err.println("secondsite: unexpected error: " + e);
            err.flush();
            return CliException.API_ERROR;
        }
        throw e;
    }
}
