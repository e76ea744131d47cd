package dev.secondsite;

import dev.secondsite.cli.CliCommands;
import dev.secondsite.server.ServerCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** The single entry point: {@code secondsite server} runs the control plane, every other subcommand is the CLI. */
@Command(name = "secondsite", mixinStandardHelpOptions = true, version = "SecondSite 0.1.0",
        description = "Open disaster recovery: replicate machines' disks to a recovery site and fail over.")
public final class Main implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.addSubcommand(new ServerCommand());
        cli.addSubcommand(new dev.secondsite.agent.AgentCommand());
        CliCommands.register(cli);
        // Enum options (--output, --state, --format, ...) take their values in any case; set once the tree is whole.
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    /** No subcommand: a usage error (exit 2), with the usage and its list of commands on stderr. */
    @Override
    public Integer call() {
        CommandLine cli = spec.commandLine();
        cli.getErr().println("Missing required subcommand");
        cli.usage(cli.getErr());
        cli.getErr().flush();
        return CommandLine.ExitCode.USAGE;
    }
}
