package dev.secondsite.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;

/** What a running task sees of its job, and how it reports the resource it produced. */
public final class JobContext {
    private final Job job;
    private final JobStore store;
    private final ArrayNode tasks;
    private ObjectNode task;

    JobContext(Job job, JobStore store, ArrayNode tasks) {
        this.job = job;
        this.store = store;
        this.tasks = tasks;
    }

    void enter(ObjectNode task) {
        this.task = task;
    }

    public Job job() {
        return job;
    }

    public ObjectNode input() {
        return job.input();
    }

    /** Records the resource this operation produced; the operation-results URL returns it. */
    public void result(String resourceId) {
        store.setResult(job.id(), resourceId);
    }

    /**
     * Records a warning on the running task (ASR: errorLevel Warning) and saves it at once, so it survives a
     * crash. A job that completes with warnings ends as "CompletedWithInformation" and lists them as its errors.
     * A task re-run after a crash may record the same code again; it is kept once.
     */
    public void warn(String code, String message) {
        if (task == null) {
            throw new IllegalStateException("warn() outside a task");
        }
        ArrayNode errors = task.withArray("errors");
        for (var e : errors) {
            if (code.equals(e.path("serviceErrorDetails").path("code").asText())) {
                return;
            }
        }
        ObjectNode warning = errors.addObject();
        ObjectNode service = warning.putObject("serviceErrorDetails");
        service.put("code", code);
        service.put("message", message);
        warning.put("errorLevel", "Warning");
        warning.put("creationTime", Json.time(System.currentTimeMillis()));
        warning.put("taskId", task.path("taskId").asText());
        store.saveTasks(job.id(), tasks);
    }
}
