package dev.secondsite.agent;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.JsonNode;

import dev.secondsite.Plural;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.segment.SegmentFormat;

/**
 * The mobility service's main loop: register once, then cycle - heartbeat, and for every disk the
 * server says to replicate, one {@link Replicator} pass ending in a recovery point - sleeping the
 * server's crash-consistent interval (or {@code --scan-interval-seconds}) between cycles.
 *
 * <p>Network loss never ends the loop: every call is retried with bounded exponential backoff
 * ({@link Retry}), and a pass that could not finish is abandoned and redone by the next cycle (see
 * {@link Replicator} for why nothing is lost). With {@code --once} the agent does one cycle, retries each
 * call a few times, and exits non-zero if any disk's pass failed.
 *
 * <p>When a heartbeat answer carries a shutdown request (a planned failover, agent-protocol §3.1) the agent
 * makes one last crash-consistent pass on every disk tagged {@code shutdown:<requestId>}, runs the
 * {@code --shutdown-command}, and from then on only heartbeats, reporting the outcome, until the request is
 * withdrawn.
 */
final class Agent {
    /** Reported at registration (the provider's version in the ARM API). */
    static final String VERSION = "0.1.0";

    static final int EXIT_OK = 0;
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;
    static final int EXIT_REGISTRATION_REFUSED = 3;
    static final int EXIT_CREDENTIALS_REJECTED = 4;

    /** Most time between two heartbeats, also during a long pass. */
    static final Duration HEARTBEAT_INTERVAL = Duration.ofSeconds(30);
    /** Scan interval while churn is high (brief RPO when the disk is busy). */
    static final Duration HIGH_CHURN_INTERVAL = Duration.ofSeconds(5);
    /** Pass interval of a busy disk in CDP mode (start to start): a tracked pass costs only the written bytes. */
    static final Duration CDP_BUSY_INTERVAL = Duration.ofSeconds(1);
    /** Churn above which the agent scans every {@link #HIGH_CHURN_INTERVAL}. */
    static final double HIGH_CHURN_BYTES_PER_SECOND = 1 << 20;
    /** Tries per call with --once (1 + 2 + 4 + 8 s of backoff at most). */
    static final int ONCE_ATTEMPTS = 5;
    /** Longest uninterruptible slice of a wait. */
    static final Duration STOP_POLL = Duration.ofMillis(250);
    /** Passes per disk per cycle when the server reports a sequence gap. */
    static final int SEQUENCE_GAP_RETRIES = 3;
    /** Marker tag prefix of the final pass before a failover; the request id follows (agent-protocol §3.1). */
    static final String SHUTDOWN_TAG_PREFIX = "shutdown:";

    /** Everything the command line decides. */
    record Config(String machineName, List<Path> disks, Path stateDir, Path registrationKeyFile,
                  String preScript, String postScript, List<Path> fsfreezeMounts, Duration quiesceTimeout,
                  boolean once, Duration scanInterval, String server, boolean verbose, Duration segmentPause,
                  String shutdownCommand, Duration shutdownTimeout, String azureRegion,
                  java.net.InetSocketAddress nbdListen) {
    }

    /** Ends the agent with an exit code and a message for the user. */
    static final class Fatal extends Exception {
        final int exitCode;

