package dev.secondsite.bench.e2e;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import dev.secondsite.protection.ProtectionModule;
import dev.secondsite.protection.ProtectionStore;
import dev.secondsite.protection.ReplicationEngine;
import dev.secondsite.replication.RestoreResult;
import dev.secondsite.replication.Restore;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.server.SecondSiteServer;

/**
 * End-to-end benchmark: the real server (in this JVM, embedded store, HTTPS on 127.0.0.1) and the real
 * agent ({@code secondsite agent} in a child JVM, {@code --scan-interval-seconds 1}) replicating a raw image,
 * set up through the public ARM API exactly as AgentEndToEndTest does; then the peers on the same image after
 * the same churn (dd, qemu-img convert, rsync --inplace --no-whole-file, restic), and a table of figures,
 * ratios and targets. See {@link #usage()} and the README's "Benchmarks" section.
 *
 * <p>Two modes. Scan mode (default): the churn writes the image file and the agent finds the changes by
 * rescanning it. CDP mode ({@code --cdp}): the agent also runs with {@code --nbd-listen 127.0.0.1:PORT} and
 * serves the image as NBD export {@code disk0}; the churn writes through that export ({@link NbdClient}), so
 * the agent sees every write. Everything else is the same; before the peers read the file the churn is
 * stopped and an NBD FLUSH is answered, then the agent is stopped.
 *
 * <p>Order: image (50% random 1 MiB blocks, 50% zeros) -> copy of it (rsync's old version) -> restic init +
 * initial backup -> server, site, registration, enable -> initial replication (until the first recovery point
 * is visible) -> idle passes -> churn phases at rising rates (stop at the first rate the pipeline does not keep
 * up with) -> agent stopped -> peers -> agent restarted -> image evicted from the page cache -> resync
 * (repairReplication) -> the newest point is restored (verify) and compared with the image's SHA-256.
 */
public final class E2eMain {
    static final double MB = 1e6;
    static final long MIB = 1L << 20;
    static final long GIB = 1L << 30;
    static final String POLICY = "{\"properties\":{\"providerSpecificInput\":{\"instanceType\":\"InMageAzureV2\","
            + "\"recoveryPointHistory\":1440,\"recoveryPointThresholdInMinutes\":30,"
            + "\"appConsistentFrequencyInMinutes\":60,\"crashConsistentFrequencyInMinutes\":5,"
            + "\"multiVmSyncStatus\":\"Enable\"}}}";

    /** {@code imageParent} null: the image and the agent's state go in the work directory with everything else. */
    record Options(long imageBytes, boolean quick, List<Double> rates, int windowSeconds, Path workParent,
                   Path imageParent, boolean keep, long seed, Duration budget, boolean cdp) {
    }

    /** The NBD export the agent serves for the first (only) --disk in CDP mode. */
    static final String NBD_EXPORT = "disk0";
    /**
     * NBD write requests the churn keeps in flight (at most 64 x 64 KiB), as a guest's block queue would. With 16 the
     * generator itself stopped near 135 MB/s, waiting for replies (docs/benchmarks.md, 2026-12-07 late morning).
     */
    static final int NBD_IN_FLIGHT = 64;
    /** The agent's line for a finished resync pass: how many bytes its read covered, in how long. */
    static final Pattern RESYNC_PASS_LINE =
            Pattern.compile(": resync(?::\\S+)? pass sent .*; read (\\d+) bytes in ([0-9.]+) s");

    /**
     * RPO and backlog samples per second of a churn window. Several: points may come about once a second, and
     * sampling at the same rate would see each point at the same age (the RPO's peaks just before the next point
     * would be missed).
     */
    static final int SAMPLES_PER_SECOND = 10;

    /** A recovery point as the harness saw it appear: its marker time and when it became visible. */
    record Seen(Instant pointAt, long visibleNanos, Instant visibleAt) {
    }

    /** One churn phase. */
    record Phase(double target, double achieved, long churnBytes, long writes, int points, double rpoP50,
                 double rpoMax, double rpoUpperMax, long backlogMax, long applyBacklogMax, long shippedBytes,
                 Double catchUp, double agentCores, double harnessCores, Double deviceWritesPerChurned,
                 long cacheWrites, long segmentsApplied, boolean ok,
                 String why) {
    }

