package dev.secondsite.failover;

import dev.secondsite.arm.ArmException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a recovery plan's script action on the SecondSite server: {@code sh -c <path>} with the plan's context in
 * environment variables, bounded by the action's timeout (the script and its children are killed then). The
 * output (stdout and stderr, the last {@value #OUTPUT_MAX} bytes) is kept for the job's task. A script runs with
 * the server's own user and rights, and may run again when its task re-runs after a restart, so it should be
 * idempotent.
 */
final class ScriptActions {
    static final int OUTPUT_MAX = 4096;

    /** What a finished script left: its exit code and the tail of its output. */
    record Result(int exitCode, String output) {}

    private ScriptActions() {}

    /**
     * Runs the script and returns its result when it exits 0; a non-zero exit is a 409 ScriptActionFailed and a
     * timeout a 409 ScriptActionTimedOut, both naming the action and carrying the output's tail.
     */
    static Result run(String actionName, String path, Duration timeout, Map<String, String> env)
            throws InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("sh", "-c", path).redirectErrorStream(true);
        builder.environment().putAll(env);
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw ArmException.conflict("ScriptActionFailed", "Script action '" + actionName + "' could not start: "
                    + e.getMessage());
        }
        Tail tail = new Tail(process.getInputStream());
        Thread reader = Thread.ofVirtual().start(tail);
        boolean exited;
        try {
            exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            kill(process);
            throw e;
        }
        if (!exited) {
            kill(process);
            reader.join(2000);
            throw ArmException.conflict("ScriptActionTimedOut", "Script action '" + actionName + "' (" + path
                    + ") did not finish within " + timeout.toSeconds() + " seconds and was stopped. Output: "
                    + tail.text());
        }
        reader.join(2000);
        int code = process.exitValue();
        if (code != 0) {
            throw ArmException.conflict("ScriptActionFailed", "Script action '" + actionName + "' (" + path
                    + ") exited with code " + code + ". Output: " + tail.text());
        }
        return new Result(code, tail.text());
    }

    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** Reads a stream to its end, keeping the last OUTPUT_MAX bytes. */
    private static final class Tail implements Runnable {
        private final InputStream in;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();

        Tail(InputStream in) {
            this.in = in;
        }

        @Override
        public void run() {
            byte[] buffer = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    synchronized (kept) {
                        kept.write(buffer, 0, n);
                        if (kept.size() > 2 * OUTPUT_MAX) {
                            byte[] all = kept.toByteArray();
                            kept.reset();
                            kept.write(all, all.length - OUTPUT_MAX, OUTPUT_MAX);
                        }
                    }
                }
            } catch (IOException e) {
                // the process was killed: keep what was read
            }
        }

        String text() {
            synchronized (kept) {
                byte[] all = kept.toByteArray();
                int from = Math.max(0, all.length - OUTPUT_MAX);
                return new String(all, from, all.length - from, StandardCharsets.UTF_8).strip();
            }
        }
    }
}
