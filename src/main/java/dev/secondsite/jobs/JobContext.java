package dev.secondsite.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.auth.Principal;

/** What a running task sees of its job, and how it reports the resource it produced. */
public final class JobContext {
    private final Job job;
    private final JobStore store;
    private final ArrayNode tasks;
    private final ObjectNode input;
    private ObjectNode task;

    JobContext(Job job, JobStore store, ArrayNode tasks) {
        this(job, store, tasks, job.input());
    }

    private JobContext(Job job, JobStore store, ArrayNode tasks, ObjectNode input) {
        this.job = job;
        this.store = store;
        this.tasks = tasks;
        this.input = input;
    }

    void enter(ObjectNode task) {
        this.task = task;
    }

    public Job job() {
        return job;
    }

    public ObjectNode input() {
        return input;
    }

    /**
     * The same job and running task seen with another input: a recovery plan's task runs an item's steps
     * with the item's own input. Warnings and child tasks go to the running task.
     */
    public JobContext withInput(ObjectNode input) {
        JobContext derived = new JobContext(job, store, tasks, input);
        derived.task = task;
        return derived;
    }

    /** Sets a field of the running task's customDetails (e.g. a script's output) and saves it. */
    public void detail(String field, String value) {
        requireTask();
        ObjectNode details = task.path("customDetails") instanceof ObjectNode d ? d : task.putObject("customDetails");
        details.put(field, value);
        store.saveTasks(job.id(), tasks);
    }

    /**
     * Runs {@code step} inside the running task and shows it as one of the task's child tasks (ASR
     * groupTaskCustomDetails InlineWorkflowTaskDetails), with its state, times and error.
     */
    public void runChild(Workflow.Task step) throws Exception {
        requireTask();
        ObjectNode group = task.path("groupTaskCustomDetails") instanceof ObjectNode g ? g
                : task.putObject("groupTaskCustomDetails");
        group.put("instanceType", "InlineWorkflowTaskDetails");
        ArrayNode children = group.withArray("childTasks");
        ObjectNode child = children.addObject();
        child.put("taskId", java.util.UUID.randomUUID().toString());
        child.put("name", step.name());
        child.put("friendlyName", step.friendlyName());
        child.put("state", JobState.InProgress.name());
        child.put("stateDescription", JobState.InProgress.name());
        child.put("startTime", Json.time(System.currentTimeMillis()));
        child.put("taskType", "TaskDetails");
        store.saveTasks(job.id(), tasks);
        try {
            step.step().run(this);
        } catch (Exception e) {
            child.put("state", JobState.Failed.name());
            child.put("stateDescription", JobState.Failed.name());
            child.put("endTime", Json.time(System.currentTimeMillis()));
            ObjectNode error = child.withArray("errors").addObject();
            ObjectNode service = error.putObject("serviceErrorDetails");
            if (e instanceof dev.secondsite.arm.ArmException a) {
                service.put("code", a.code());
            }
            service.put("message", String.valueOf(e.getMessage()));
            error.put("errorLevel", "Error");
            store.saveTasks(job.id(), tasks);
            throw e;
        }
        child.put("state", JobState.Succeeded.name());
        child.put("stateDescription", "Completed");
        child.put("endTime", Json.time(System.currentTimeMillis()));
        store.saveTasks(job.id(), tasks);
    }

    /** Forgets the running task's child tasks (a task run again after a restart shows only its new run). */
    public void clearChildren() {
        requireTask();
        task.remove("groupTaskCustomDetails");
    }

    private void requireTask() {
        if (task == null) {
            throw new IllegalStateException("outside a task");
        }
    }

    /** Records in a job's input who asked for it, so its tasks can act as that principal ({@link #principal()}). */
    public static void putPrincipal(ObjectNode input, Principal principal) {
        ObjectNode as = input.putObject("principal");
        as.put("objectId", principal.objectId());
        as.put("clientId", principal.clientId());
        as.put("tenantId", principal.tenantId());
    }

    /** The principal {@link #putPrincipal} recorded in the job's input. */
    public Principal principal() {
        var p = input().path("principal");
        return new Principal(p.path("objectId").asText(), p.path("clientId").asText(), p.path("tenantId").asText());
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
        requireTask();
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
