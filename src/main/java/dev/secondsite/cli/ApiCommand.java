package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Base of every command that talks to the server: opens an {@link ApiClient} from the saved profile,
 * runs, and closes it. Output goes through picocli's writers so callers (and tests) can redirect it.
 */
abstract class ApiCommand implements Callable<Integer> {
    @Mixin
    Options.Help help;

    @Spec
    CommandSpec spec;

    ApiClient api;

    @Override
    public final Integer call() throws Exception {
        try (ApiClient client = ApiClient.fromProfile(err())) {
            api = client;
            run();
            out().flush();
            return 0;
        } finally {
            api = null;
        }
    }

    /** The command's work; failures are thrown as {@link CliException}. */
    abstract void run() throws Exception;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    void print(Options.Format output, JsonNode node, List<Output.Column> columns) {
        Output.print(out(), output.format, node, columns);
    }

    /**
     * PUT/PATCH/POST a change, wait for it (unless --no-wait, which prints the job id), then GET and print
     * the resource at {@code path}.
     */
    void applyAndShow(String method, String path, JsonNode body, Options.Wait wait, Options.Format output,
                      List<Output.Column> columns) {
        ApiClient.Submitted submitted = api.submit(method, path, body, wait.noWait);
        if (submitted.pending()) {
            out().println(submitted.jobId());
            return;
        }
        print(output, api.get(path), columns);
    }

    /** DELETE or POST .../remove, wait for it (unless --no-wait), and say what happened. */
    void removeAndReport(String method, String path, Options.Wait wait, String what) {
        ApiClient.Submitted submitted = api.submit(method, path, null, wait.noWait);
        if (submitted.pending()) {
            out().println(submitted.jobId());
        } else {
            // 204 is no proof of absence: some APIs (vaults from 2024-04-01) answer a completed delete with it.
            out().println("Deleted " + what + ".");
        }
    }

    /** {@code path?api-version=...} */
    static String versioned(String path, String apiVersion) {
        return path + (path.contains("?") ? "&" : "?") + "api-version=" + apiVersion;
    }
}
