package dev.secondsite.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.ResourceStore;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The persistent job queue. Workers claim a job by compare-and-set on its lease
 * ({@code lease_owner}, {@code lease_until}); a worker that dies stops renewing and its lease runs out,
 * so another worker (or the restarted server) picks the job up at its first unfinished task.
 */
public final class JobStore {
    private static final String COLUMNS = "id, vault_id, scenario, friendly_name, target_id, target_name, target_type, "
            + "state, state_description, input, tasks, errors, result_id, cancel_requested, created_by, created_at, "
            + "start_time, end_time, attempts, rolled_back";
    /** The state description of a job that failed or was cancelled while its rollback runs. */
    static final String ROLLING_BACK = "RollingBack";
    /**
     * A failed or cancelled job reads as in progress ({@link #ROLLING_BACK}) until its rollback has run: whoever
     * waits for the job to end then finds what it undid (an item's state, a plan's status) undone, and cannot
     * restart it while the rollback still runs.
     */
    private static final RowMapper<Job> ROW = (rs, ctx) -> {
        JobState state = JobState.valueOf(rs.getString("state"));
        boolean rollingBack = (state == JobState.Failed || state == JobState.Cancelled) && !rs.getBoolean("rolled_back");
        return new Job(rs.getString("id"), rs.getString("vault_id"),
                rs.getString("scenario"), rs.getString("friendly_name"), rs.getString("target_id"),
                rs.getString("target_name"), rs.getString("target_type"), rollingBack ? JobState.InProgress : state,
                rollingBack ? ROLLING_BACK : rs.getString("state_description"),
                (ObjectNode) Json.parse(rs.getString("input")),
                (ArrayNode) Json.parse(rs.getString("tasks")), (ArrayNode) Json.parse(rs.getString("errors")),
                rs.getString("result_id"), rs.getBoolean("cancel_requested"), rs.getString("created_by"),
                rs.getLong("created_at"), (Long) rs.getObject("start_time", Long.class),
                rollingBack ? null : (Long) rs.getObject("end_time", Long.class), rs.getInt("attempts"));
    };

    private final Jdbi jdbi;

    public JobStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** What a caller asks to run. */
    public record NewJob(String vaultId, Workflow workflow, String targetId, String targetName, String targetType,
                         ObjectNode input, String createdBy) {}

