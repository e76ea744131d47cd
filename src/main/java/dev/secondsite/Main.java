package dev.secondsite;

import dev.secondsite.cli.CliCommands;
import dev.secondsite.server.ServerCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The single entry point: {@code secondsite server} runs the control plane, every other subcommand is the CLI. */
@Command(name = "secondsite", mixinStandardHelpOptions = true, version = "SecondSite 0.1.0",
        description = "Open disaster recovery: replicate machines' disks to a recovery site and fail over.")
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.addSubcommand(new ServerCommand());
        cli.addSubcommand(new dev.secondsite.agent.AgentCommand());
        CliCommands.register(cli);
        return cli;
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }
}
