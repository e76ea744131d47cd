package dev.secondsite.resource;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Json;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/**
 * Every ARM resource lives in one table keyed by its lower-cased id. Children are found by parent id,
 * and deleting a resource deletes everything whose id lies under it, in one transaction.
 */
public final class ResourceStore {
    private static final RowMapper<StoredResource> ROW = (rs, ctx) -> new StoredResource(rs.getString("id"),
            rs.getString("type_key"), rs.getString("name"), (ObjectNode) Json.parse(rs.getString("body")),
            rs.getString("etag"), rs.getLong("created_at"), rs.getLong("updated_at"));
    private static final String COLUMNS = "id, type_key, name, body, etag, created_at, updated_at";

    private final Jdbi jdbi;

    public ResourceStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    public Optional<StoredResource> find(String id) {
        return jdbi.withHandle(h -> find(h, id));
    }

    /** The resource with this id, or ARM's 404 ResourceNotFound naming it with its parents. */
    public StoredResource require(String id) {
        return find(id).orElseThrow(() -> ArmException.notFound(id));
    }

    private static Optional<StoredResource> find(Handle h, String id) {
        return h.createQuery("SELECT " + COLUMNS + " FROM resources WHERE id_key = :k")
                .bind("k", key(id)).map(ROW).findOne();
    }

    /** Direct children of a resource of one type, oldest first. */
    public List<StoredResource> children(String parentId, String type) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS
                        + " FROM resources WHERE parent_key = :p AND type_key = :t ORDER BY created_at, id_key")
                .bind("p", key(parentId)).bind("t", key(type)).map(ROW).list());
    }

    /** Resources of one type anywhere under a resource (e.g. every container of a vault). */
    public List<StoredResource> descendants(String ancestorId, String type) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS
                        + " FROM resources WHERE id_key LIKE :prefix ESCAPE '!' AND type_key = :t ORDER BY created_at")
                .bind("prefix", likePrefix(ancestorId)).bind("t", key(type)).map(ROW).list());
    }

    public List<StoredResource> bySubscription(String subscriptionId, String type) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS
                        + " FROM resources WHERE subscription_id = :s AND type_key = :t ORDER BY created_at")
                .bind("s", subscriptionId.toLowerCase(Locale.ROOT)).bind("t", key(type)).map(ROW).list());
    }

    public List<StoredResource> allOfType(String type) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS
                        + " FROM resources WHERE type_key = :t ORDER BY created_at")
                .bind("t", key(type)).map(ROW).list());
    }

    /**
     * Creates or replaces a resource. The etag changes on every write; created_at survives updates.
     * Returns the stored row.
     */
    public StoredResource put(String id, String parentId, String type, String name, String subscriptionId,
                              ObjectNode body) {
        String etag = UUID.randomUUID().toString();
        long now = System.currentTimeMillis();
        return jdbi.inTransaction(h -> {
            int updated = h.createUpdate("UPDATE resources SET body = :b, etag = :e, updated_at = :t WHERE id_key = :k")
                    .bind("b", Json.write(body)).bind("e", etag).bind("t", now).bind("k", key(id)).execute();
            if (updated == 0) {
                h.createUpdate("INSERT INTO resources (id_key, id, parent_key, type_key, name, subscription_id, body, "
                                + "etag, created_at, updated_at) VALUES (:k, :id, :p, :type, :n, :s, :b, :e, :t, :t)")
                        .bind("k", key(id)).bind("id", id).bind("p", parentId == null ? null : key(parentId))
                        .bind("type", key(type)).bind("n", name).bind("s", subscriptionId.toLowerCase(Locale.ROOT))
                        .bind("b", Json.write(body)).bind("e", etag).bind("t", now).execute();
            }
            return find(h, id).orElseThrow();
        });
    }

    /**
     * Deletes a resource and everything under it, in one transaction; false when it did not exist.
     * Jobs belong to their vault, so deleting a vault (or its group) deletes its jobs too: a new vault
     * of the same name must not inherit them.
     */
    public boolean delete(String id) {
        return jdbi.inTransaction(h -> {
            h.createUpdate("DELETE FROM resources WHERE id_key LIKE :prefix ESCAPE '!'")
                    .bind("prefix", likePrefix(id)).execute();
            h.createUpdate("DELETE FROM jobs WHERE vault_key = :k OR vault_key LIKE :prefix ESCAPE '!'")
                    .bind("k", key(id)).bind("prefix", likePrefix(id)).execute();
            return h.createUpdate("DELETE FROM resources WHERE id_key = :k").bind("k", key(id)).execute() > 0;
        });
    }

    public static String key(String id) {
        return id.toLowerCase(Locale.ROOT).replaceAll("/+$", "");
    }

    private static String likePrefix(String id) {
        return key(id).replace("!", "!!").replace("%", "!%").replace("_", "!_") + "/%";
    }
}
