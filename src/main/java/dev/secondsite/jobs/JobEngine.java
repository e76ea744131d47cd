package dev.secondsite.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Runs queued jobs. Each worker thread claims one job at a time, runs its remaining tasks in order and
 * saves every task's state as it goes, so a crash resumes the job at the task it was in (tasks are
 * idempotent). A job that keeps crashing its worker fails after {@link #ATTEMPTS_MAX} claims instead of
 * looping forever.
 */
public final class JobEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobEngine.class);
    /** How long a claim holds without renewal; a dead server's jobs are picked up after this. */
    public static final long LEASE_MILLIS = 30_000;
    private static final long RENEW_EVERY_MILLIS = LEASE_MILLIS / 3;
    private static final long IDLE_POLL_MILLIS = 500;
    public static final int ATTEMPTS_MAX = 5;

    private final JobStore store;
    private final Map<String, Workflow> workflows = new HashMap<>();
    private final String owner = "node-" + UUID.randomUUID();
    private final int workers;
    private final long taskDelayMillis;
    private final Semaphore wakeUp = new Semaphore(0);
    private ScheduledExecutorService scheduler;
    private volatile boolean running;

    /**
     * @param taskDelayMillis pause before each task; 0 in production. Demos and crash tests use it to
     *                        make a job last long enough to watch or to kill the server in the middle.
     */
    public JobEngine(JobStore store, int workers, long taskDelayMillis) {
        this.store = store;
        this.workers = workers;
        this.taskDelayMillis = taskDelayMillis;
    }

    public void register(Workflow workflow) {
        if (workflows.putIfAbsent(workflow.scenario(), workflow) != null) {
            throw new IllegalStateException("workflow registered twice: " + workflow.scenario());
        }
    }

    public Workflow workflow(String scenario) {
        Workflow w = workflows.get(scenario);
        if (w == null) {
            throw new IllegalArgumentException("no workflow for scenario " + scenario);
        }
        return w;
    }

    /** Starts the workers. With {@code exclusiveStore} (embedded store) leases of a previous run are freed at once. */
    public void start(boolean exclusiveStore) {
        if (exclusiveStore) {
            store.releaseAllLeases();
        }
        finishRollbacks();
        running = true;
        scheduler = Executors.newScheduledThreadPool(workers + 1, Thread.ofPlatform().name("jobs-", 0).factory());
        for (int i = 0; i < workers; i++) {
            scheduler.execute(this::workLoop);
        }
        scheduler.scheduleAtFixedRate(() -> store.renewLeases(owner, LEASE_MILLIS),
                RENEW_EVERY_MILLIS, RENEW_EVERY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Wakes an idle worker: a job was just queued. */
    public void signal() {
        wakeUp.release();
    }

    private void workLoop() {
        while (running) {
            try {
                var job = store.claimNext(owner, LEASE_MILLIS);
                if (job.isPresent()) {
                    run(job.get());
                } else {
                    wakeUp.tryAcquire(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
                    wakeUp.drainPermits();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.error("job worker error; retrying", e);
                sleepQuietly(IDLE_POLL_MILLIS);
            }
        }
    }

    private void run(Job job) throws InterruptedException {
        ArrayNode tasks = job.tasks().deepCopy();
        Workflow workflow = workflows.get(job.scenario());
        if (job.attempts() > ATTEMPTS_MAX) {
            fail(job, tasks, null, new ArmException(500, "JobAttemptsExhausted", "The job was interrupted "
                    + (job.attempts() - 1) + " times (server restarts) and was stopped. Restart it to try again."));
            if (workflow != null) {
                rollback(workflow, new JobContext(job, store, tasks));
            }
            return;
        }
        if (workflow == null) {
            fail(job, tasks, null, new ArmException(500, "UnknownJobScenario",
                    "This server has no workflow for scenario '" + job.scenario() + "'."));
            return;
        }
        JobContext context = new JobContext(job, store, tasks);
        java.util.List<Workflow.Task> steps = workflow.tasks(job.input());
        for (int i = 0; i < steps.size(); i++) {
            ObjectNode task = (ObjectNode) tasks.get(i);
            if (JobState.Succeeded.name().equals(task.path("state").asText())) {
                continue;
            }
            if (store.cancelRequested(job.id())) {
                task.put("state", JobState.Cancelled.name());
                task.put("stateDescription", JobState.Cancelled.name());
                store.finish(job.id(), JobState.Cancelled, "Cancelled", tasks, Json.MAPPER.createArrayNode());
                rollback(workflow, context);
                return;
            }
            if (taskDelayMillis > 0) {
                Thread.sleep(taskDelayMillis);
            }
            task.put("state", JobState.InProgress.name());
            task.put("stateDescription", JobState.InProgress.name());
            task.put("startTime", Json.time(System.currentTimeMillis()));
            store.saveTasks(job.id(), tasks);
            context.enter(task);
            try {
                steps.get(i).step().run(context);
            } catch (ArmException e) {
                fail(job, tasks, task, e);
                rollback(workflow, context);
                return;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                LOG.error("job {} task {} failed", job.id(), task.path("name").asText(), e);
                fail(job, tasks, task, new ArmException(500, "InternalError",
                        "Task '" + task.path("friendlyName").asText() + "' failed: " + e));
                rollback(workflow, context);
                return;
            }
            task.put("state", JobState.Succeeded.name());
            task.put("stateDescription", "Completed");
            task.put("endTime", Json.time(System.currentTimeMillis()));
            store.saveTasks(job.id(), tasks);
        }
        ArrayNode warnings = Json.MAPPER.createArrayNode();
        tasks.forEach(t -> t.path("errors").forEach(e -> warnings.add(e.deepCopy())));
        store.finish(job.id(), JobState.Succeeded, warnings.isEmpty() ? "Completed" : "CompletedWithInformation",
                tasks, warnings);
    }

    /**
     * Runs the workflow's rollback after a failure or cancel, then records that it ran (also for workflows without
     * one). A rollback that fails is logged, not retried; one cut short by a crash runs again at the next start.
     */
    private void rollback(Workflow workflow, JobContext context) {
        if (workflow.rollback() != null) {
            try {
                workflow.rollback().run(context);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.error("rollback of job {} ({}) failed", context.job().id(), workflow.scenario(), e);
            }
        }
        store.markRolledBack(context.job().id());
    }

    /** At start: the rollbacks a previous run did not get to (it died after a job failed). */
    private void finishRollbacks() {
        for (Job job : store.awaitingRollback()) {
            Workflow workflow = workflows.get(job.scenario());
            if (workflow != null) {
                rollback(workflow, new JobContext(job, store, job.tasks().deepCopy()));
            } else {
                store.markRolledBack(job.id());
            }
        }
    }

    private void fail(Job job, ArrayNode tasks, ObjectNode task, ArmException e) {
        ObjectNode error = Json.object();
        ObjectNode service = error.putObject("serviceErrorDetails");
        service.put("code", e.code());
        service.put("message", e.getMessage());
        service.put("httpStatus", e.status());
        error.put("errorLevel", "Error");
        error.put("creationTime", Json.time(System.currentTimeMillis()));
        if (task != null) {
            error.put("taskId", task.path("taskId").asText());
            task.put("state", JobState.Failed.name());
            task.put("stateDescription", JobState.Failed.name());
            task.put("endTime", Json.time(System.currentTimeMillis()));
            ((ArrayNode) task.withArray("errors")).add(error.deepCopy());
        }
        ArrayNode errors = Json.MAPPER.createArrayNode().add(error);
        store.finish(job.id(), JobState.Failed, "Failed", tasks, errors);
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
