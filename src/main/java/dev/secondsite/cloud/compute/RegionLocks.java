package dev.secondsite.cloud.compute;

import org.jdbi.v3.core.Jdbi;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Runs a compute change of one (subscription, region) alone and in one database transaction: a quota check
 * and the VM it admits, a disk attachment and the check that the disk is free. Jdbi binds the open handle to
 * the thread, so every ResourceStore call the change makes joins the transaction: the change's rows commit
 * together or not at all. In one process a lock per region serializes changes; over a shared PostgreSQL
 * (several API nodes) the region's row of compute_locks is also held FOR UPDATE, so nodes take turns. The
 * embedded store is single-process and skips the row lock.
 */
final class RegionLocks {
    private final Jdbi jdbi;
    private final boolean distributed;
    private final ConcurrentHashMap<String, ReentrantLock> local = new ConcurrentHashMap<>();

    RegionLocks(Jdbi jdbi, boolean distributed) {
        this.jdbi = jdbi;
        this.distributed = distributed;
    }

    <T> T inRegion(String subscription, String location, Supplier<T> change) {
        String key = (subscription + "/" + location).toLowerCase(Locale.ROOT);
        ReentrantLock lock = local.computeIfAbsent(key, k -> new ReentrantLock());
        lock.lock();
        try {
            if (lock.getHoldCount() > 1) {
                return change.get(); // nested: already in the region's transaction
            }
            if (distributed) {
                ensureRow(key);
            }
            return jdbi.inTransaction(h -> {
                if (distributed) {
                    h.createQuery("SELECT lock_key FROM compute_locks WHERE lock_key = :k FOR UPDATE")
                            .bind("k", key).mapTo(String.class).one();
                }
                return change.get();
            });
        } finally {
            lock.unlock();
        }
    }

    private void ensureRow(String key) {
        boolean exists = jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM compute_locks WHERE lock_key = :k")
                .bind("k", key).mapTo(Integer.class).one()) > 0;
        if (!exists) {
            try {
                jdbi.useHandle(h -> h.createUpdate("INSERT INTO compute_locks (lock_key) VALUES (:k)").bind("k", key).execute());
            } catch (RuntimeException raced) {
                // another node inserted it first
            }
        }
    }
}
