package dev.secondsite.server;

import dev.secondsite.testing.CliRunner;
import dev.secondsite.testing.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ServerCommandTest {
    @TempDir
    Path temp;

    /** A port someone else listens on: one line saying so and what to do, exit 1, no stack trace. */
    @Test
    void aPortInUseIsOneLineAndExitCode1() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Run run = CliRunner.runCapturingSystemStreams("server", "--data-dir", temp.toString(), "--port",
                    Integer.toString(port));
            assertThat(run.exit()).as(run.toString()).isEqualTo(1);
            assertThat(run.err()).contains("secondsite server: port " + port + " on 127.0.0.1 is in use; pick another"
                    + " with --port").doesNotContain("\tat ", "Exception");
        }
    }
}
