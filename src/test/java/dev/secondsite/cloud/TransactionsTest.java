package dev.secondsite.cloud;

import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.network.Transactions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.store.Database;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The local cloud's writes rely on ResourceStore calls joining the caller's transaction (Jdbi binds the
 * handle to the thread): a failure after a resource write must take the write back with it.
 */
class TransactionsTest {

    @Test
    void resourceStoreWritesJoinTheTransactionAndRollBackWithIt(@TempDir Path dir) {
        try (Database db = Database.embedded(dir)) {
            ResourceStore resources = new ResourceStore(db.jdbi());
            String id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a";
            assertThatThrownBy(() -> Transactions.run(db.jdbi(), h -> {
                resources.put(id, "/subscriptions/s/resourceGroups/g", "Microsoft.Storage/storageAccounts", "a", "s",
                        Json.object());
                assertThat(resources.find(id)).as("visible inside the transaction").isPresent();
                throw new ArmException(409, "Conflict", "after the write");
            })).isInstanceOf(ArmException.class);
            assertThat(resources.find(id)).as("rolled back").isEmpty();

            Transactions.run(db.jdbi(), h -> resources.put(id, "/subscriptions/s/resourceGroups/g",
                    "Microsoft.Storage/storageAccounts", "a", "s", Json.object()));
            assertThat(resources.find(id)).isPresent();
            boolean locked = Transactions.run(db.jdbi(), h -> Transactions.lock(h, id));
            assertThat(locked).isTrue();
            // Nested inside another transaction, a failure takes the outer writes back too.
            String outer = id + "-outer";
            assertThatThrownBy(() -> db.jdbi().useTransaction(h -> {
                resources.put(outer, "/subscriptions/s/resourceGroups/g", "Microsoft.Storage/storageAccounts", "o", "s",
                        Json.object());
                Transactions.run(db.jdbi(), inner -> {
                    throw new ArmException(409, "Conflict", "inner");
                });
            })).isInstanceOf(ArmException.class);
            assertThat(resources.find(outer)).isEmpty();
            boolean missing = Transactions.run(db.jdbi(), h -> Transactions.lock(h, id + "x"));
            assertThat(missing).isFalse();
        }
    }
}
