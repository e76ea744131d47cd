package dev.secondsite.cloud.network;

import dev.secondsite.Causes;
import dev.secondsite.resource.ResourceStore;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;

import java.sql.SQLException;
import java.util.Set;

/**
 * Transactions of the local cloud that span several rows: an IP allocation and the NIC that holds it, a
 * storage account and its global name. Jdbi binds the open handle to the thread, so {@link ResourceStore}
 * calls made inside {@link #run} join the same transaction: its writes and ours commit or roll back together.
 *
 * <p>Writers that must see a stable picture of a virtual network first {@link #lock} the network's row
 * ({@code SELECT ... FOR UPDATE}); that serializes allocations, subnet changes and deletes of one network
 * across threads and across API nodes sharing one PostgreSQL. Conflicts the database reports anyway
 * (a duplicate key from two first inserts, a lock timeout, a deadlock) re-run the whole transaction.
 */
public final class Transactions {
    /** Unique violation, H2 lock timeout, serialization failure, PostgreSQL deadlock and lock timeout. */
    private static final Set<String> RETRYABLE = Set.of("23505", "HYT00", "40001", "40P01", "55P03");
    private static final int ATTEMPTS = 20;

    private Transactions() {}

    public static <T> T run(Jdbi jdbi, HandleCallback<T, RuntimeException> work) {
        if (jdbi.withHandle(Handle::isInTransaction)) {
            // Called inside someone else's transaction (e.g. a VM attaching its NIC): join it. Re-running only our
            // part would be wrong (on PostgreSQL the failed transaction is aborted); the outermost caller retries.
            return jdbi.inTransaction(work);
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return jdbi.inTransaction(work);
            } catch (JdbiException e) {
                if (attempt >= ATTEMPTS || !retryable(e)) {
                    throw e;
                }
                try {
                    Thread.sleep(Math.min(200, 5L * attempt));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** Locks a resource row until the transaction ends; false when there is no such row (yet). */
    public static boolean lock(Handle h, String resourceId) {
        return h.createQuery("SELECT id_key FROM resources WHERE id_key = :k FOR UPDATE")
                .bind("k", ResourceStore.key(resourceId)).mapTo(String.class).findOne().isPresent();
    }

    private static boolean retryable(Throwable e) {
        return Causes.find(e, SQLException.class, sql -> sql.getSQLState() != null && RETRYABLE.contains(sql.getSQLState()))
                .isPresent();
    }
}
