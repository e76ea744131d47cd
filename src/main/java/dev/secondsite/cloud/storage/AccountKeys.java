package dev.secondsite.cloud.storage;

import dev.secondsite.arm.ArmException;
import dev.secondsite.resource.ResourceStore;
import org.jdbi.v3.core.Handle;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

/**
 * The storage_accounts table: the global claim on an account name (names are DNS labels, unique across the
 * whole server like across Azure) and the account's two access keys. The row references the account's
 * resource row with ON DELETE CASCADE, so deleting the account or its group frees the name and the keys.
 */
final class AccountKeys {
    /** The two keys of an account and when each was made (epoch milliseconds). */
    record Keys(String key1, long key1Created, String key2, long key2Created) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private AccountKeys() {}

    /**
     * Claims the name for the account (already written to resources in this transaction) and makes its keys.
     * 409 StorageAccountAlreadyTaken when another account has the name. A concurrent claim of the same name
     * fails on the primary key; {@code Transactions.run} re-runs the transaction, which then sees the winner.
     */
    static void claim(Handle h, String name, String accountId) {
        Optional<String> holder = holder(h, name);
        if (holder.isPresent()) {
            if (holder.get().equals(ResourceStore.key(accountId))) {
                return;
            }
            throw taken(name);
        }
        long now = System.currentTimeMillis();
        h.createUpdate("INSERT INTO storage_accounts (name_key, account_key, key1, key1_created, key2, key2_created) "
                        + "VALUES (:n, :a, :k1, :t, :k2, :t)")
                .bind("n", name.toLowerCase(Locale.ROOT)).bind("a", ResourceStore.key(accountId))
                .bind("k1", newKey()).bind("k2", newKey()).bind("t", now).execute();
    }

    /** The account that holds the name (its id key), if any. */
    static Optional<String> holder(Handle h, String name) {
        return h.createQuery("SELECT account_key FROM storage_accounts WHERE name_key = :n")
                .bind("n", name.toLowerCase(Locale.ROOT)).mapTo(String.class).findOne();
    }

    static ArmException taken(String name) {
        return new ArmException(409, "StorageAccountAlreadyTaken", "The storage account named " + name
                + " is already taken. Storage account names are unique across the whole cloud: choose another name.",
                "name", java.util.List.of());
    }

    static Optional<Keys> keys(Handle h, String accountId) {
        return h.createQuery("SELECT key1, key1_created, key2, key2_created FROM storage_accounts WHERE account_key = :a")
                .bind("a", ResourceStore.key(accountId))
                .map((rs, ctx) -> new Keys(rs.getString("key1"), rs.getLong("key1_created"), rs.getString("key2"),
                        rs.getLong("key2_created"))).findOne();
    }

    /** Replaces key1 or key2 with a new random key. */
    static void regenerate(Handle h, String accountId, String keyName) {
        String column = keyName.equals("key1") ? "key1" : "key2";
        h.createUpdate("UPDATE storage_accounts SET " + column + " = :k, " + column + "_created = :t WHERE account_key = :a")
                .bind("k", newKey()).bind("t", System.currentTimeMillis()).bind("a", ResourceStore.key(accountId))
                .execute();
    }

    /** 64 random bytes, base64: the shape of an Azure storage account key. */
    private static String newKey() {
        byte[] bytes = new byte[64];
        RANDOM.nextBytes(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }
}
