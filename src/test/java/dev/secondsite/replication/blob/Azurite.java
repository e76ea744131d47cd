package dev.secondsite.replication.blob;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An Azurite blob service (the Azure Storage emulator, npm package {@code azurite}) run by a test on a free
 * loopback port. The binary is the one {@code ./run-tests} installs ({@code ensure_azurite} in scripts/lib.sh)
 * under {@code <repo>/.tools/azurite}; without it {@link #start} fails saying so (it does not skip).
 *
 * <p>{@link #kill()} and {@link #restart()} simulate an outage: the data directory and port survive.
 */
public final class Azurite implements AutoCloseable {
    /** Azurite's well-known development account and key (published in its README; not a secret). */
    public static final String ACCOUNT = "devstoreaccount1";
    public static final String ACCOUNT_KEY =
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final InetAddress LOOPBACK = loopback();

    private final Path binary;
    private final Path location;
    private final int port;
    private Process process;

    private Azurite(Path binary, Path location, int port) {
        this.binary = binary;
        this.location = location;
        this.port = port;
    }

    /** Where ./run-tests installs azurite-blob, relative to the repository root (Maven's basedir). */
    public static Path installedBinary() {
        return Path.of(System.getProperty("user.dir")).resolve(".tools/azurite/node_modules/.bin/azurite-blob");
    }

    /** Starts azurite-blob on a free 127.0.0.1 port with its data under {@code location}; waits until it listens. */
    public static Azurite start(Path location) throws IOException {
        Path binary = installedBinary();
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("Azurite is not installed: " + binary + " is missing. Run ./run-tests once "
                    + "(its ensure_azurite step in scripts/lib.sh installs the pinned azurite npm package under .tools/azurite), "
                    + "then re-run the tests.");
        }
        Files.createDirectories(location);
        Azurite azurite = new Azurite(binary, location, freePort());
        azurite.launch();
        return azurite;
    }

    public int port() {
        return port;
    }

    public String blobEndpoint() {
        return "http://127.0.0.1:" + port + "/" + ACCOUNT;
    }

    public String connectionString() {
        return "DefaultEndpointsProtocol=http;AccountName=" + ACCOUNT + ";AccountKey=" + ACCOUNT_KEY
                + ";BlobEndpoint=" + blobEndpoint() + ";";
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** SIGKILL, like a crash: no graceful shutdown. */
    public void kill() throws IOException {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IOException("azurite (pid " + process.pid() + ") did not die within 10 s of SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for azurite to die", e);
        }
        process = null;
    }

    /**
     * Waits until Azurite's metadata database (which it saves every 5 s, so a SIGKILL loses the last few seconds
     * of containers and blobs) mentions every one of {@code names}, i.e. until they would survive {@link #kill()}.
     */
    public void awaitPersisted(Duration timeout, String... names) throws IOException {
        Path db = location.resolve("__azurite_db_blob__.json");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String text = Files.exists(db) ? Files.readString(db, StandardCharsets.UTF_8) : "";
            boolean all = true;
            for (String name : names) {
                all &= text.contains("\"" + name + "\"");
            }
            if (all) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("azurite did not save " + String.join(", ", names) + " to " + db + " within "
                        + timeout.toSeconds() + " s");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for azurite to save its metadata", e);
            }
        }
    }

    /**
     * SIGSTOP: the process stays, the kernel still accepts connections on its port, but nothing answers, like
     * a hung service. {@link #thaw()} resumes it.
     */
    public void freeze() throws IOException {
        signal("STOP");
    }

    public void thaw() throws IOException {
        signal("CONT");
    }

    private void signal(String name) throws IOException {
        if (process == null) {
            throw new IllegalStateException("azurite is not running");
        }
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        try {
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IOException("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while signalling azurite", e);
        }
    }

    /** Starts it again on the same port and data directory. */
    public void restart() throws IOException {
        kill();
        launch();
    }

    /** Graceful stop (SIGTERM, Azurite saves its metadata), then SIGKILL if it is still there after 5 s. */
    @Override
    public void close() throws IOException {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        kill();
    }

    private void launch() throws IOException {
        Path log = location.resolve("azurite-" + port + ".log");
        List<String> command = List.of(binary.toString(),
                "--blobHost", "127.0.0.1",
                "--blobPort", Integer.toString(port),
                "--location", location.toString(),
                "--silent",
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process started = builder.start();
        process = started;
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!started.isAlive()) {
                process = null;
                throw new IOException("azurite exited with status " + started.exitValue() + " before listening on port "
                        + port + "; its output:\n" + tail(log));
            }
            if (listening()) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
                throw new IOException("interrupted while waiting for azurite", e);
            }
        }
        kill();
        throw new IOException("azurite did not listen on 127.0.0.1:" + port + " within " + START_TIMEOUT.toSeconds()
                + " s; its output:\n" + tail(log));
    }

    private boolean listening() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), 200);
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, LOOPBACK)) {
            return socket.getLocalPort();
        }
    }

    private static InetAddress loopback() {
        try {
            return InetAddress.getByAddress("127.0.0.1", new byte[] {127, 0, 0, 1});
        } catch (java.net.UnknownHostException impossible) {
            throw new AssertionError(impossible);
        }
    }

    private static String tail(Path log) {
        try {
            String text = Files.readString(log, StandardCharsets.UTF_8);
            return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }
}
