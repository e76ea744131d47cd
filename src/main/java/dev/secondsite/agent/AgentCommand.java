package dev.secondsite.agent;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;
import dev.secondsite.tls.TlsMaterial;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code secondsite agent}: the mobility service. Registers the machine with a registration key, then
 * replicates the given disks (image files or block devices) to the server in scan mode. See
 * {@code docs/agent-protocol.md} for the wire contract and {@link Replicator} for the design.
 */
@Command(name = "agent", mixinStandardHelpOptions = true, sortOptions = false, version = "SecondSite agent 0.1.0",
        description = {"Run the SecondSite mobility service: register this machine with the server, then replicate"
                + " its disks (disk image files - raw, VHD, VHDX, read as their virtual disk - or block devices).",
                "",
                "Exit codes: 0 done (or stopped), 1 a replication pass, a requested shutdown or the server connection"
                        + " failed (--once),"
                        + " 2 bad usage, unreadable disk/key/CA or a server certificate the CA does not vouch for"
                        + " (never retried), 3 registration refused by the server"
                        + " (InvalidRegistrationKey, RegistrationKeyExpired, ServerClockSkewTooLarge),"
                        + " 4 the server rejected the stored agent credentials."})
public final class AgentCommand implements Callable<Integer> {
    @Option(names = "--server", paramLabel = "URL", defaultValue = "https://127.0.0.1:8443",
            description = "Server base URL (default: ${DEFAULT-VALUE}).")
    String server;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "The server's data directory, when the agent runs beside the server: its tls/ca.pem is"
                    + " trusted unless --ca is given.")
    Path dataDir;

    @Option(names = "--ca", paramLabel = "FILE",
            description = "CA certificate (PEM) to trust for the server (default: <data-dir>/tls/ca.pem with"
                    + " --data-dir, else the JDK's trust store).")
    Path ca;

    @Option(names = "--registration-key-file", paramLabel = "FILE",
            description = "Registration key from 'secondsite fabric registration-key' (the key, or its JSON);"
                    + " needed on the first run only (and to re-register).")
    Path registrationKeyFile;

    @Option(names = "--name", paramLabel = "MACHINE", description = "Machine name (default: this host's name).")
    String name;

    @Option(names = "--disk", paramLabel = "PATH", required = true,
            description = "A disk to protect, repeatable: an image file (raw, VHD, VHDX) or a block device."
                    + " Disks are named disk0, disk1, ... in this order; keep the order stable.")
    List<Path> disks = new ArrayList<>();

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = "./agent-state",
            description = "Where the agent keeps its identity and what the server acknowledged"
                    + " (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = "--pre-snapshot-script", paramLabel = "COMMAND",
            description = "Run (through the shell) before an app-consistent read pass, to quiesce applications.")
    String preScript;

    @Option(names = "--post-snapshot-script", paramLabel = "COMMAND",
            description = "Run after an app-consistent read pass, to resume applications.")
    String postScript;

    @Option(names = "--fsfreeze", paramLabel = "MOUNTPOINT",
            description = "Linux: freeze this file system (fsfreeze -f/-u) around app-consistent read passes;"
                    + " repeatable. Must not hold the state directory.")
    List<Path> fsfreeze = new ArrayList<>();

    @Option(names = "--quiesce-timeout-seconds", paramLabel = "N", defaultValue = "60",
            description = "Time limit for each quiesce step (default: ${DEFAULT-VALUE}).")
    long quiesceTimeoutSeconds;

    @Option(names = "--shutdown-command", paramLabel = "COMMAND",
            description = "Run (through the shell) when a planned failover asks this machine to shut down, after the"
                    + " final replication pass, e.g. 'systemctl poweroff'. Without it the agent only stops"
                    + " replicating. A non-zero exit or a timeout is reported as a failed shutdown; the failover"
                    + " goes on regardless.")
    String shutdownCommand;

    @Option(names = "--shutdown-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "Time limit for --shutdown-command (default: ${DEFAULT-VALUE}).")
    long shutdownTimeoutSeconds;

    @Option(names = "--azure-region", paramLabel = "REGION",
            description = "This machine is an Azure VM in REGION (e.g. usgovvirginia); reported at registration.")
    String azureRegion;

    @Option(names = "--nbd-listen", paramLabel = "HOST:PORT",
            description = "CDP mode: serve every --disk image over NBD (exports disk0, disk1, ...) and replicate exactly"
                    + " what is written through it, without rescanning; the machine must use its disks through"
                    + " nbd://HOST:PORT/diskN. NBD has no authentication: listen on loopback or a private network.")
    String nbdListen;

    @Option(names = "--once", description = "Do one cycle (register if needed, heartbeat, one pass per replicated"
            + " disk, final heartbeat) and exit.")
    boolean once;

    @Option(names = "--scan-interval-seconds", paramLabel = "N",
            description = "Seconds between passes, overriding the policy's crash-consistent frequency (with"
                    + " --nbd-listen, from one pass's start to the next's).")
    Long scanIntervalSeconds;

    @Option(names = {"-v", "--verbose"}, description = "Also report every acknowledged segment.")
    boolean verbose;

    @Option(names = "--segment-pause-ms", hidden = true, defaultValue = "0",
            description = "Pause after each acknowledged segment (crash tests).")
    long segmentPauseMillis;

    @Option(names = "--clock-offset-seconds", hidden = true, defaultValue = "0",
            description = "Shift the agent's clock (tests of the clock-skew rule).")
    long clockOffsetSeconds;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        PrintStream err = System.err;
        String problem = validate();
        if (problem != null) {
            err.println("secondsite agent: " + problem);
            return Agent.EXIT_USAGE;
        }
        AgentClient client;
        try {
            client = new AgentClient(URI.create(server), sslContext());
        } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
            err.println("secondsite agent: " + e.getMessage());
            return Agent.EXIT_USAGE;
        }
        String machine = name != null ? name : hostName();
        Agent.Config config = new Agent.Config(machine, List.copyOf(disks), stateDir, registrationKeyFile,
                preScript, postScript, List.copyOf(fsfreeze), Duration.ofSeconds(quiesceTimeoutSeconds), once,
                scanIntervalSeconds == null ? null : Duration.ofSeconds(scanIntervalSeconds), server, verbose,
                Duration.ofMillis(Math.max(0, segmentPauseMillis)), shutdownCommand,
                Duration.ofSeconds(shutdownTimeoutSeconds), azureRegion == null ? null
                        : Regions.find(azureRegion).map(Region::name).orElseThrow(),
                nbdListen == null ? null : listenAddress(nbdListen));
        Clock clock = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(clockOffsetSeconds));
        Agent agent = new Agent(config, client, clock, d -> Thread.sleep(d), out, err);
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            agent.stop();
            try {
                finished.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "secondsite-agent-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return agent.run();
        } catch (Agent.Fatal e) {
            err.println("secondsite agent: " + e.getMessage());
            return e.exitCode;
        } catch (AgentApiException e) {
            err.println("secondsite agent: the server refused: " + e.code() + ": " + e.serverMessage());
            return Agent.EXIT_FAILED;
        } catch (AgentClient.UntrustedServer e) {
            err.println("secondsite agent: " + e.getMessage());
            return Agent.EXIT_USAGE;
        } catch (IOException e) {
            err.println("secondsite agent: " + Retry.describe(e));
            return Agent.EXIT_FAILED;
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        }
    }

    /** {@code HOST:PORT} (IPv6 as {@code [::1]:PORT}) as an address, or null if malformed. */
    static java.net.InetSocketAddress listenAddress(String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            return null;
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 1 || port > 65535) {
                return null;
            }
            java.net.InetSocketAddress address = new java.net.InetSocketAddress(host, port);
            return address.isUnresolved() ? null : address;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private String validate() {
        if (disks.isEmpty()) {
            return "give at least one --disk";
        }
        for (Path disk : disks) {
            if (!Files.exists(disk)) {
                return "disk " + disk + " does not exist";
            }
            if (Files.isDirectory(disk)) {
                return "disk " + disk + " is a directory, not a disk image or block device";
            }
        }
        if (scanIntervalSeconds != null && scanIntervalSeconds < 1) {
            return "--scan-interval-seconds must be >= 1";
        }
        if (quiesceTimeoutSeconds < 1) {
            return "--quiesce-timeout-seconds must be >= 1";
        }
        if (shutdownTimeoutSeconds < 1) {
            return "--shutdown-timeout must be >= 1";
        }
        if (azureRegion != null && Regions.find(azureRegion).isEmpty()) {
            return "--azure-region " + azureRegion + " is not an Azure region (use a name such as eastus or"
                    + " usgovvirginia)";
        }
        if (nbdListen != null && listenAddress(nbdListen) == null) {
            return "--nbd-listen " + nbdListen + " is not HOST:PORT (e.g. 127.0.0.1:10809; port 1-65535)";
        }
        if (registrationKeyFile != null && !Files.isReadable(registrationKeyFile)) {
            return "cannot read the registration key file " + registrationKeyFile;
        }
        if (!fsfreeze.isEmpty()) {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
                return "--fsfreeze is only available on Linux";
            }
            for (Path mount : fsfreeze) {
                if (!Files.isDirectory(mount)) {
                    return "--fsfreeze " + mount + " is not a mounted directory";
                }
                if (sameFileSystem(mount, stateDir)) {
                    return "--fsfreeze " + mount + " holds the state directory " + stateDir + "; the agent writes"
                            + " there while the file system is frozen - put --state-dir on another file system";
                }
            }
        }
        URI uri;
        try {
            uri = URI.create(server);
        } catch (IllegalArgumentException e) {
            return "--server " + server + " is not a URL";
        }
        if (!"https".equalsIgnoreCase(uri.getScheme()) && !"http".equalsIgnoreCase(uri.getScheme())) {
            return "--server must be an https:// URL, got " + server;
        }
        Path caFile = caFile();
        if (caFile != null && !Files.isReadable(caFile)) {
            return "cannot read the CA certificate " + caFile + (ca == null ? " (from --data-dir)" : "");
        }
        return null;
    }

    private Path caFile() {
        if (ca != null) {
            return ca;
        }
        return dataDir == null ? null : dataDir.resolve("tls").resolve(TlsMaterial.CA_FILE);
    }

    private SSLContext sslContext() {
        if (!"https".equalsIgnoreCase(URI.create(server).getScheme())) {
            return null;
        }
        Path caFile = caFile();
        if (caFile != null) {
            return TlsMaterial.clientContextTrusting(caFile);
        }
        try {
            return SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no default TLS context: " + e.getMessage(), e);
        }
    }

    /** Whether two existing paths live on the same file system (device), as far as the platform tells. */
    private static boolean sameFileSystem(Path a, Path b) {
        try {
            Path existingB = b.toAbsolutePath();
            while (existingB != null && !Files.exists(existingB)) {
                existingB = existingB.getParent();
            }
            if (existingB == null) {
                return false;
            }
            return Files.getAttribute(a, "unix:dev").equals(Files.getAttribute(existingB, "unix:dev"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The short host name: the kernel's, else the resolver's, else the Windows environment's. */
    static String hostName() {
        String host = null;
        try {
            Path kernel = Path.of("/proc/sys/kernel/hostname");
            if (Files.isReadable(kernel)) {
                host = Files.readString(kernel).strip();
            }
        } catch (IOException ignored) {
            // fall through
        }
        if (host == null || host.isEmpty()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = System.getenv("COMPUTERNAME");
            }
        }
        if (host == null || host.isEmpty()) {
            return "localhost";
        }
        int dot = host.indexOf('.');
        return dot > 0 ? host.substring(0, dot) : host;
    }
}
