package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.jobs.JobState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/** {@code secondsite job ...}: Site Recovery jobs, the record of every long-running operation. */
@Command(name = "job", description = "List, inspect, cancel, restart and wait for jobs.",
        subcommands = {JobCommands.ListCmd.class, JobCommands.Show.class, JobCommands.Cancel.class,
                JobCommands.Restart.class, JobCommands.Wait.class})
final class JobCommands {
    @Mixin Options.Help help;

    static final Set<String> TERMINAL = Set.of("Succeeded", "Failed", "Cancelled");
    static final List<Output.Column> TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("OPERATION", "/properties/friendlyName"),
            Output.Column.at("STATE", "/properties/state"),
            Output.Column.at("TARGET", "/properties/targetObjectName"),
            Output.Column.at("START", "/properties/startTime"),
            Output.Column.at("END", "/properties/endTime"));


    static String jobPath(ApiClient api, Options.Vault vault, String id) {
        return vault.path(api) + "/replicationJobs/" + ApiClient.seg(id);
    }

    @Command(name = "list", description = "List the jobs of a vault.")
    static final class ListCmd extends ApiCommand {
        @Option(names = "--state", paramLabel = "STATE",
                description = "Only jobs in this state: ${COMPLETION-CANDIDATES}.")
        JobState state;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            String path = versioned(vault.path(api) + "/replicationJobs", VaultCommands.API_VERSION);
            if (state != null) {
                path += "&$filter=" + ApiClient.seg("jobStatus eq '" + state.name() + "'");
            }
            print(output, api.list(path), TABLE);
        }
    }

    @Command(name = "show", description = "Show a job with its tasks and errors (-o json for all details).")
    static final class Show extends ApiCommand {
        @Parameters(paramLabel = "ID", description = "The job's name (its id, as `job list` shows it).") String id;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            JsonNode job = api.get(versioned(jobPath(api, vault, id), VaultCommands.API_VERSION));
            print(output, job, TABLE);
            if (output.format == Output.Format.table) {
                printTasksAndErrors(out(), job);
            }
        }
    }

    /** Below a job's row: its tasks with their states, then its errors and warnings, if any. */
    static void printTasksAndErrors(PrintWriter out, JsonNode job) {
        out.println();
        Output.table(out, Output.rows(job.at("/properties/tasks")), TASK_TABLE);
        List<JsonNode> errors = Output.rows(job.at("/properties/errors"));
        if (!errors.isEmpty()) {
            out.println();
            Output.table(out, errors, ERROR_TABLE);
        }
        out.flush();
    }

    static final List<Output.Column> TASK_TABLE = List.of(
            Output.Column.at("TASK", "/friendlyName"),
            Output.Column.at("STATE", "/state"),
            Output.Column.at("START", "/startTime"),
            Output.Column.at("END", "/endTime"));

    /** Errors and warnings of a job (properties.errors: ASR JobErrorDetails). */
    static final List<Output.Column> ERROR_TABLE = List.of(
            Output.Column.at("LEVEL", "/errorLevel"),
            Output.Column.at("CODE", "/serviceErrorDetails/code"),
            Output.Column.at("MESSAGE", "/serviceErrorDetails/message"));

    @Command(name = "cancel", description = "Cancel a job that has not finished.")
    static final class Cancel extends ApiCommand {
        @Parameters(paramLabel = "ID", description = "The job's name (its id, as `job list` shows it).") String id;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            api.submit("POST", versioned(jobPath(api, vault, id) + "/cancel", VaultCommands.API_VERSION), null, false);
            print(output, api.get(versioned(jobPath(api, vault, id), VaultCommands.API_VERSION)), TABLE);
        }
    }

    @Command(name = "restart", description = "Restart a failed or cancelled job.")
    static final class Restart extends ApiCommand {
        @Parameters(paramLabel = "ID", description = "The job's name (its id, as `job list` shows it).") String id;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            api.submit("POST", versioned(jobPath(api, vault, id) + "/restart", VaultCommands.API_VERSION), null, false);
            print(output, api.get(versioned(jobPath(api, vault, id), VaultCommands.API_VERSION)), TABLE);
        }
    }

    @Command(name = "wait", description = "Wait until a job ends; exit code 1 unless it succeeded.")
    static final class Wait extends ApiCommand {
        @Parameters(paramLabel = "ID", description = "The job's name (its id, as `job list` shows it).") String id;
        @Option(names = "--timeout-seconds", paramLabel = "N", description = "Give up after N seconds (default: never).")
        Long timeoutSeconds;
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            String path = versioned(jobPath(api, vault, id), VaultCommands.API_VERSION);
            JsonNode job = api.get(path);
            JsonNode p = job.path("properties");
            String target = p.path("targetObjectName").asText("");
            Progress progress = new Progress(err(), p.path("friendlyName").asText("Job " + id)
                    + (target.isEmpty() ? "" : " '" + target + "'"));
            try {
                while (true) {
                    String state = job.at("/properties/state").asText();
                    progress.update(state);
                    if (TERMINAL.contains(state)) {
                        break;
                    }
                    if (timeoutSeconds != null && progress.elapsedSeconds() >= timeoutSeconds) {
                        throw CliException.api("Timeout", "job " + id + " is still " + state + " after "
                                + timeoutSeconds + " s");
                    }
                    ApiClient.sleep(Duration.ofSeconds(1));
                    job = api.get(path);
                }
            } finally {
                progress.finish();
            }
            print(output, job, TABLE);
            String state = job.at("/properties/state").asText();
            if (!state.equals("Succeeded")) {
                JsonNode error = job.at("/properties/errors/0/serviceErrorDetails");
                throw CliException.api(error.path("code").asText("Job" + state),
                        error.path("message").asText("job " + id + " ended " + state + "."));
            }
        }
    }
}
