package dev.secondsite.agent;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Quiesce hooks for app-consistent points: the pre-snapshot script (the application flushes and holds
 * its writes), then {@code fsfreeze -f} on each configured mount point (Linux), then the read pass, then
 * {@code fsfreeze -u} and the post-snapshot script, each bounded by a timeout ({@link #TIMEOUT_DEFAULT}).
 *
 * <p>The point is app-consistent only if every step succeeded; any failure yields a crash-consistent point
 * and a warning, never a failed pass. The thaw and the post script run whenever the freeze or the pre
 * script was attempted, so a half-done quiesce is always undone.
 *
 * <p>Scripts run through the platform shell ({@code sh -c} / {@code cmd /c}) with
 * {@code SECONDSITE_QUIESCE_PHASE} = {@code pre} or {@code post} and {@code SECONDSITE_MACHINE_NAME} in their
 * environment; their output goes to the agent's own stdout/stderr.
 */
final class Quiescer {
    static final Duration TIMEOUT_DEFAULT = Duration.ofSeconds(60);
    private static final int THAW_ATTEMPTS = 3;

    private final String preScript;
    private final String postScript;
    private final List<Path> freezeMounts;
    private final Duration timeout;
    private final String machineName;
    private final PrintStream log;
    private final String fsfreeze;

    Quiescer(String preScript, String postScript, List<Path> freezeMounts, Duration timeout, String machineName,
             PrintStream log) {
        this.preScript = blankToNull(preScript);
        this.postScript = blankToNull(postScript);
        this.freezeMounts = List.copyOf(freezeMounts);
        this.timeout = timeout;
        this.machineName = machineName;
        this.log = log;
        this.fsfreeze = freezeMounts.isEmpty() ? null : findOnPath("fsfreeze");
        if (!freezeMounts.isEmpty() && fsfreeze == null) {
            log.println("secondsite agent: warning: fsfreeze is not installed (util-linux); app-consistent points"
                    + " will fall back to crash-consistent");
        }
    }

    /** Whether any hook is configured (without hooks there are only crash-consistent points). */
    boolean configured() {
        return preScript != null || postScript != null || !freezeMounts.isEmpty();
    }

    /** Runs the pre-snapshot steps; the caller must {@link Session#end()} it (in a finally). */
    Session begin() {
        Session session = new Session();
        if (preScript != null) {
            session.ok &= run("pre-snapshot script", shell(preScript), "pre");
        }
        if (session.ok) {
            for (Path mount : freezeMounts) {
                if (fsfreeze == null) {
                    session.ok = false;
                    break;
                }
                boolean frozen = run("fsfreeze -f " + mount, List.of(fsfreeze, "-f", mount.toString()), null);
                if (!frozen) {
                    session.ok = false;
                    break;
                }
                session.frozen.add(mount);
            }
        }
        return session;
    }

    /** One quiesce window. */
    final class Session {
        private boolean ok = true;
        private final List<Path> frozen = new ArrayList<>();
        private boolean ended;

        /** Whether the application is quiesced right now (every pre step succeeded). */
        boolean quiesced() {
            return ok && !ended;
        }

        /** Thaws and runs the post script; true iff the whole window (pre, freeze, thaw, post) succeeded. */
        boolean end() {
            if (ended) {
                return ok;
            }
            ended = true;
            for (int i = frozen.size() - 1; i >= 0; i--) {
                Path mount = frozen.get(i);
                boolean thawed = false;
                for (int attempt = 1; attempt <= THAW_ATTEMPTS && !thawed; attempt++) {
                    thawed = run("fsfreeze -u " + mount, List.of(fsfreeze, "-u", mount.toString()), null);
                }
                if (!thawed) {
                    log.println("secondsite agent: ERROR: could not thaw " + mount + "; run 'fsfreeze -u " + mount
                            + "' by hand");
                    ok = false;
                }
            }
            if (postScript != null) {
                ok &= run("post-snapshot script", shell(postScript), "post");
            }
            return ok;
        }
    }

    private boolean run(String what, List<String> command, String phase) {
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        Map<String, String> env = builder.environment();
        if (phase != null) {
            env.put("SECONDSITE_QUIESCE_PHASE", phase);
        }
        env.put("SECONDSITE_MACHINE_NAME", machineName);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            log.println("secondsite agent: warning: " + what + " could not start: " + e.getMessage());
            return false;
        }
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                log.println("secondsite agent: warning: " + what + " did not finish within " + timeout.toSeconds()
                        + " s and was killed");
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            log.println("secondsite agent: warning: " + what + " interrupted");
            return false;
        }
        if (process.exitValue() != 0) {
            log.println("secondsite agent: warning: " + what + " exited with status " + process.exitValue());
            return false;
        }
        return true;
    }

    static List<String> shell(String script) {
        boolean windows = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
        return windows ? List.of("cmd.exe", "/c", script) : List.of("/bin/sh", "-c", script);
    }

    /** The executable on PATH (or in the sbin directories, which a non-root PATH often lacks), or null. */
    static String findOnPath(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(File.pathSeparator)));
        }
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }
}
