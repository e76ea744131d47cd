package dev.secondsite.server;

import dev.secondsite.store.Database;
import dev.secondsite.testing.ServerProcess;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A store (a PostgreSQL schema, or the embedded store's data directory) belongs to one running server: its data
 * plane (cache, recovery store, the engine that rewrites the database's mirrors of them) is that server's own.
 */
class OneServerPerStoreTest {
    @Test
    void aSecondServerOnTheSamePostgresSchemaIsRefusedUntilTheFirstStops(@TempDir Path other) throws Exception {
        SecondSiteServer.Options sameSchema;
        try (TestServer first = TestServer.start(TestServer.Store.POSTGRES)) {
            sameSchema = new SecondSiteServer.Options(other, first.db(), "127.0.0.1", 0, 2, 0);
            SecondSiteServer.Options refusedOptions = sameSchema;
            Database.InUseException refused = assertThrows(Database.InUseException.class,
                    () -> SecondSiteServer.start(refusedOptions).close());
            String schema = first.db().substring(first.db().indexOf("currentSchema=") + "currentSchema=".length());
            assertTrue(refused.getMessage().contains("another SecondSite server is running")
                    && refused.getMessage().contains("schema " + schema), refused.getMessage());
            assertEquals(200, first.call("GET", "/health", null, null).statusCode(), "the first server runs on");
        }
        try (SecondSiteServer started = SecondSiteServer.start(sameSchema)) { // the claim ended with the first server
            assertTrue(started.port() > 0);
        }
    }

    @Test
    void aSecondServerOnTheSameDataDirectoryExitsWithOneLine(@TempDir Path data) throws Exception {
        Path firstLog = data.resolveSibling(data.getFileName() + "-first.log");
        Path secondLog = data.resolveSibling(data.getFileName() + "-second.log");
        int port = ServerProcess.freePort();
        Process first = ServerProcess.start(List.of(), data, null, port, firstLog);
        try {
            ServerProcess.awaitHealthy(first, data, port, firstLog);
            Process second = ServerProcess.start(List.of(), data, null, ServerProcess.freePort(), secondLog);
            assertTrue(second.waitFor(60, TimeUnit.SECONDS), "the second server should exit");
            String output = Files.readString(secondLog);
            assertEquals(1, second.exitValue(), output);
            assertTrue(output.contains("another SecondSite server is running on data directory"), output);
            assertFalse(output.contains("\tat "), "no stack trace: " + output);
            assertTrue(first.isAlive(), "the first server runs on");
        } finally {
            first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
