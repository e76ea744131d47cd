package dev.secondsite.protection;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.ResourceStore;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The {@code protected_items} and {@code protected_disks} tables. State transitions are conditional
 * updates ({@code WHERE protection_state = :from}), so a job task and the replication engine can both try
 * one and exactly one wins, and a re-run task finds it done.
 */
public final class ProtectionStore {
    /** Item states, in the order an item normally goes through them. */
    public static final String ENABLING = "Enabling";
    public static final String INITIAL_REPLICATION = "InitialReplication";
    public static final String PROTECTED = "Protected";
    public static final String RESYNCHRONIZING = "Resynchronizing";
    public static final String DISABLING = "Disabling";
    /** Failover states, as ASR names them (reference §4.2). */
    public static final String FAILOVER_IN_PROGRESS = "FailoverInProgress";
    public static final String PLANNED_FAILOVER_COMMIT_REQUIRED = "PlannedFailoverCommitRequired";
    public static final String UNPLANNED_FAILOVER_COMMIT_PENDING = "UnplannedFailoverCommitPendingStatesBegin";
    public static final String COMMIT_IN_PROGRESS = "FailoverCommitInProgress";
    public static final String FAILOVER_COMMITTED = "PlannedFailoverStatesBegin";
    public static final String REPROTECTING = "ReprotectInProgress";
    /** Test failover states (testFailoverState). */
    public static final String TFO_NONE = "None";
    public static final String TFO_IN_PROGRESS = "InProgress";
    public static final String TFO_WAITING = "WaitingForCompletion";
    public static final String TFO_CLEANING = "MarkedForDeletion";

    private static final String ITEM_COLUMNS = "item_key, item_id, agent_id, policy_id, enable_job_id, protection_state, "
            + "churn_mode, created_at, updated_at, active_location, test_failover_state, failover_doc";
    private static final RowMapper<Item> ITEM = (rs, ctx) -> new Item(rs.getString("item_key"), rs.getString("item_id"),
            rs.getString("agent_id"), rs.getString("policy_id"), rs.getString("enable_job_id"),
            rs.getString("protection_state"), rs.getString("churn_mode"), rs.getLong("created_at"),
            rs.getLong("updated_at"), rs.getString("active_location"), rs.getString("test_failover_state"),
            (ObjectNode) Json.parse(rs.getString("failover_doc")));
    private static final String DISK_COLUMNS = "disk_id, item_key, agent_id, disk_name, capacity_bytes, chunk_bytes, "
            + "replicating, next_sequence, last_applied_sequence, resync_required, resync_id, resync_full, "
            + "resync_started_at, disk_resized, health_error, bytes_uploaded, bytes_applied, segments_applied, "
            + "pending_upload_bytes, churn_bytes_per_second, last_point_at, last_app_point_at, last_upload_at, created_at, "
            + "agent_activity, agent_progress_percent";
    private static final RowMapper<Disk> DISK = (rs, ctx) -> new Disk(UUID.fromString(rs.getString("disk_id")),
            rs.getString("item_key"), rs.getString("agent_id"), rs.getString("disk_name"), rs.getLong("capacity_bytes"),
            rs.getInt("chunk_bytes"), rs.getBoolean("replicating"), rs.getLong("next_sequence"),
            rs.getLong("last_applied_sequence"), rs.getBoolean("resync_required"), rs.getString("resync_id"),
            rs.getBoolean("resync_full"), rs.getObject("resync_started_at", Long.class), rs.getBoolean("disk_resized"),
            rs.getString("health_error") == null ? null : (ObjectNode) Json.parse(rs.getString("health_error")),
            rs.getLong("bytes_uploaded"), rs.getLong("bytes_applied"), rs.getLong("segments_applied"),
            rs.getLong("pending_upload_bytes"), rs.getDouble("churn_bytes_per_second"),
            rs.getObject("last_point_at", Long.class), rs.getObject("last_app_point_at", Long.class),
            rs.getObject("last_upload_at", Long.class), rs.getLong("created_at"), rs.getString("agent_activity"),
            rs.getObject("agent_progress_percent", Double.class));

