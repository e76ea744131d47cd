package dev.secondsite.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.function.Function;

/**
 * What a job of one scenario does: an ordered list of tasks, each shown in the job as ASR shows them
 * (e.g. "Enable protection" then "Finalize protection"). A task may run more than once (after a
 * crash or a restart), so every task must be idempotent.
 *
 * <p>{@code rollback}, when present, runs once after the job failed or was cancelled (also after a job
 * ran out of attempts): it undoes what the finished tasks left half done, so a failed failover, for one,
 * leaves no half-built VM behind. It must be idempotent too and must not assume which task failed.
 *
 * <p>{@code tasksFor}, when present, derives the task list from the job's input instead (a recovery plan's
 * job has one task per group action and item). It must give the same list for the same input every time,
 * since the engine matches the stored tasks to it by position after a restart.
 */
public record Workflow(String scenario, String friendlyName, List<Task> tasks, Step rollback,
                       Function<ObjectNode, List<Task>> tasksFor) {

    public Workflow(String scenario, String friendlyName, List<Task> tasks) {
        this(scenario, friendlyName, tasks, null, null);
    }

    public Workflow(String scenario, String friendlyName, List<Task> tasks, Step rollback) {
        this(scenario, friendlyName, tasks, rollback, null);
    }

    /** The tasks of a job with this input. */
    public List<Task> tasks(ObjectNode input) {
        return tasksFor == null ? tasks : tasksFor.apply(input);
    }

    /** One task; {@code customDetails} (may be null) is shown as the task's ASR customDetails. */
    public record Task(String name, String friendlyName, Step step, ObjectNode customDetails) {
        public Task(String name, String friendlyName, Step step) {
            this(name, friendlyName, step, null);
        }
    }

    @FunctionalInterface
    public interface Step {
        void run(JobContext context) throws Exception;
    }

    public static Task task(String name, String friendlyName, Step step) {
        return new Task(name, friendlyName, step);
    }
}
