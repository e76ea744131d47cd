package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import dev.secondsite.Main;
import dev.secondsite.tls.TlsMaterial;
import picocli.CommandLine;

/** Command-line behaviour that needs no server: usage errors are exit code 2 with a clear message. */
class AgentCommandTest {
    @TempDir
    Path tmp;

    record Run(int exitCode, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            CommandLine cli = Main.commandLine();
            cli.setOut(new PrintWriter(System.out, true));
            cli.setErr(new PrintWriter(System.err, true));
            String[] full = new String[args.length + 1];
            full[0] = "agent";
            System.arraycopy(args, 0, full, 1, args.length);
            int code = cli.execute(full);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void helpListsTheOptions() {
        Run run = run("--help");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("--server", "--ca", "--registration-key-file", "--name", "--disk",
                "--state-dir", "--pre-snapshot-script", "--post-snapshot-script", "--fsfreeze", "--once",
                "--scan-interval-seconds", "--shutdown-command", "--shutdown-timeout", "--azure-region", "--nbd-listen", "Exit codes");
    }

    @Test
    void anUnknownAzureRegionIsAUsageError() throws Exception {
        Path disk = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(disk, 1 << 20);
        Run run = run("--disk", disk.toString(), "--azure-region", "moonbase1", "--once");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--azure-region moonbase1 is not an Azure region");
    }

    @Test
    void aMalformedNbdListenAddressIsAUsageError() throws Exception {
        Path disk = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(disk, 1 << 20);
        for (String bad : List.of("10809", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000", "localhost:port")) {
            Run run = run("--disk", disk.toString(), "--nbd-listen", bad, "--once");
            assertThat(run.exitCode()).as(bad).isEqualTo(2);
            assertThat(run.err()).contains("--nbd-listen " + bad + " is not HOST:PORT");
        }
    }

    @Test
    void theShutdownTimeoutMustBePositive() throws Exception {
        Path disk = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(disk, 1 << 20);
        Run run = run("--disk", disk.toString(), "--shutdown-timeout", "0", "--once");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--shutdown-timeout must be >= 1");
    }

    @Test
    void aDiskIsRequired() {
        Run run = run("--once");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--disk");
    }

    @Test
    void aMissingDiskIsAUsageError() {
        Run run = run("--disk", tmp.resolve("nope.raw").toString(), "--once");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("nope.raw does not exist");
    }

    @Test
    void anUnregisteredAgentWithoutAKeyExplainsWhatToDo() throws Exception {
        Path disk = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(disk, 1 << 20);
        Run run = run("--disk", disk.toString(), "--state-dir", tmp.resolve("state").toString(),
                "--server", "https://127.0.0.1:1", "--once");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("not registered yet", "--registration-key-file");
    }

    @Test
    void aMissingCaIsAUsageError() throws Exception {
        Path disk = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(disk, 1 << 20);
        Run run = run("--disk", disk.toString(), "--data-dir", tmp.resolve("no-server").toString(), "--once");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("cannot read the CA certificate", "tls/ca.pem");
    }

    @Test
    void freezingTheStateDirectorysFileSystemIsRefused() throws Exception {
        Path disk = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(disk, 1 << 20);
        Run run = run("--disk", disk.toString(), "--state-dir", tmp.resolve("state").toString(),
                "--fsfreeze", tmp.toString(), "--once");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("holds the state directory");
    }

    @Test
    void anUnreachableServerFailsTheOnceRunAfterBoundedRetries() throws Exception {
        Path disk = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(disk, 1 << 20);
        Path key = tmp.resolve("key");
        Files.writeString(key, "{\"registrationKey\":\"abc\"}");
        long start = System.nanoTime();
        Run run = run("--disk", disk.toString(), "--state-dir", tmp.resolve("state").toString(),
                "--server", "https://127.0.0.1:1", "--registration-key-file", key.toString(), "--once");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("register: cannot connect to https://127.0.0.1:1 (", "retrying in 1 s")
                .doesNotContain("ConnectException", "\tat ");
        assertThat((System.nanoTime() - start) / 1e9).isLessThan(40);
    }

    /** A server whose certificate the agent's CA did not sign: one line saying so and what to do, no retries. */
    @Test
    void anUntrustedServerCertificateEndsTheAgentAtOnceWithoutRetrying() throws Exception {
        Path disk = tmp.resolve("d.raw");
        ReplicatorTest.createRaw(disk, 1 << 20);
        Path key = tmp.resolve("key");
        Files.writeString(key, "{\"registrationKey\":\"abc\"}");
        TlsMaterial serverTls = TlsMaterial.loadOrCreate(tmp.resolve("server-tls"), List.of("localhost"),
                List.of("127.0.0.1"));
        Path otherCa = TlsMaterial.loadOrCreate(tmp.resolve("other-tls"), List.of("localhost"), List.of("127.0.0.1"))
                .caFile();
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(serverTls.serverContext()));
        https.createContext("/", exchange -> {
            exchange.sendResponseHeaders(500, -1);
            exchange.close();
        });
        https.start();
        try {
            String url = "https://127.0.0.1:" + https.getAddress().getPort();
            // Not --once: a trust failure must end even the long-running agent, not be retried as a network error.
            Run run = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> run("--disk", disk.toString(),
                    "--state-dir", tmp.resolve("state").toString(), "--server", url, "--ca", otherCa.toString(),
                    "--registration-key-file", key.toString()));
            assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
            assertThat(run.err()).contains("the certificate of " + url + " is not trusted", "--ca FILE")
                    .doesNotContain("retrying", "\tat ");
            assertThat(run.err().strip().lines()).hasSize(1);
        } finally {
            https.stop(0);
        }
    }

    @Test
    void theRegistrationKeyMayBeTheKeyOrItsJson() throws Exception {
        Path raw = tmp.resolve("raw");
        Files.writeString(raw, "  key-123\n");
        Path json = tmp.resolve("json");
        Files.writeString(json, "{\"registrationKey\":\"key-456\",\"expiresAt\":\"2030-01-01T00:00:00Z\"}");
        assertThat(Agent.readRegistrationKey(raw)).isEqualTo("key-123");
        assertThat(Agent.readRegistrationKey(json)).isEqualTo("key-456");
    }
}