    /** One protected item's replication state; its ARM body is the resource row with the same id. */
    public record Item(String itemKey, String itemId, String agentId, String policyId, String enableJobId,
                       String state, String churnMode, long createdAt, long updatedAt, String activeLocation,
                       String testFailoverState, ObjectNode failover) {}

    /**
     * One replicated disk. {@code nextSequence} and {@code lastAppliedSequence} are mirrors of the stores
     * (see the migration); {@code healthError} is the HealthError of the last apply failure, null when none.
     */
    public record Disk(UUID diskId, String itemKey, String agentId, String name, long capacityBytes, int chunkBytes,
                       boolean replicating, long nextSequence, long lastAppliedSequence, boolean resyncRequired,
                       String resyncId, boolean resyncFull, Long resyncStartedAt, boolean diskResized,
                       ObjectNode healthError, long bytesUploaded, long bytesApplied, long segmentsApplied,
                       long pendingUploadBytes, double churnBytesPerSecond, Long lastPointAt, Long lastAppPointAt,
                       Long lastUploadAt, long createdAt, String agentActivity, Double agentProgressPercent) {}

    private final Jdbi jdbi;

    public ProtectionStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    // ---- items ----

    public Optional<Item> item(String itemId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + ITEM_COLUMNS + " FROM protected_items WHERE item_key = :k")
                .bind("k", ResourceStore.key(itemId)).map(ITEM).findOne());
    }

    public List<Item> items() {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + ITEM_COLUMNS + " FROM protected_items ORDER BY created_at")
                .map(ITEM).list());
    }

    public List<Item> itemsOfAgent(String agentId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + ITEM_COLUMNS
                        + " FROM protected_items WHERE agent_id = :a ORDER BY created_at")
                .bind("a", agentId).map(ITEM).list());
    }

    /** Inserts the item unless it exists; returns the stored item either way. */
    public Item createItem(String itemId, String vaultId, String agentId, String policyId, String jobId, long now) {
        return jdbi.inTransaction(h -> {
            boolean exists = h.createQuery("SELECT COUNT(*) FROM protected_items WHERE item_key = :k")
                    .bind("k", ResourceStore.key(itemId)).mapTo(Integer.class).one() > 0;
            if (!exists) {
                h.createUpdate("INSERT INTO protected_items (item_key, item_id, vault_key, agent_id, policy_id, "
                                + "enable_job_id, protection_state, churn_mode, created_at, updated_at) VALUES "
                                + "(:k, :id, :v, :a, :p, :j, :s, 'Normal', :t, :t)")
                        .bind("k", ResourceStore.key(itemId)).bind("id", itemId).bind("v", ResourceStore.key(vaultId))
                        .bind("a", agentId).bind("p", policyId).bind("j", jobId).bind("s", ENABLING).bind("t", now)
                        .execute();
            }
            return h.createQuery("SELECT " + ITEM_COLUMNS + " FROM protected_items WHERE item_key = :k")
                    .bind("k", ResourceStore.key(itemId)).map(ITEM).one();
        });
    }

    /** Moves the item from one of {@code from} to {@code to}; false when it was in none of them. */
    public boolean transition(String itemId, List<String> from, String to) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE protected_items SET protection_state = :to, updated_at = :t "
                        + "WHERE item_key = :k AND protection_state IN (<from>)")
                .bindList("from", from).bind("to", to).bind("t", System.currentTimeMillis())
                .bind("k", ResourceStore.key(itemId)).execute()) > 0;
    }

    /**
     * Sets the failover columns of an item, but only while it is in {@code expectedState} (and, unless null,
     * {@code expectedTestFailover}): the compare-and-set that keeps two failover jobs (or a job and a user's
     * disable) from both moving one item. Null leaves a column unchanged. False when the item was not in that state.
     */
    public boolean updateFailover(String itemId, String expectedState, String expectedTestFailover, String newState,
                                  String activeLocation, String testFailoverState, ObjectNode doc) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE protected_items SET "
                        + "protection_state = COALESCE(:s, protection_state), "
                        + "active_location = COALESCE(:a, active_location), "
                        + "test_failover_state = COALESCE(:tfo, test_failover_state), "
                        + "failover_doc = COALESCE(:doc, failover_doc), updated_at = :t "
                        + "WHERE item_key = :k AND protection_state = :expected "
                        + "AND test_failover_state = COALESCE(:etfo, test_failover_state)")
                .bind("etfo", expectedTestFailover).bind("s", newState).bind("a", activeLocation).bind("tfo", testFailoverState)
                .bind("doc", doc == null ? null : Json.write(doc)).bind("t", System.currentTimeMillis())
                .bind("k", ResourceStore.key(itemId)).bind("expected", expectedState).execute()) > 0;
    }

    public void setChurnMode(String itemId, String mode) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE protected_items SET churn_mode = :m, updated_at = :t WHERE item_key = :k")
                .bind("m", mode).bind("t", System.currentTimeMillis()).bind("k", ResourceStore.key(itemId)).execute());
    }

    /** Deletes the item and its disks rows. */
    public void deleteItem(String itemId) {
        jdbi.useTransaction(h -> {
            h.createUpdate("DELETE FROM protected_disks WHERE item_key = :k").bind("k", ResourceStore.key(itemId)).execute();
            h.createUpdate("DELETE FROM protected_items WHERE item_key = :k").bind("k", ResourceStore.key(itemId)).execute();
        });
    }

    // ---- disks ----

    public Optional<Disk> disk(UUID diskId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + DISK_COLUMNS + " FROM protected_disks WHERE disk_id = :d")
                .bind("d", diskId.toString()).map(DISK).findOne());
    }

    public List<Disk> disksOf(String itemId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + DISK_COLUMNS
                        + " FROM protected_disks WHERE item_key = :k ORDER BY created_at, disk_name")
                .bind("k", ResourceStore.key(itemId)).map(DISK).list());
    }

    /** The ids of an item's disks (their replicas in the recovery store). */
    public List<UUID> diskIdsOf(String itemId) {
        return disksOf(itemId).stream().map(Disk::diskId).toList();
    }

    public List<Disk> disksOfAgent(String agentId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + DISK_COLUMNS
                        + " FROM protected_disks WHERE agent_id = :a ORDER BY created_at, disk_name")
                .bind("a", agentId).map(DISK).list());
    }

    public List<Disk> disks() {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + DISK_COLUMNS + " FROM protected_disks ORDER BY created_at")
                .map(DISK).list());
    }

    /** Inserts the disk unless the item already has a disk of that name; returns the stored disk. */
    public Disk createDisk(UUID diskId, String itemId, String agentId, String name, long capacityBytes, int chunkBytes,
                           long now) {
        return jdbi.inTransaction(h -> {
            Optional<Disk> existing = h.createQuery("SELECT " + DISK_COLUMNS
                            + " FROM protected_disks WHERE item_key = :k AND disk_name = :n")
                    .bind("k", ResourceStore.key(itemId)).bind("n", name).map(DISK).findOne();
            if (existing.isPresent()) {
                return existing.get();
            }
            h.createUpdate("INSERT INTO protected_disks (disk_id, item_key, agent_id, disk_name, capacity_bytes, "
                            + "chunk_bytes, replicating, next_sequence, last_applied_sequence, resync_required, resync_full, "
                            + "disk_resized, bytes_uploaded, bytes_applied, segments_applied, pending_upload_bytes, "
                            + "churn_bytes_per_second, created_at) VALUES (:d, :k, :a, :n, :c, :cb, FALSE, 1, 0, FALSE, "
                            + "FALSE, FALSE, 0, 0, 0, 0, 0, :t)")
                    .bind("d", diskId.toString()).bind("k", ResourceStore.key(itemId)).bind("a", agentId).bind("n", name)
                    .bind("c", capacityBytes).bind("cb", chunkBytes).bind("t", now).execute();
            return h.createQuery("SELECT " + DISK_COLUMNS + " FROM protected_disks WHERE disk_id = :d")
                    .bind("d", diskId.toString()).map(DISK).one();
        });
    }

    public void setReplicating(String itemId, boolean replicating) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE protected_disks SET replicating = :r WHERE item_key = :k")
                .bind("r", replicating).bind("k", ResourceStore.key(itemId)).execute());
    }

    /** Asks the agent for a resync of the disk (heartbeat resync: true) until a marker tagged with resyncId lands. */
    public void requestResync(UUID diskId, String resyncId, boolean full, long now) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE protected_disks SET resync_required = TRUE, resync_id = :r, "
                        + "resync_full = :f, resync_started_at = :t, agent_progress_percent = 0 WHERE disk_id = :d")
                .bind("r", resyncId).bind("f", full).bind("t", now).bind("d", diskId.toString()).execute());
    }

    /** Ends the resync named resyncId (a later request keeps its own); true when it was the pending one. */
    public boolean completeResync(UUID diskId, String resyncId) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE protected_disks SET resync_required = FALSE, resync_full = FALSE, "
                        + "health_error = NULL WHERE disk_id = :d AND resync_required = TRUE AND resync_id = :r")
                .bind("d", diskId.toString()).bind("r", resyncId).execute()) > 0;
    }

    public void setHealthError(UUID diskId, ObjectNode error) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE protected_disks SET health_error = :e WHERE disk_id = :d")
                .bind("e", error == null ? null : Json.write(error)).bind("d", diskId.toString()).execute());
    }

    /** Clears a health error unless it is the kind a resync must clear. */
    public void clearTransientHealthError(UUID diskId, String code) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE protected_disks SET health_error = NULL WHERE disk_id = :d "
                        + "AND health_error IS NOT NULL AND health_error LIKE :c")
                .bind("d", diskId.toString()).bind("c", "%\"errorCode\":\"" + code + "\"%").execute());
    }

    public void setResized(UUID diskId, boolean resized) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE protected_disks SET disk_resized = :r WHERE disk_id = :d")
                .bind("r", resized).bind("d", diskId.toString()).execute());
    }

    /**
     * What the agent says about the disk in its heartbeat: pending bytes, churn, its pass's activity (may be null),
     * and the disk's resync progress in percent, or null to keep the recorded one (Registrations decides).
     */
    public void recordAgentStats(UUID diskId, long pendingUploadBytes, double churnBytesPerSecond, String activity,
                                 Double resyncProgressPercent) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE protected_disks SET pending_upload_bytes = :p, "
                        + "churn_bytes_per_second = :c, agent_activity = :a, "
                        + "agent_progress_percent = COALESCE(:g, agent_progress_percent) WHERE disk_id = :d")
                .bind("p", pendingUploadBytes).bind("c", churnBytesPerSecond).bind("a", activity)
                .bindByType("g", resyncProgressPercent, Double.class).bind("d", diskId.toString()).execute());
    }

    public void recordUpload(UUID diskId, long bytes, long nextSequence, long now) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE protected_disks SET bytes_uploaded = bytes_uploaded + :b, "
                        + "next_sequence = :n, last_upload_at = :t WHERE disk_id = :d")
                .bind("b", bytes).bind("n", nextSequence).bind("t", now).bind("d", diskId.toString()).execute());
    }

    /** Mirrors an applied segment (the replica's state is the truth). */
    public void recordApply(UUID diskId, long sequence, long bytes, Long lastPointAt, Long lastAppPointAt) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE protected_disks SET last_applied_sequence = :s, "
                        + "bytes_applied = bytes_applied + :b, segments_applied = segments_applied + 1, "
                        + "last_point_at = COALESCE(:p, last_point_at), last_app_point_at = COALESCE(:a, last_app_point_at) "
                        + "WHERE disk_id = :d")
                .bind("s", sequence).bind("b", bytes).bind("p", lastPointAt).bind("a", lastAppPointAt)
                .bind("d", diskId.toString()).execute());
    }

    /** Rewrites the mirrors from the stores (at start, after a discard). */
    public void syncMirrors(UUID diskId, long lastApplied, long nextSequence, Long lastPointAt, Long lastAppPointAt) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE protected_disks SET last_applied_sequence = :s, next_sequence = :n, "
                        + "last_point_at = :p, last_app_point_at = :a WHERE disk_id = :d")
                .bind("s", lastApplied).bind("n", nextSequence).bind("p", lastPointAt).bind("a", lastAppPointAt)
                .bind("d", diskId.toString()).execute());
    }
}
