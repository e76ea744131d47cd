package dev.secondsite.cli;

import picocli.CommandLine;

/** Registers the CLI subcommands (everything but {@code server}). */
public final class CliCommands {
    private CliCommands() {}

    public static void register(CommandLine cli) {
    }
}
