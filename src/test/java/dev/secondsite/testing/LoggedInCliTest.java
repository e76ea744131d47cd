package dev.secondsite.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * CLI tests against one in-process server per test class (embedded store), every test logged in with a
 * profile of its own in a temporary directory. Test classes run one after the other (the build configures no
 * parallel execution), so the static server is always the running class's.
 */
public abstract class LoggedInCliTest {
    protected static TestServer server;

    @TempDir
    protected Path temp;
    private String previousConfig;

    @BeforeAll
    protected static void startServer() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
    }

    @AfterAll
    protected static void stopServer() throws Exception {
        server.close();
    }

    @BeforeEach
    protected void logIn() {
        previousConfig = CliRunner.useProfile(temp.resolve("profile.json"));
        CliRunner.Run login = CliRunner.run("login", "--server", server.baseUrl(), "--data-dir",
                server.dataDir().toString());
        assertThat(login.exit()).as(login.toString()).isZero();
    }

    @AfterEach
    protected void restoreProfile() {
        CliRunner.restoreProfile(previousConfig);
    }
}
