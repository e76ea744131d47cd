package dev.secondsite.cli;

import picocli.CommandLine.Command;

/** {@code secondsite token}: a bearer token for the saved profile, e.g. for curl. */
@Command(name = "token", description = "Print a bearer token for the saved profile "
        + "(curl -H \"Authorization: Bearer $(secondsite token)\" ...).")
final class TokenCommand extends ApiCommand {
    @Override
    void run() {
        out().println(api.token());
    }
}