    public Job submit(NewJob request) {
        String id = UUID.randomUUID().toString();
        ArrayNode tasks = Json.MAPPER.createArrayNode();
        for (Workflow.Task t : request.workflow().tasks(request.input())) {
            ObjectNode task = tasks.addObject();
            task.put("taskId", UUID.randomUUID().toString());
            task.put("name", t.name());
            task.put("friendlyName", t.friendlyName());
            task.put("state", JobState.NotStarted.name());
            task.put("stateDescription", JobState.NotStarted.name());
            task.put("taskType", "TaskDetails");
            if (t.customDetails() != null) {
                task.set("customDetails", t.customDetails().deepCopy());
            }
            task.putArray("allowedActions");
            task.putArray("errors");
        }
        long now = System.currentTimeMillis();
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO jobs (id, vault_key, vault_id, scenario, friendly_name, "
                        + "target_id, target_name, target_type, state, state_description, input, tasks, errors, "
                        + "created_by, created_at) VALUES (:id, :vk, :v, :sc, :fn, :ti, :tn, :tt, 'NotStarted', "
                        + "'NotStarted', :in, :tasks, '[]', :by, :now)")
                .bind("id", id).bind("vk", ResourceStore.key(request.vaultId())).bind("v", request.vaultId())
                .bind("sc", request.workflow().scenario()).bind("fn", request.workflow().friendlyName())
                .bind("ti", request.targetId()).bind("tn", request.targetName()).bind("tt", request.targetType())
                .bind("in", Json.write(request.input())).bind("tasks", Json.write(tasks))
                .bind("by", request.createdBy()).bind("now", now).execute());
        return find(id).orElseThrow();
    }

    public Optional<Job> find(String id) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM jobs WHERE id = :id")
                .bind("id", id).map(ROW).findOne());
    }

    public Optional<Job> find(String vaultId, String id) {
        return find(id).filter(j -> ResourceStore.key(j.vaultId()).equals(ResourceStore.key(vaultId)));
    }

    /** The vault's jobs, newest first. */
    public List<Job> list(String vaultId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS
                        + " FROM jobs WHERE vault_key = :vk ORDER BY created_at DESC, id")
                .bind("vk", ResourceStore.key(vaultId)).map(ROW).list());
    }

    /** Claims the oldest runnable job whose lease is free or expired, or returns empty. */
    Optional<Job> claimNext(String owner, long leaseMillis) {
        long now = System.currentTimeMillis();
        List<String> candidates = jdbi.withHandle(h -> h.createQuery("SELECT id FROM jobs WHERE state IN "
                        + "('NotStarted', 'InProgress') AND (lease_until IS NULL OR lease_until < :now) "
                        + "ORDER BY created_at LIMIT 8")
                .bind("now", now).mapTo(String.class).list());
        for (String id : candidates) {
            int claimed = jdbi.withHandle(h -> h.createUpdate("UPDATE jobs SET lease_owner = :o, lease_until = :u, "
                            + "attempts = attempts + 1, state = 'InProgress', state_description = 'InProgress', "
                            + "start_time = COALESCE(start_time, :now) WHERE id = :id AND state IN ('NotStarted', "
                            + "'InProgress') AND (lease_until IS NULL OR lease_until < :now)")
                    .bind("o", owner).bind("u", now + leaseMillis).bind("now", now).bind("id", id).execute());
            if (claimed == 1) {
                return find(id);
            }
        }
        return Optional.empty();
    }

    /** Extends the leases this owner holds; returns how many it still holds. */
    int renewLeases(String owner, long leaseMillis) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE jobs SET lease_until = :u WHERE lease_owner = :o "
                        + "AND state IN ('NotStarted', 'InProgress')")
                .bind("u", System.currentTimeMillis() + leaseMillis).bind("o", owner).execute());
    }

    /** For the single-process embedded store: nobody else can hold a lease, so free them all now. */
    void releaseAllLeases() {
        jdbi.useHandle(h -> h.createUpdate("UPDATE jobs SET lease_owner = NULL, lease_until = NULL "
                + "WHERE state IN ('NotStarted', 'InProgress')").execute());
    }

    void saveTasks(String id, ArrayNode tasks) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE jobs SET tasks = :t WHERE id = :id")
                .bind("t", Json.write(tasks)).bind("id", id).execute());
    }

    void setResult(String id, String resourceId) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE jobs SET result_id = :r WHERE id = :id")
                .bind("r", resourceId).bind("id", id).execute());
    }

    void finish(String id, JobState state, String description, ArrayNode tasks, ArrayNode errors) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE jobs SET state = :s, state_description = :d, tasks = :t, "
                        + "errors = :e, end_time = :now, lease_owner = NULL, lease_until = NULL WHERE id = :id")
                .bind("s", state.name()).bind("d", description).bind("t", Json.write(tasks))
                .bind("e", Json.write(errors)).bind("now", System.currentTimeMillis()).bind("id", id).execute());
    }

    /**
     * Asks a job to stop. A job not yet started is cancelled at once; a running one stops before its
     * next task. Returns false when the job had already ended.
     */
    public boolean requestCancel(String id) {
        return jdbi.inTransaction(h -> {
            int notStarted = h.createUpdate("UPDATE jobs SET state = 'Cancelled', state_description = 'Cancelled', "
                            + "end_time = :now, cancel_requested = TRUE, rolled_back = TRUE WHERE id = :id "
                            + "AND state = 'NotStarted'")
                    .bind("now", System.currentTimeMillis()).bind("id", id).execute();
            if (notStarted == 1) {
                return true;
            }
            return h.createUpdate("UPDATE jobs SET cancel_requested = TRUE WHERE id = :id AND state = 'InProgress'")
                    .bind("id", id).execute() == 1;
        });
    }

    /** Failed or cancelled jobs whose rollback has not run (the server stopped in between). */
    List<Job> awaitingRollback() {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM jobs WHERE state IN ('Failed', 'Cancelled') "
                + "AND rolled_back = FALSE ORDER BY created_at").map(ROW).list());
    }

    void markRolledBack(String id) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE jobs SET rolled_back = TRUE WHERE id = :id").bind("id", id).execute());
    }

    boolean cancelRequested(String id) {
        return jdbi.withHandle(h -> h.createQuery("SELECT cancel_requested FROM jobs WHERE id = :id")
                .bind("id", id).mapTo(Boolean.class).one());
    }

    /**
     * Puts a failed or cancelled job back in the queue; it resumes at its first task that did not succeed, or
     * with {@code fromStart} (its rollback undid the finished tasks) at its first task. Returns false when the job
     * is not in a restartable state.
     */
    public boolean restart(String id, boolean fromStart) {
        Optional<Job> job = find(id);
        if (job.isEmpty() || !(job.get().state() == JobState.Failed || job.get().state() == JobState.Cancelled)) {
            return false;
        }
        ArrayNode tasks = job.get().tasks().deepCopy();
        for (var t : tasks) {
            ObjectNode task = (ObjectNode) t;
            if (fromStart || !JobState.Succeeded.name().equals(task.path("state").asText())) {
                task.put("state", JobState.NotStarted.name());
                task.put("stateDescription", JobState.NotStarted.name());
                task.remove("endTime");
                task.remove("startTime");
                task.putArray("errors");
            }
        }
        return jdbi.withHandle(h -> h.createUpdate("UPDATE jobs SET state = 'NotStarted', state_description = "
                        + "'NotStarted', tasks = :t, errors = '[]', end_time = NULL, cancel_requested = FALSE, "
                        + "attempts = 0, lease_owner = NULL, lease_until = NULL, rolled_back = FALSE WHERE id = :id "
                        + "AND state IN "
                        + "('Failed', 'Cancelled')")
                .bind("t", Json.write(tasks)).bind("id", id).execute()) == 1;
    }
}
