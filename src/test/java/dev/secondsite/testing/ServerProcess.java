package dev.secondsite.testing;


import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * `secondsite server` as a child process, for tests that must kill a server (SIGKILL) and start it again on
 * the same data directory and store; {@link TestServer} runs in this JVM and cannot be killed that way.
 */
public final class ServerProcess {
    private ServerProcess() {}

    /** A port free on 127.0.0.1 now, to start (and restart) a child server on the same address. */
    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    /**
     * `secondsite server` in a child JVM of the same java and class path, output appended to {@code log}.
     *
     * @param jvmOptions    more JVM options, after the ones every child gets
     * @param db            the --db URL, or null for the server's default store
     * @param serverOptions more `secondsite server` options
     */
    public static Process start(List<String> jvmOptions, Path data, String db, int port, Path log,
                                String... serverOptions) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElseThrow(() -> new IllegalStateException("no java command")),
                "-XX:TieredStopAtLevel=1", "-Xshare:auto"));
        command.addAll(jvmOptions);
        command.addAll(List.of(
                "-cp", System.getProperty("java.class.path"), "dev.secondsite.Main", "server",
                "--data-dir", data.toString(), "--bind", "127.0.0.1", "--port", Integer.toString(port)));
        command.addAll(List.of(serverOptions));
        if (db != null) {
            command.addAll(List.of("--db", db));
        }
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** Waits (bounded) for the child's /health to say Healthy; fails early with its log if it dies. */
    public static ArmClient awaitHealthy(Process process, Path data, int port, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("server exited with " + process.exitValue() + " before it was healthy:\n" + tail(log));
            }
            if (Files.exists(data.resolve("tls/ca.pem")) && Files.exists(data.resolve("admin.json"))) {
                try {
                    ArmClient client = ArmClient.connect("https://127.0.0.1:" + port, data);
                    HttpResponse<String> health = client.call("GET", "/health", null, null);
                    if (health.statusCode() == 200 && Arm.json(health).path("status").asText().equals("Healthy")) {
                        return client;
                    }
                } catch (Exception e) {
                    last = e;
                }
            }
            Thread.sleep(100);
        }
        AssertionError failure = new AssertionError("server on port " + port + " not healthy in 45 s:\n" + tail(log));
        if (last != null) {
            failure.addSuppressed(last);
        }
        throw failure;
    }

    /** The last 40 lines of a child's log, for failure messages. */
    public static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