        Fatal(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    private final Config config;
    private final AgentClient client;
    private final Clock clock;
    private final Retry.Sleeper sleeper;
    private final PrintStream out;
    private final PrintStream err;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final Retry retry;
    /** Bounded retries for the final pass: a failover waits for its outcome, so it must not retry forever. */
    private final Retry finalRetry;
    private final Quiescer quiescer;
    private final ShutdownCommand shutdownCommand;
    private final Map<UUID, Replicator> replicators = new HashMap<>();
    private final Map<String, UUID> diskIdsByName = new HashMap<>();
    private StateDir state;
    private Map<String, DiskSource.Description> disks = new LinkedHashMap<>();
    private Instant lastHeartbeat = Instant.MIN;
    private Instant lastAppAttempt;
    private FailbackWriter failback; // failback write-back (agent-protocol §7)
    /** The shutdown request handled and its outcome (reported in every heartbeat), or null: replicating. */
    private AgentClient.ShutdownReport shutdown;
    /** True during the final pass: uploads use {@link #finalRetry}. */
    private boolean finalPass;
    /** The shutdown request id of the latest heartbeat answer (null: none), also of heartbeats between cycles. */
    private String answeredShutdownRequest;
    /** Why disks' passes failed, collected by {@link #failed} for the shutdown report. */
    private final List<String> passErrors = new ArrayList<>();
    /** CDP mode's NBD exports ({@link CdpExports#NONE} in scan mode). */
    private CdpExports cdp = CdpExports.NONE;

    Agent(Config config, AgentClient client, Clock clock, Retry.Sleeper sleeper, PrintStream out, PrintStream err) {
        this.config = config;
        this.client = client;
        this.clock = clock;
        // Long waits are cut into short slices so that stop() takes effect promptly. A wait ends when the
        // monotonic time or the agent's clock (by which sleepHeartbeating measures; tests use a fast one)
        // says it is over, whichever comes first.
        this.sleeper = duration -> {
            long end = System.nanoTime() + duration.toNanos();
            Instant endByClock = clock.instant().plus(duration);
            for (long left = duration.toNanos(); left > 0 && !stopping.get() && clock.instant().isBefore(endByClock);
                 left = end - System.nanoTime()) {
                sleeper.sleep(Duration.ofNanos(Math.min(left, STOP_POLL.toNanos())));
            }
        };
        this.out = out;
        this.err = err;
        this.retry = new Retry(config.once() ? ONCE_ATTEMPTS : 0, sleeper, stopping::get, err);
        this.finalRetry = new Retry(ONCE_ATTEMPTS, sleeper, stopping::get, err);
        this.shutdownCommand = new ShutdownCommand(config.shutdownCommand(),
                config.shutdownTimeout() == null ? ShutdownCommand.TIMEOUT_DEFAULT : config.shutdownTimeout(),
                config.machineName());
        this.quiescer = new Quiescer(config.preScript(), config.postScript(), config.fsfreezeMounts(),
                config.quiesceTimeout(), config.machineName(), err);
    }

    /** Asks the loop to stop at the next opportunity (a pass in progress is abandoned, safely). */
    void stop() {
        stopping.set(true);
    }

    /** Runs the agent; returns the process exit code. */
    int run() throws Fatal, IOException {
        try (StateDir dir = StateDir.open(config.stateDir())) {
            state = dir;
            failback = new FailbackWriter(client, retry, dir, clock, out);
            try {
                shutdown = dir.shutdown().orElse(null);
                discoverDisks();
                if (config.nbdListen() != null) {
                    cdp = CdpExports.start(config.nbdListen(), config.disks(), dir.root(), out, err);
                }
                ensureRegistered();
                if (config.once()) {
                    return runOnce();
                }
                runForever();
                return EXIT_OK;
            } catch (Retry.StopRequested e) {
                out.println("secondsite agent: stopped");
                return EXIT_OK;
            } finally {
                cdp.close(); // no write arrives after this; the trackers are saved
                for (Replicator replicator : replicators.values()) {
                    replicator.close();
                }
                replicators.clear();
            }
        }
    }

    private int runOnce() throws Fatal, IOException {
        boolean ok = false;
        for (int attempt = 1; attempt <= SEQUENCE_GAP_RETRIES; attempt++) {
            CycleOutcome outcome = cycle();
            ok = outcome.ok;
            if (!outcome.sequenceGap) {
                break;
            }
        }
        try {
            heartbeatOnce(); // report the final stats
        } catch (IOException e) {
            err.println("secondsite agent: final heartbeat failed: " + Retry.describe(e));
        }
        return ok ? EXIT_OK : EXIT_FAILED;
    }

    private void runForever() throws Fatal, IOException {
        while (!stopping.get()) {
            Duration wait;
            boolean failed = false;
            try {
                Instant started = clock.instant();
                CycleOutcome outcome = cycle();
                wait = outcome.sequenceGap ? Duration.ZERO
                        : outcome.ok ? waitAfter(started, outcome.interval) : min(outcome.interval, Retry.DELAY_MAX);
            } catch (Retry.StopRequested | AgentClient.UntrustedServer e) {
                throw e; // stopping, or a server certificate this agent does not trust: waiting will not help
            } catch (IOException e) {
                // A refused heartbeat or a local I/O error: keep running, try again later.
                err.println("secondsite agent: cycle failed: " + (e instanceof AgentApiException ? e.getMessage()
                        : Retry.describe(e)) + "; retrying in " + Retry.DELAY_MAX.toSeconds() + " s");
                wait = Retry.DELAY_MAX;
                failed = true; // e.g. a shutdown request it could not start on: do not retry at once
            }
            sleepHeartbeating(wait, !failed);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Registration and heartbeat

    /**
     * Describes every --disk. At start an unreadable disk is a usage error; later (an image being rewritten,
     * a device briefly gone) the previous description is kept and that disk's pass fails and is retried.
     */
    private void discoverDisks() throws Fatal {
        Map<String, DiskSource.Description> found = new LinkedHashMap<>();
        for (int i = 0; i < config.disks().size(); i++) {
            Path path = config.disks().get(i);
            String name = "disk" + i;
            try {
                TrackedDisk tracked = cdp.disk(name);
                found.put(name, tracked != null ? tracked.describe() : DiskSource.describe(name, path));
            } catch (IOException | RuntimeException e) {
                DiskSource.Description previous = disks.get(name);
                if (previous == null) {
                    throw new Fatal(EXIT_USAGE, "cannot read disk " + path + ": " + e.getMessage());
                }
                err.println("secondsite agent: warning: cannot read disk " + path + " now: " + e.getMessage());
                found.put(name, previous);
            }
        }
        disks = found;
    }

    private void ensureRegistered() throws Fatal, IOException {
        StateDir.Identity identity = state.identity().orElse(null);
        if (identity == null) {
            if (config.registrationKeyFile() == null) {
                throw new Fatal(EXIT_USAGE, "this agent is not registered yet (no " + state.root().resolve(
                        StateDir.IDENTITY_FILE) + "): pass --registration-key-file with a key from"
                        + " 'secondsite fabric registration-key'");
            }
            identity = register();
        } else if (config.azureRegion() != null && !config.azureRegion().equals(identity.azureRegion())) {
            // The region travels in the register body only: registering again (same agentId) updates it.
            // A refused key (expired, say) must not stop an agent that is registered: keep the old identity.
            if (config.registrationKeyFile() != null) {
                try {
                    identity = register();
                } catch (Fatal e) {
                    if (e.exitCode != EXIT_REGISTRATION_REFUSED) {
                        throw e;
                    }
                    err.println("secondsite agent: warning: could not register again to report --azure-region ("
                            + e.getMessage() + "); continuing with the existing registration");
                }
            } else {
                err.println("secondsite agent: warning: --azure-region " + config.azureRegion() + " is sent at"
                        + " registration only; give --registration-key-file once to register again with it");
            }
        }
        client.credentials(identity.agentId(), identity.agentSecret());
    }

    private StateDir.Identity register() throws Fatal, IOException {
        String key = readRegistrationKey(config.registrationKeyFile());
        AgentClient.RegisterRequest request = new AgentClient.RegisterRequest(key, config.machineName(),
                clock.instant().toString(), osType(), VERSION, List.copyOf(disks.values()), config.azureRegion());
        AgentClient.RegisterResponse response;
        try {
            response = retry.call("register", () -> client.register(request));
        } catch (AgentApiException e) {
            throw new Fatal(EXIT_REGISTRATION_REFUSED, "registration refused by the server: " + e.code() + ": "
                    + e.serverMessage());
        }
        if (response.agentId() == null || response.agentSecret() == null) {
            throw new Fatal(EXIT_FAILED, "the server's registration answer has no agentId/agentSecret");
        }
        StateDir.Identity identity = new StateDir.Identity(response.agentId(), response.agentSecret(),
                config.server(), config.machineName(), response.vaultId(), response.fabricId(),
                clock.instant().toString(), config.azureRegion());
        state.saveIdentity(identity);
        out.println("secondsite agent: registered machine " + config.machineName() + " as agent "
                + response.agentId());
        return identity;
    }

    static String readRegistrationKey(Path file) throws Fatal {
        String text;
        try {
            text = Files.readString(file).strip();
        } catch (IOException e) {
            throw new Fatal(EXIT_USAGE, "cannot read the registration key file " + file + ": " + e.getMessage());
        }
        if (text.startsWith("{")) { // the JSON answer of generateRegistrationKey, saved whole
            try {
                JsonNode key = AgentClient.JSON.readTree(text).path("registrationKey");
                if (key.isTextual()) {
                    text = key.asText().strip();
                }
            } catch (IOException e) {
                throw new Fatal(EXIT_USAGE, "the registration key file " + file + " is not valid JSON");
            }
        }
        if (text.isEmpty()) {
            throw new Fatal(EXIT_USAGE, "the registration key file " + file + " is empty");
        }
        return text;
    }

    private static String osType() {
        String os = System.getProperty("os.name", "");
        String lower = os.toLowerCase(Locale.ROOT);
        return lower.startsWith("windows") ? "Windows" : lower.startsWith("linux") ? "Linux" : os;
    }

    /** Heartbeats with retries; re-registers once if the server no longer knows the credentials. */
    private AgentClient.HeartbeatResponse heartbeat() throws Fatal, IOException {
        try {
            return retry.call("heartbeat", this::heartbeatOnce);
        } catch (AgentApiException e) {
            if (e.status() != 401 && !e.code().equals("InvalidAgentCredentials")) {
                throw e;
            }
            if (config.registrationKeyFile() == null) {
                throw new Fatal(EXIT_CREDENTIALS_REJECTED, "the server rejected this agent's credentials ("
                        + e.code() + ": " + e.serverMessage() + "); register again with --registration-key-file");
            }
            err.println("secondsite agent: the server rejected our credentials (" + e.code() + "); registering again");
            StateDir.Identity identity = register();
            client.credentials(identity.agentId(), identity.agentSecret());
            return retry.call("heartbeat", this::heartbeatOnce);
        }
    }

    private AgentClient.HeartbeatResponse heartbeatOnce() throws IOException {
        AgentClient.HeartbeatResponse response = client.heartbeat(new AgentClient.HeartbeatRequest(
                clock.instant().toString(), List.copyOf(disks.values()), stats(), shutdown,
                failback == null ? null : failback.report()));
        lastHeartbeat = clock.instant();
        answeredShutdownRequest = response.shutdownRequestId();
        return response;
    }

    /** Whether the latest answer's shutdown request differs from the one this agent has handled. */
    private boolean shutdownRequestChanged() {
        return !Objects.equals(answeredShutdownRequest, shutdown == null ? null : shutdown.requestId());
    }

    private Map<String, Map<String, Object>> stats() {
        Map<String, Map<String, Object>> all = new LinkedHashMap<>();
        for (String name : disks.keySet()) {
            UUID diskId = diskIdsByName.get(name);
            Replicator replicator = diskId == null ? null : replicators.get(diskId);
            Map<String, Object> disk = new LinkedHashMap<>();
            if (replicator == null) {
                disk.put("pendingBytes", 0L);
                disk.put("churnBytesPerSecond", 0.0);
            } else {
                DiskStats stats = replicator.stats();
                disk.put("pendingBytes", stats.pendingBytes);
                disk.put("churnBytesPerSecond", stats.churnBytesPerSecond);
                disk.put("activity", stats.activity);
                disk.put("scanProgressPercent", Math.round(stats.scanProgressPercent() * 10) / 10.0);
                if (stats.lastPointAt != null) {
                    disk.put("lastRecoveryPointAt", stats.lastPointAt.toString());
                }
                if (stats.lastError != null) {
                    disk.put("lastError", stats.lastError);
                }
                if (stats.completedResyncId != null) {
                    disk.put("completedResyncId", stats.completedResyncId);
                }
            }
            all.put(name, disk);
        }
        return all;
    }

    /** Called between blocks of a pass: stop if asked, keep the server's "last contact" fresh. */
    private void tick() throws IOException {
        if (stopping.get()) {
            throw new Retry.StopRequested();
        }
        if (Duration.between(lastHeartbeat, clock.instant()).compareTo(HEARTBEAT_INTERVAL) >= 0) {
            try {
                heartbeatOnce();
            } catch (IOException e) {
                lastHeartbeat = clock.instant(); // do not hammer an unreachable server from inside a pass
            }
        }
    }

    /**
     * Waits {@code wait} between cycles, heartbeating at least every {@link #HEARTBEAT_INTERVAL}; ends early when
     * an answer brings a new shutdown request or withdraws the standing one, so a failover waits for one
     * heartbeat interval at most, not a whole scan interval (unless {@code endOnShutdownChange} is false: after
     * a failed cycle, which may have left the request unhandled).
     */
    private void sleepHeartbeating(Duration wait, boolean endOnShutdownChange) throws IOException {
        Instant until = clock.instant().plus(wait);
        while (!stopping.get() && !(endOnShutdownChange && shutdownRequestChanged())) {
            Duration left = Duration.between(clock.instant(), until);
            if (left.isNegative() || left.isZero()) {
                return;
            }
            try {
                sleeper.sleep(min(left, HEARTBEAT_INTERVAL));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Retry.StopRequested();
            }
            if (Duration.between(clock.instant(), until).compareTo(Duration.ofSeconds(1)) > 0) {
                try {
                    heartbeatOnce();
                } catch (IOException e) {
                    err.println("secondsite agent: heartbeat failed: " + Retry.describe(e));
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // One cycle

    private record CycleOutcome(boolean ok, boolean sequenceGap, Duration interval) {
    }

    /** A disk to replicate this cycle. */
    private static final class Target {
        final AgentClient.DiskDirective directive;
        final DiskSource.Description disk;
        final Replicator replicator;
        Replicator.PassKind kind;

        Target(AgentClient.DiskDirective directive, DiskSource.Description disk, Replicator replicator) {
            this.directive = directive;
            this.disk = disk;
            this.replicator = replicator;
        }
    }

    private CycleOutcome cycle() throws Fatal, IOException {
        discoverDisks();
        AgentClient.HeartbeatResponse beat = heartbeat();
        // Failback write-back (agent-protocol §7): while the server asks for one, no replication pass runs.
        boolean failingBack;
        try {
            failingBack = failback.handle(beat.failback(), disks, () -> {
                closeReplicators();
                cdp.suspend();
            }, this::tick, this::heartbeatOnce);
        } finally {
            cdp.resume();
        }
        if (failingBack) {
            return new CycleOutcome(failback.completed(), false, interval(List.of()));
        }
        String shutdownRequest = beat.shutdownRequestId();
        if (shutdownRequest != null) {
            if (shutdown == null || !shutdown.requestId().equals(shutdownRequest)) {
                shutDown(shutdownRequest, beat);
                return new CycleOutcome(shutdown.completed(), false, interval(List.of()));
            }
            // Handled already (maybe before a restart): no passes, so the replica stays at the final point
            // the failover uses; the heartbeats keep reporting the outcome.
            return new CycleOutcome(true, false, interval(List.of()));
        }
        if (shutdown != null) {
            out.println("secondsite agent: the server withdrew shutdown request " + shutdown.requestId()
                    + " (the failover rolled back, or was committed and reprotected); replicating when the server says so");
            state.clearShutdown();
            shutdown = null;
        }
        List<Target> targets = targets(beat);
        Replication result = replicate(targets, null);
        return new CycleOutcome(result.ok(), result.sequenceGap(), interval(targets));
    }

    /** The disks the heartbeat answer says to replicate, each with its replicator. */
    private List<Target> targets(AgentClient.HeartbeatResponse beat) throws IOException {
        List<Target> targets = new ArrayList<>();
        for (AgentClient.DiskDirective directive : beat.disks()) {
            if (!directive.replicate()) {
                continue;
            }
            if (!validId(directive.diskId())) {
                err.println("secondsite agent: warning: the server replicates disk '" + directive.name()
                        + "' without a valid diskId (" + directive.diskId() + "); skipped");
                continue;
            }
            DiskSource.Description disk = disks.get(directive.name());
            if (disk == null) {
                err.println("secondsite agent: warning: the server replicates disk '" + directive.name()
                        + "', which this agent does not have (--disk order changed?)");
                continue;
            }
            targets.add(new Target(directive, disk, replicator(directive, disk)));
        }
        return targets;
    }

    /** What one round of passes came to; {@code errors} says why disks failed. */
    private record Replication(boolean ok, boolean sequenceGap, List<String> errors) {
    }

    /** Prepares and runs one pass per target; {@code tag} overrides the markers' tag (null: the kinds'). */
    private Replication replicate(List<Target> targets, String tag) throws IOException {
        passErrors.clear();
        boolean ok = true;
        boolean gap = false;
        List<Target> ready = new ArrayList<>();
        for (Target target : targets) {
            try {
                target.kind = target.replicator.prepare(target.disk.sizeBytes(), target.directive.chunkBytes(),
                        target.directive.nextSequence(), target.directive.resync(), target.directive.resyncId());
                ready.add(target);
            } catch (IOException e) {
                failed(target, e); // resized disk, unusable geometry, unreadable state
                ok = false;
            }
        }
        if (!ready.isEmpty()) {
            for (PassOutcome outcome : passes(ready, tag)) {
                ok &= outcome == PassOutcome.OK;
                gap |= outcome == PassOutcome.SEQUENCE_GAP;
            }
        }
        return new Replication(ok, gap, List.copyOf(passErrors));
    }

    /**
     * Handles a new shutdown request (agent-protocol §3.1): (a) a last pass on every replicated disk ending
     * in a crash-consistent marker tagged {@code shutdown:<requestId>}, returning once every marker is
     * acknowledged, so every write up to now is in a recovery point; (b) the --shutdown-command, run even
     * when the pass failed (the failover goes on anyway, and the user asked for the machine to be down);
     * (c) the outcome recorded in the state directory and reported at once.
     *
     * <p>The outcome is recorded only at the end: an agent stopped (or killed by the shutdown itself) before
     * that redoes the pass and the command at its next start if the request still stands.
     */
    private void shutDown(String requestId, AgentClient.HeartbeatResponse beat) throws Fatal, IOException {
        out.println("secondsite agent: the server asks this machine to shut down (request " + requestId
                + "); final pass on every replicated disk");
        shutdown = null; // a report of an earlier request must not be sent for this one
        String tag = shutdownTag(requestId);
        String passProblem = null;
        finalPass = true;
        try {
            for (int attempt = 1; ; attempt++) {
                Replication result = replicate(targets(beat), tag);
                if (result.ok()) {
                    passProblem = null;
                    break;
                }
                passProblem = "the final pass failed: " + String.join("; ", result.errors());
                if (!result.sequenceGap() || attempt >= SEQUENCE_GAP_RETRIES) {
                    break;
                }
                try {
                    beat = finalRetry.call("heartbeat", this::heartbeatOnce); // the server's nextSequence
                } catch (Retry.StopRequested e) {
                    throw e;
                } catch (IOException e) {
                    passProblem += "; heartbeat failed: " + (e instanceof AgentApiException ? e.getMessage()
                            : Retry.describe(e));
                    break;
                }
            }
        } finally {
            finalPass = false;
        }
        if (passProblem != null) {
            err.println("secondsite agent: " + passProblem);
        }
        String commandProblem = shutdownCommand.run(requestId);
        if (commandProblem != null) {
            err.println("secondsite agent: " + commandProblem);
        }
        String message = passProblem == null ? commandProblem
                : commandProblem == null ? passProblem : passProblem + "; " + commandProblem;
        shutdown = new AgentClient.ShutdownReport(requestId, message == null ? AgentClient.ShutdownReport.COMPLETED
                : AgentClient.ShutdownReport.FAILED, message);
        state.saveShutdown(shutdown);
        out.println("secondsite agent: shutdown request " + requestId + " " + shutdown.status().toLowerCase(Locale.ROOT)
                + "; replication stopped while the request stands");
        try {
            heartbeatOnce(); // report now: the shutdown command may be taking this machine down
        } catch (IOException e) {
            err.println("secondsite agent: heartbeat failed: " + Retry.describe(e));
        }
    }

    /** {@code shutdown:<requestId>}, or plain {@code shutdown} if that does not fit a marker tag. */
    static String shutdownTag(String requestId) {
        String tag = SHUTDOWN_TAG_PREFIX + requestId;
        return tag.getBytes(StandardCharsets.UTF_8).length <= SegmentFormat.TAG_BYTES_MAX ? tag : "shutdown";
    }

    private Replicator replicator(AgentClient.DiskDirective directive, DiskSource.Description disk) throws IOException {
        UUID diskId = directive.id();
        UUID previous = diskIdsByName.put(disk.name(), diskId);
        if (previous != null && !previous.equals(diskId)) {
            Replicator old = replicators.remove(previous);
            if (old != null) {
                old.close();
            }
        }
        Replicator replicator = replicators.get(diskId);
        if (replicator == null) {
            state.forgetOtherDisks(disk.name(), diskId); // an earlier protection of this disk
            state.saveDisk(new StateDir.DiskRecord(diskId.toString(), disk.name(), disk.path(), disk.sizeBytes(),
                    directive.chunkBytes()));
            replicator = new Replicator(diskId, state.diskDir(diskId), this::upload, this::acknowledged,
                    client::replicaDigests, clock, SegmentBuilder.SEGMENT_BYTES_MAX);
            replicators.put(diskId, replicator);
        }
        return replicator;
    }

    private int upload(UUID diskId, long sequence, byte[] segment, int length) throws IOException {
        return (finalPass ? finalRetry : retry).call("upload of segment " + sequence + " of disk " + diskId,
                () -> client.putSegment(diskId, sequence, segment, length));
    }

    private void acknowledged(UUID diskId, long sequence, int length, int status) throws IOException {
        if (config.verbose()) {
            out.println("secondsite agent: segment " + sequence + " of disk " + diskId + " (" + length
                    + " bytes) acknowledged: " + status);
        }
        if (!config.segmentPause().isZero()) {
            try {
                sleeper.sleep(config.segmentPause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Retry.StopRequested();
            }
        }
    }

    private enum PassOutcome { OK, FAILED, SEQUENCE_GAP }

    /**
     * One pass over every disk, all ending in markers of the <em>same</em> time: the server joins the disks'
     * points of one time into the machine's recovery point (agent-protocol §6). Every disk is read first
     * (full segments uploaded on the way, each disk's last segment kept open), then every disk's marker is
     * added and its last segments shipped.
     *
     * <p>At the app-consistent frequency, when hooks are configured and every disk is in plain change
     * detection, the reads happen inside one quiesce window (pre script, freeze ... thaw, post script) with
     * segments spooled locally so the window holds no network I/O, and the markers are APP_CONSISTENT if
     * every quiesce step succeeded. Passes that read the whole disk anyway (initial, resync, full resend)
     * are crash-consistent: a machine point is app-consistent only if all its disks are.
     */
    private List<PassOutcome> passes(List<Target> targets, String tag) throws IOException {
        // A tagged (final) pass is crash-consistent: it must not wait on quiesce hooks.
        boolean app = tag == null && appConsistentDue(targets)
                && targets.stream().allMatch(t -> t.kind == Replicator.PassKind.CHANGES);
        List<PassOutcome> outcomes = new ArrayList<>();
        Map<Target, Replicator.Pass> passes = new LinkedHashMap<>();
        Quiescer.Session session = null;
        Instant pointAt;
        boolean consistent = false;
        Map<String, PassSnapshot> snapshots = new HashMap<>();
        try {
            if (app) {
                lastAppAttempt = clock.instant();
                session = quiescer.begin();
            }
            // CDP disks: every disk's pages taken at one instant, so their points are of the same moment.
            snapshots.putAll(cdp.beginPasses(targets.stream().map(t -> t.disk.name()).toList()));
            List<PassSnapshot> taken = List.copyOf(snapshots.values());
            Instant snapshotAt = clock.instant();
            for (Target target : targets) {
                PassSnapshot snapshot = snapshots.remove(target.disk.name()); // from here the pass owns its pages
                try (DiskSource source = snapshot != null ? snapshot : DiskSource.open(Path.of(target.disk.path()))) {
                    passes.put(target, target.replicator.scan(target.kind, source,
                            snapshot == null ? null : cdp.disk(target.disk.name()).tracker(),
                            snapshot == null ? null : snapshot.taken(),
                            target.directive.nextSequence(), app, state.spool(), this::tick));
                } catch (IOException | RuntimeException e) {
                    if (e instanceof Retry.StopRequested) {
                        passes.values().forEach(Replicator.Pass::abandon);
                    }
                    outcomes.add(passFailed(target, e));
                }
            }
            // Tracked passes send the disks as they were at the snapshot; scans as they were read, until now.
            boolean exact = !passes.isEmpty() && passes.values().stream().allMatch(Replicator.Pass::tracked)
                    && taken.stream().allMatch(PassSnapshot::exact);
            pointAt = exact ? snapshotAt : clock.instant();
        } finally {
            for (Map.Entry<String, PassSnapshot> left : snapshots.entrySet()) { // no pass took them over
                left.getValue().close();
                cdp.disk(left.getKey()).tracker().giveBack(left.getValue().taken());
            }
            if (session != null) {
                consistent = session.end();
            }
        }
        if (app && !consistent) {
            err.println("secondsite agent: warning: quiescing failed; this recovery point is crash-consistent only");
        }
        ConsistencyType type = consistent ? ConsistencyType.APP_CONSISTENT : ConsistencyType.CRASH_CONSISTENT;
        for (Map.Entry<Target, Replicator.Pass> entry : passes.entrySet()) {
            outcomes.add(finish(entry.getKey(), entry.getValue(), type, pointAt, tag));
        }
        return outcomes;
    }

    private PassOutcome finish(Target target, Replicator.Pass pass, ConsistencyType type, Instant pointAt,
                               String tag) throws IOException {
        try {
            Replicator.PassResult result = pass.finish(type, pointAt, tag);
            out.printf(Locale.ROOT, "secondsite agent: %s (%s): %s%s pass sent %s (%d data bytes, %d zeroed) in"
                            + " %s [%d..%d]; %s point at %s; read %d bytes in %.3f s%n", target.disk.name(),
                    target.directive.diskId(), result.tracked() ? "tracked " : "", result.tag(),
                    Plural.of(result.changedChunks(), "changed chunk"), result.dataBytes(),
                    result.zeroBytes(), Plural.of(result.segments(), "segment"), result.firstSequence(),
                    result.lastSequence(),
                    type == ConsistencyType.APP_CONSISTENT ? "app-consistent" : "crash-consistent", pointAt,
                    result.readBytes(), result.scanTime().toNanos() / 1e9);
            return PassOutcome.OK;
        } catch (IOException | RuntimeException e) {
            return passFailed(target, e);
        }
    }

    private PassOutcome passFailed(Target target, Exception e) throws Retry.StopRequested {
        if (e instanceof Retry.StopRequested stop) {
            throw stop;
        }
        failed(target, e);
        if (e instanceof AgentApiException api && api.code().equals("SequenceGap")) {
            return PassOutcome.SEQUENCE_GAP;
        }
        if (e instanceof AgentApiException api && api.code().equals("UnknownDisk")) {
            Replicator gone = replicators.remove(target.replicator.diskId());
            try {
                if (gone != null) {
                    gone.close();
                }
            } catch (IOException ignored) {
                // reopened from disk if the disk comes back
            }
        }
        return PassOutcome.FAILED;
    }

    private void failed(Target target, Exception e) {
        String message = e instanceof IOException io && !(e instanceof AgentApiException) ? Retry.describe(io)
                : e.getMessage();
        target.replicator.stats().lastError = message;
        passErrors.add(target.disk.name() + ": " + message);
        target.replicator.stats().activity = "Idle";
        err.println("secondsite agent: " + target.disk.name() + " (" + target.directive.diskId() + "): pass failed: "
                + message + (e instanceof RuntimeException ? " [" + e.getClass().getName() + "]" : ""));
        if (e instanceof RuntimeException) {
            e.printStackTrace(err);
        }
    }

    private boolean appConsistentDue(List<Target> targets) {
        if (!quiescer.configured()) {
            return false;
        }
        long every = targets.stream().mapToLong(t -> t.directive.appConsistentSeconds()).filter(s -> s > 0)
                .min().orElse(0);
        if (every == 0) {
            return false;
        }
        return lastAppAttempt == null
                || Duration.between(lastAppAttempt, clock.instant()).compareTo(Duration.ofSeconds(every)) >= 0;
    }

    private Duration interval(List<Target> targets) {
        Duration interval;
        if (config.scanInterval() != null) {
            interval = config.scanInterval();
        } else {
            interval = targets.stream().mapToLong(t -> t.directive.crashConsistentSeconds()).filter(s -> s > 0)
                    .min().stream().mapToObj(Duration::ofSeconds).findFirst().orElse(HEARTBEAT_INTERVAL);
        }
        boolean busy = targets.stream().anyMatch(t -> t.replicator.stats().churnBytesPerSecond
                >= HIGH_CHURN_BYTES_PER_SECOND);
        return busy ? min(interval, cdp == CdpExports.NONE ? HIGH_CHURN_INTERVAL : CDP_BUSY_INTERVAL) : interval;
    }

    /**
     * The wait after a cycle that began at {@code started}. In CDP mode the interval runs from the cycle's start:
     * a tracked pass reads only what was written since the last one, so a busy disk whose pass took longer than
     * the interval gets the next pass at once, and no pause in which nothing is sent adds to its RPO. In scan mode
     * it runs from the cycle's end: every pass reads the whole disk, and the disk gets the interval to rest.
     */
    private Duration waitAfter(Instant started, Duration interval) {
        return waitAfter(cdp != CdpExports.NONE, started, clock.instant(), interval);
    }

    static Duration waitAfter(boolean cdpMode, Instant started, Instant now, Duration interval) {
        if (!cdpMode) {
            return interval;
        }
        Duration left = interval.minus(Duration.between(started, now));
        return left.isNegative() ? Duration.ZERO : left;
    }

    /** Before a failback writes the disks: no replicator may keep a ledger open (they reopen from disk later). */
    private void closeReplicators() {
        for (Replicator replicator : replicators.values()) {
            try {
                replicator.close();
            } catch (IOException e) {
                err.println("secondsite agent: warning: " + Retry.describe(e));
            }
        }
        replicators.clear();
    }

    private static boolean validId(String id) {
        try {
            UUID.fromString(id);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
