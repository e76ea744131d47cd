package dev.secondsite.jobs;

import java.util.List;

/**
 * What a job of one scenario does: an ordered list of tasks, each shown in the job as ASR shows them
 * (e.g. "Enable protection" then "Finalize protection"). A task may run more than once (after a
 * crash or a restart), so every task must be idempotent.
 *
 * <p>{@code rollback}, when present, runs once after the job failed or was cancelled (also after a job
 * ran out of attempts): it undoes what the finished tasks left half done, so a failed failover, for one,
 * leaves no half-built VM behind. It must be idempotent too and must not assume which task failed.
 */
public record Workflow(String scenario, String friendlyName, List<Task> tasks, Step rollback) {

    public Workflow(String scenario, String friendlyName, List<Task> tasks) {
        this(scenario, friendlyName, tasks, null);
    }

    public record Task(String name, String friendlyName, Step step) {}

    @FunctionalInterface
    public interface Step {
        void run(JobContext context) throws Exception;
    }

    public static Task task(String name, String friendlyName, Step step) {
        return new Task(name, friendlyName, step);
    }
}