    private final Options options;
    private final Path work;
    /** The primary site's directory: the image and the agent's state (the work directory unless --image-dir). */
    private final Path primary;
    private final Path image;
    private final Path serverDir;
    private final Path stateDir;
    private final long deadline;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final List<Phase> phases = new ArrayList<>();
    private final Report report = new Report();
    private SecondSiteServer server;
    private Arm api;
    private Process agent;
    private UUID diskId;
    private String baseUrl;
    private int nbdPort = -1;
    private volatile boolean watching;
    /** I/O of the work directory's device (cache storage, recovery store, and the image unless --image-dir), or null. */
    private final DeviceIo deviceMeter;

    private E2eMain(Options options, Path work, Path primary) {
        this.options = options;
        this.work = work;
        this.primary = primary;
        this.image = primary.resolve("image.raw");
        this.serverDir = work.resolve("server");
        this.stateDir = primary.resolve("agent-state");
        this.deadline = System.nanoTime() + options.budget().toNanos();
        this.deviceMeter = DeviceIo.of(work);
    }

    public static void main(String[] args) throws Exception {
        Options options = parse(args);
        if (options == null) {
            return;
        }
        Files.createDirectories(options.workParent());
        Path work = Files.createTempDirectory(options.workParent(), "secondsite-e2e-");
        // The server logs (slf4j-simple) to a file, not into the table.
        System.setProperty("org.slf4j.simpleLogger.logFile", work.resolve("server.log").toString());
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING); // TLS set-up chatter
        Path primary = options.imageParent() == null ? work
                : Files.createTempDirectory(Files.createDirectories(options.imageParent()), "secondsite-e2e-primary-");
        E2eMain bench = new E2eMain(options, work, primary);
        Thread cleanup = new Thread(bench::shutdown, "e2e-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        int exit = 0;
        try {
            bench.run();
        } catch (Exception e) {
            exit = 1;
            System.err.println("[e2e] FAILED: " + e);
            e.printStackTrace();
            bench.report.notes.add("run failed: " + e.getMessage() + " (figures after that point are n/a)");
        } finally {
            bench.shutdown();
            bench.report.print(options, bench.phases);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException ignored) {
                // shutting down
            }
        }
        System.exit(exit);
    }

    static String usage() {
        return """
                usage: bench/run e2e [--size-gib N | --size-mib N] [--quick] [--cdp] [--rates 20,50,100,200,400]
                                     [--window-seconds S] [--work-dir DIR] [--image-dir DIR] [--keep] [--seed N]
                                     [--budget-seconds S]
                  --size-gib N       image size in GiB (default 4)
                  --quick            512 MiB image, 10 s churn windows, 4 min budget (a smoke run)
                  --cdp              CDP mode: the agent runs with --nbd-listen 127.0.0.1:<free port> and the churn
                                     writes through its NBD export disk0 instead of the image file (default: scan
                                     mode, the churn writes the file and the agent rescans it)
                  --rates LIST       churn rates to try, MB/s (10^6 B/s), ascending; stops at the first one missed
                  --window-seconds S churn window per rate (default 30, quick 10)
                  --work-dir DIR     where the temporary directory goes (default java.io.tmpdir); removed at the end
                  --image-dir DIR    where the image and the agent's state go, in a temporary directory of their own
                                     (default: the work directory). On another device (say /dev/shm) the work
                                     directory's disk carries only the recovery site, as with two sites
                  --keep             keep the temporary directory (image, stores, logs)
                  --budget-seconds S time limit of the whole run (default 1080, quick 240); phases that do not fit
                                     are skipped and shown as n/a
                """;
    }

    static Options parse(String[] args) {
        long bytes = 4 * GIB;
        boolean quick = false;
        boolean sized = false;
        List<Double> rates = List.of(20.0, 50.0, 100.0, 200.0, 400.0);
        Integer window = null;
        Path workParent = Path.of(System.getProperty("java.io.tmpdir"));
        Path imageParent = null;
        boolean keep = false;
        boolean cdp = false;
        long seed = 20261123;
        Long budget = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--quick" -> quick = true;
                case "--keep" -> keep = true;
                case "--cdp" -> cdp = true;
                case "--size-gib" -> {
                    bytes = (long) (Double.parseDouble(args[++i]) * GIB);
                    sized = true;
                }
                case "--size-mib" -> {
                    bytes = Long.parseLong(args[++i]) * MIB;
                    sized = true;
                }
                case "--rates" -> {
                    List<Double> parsed = new ArrayList<>();
                    for (String r : args[++i].split(",")) {
                        parsed.add(Double.parseDouble(r.trim()));
                    }
                    rates = List.copyOf(parsed);
                }
                case "--window-seconds" -> window = Integer.parseInt(args[++i]);
                case "--work-dir" -> workParent = Path.of(args[++i]);
                case "--image-dir" -> imageParent = Path.of(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--budget-seconds" -> budget = Long.parseLong(args[++i]);
                case "-h", "--help" -> {
                    System.out.print(usage());
                    return null;
                }
                default -> throw new IllegalArgumentException("unknown option " + arg + "\n" + usage());
            }
        }
        if (quick && !sized) {
            bytes = 512 * MIB;
        }
        if (bytes < 64 * MIB || bytes % 4096 != 0) {
            throw new IllegalArgumentException("image size must be >= 64 MiB and a multiple of 4 KiB");
        }
        return new Options(bytes, quick, rates, window != null ? window : quick ? 10 : 30, workParent, imageParent, keep,
                seed, Duration.ofSeconds(budget != null ? budget : quick ? 240 : 1080), cdp);
    }

    // ---------------------------------------------------------------------------------------------

    private void run() throws Exception {
        Report r = report;
        r.imageBytes = options.imageBytes();
        log("work directory %s, image %s, budget %d s, %s", work, size(options.imageBytes()), options.budget().toSeconds(),
                options.cdp() ? "CDP mode (churn through the agent's NBD export " + NBD_EXPORT + ")" : "scan mode");

        if (!primary.equals(work)) {
            DeviceIo primaryDevice = DeviceIo.of(primary);
            r.notes.add(String.format(Locale.ROOT, "two sites: the image and the agent's state in %s (device %s), the"
                    + " server (cache storage, recovery store) and the peers in %s (device %s); 'disk w/changed'"
                    + " counts the recovery site's device only, without the image's own write; on tmpfs the peers"
                    + " and the resync read the image from memory, so the resync ratio is not a disk's", primary,
                    primaryDevice == null ? "not a block device" : primaryDevice, work, deviceMeter));
            log("image and agent state in %s", primary);
        }
        long start = System.nanoTime();
        r.nonZeroBytes = Images.make(image, options.imageBytes(), options.seed());
        log("image written in %.1f s (%s non-zero)", secondsSince(start), size(r.nonZeroBytes));
        Path previous = work.resolve("pre-churn.raw");
        Files.copy(image, previous, StandardCopyOption.COPY_ATTRIBUTES);

        Peers peers = new Peers(work, options.imageBytes(), r);
        peers.resticInit();
        peers.resticBackup(image, true);

        startServer();
        String item = protect();

        // Initial replication: from the agent's start until the first recovery point is visible.
        long agentStart = System.nanoTime();
        startAgent();
        Seen first = awaitPoint(p -> true, Duration.ofSeconds(options.quick() ? 180 : 900), "the first recovery point");
        r.initialSeconds = (first.visibleNanos() - agentStart) / 1e9;
        log("initial replication: %.1f s (%.1f MB/s of image)", r.initialSeconds, options.imageBytes() / MB / r.initialSeconds);

        // Idle passes: nothing changes, each pass reads and hashes the whole image.
        int before = seen.size();
        awaitPoints(before + 4, Duration.ofSeconds(options.quick() ? 30 : 90));
        List<Double> intervals = new ArrayList<>();
        for (int i = before; i < seen.size(); i++) {
            intervals.add(Duration.between(seen.get(i - 1).pointAt(), seen.get(i).pointAt()).toMillis() / 1e3);
        }
        r.idleInterval = median(intervals);
        log("idle passes: one point every %.2f s", r.idleInterval);

        // Churn phases.
        long storeBefore = Images.treeBytes(serverDir.resolve("recovery"));
        try (Churn churn = new Churn(churnTarget(), options.imageBytes(), options.seed() + 1)) {
            log("churn writes to the %s", churn.describe());
            for (double rate : options.rates()) {
                long needed = (long) ((options.windowSeconds() + 20) * 1e9) + reserveNanos();
                if (deadline - System.nanoTime() < needed) {
                    r.notes.add(String.format(Locale.ROOT, "churn %.0f MB/s and above not tried: time budget", rate));
                    break;
                }
                long usable = Files.getFileStore(work).getUsableSpace();
                if (usable < 4 * options.imageBytes() + 4 * GIB) {
                    r.notes.add(String.format(Locale.ROOT, "churn %.0f MB/s and above not tried: only %s free", rate,
                            size(usable)));
                    break;
                }
                Phase phase = churnPhase(churn, rate);
                phases.add(phase);
                if (!phase.ok()) {
                    break;
                }
            }
            r.churnBytes = churn.writtenBytes();
            r.storeGrowth = Images.treeBytes(serverDir.resolve("recovery")) - storeBefore;
            // Every write durable in the file before the peers read it (O_DIRECT included): fsync, or in CDP mode
            // an NBD FLUSH answered by the agent, which must still be running. The churn is stopped (each phase
            // ends with stop()); closing sends NBD_CMD_DISC.
            churn.force();
        }
        stopAgent();
        r.replicaBytes = Images.treeBytes(serverDir.resolve("recovery"));

        // Peers on the same image after the same churn.
        r.ddDirectSeconds = peers.ddRead(image, true, "after the churn");
        r.ddCachedSeconds = peers.ddRead(image, false, "after the churn");
        peers.qemuConvert(image);
        peers.rsync(image, previous);
        Files.deleteIfExists(previous);
        peers.resticBackup(image, false);

        // Resync: the agent restarts, settles, then the user asks for repairReplication.
        Instant restarted = Instant.now();
        startAgent();
        awaitPoint(p -> p.pointAt().isAfter(restarted), Duration.ofSeconds(options.quick() ? 60 : 300),
                "a point after the agent restarted");
        // The scan reads the disk from the device, as after a reboot or on a disk larger than memory: the
        // image leaves the page cache first (its pages are clean: the churn flushed, idle CDP passes read nothing).
        peers.evictFromPageCache(image);
        // The raw read again, on the disk as the scan finds it (still busy with what the peers wrote, or not).
        r.ddDirectBeforeResyncSeconds = peers.ddRead(image, true, "just before the resync");
        resync(item);

        verifyNewestPoint();
        log("done in %.0f s", secondsSince(start));
    }

    private long reserveNanos() {
        // Peers, resync and verification after the phases: about 8 passes over the image at a few hundred MB/s.
        return (long) ((options.quick() ? 45 : 60 + 8 * options.imageBytes() / (300 * MB)) * 1e9);
    }

    private void startServer() throws Exception {
        Path data = serverDir.toAbsolutePath();
        server = SecondSiteServer.start(new SecondSiteServer.Options(data, "embedded", "127.0.0.1", 0, 2, 0),
                ProtectionModule.Options.defaults(data).withHousekeepingEvery(Duration.ofHours(1)));
        baseUrl = "https://127.0.0.1:" + server.port();
        log("server up at %s (data %s)", baseUrl, data);
    }

    /** Site, registration and enable protection through the ARM API (as AgentEndToEndTest does). */
    private String protect() throws Exception {
        Arm api = Arm.connect(baseUrl, serverDir);
        String rg = "/subscriptions/" + UUID.randomUUID() + "/resourceGroups/rg-bench";
        api.send("PUT", rg + "?api-version=2021-04-01", "{\"location\":\"westus\"}", 200, 201);
        String vault = rg + "/providers/Microsoft.RecoveryServices/vaults/bench";
        api.send("PUT", vault + "?" + Arm.RS, "{\"location\":\"westus\",\"sku\":{\"name\":\"RS0\"}}", 200, 201);
        String fabric = vault + "/replicationFabrics/bench-cs";
        Duration lro = Duration.ofSeconds(60);
        api.sendAndAwait("PUT", fabric + "?" + Arm.RS,
                "{\"properties\":{\"customDetails\":{\"instanceType\":\"VMware\"}}}", lro);
        String container = fabric + "/replicationProtectionContainers/bench-container";
        api.sendAndAwait("PUT", container + "?" + Arm.RS, "{\"properties\":{}}", lro);
        String policy = vault + "/replicationPolicies/bench-policy";
        api.sendAndAwait("PUT", policy + "?" + Arm.RS, POLICY, lro);
        api.sendAndAwait("PUT", container + "/replicationProtectionContainerMappings/bench-mapping?" + Arm.RS,
                "{\"properties\":{\"policyId\":\"" + policy + "\",\"targetProtectionContainerId\":\"Microsoft Azure\"}}", lro);
        JsonNode key = api.send("POST", fabric + "/generateRegistrationKey?" + Arm.RS, null, 200);
        Path keyFile = work.resolve("registration-key.json");
        Files.writeString(keyFile, key.toString());

        Proc registered = Proc.run(Duration.ofSeconds(120), Map.of(), work.resolve("agent-register.log"),
                agentCommand(List.of("--once", "--registration-key-file", keyFile.toString())));
        if (!registered.ok()) {
            throw new IOException("agent registration failed (exit " + registered.exitCode() + "):\n" + registered.output());
        }
        String item = container + "/replicationProtectedItems/bench01";
        api.sendAndAwait("PUT", item + "?" + Arm.RS, "{\"properties\":{\"policyId\":\"" + policy
                + "\",\"protectableItemId\":\"" + container + "/replicationProtectableItems/bench01"
                + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}", lro);
        JsonNode disks = api.get(item + "?" + Arm.RS).path("properties").path("providerSpecificDetails")
                .path("protectedDisks");
        diskId = UUID.fromString(disks.get(0).path("diskId").asText());
        this.api = api;
        startWatcher();
        log("protected item %s, disk %s", item, diskId);
        return item;
    }

    private List<String> agentCommand(List<String> extra) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx1g"));
        // BENCH_AGENT_JAVA_OPTS: extra JVM options for the agent, e.g. -XX:StartFlightRecording=filename=agent.jfr
        String agentOpts = System.getenv().getOrDefault("BENCH_AGENT_JAVA_OPTS", "").trim();
        if (!agentOpts.isEmpty()) {
            command.addAll(List.of(agentOpts.split("\\s+")));
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.secondsite.Main", "agent", "--server", baseUrl,
                "--data-dir", serverDir.toAbsolutePath().toString(), "--name", "bench01",
                "--state-dir", stateDir.toString(), "--disk", image.toString()));
        command.addAll(extra);
        return command;
    }

    private void startAgent() throws IOException {
        List<String> extra = new ArrayList<>(List.of("--scan-interval-seconds", "1"));
        if (options.cdp()) {
            nbdPort = freePort();
            extra.addAll(List.of("--nbd-listen", "127.0.0.1:" + nbdPort));
        }
        ProcessBuilder builder = new ProcessBuilder(agentCommand(extra))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("agent.log").toFile()));
        agent = builder.start();
        log("agent started (pid %d%s)", agent.pid(), options.cdp() ? ", NBD on 127.0.0.1:" + nbdPort : "");
    }

    /** A port nobody listens on right now (the agent binds it a moment later). */
    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Scan mode: the image file. CDP mode: the running agent's NBD export (retried while it starts listening). */
    private ChurnTarget churnTarget() throws Exception {
        if (!options.cdp()) {
            return ChurnTarget.file(image);
        }
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                NbdClient client = NbdClient.connect("127.0.0.1", nbdPort, NBD_EXPORT, NBD_IN_FLIGHT);
                if (client.size() != options.imageBytes()) {
                    long exported = client.size();
                    client.close();
                    throw new IOException("NBD export " + NBD_EXPORT + " is " + exported + " bytes, the image "
                            + options.imageBytes());
                }
                log("NBD export %s at 127.0.0.1:%d: %s, transmission flags 0x%04x", NBD_EXPORT, nbdPort,
                        size(client.size()), client.transmissionFlags());
                return ChurnTarget.nbd(client);
            } catch (ConnectException e) {
                checkAgentAlive();
                if (System.nanoTime() > end) {
                    throw new IOException("the agent does not accept NBD connections on 127.0.0.1:" + nbdPort
                            + " (see " + work.resolve("agent.log") + ")", e);
                }
                Thread.sleep(200);
            }
        }
    }

    private void stopAgent() throws InterruptedException {
        Process running = agent;
        if (running == null) {
            return;
        }
        running.destroy(); // SIGTERM: the agent abandons its pass and exits
        if (!running.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            Proc.kill(running);
        }
        agent = null;
    }

    // ---------------------------------------------------------------------------------------------
    // Observing the server

    private Optional<ReplicationEngine.DiskRuntime> runtime() {
        return server.protection().engine().runtime(diskId);
    }

    private ProtectionStore.Disk diskRow() {
        return server.protection().store().disk(diskId).orElseThrow();
    }

    /** Records every new recovery point of the disk (polled every 20 ms). */
    private void startWatcher() {
        watching = true;
        Thread.ofPlatform().name("point-watcher").daemon(true).start(() -> {
            Instant last = null;
            while (watching) {
                try {
                    Optional<Instant> point = runtime().flatMap(ReplicationEngine.DiskRuntime::lastPoint);
                    if (point.isPresent() && !point.get().equals(last)) {
                        last = point.get();
                        seen.add(new Seen(last, System.nanoTime(), Instant.now()));
                    }
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // the server is closing
                }
            }
        });
    }

    private Seen awaitPoint(java.util.function.Predicate<Seen> wanted, Duration timeout, String what) throws Exception {
        long end = Math.min(System.nanoTime() + timeout.toNanos(), deadline);
        while (System.nanoTime() < end) {
            for (Seen s : seen) {
                if (wanted.test(s)) {
                    return s;
                }
            }
            checkAgentAlive();
            Thread.sleep(20);
        }
        throw new IOException("timed out waiting for " + what + " (see " + work.resolve("agent.log") + ")");
    }

    private void awaitPoints(int count, Duration timeout) throws Exception {
        long end = Math.min(System.nanoTime() + timeout.toNanos(), deadline);
        while (seen.size() < count && System.nanoTime() < end) {
            checkAgentAlive();
            Thread.sleep(50);
        }
    }

    private void checkAgentAlive() throws IOException {
        if (agent != null && !agent.isAlive()) {
            throw new IOException("the agent exited with " + agent.exitValue() + "; see " + work.resolve("agent.log"));
        }
    }

    /** Age in seconds of the newest ({@code back} = 0) or an older visible point at {@code now}. */
    private double age(Instant now, int back) {
        int index = seen.size() - 1 - back;
        return index < 0 ? Double.NaN : Duration.between(seen.get(index).pointAt(), now).toMillis() / 1e3;
    }

    // ---------------------------------------------------------------------------------------------
    // Churn

    private Phase churnPhase(Churn churn, double rate) throws Exception {
        int window = options.windowSeconds();
        long device0 = deviceWrittenAfterSync();
        long cacheWrites0 = runtime().map(ReplicationEngine.DiskRuntime::cacheWrites).orElse(0L);
        long[] serverIo0 = storageWrites(ProcessHandle.current().pid());
        long[] agentIo0 = storageWrites(agent.pid());
        long applied0 = runtime().map(ReplicationEngine.DiskRuntime::lastApplied).orElse(0L);
        log("churn %.0f MB/s for %d s ...", rate, window);
        long bytes0 = churn.writtenBytes();
        long writes0 = churn.writes();
        long uploaded0 = diskRow().bytesUploaded();
        int points0 = seen.size();
        List<double[]> samples = new ArrayList<>(); // {rpo, rpoUpper, backlog, server apply backlog}
        long agentCpu0 = agentCpuNanos();
        long harnessCpu0 = harnessCpuNanos();
        long t0 = System.nanoTime();
        churn.start(rate * MB);
        for (int sample = 1; sample <= window * SAMPLES_PER_SECOND; sample++) {
            long wake = t0 + sample * (1_000_000_000L / SAMPLES_PER_SECOND);
            while (System.nanoTime() < wake) {
                Thread.sleep(Math.max(1, (wake - System.nanoTime()) / 1_000_000));
            }
            checkAgentAlive();
            Instant now = Instant.now();
            long applyBacklog = runtime().map(ReplicationEngine.DiskRuntime::pendingApplyBytes).orElse(0L);
            long backlog = applyBacklog + diskRow().pendingUploadBytes();
            samples.add(new double[] {age(now, 0), age(now, 1), backlog, applyBacklog});
        }
        churn.stop();
        long stopNanos = System.nanoTime();
        double agentCores = (agentCpuNanos() - agentCpu0) / (double) (stopNanos - t0);
        double harnessCores = (harnessCpuNanos() - harnessCpu0) / (double) (stopNanos - t0);
        Instant stopAt = Instant.now();
        double seconds = (stopNanos - t0) / 1e9;
        long churnBytes = churn.writtenBytes() - bytes0;
        double achieved = churnBytes / MB / seconds;
        int points = seen.size() - points0;

        // Catch-up: the second point marked after the stop is the first whose pass began after it.
        Double catchUp = null;
        long drainEnd = Math.min(stopNanos + (long) ((options.quick() ? 60 : 180) * 1e9), deadline);
        while (System.nanoTime() < drainEnd) {
            List<Seen> after = seen.stream().filter(s -> s.pointAt().isAfter(stopAt)).toList();
            if (after.size() >= 2) {
                catchUp = (after.get(1).visibleNanos() - stopNanos) / 1e9;
                break;
            }
            checkAgentAlive();
            Thread.sleep(50);
        }
        long shipped = diskRow().bytesUploaded() - uploaded0;
        long device1 = deviceWrittenAfterSync();
        long cacheWrites = runtime().map(ReplicationEngine.DiskRuntime::cacheWrites).orElse(0L) - cacheWrites0;
        long segmentsApplied = runtime().map(ReplicationEngine.DiskRuntime::lastApplied).orElse(0L) - applied0;
        long[] serverIo = storageWrites(ProcessHandle.current().pid());
        long[] agentIo = storageWrites(agent.pid());
        log("storage writes from the window's start to its catch-up: server %s (%s of it deleted before written back),"
                + " agent %s (%s), churn %s", size(serverIo[0] - serverIo0[0]), size(serverIo[1] - serverIo0[1]),
                size(agentIo[0] - agentIo0[0]), size(agentIo[1] - agentIo0[1]), size(churnBytes));
        Double deviceWrites = device0 < 0 || device1 < 0 || churnBytes == 0 ? null
                : (device1 - device0) / (double) churnBytes;

        // Verdict: kept up if the rate was reached, points kept coming, RPO and backlog did not grow from the
        // first half of the window to the second, and the pipeline caught up after the churn stopped.
        int half = samples.size() / 2;
        double rpo1 = max(samples.subList(0, half), 0);
        double rpo2 = max(samples.subList(half, samples.size()), 0);
        double backlog1 = max(samples.subList(0, half), 2);
        double backlog2 = max(samples.subList(half, samples.size()), 2);
        List<String> why = new ArrayList<>();
        if (achieved < 0.9 * rate) {
            why.add(String.format(Locale.ROOT, "generator reached only %.0f MB/s", achieved));
        }
        if (points < 2) {
            why.add(points + " point(s) in the window");
        }
        if (rpo2 > 1.5 * rpo1 + 2) {
            why.add(String.format(Locale.ROOT, "RPO grew %.1f -> %.1f s", rpo1, rpo2));
        }
        if (backlog2 > 1.5 * backlog1 + 64 * MIB) {
            why.add("backlog grew " + size((long) backlog1) + " -> " + size((long) backlog2));
        }
        if (catchUp == null) {
            why.add("no catch-up within the drain limit");
        }
        // RPO figures from the last two thirds of the window (the first third is the ramp from idle).
        List<double[]> steady = samples.subList(samples.size() / 3, samples.size());
        List<Double> rpos = steady.stream().map(s -> s[0]).filter(v -> !Double.isNaN(v)).toList();
        Phase phase = new Phase(rate, achieved, churnBytes, churn.writes() - writes0, points, median(rpos),
                max(steady, 0), max(steady, 1), (long) Math.max(backlog1, backlog2), (long) max(samples, 3), shipped,
                catchUp, agentCores, harnessCores, deviceWrites, cacheWrites, segmentsApplied, why.isEmpty(),
                String.join("; ", why));
        log("churn %.0f MB/s: achieved %.1f MB/s, %d points, RPO p50 %.1f s max %.1f s, CPU agent %.2f + server and"
                        + " churn %.2f cores, catch-up %s s, device writes %s per churned byte, %d of %d segments written to"
                        + " cache storage -> %s%s", rate, achieved, points, phase.rpoP50(), phase.rpoMax(), agentCores,
                harnessCores, catchUp == null ? "n/a"
                        : String.format(Locale.ROOT, "%.1f", catchUp), deviceWrites == null ? "n/a"
                        : String.format(Locale.ROOT, "%.2f", deviceWrites), cacheWrites, segmentsApplied,
                phase.ok() ? "kept up" : "MISSED",
                phase.ok() ? "" : " (" + phase.why() + ")");
        return phase;
    }

    /**
     * Bytes the work directory's device has written, after a {@code sync} (so that what a churn window wrote is
     * counted in that window, page-cache writes included); -1 where unknown.
     */
    private long deviceWrittenAfterSync() throws IOException, InterruptedException {
        if (deviceMeter == null) {
            return -1;
        }
        Proc.run(Duration.ofMinutes(5), work.resolve("sync.log"), "sync");
        return deviceMeter.writtenBytes().orElse(-1);
    }

    /** CPU time the agent process has used (user + system, from /proc; 0 where there is no /proc). */
    private long agentCpuNanos() {
        try {
            String stat = Files.readString(Path.of("/proc/" + agent.pid() + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14, 15)
            return ticks * 10_000_000L; // USER_HZ is 100 on Linux
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * {@code write_bytes} and {@code cancelled_write_bytes} of a process from /proc (bytes it sent, or caused to be
     * sent, to storage, page-cache writes included; and those of files truncated or deleted while still dirty),
     * zeros where there is no /proc.
     */
    private static long[] storageWrites(long pid) {
        long[] io = new long[2];
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
                if (line.startsWith("write_bytes:")) {
                    io[0] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                } else if (line.startsWith("cancelled_write_bytes:")) {
                    io[1] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no figures
        }
        return io;
    }

    /** CPU time this JVM has used: the embedded server, the churn generator and the harness. */
    private static long harnessCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    // ---------------------------------------------------------------------------------------------
    // Resync and the final check

    private void resync(String item) throws Exception {
        long uploaded0 = diskRow().bytesUploaded();
        long start = System.nanoTime();
        api.sendAndAwait("POST", item + "/repairReplication?" + Arm.RS, null, Duration.ofSeconds(60));
        long end = Math.min(start + (long) ((options.quick() ? 120 : 600) * 1e9), deadline);
        while (diskRow().resyncRequired()) {
            if (System.nanoTime() > end) {
                throw new IOException("the resync did not finish in time");
            }
            checkAgentAlive();
            Thread.sleep(20);
        }
        report.resyncSeconds = (System.nanoTime() - start) / 1e9;
        report.resyncShipped = diskRow().bytesUploaded() - uploaded0;
        log("resync: %.1f s (%.1f MB/s of image)", report.resyncSeconds, options.imageBytes() / MB / report.resyncSeconds);
        // The agent logs its pass once the last segment is acknowledged, which the server does once its apply is
        // written: possibly a moment after the point (and the end of the resync) became visible here.
        Matcher scan = null;
        for (long wait = System.nanoTime() + 10_000_000_000L; scan == null && System.nanoTime() < wait; ) {
            for (String line : Files.readAllLines(work.resolve("agent.log"), StandardCharsets.UTF_8)) {
                Matcher m = RESYNC_PASS_LINE.matcher(line);
                if (m.find()) {
                    scan = m; // the last one: this resync's
                }
            }
            if (scan == null) {
                Thread.sleep(50);
            }
        }
        if (scan != null) {
            report.resyncScanBytes = Long.parseLong(scan.group(1));
            report.resyncScanSeconds = Double.parseDouble(scan.group(2));
            log("resync scan: %s in %.2f s (%.1f MB/s)", size(report.resyncScanBytes), report.resyncScanSeconds,
                    report.resyncScanBytes / MB / report.resyncScanSeconds);
        }
    }

    /** The newest recovery point, restored (verified) in the store, must equal the image byte for byte. */
    private void verifyNewestPoint() throws Exception {
        Instant settled = Instant.now();
        awaitPoint(p -> p.pointAt().isAfter(settled), Duration.ofSeconds(60), "a point after the resync");
        RecoveryPointManifest newest = server.protection().engine().recovery().points().latest(diskId).orElseThrow();
        long started = System.nanoTime();
        RestoreResult restored = Restore.verify(new DiskTree(server.protection().engine().recovery().chunks(),
                newest.geometry(), newest.root()), "benchmark check");
        report.verifySeconds = (System.nanoTime() - started) / 1e9;
        report.verifyBytes = restored.virtualBytes();
        String expected = Images.sha256(image);
        report.verified = restored.sha256().equals(expected);
        log("newest point %s: SHA-256 %s the image's (restore verified in %.1f s)", newest.createdAt(),
                report.verified ? "equals" : "DIFFERS FROM", report.verifySeconds);
    }

    private synchronized void shutdown() {
        watching = false;
        if (agent != null) {
            try {
                stopAgent();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (server != null) {
            try {
                server.close();
            } catch (RuntimeException e) {
                System.err.println("[e2e] warning: server close: " + e);
            }
            server = null;
        }
        for (Path dir : primary.equals(work) ? List.of(work) : List.of(primary, work)) {
            if (Files.exists(dir)) {
                if (options.keep()) {
                    log("kept %s", dir);
                } else {
                    Images.deleteTree(dir);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    static double median(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static double max(List<double[]> samples, int column) {
        return samples.stream().mapToDouble(s -> s[column]).filter(v -> !Double.isNaN(v)).max().orElse(Double.NaN);
    }

    static double secondsSince(long nanos) {
        return (System.nanoTime() - nanos) / 1e9;
    }

    static String size(long bytes) {
        if (bytes >= GIB) {
            return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) GIB);
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) MIB);
    }

    static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "[e2e %s] " + format + "%n", prepend(java.time.LocalTime.now().withNano(0), args));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    static final Pattern RSYNC_LITERAL = Pattern.compile("Literal data: ([0-9,]+) bytes");

    static long rsyncLiteral(String output) {
        Matcher m = RSYNC_LITERAL.matcher(output);
        return m.find() ? Long.parseLong(m.group(1).replace(",", "")) : -1;
    }
}
