package dev.secondsite.agent;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The {@code --shutdown-command} run when a planned failover asks the machine to shut down (agent-protocol
 * §3.1), after the final pass is acknowledged. It runs through the shell ({@code sh -c}; {@code cmd /c} on
 * Windows) with the agent's stdout/stderr and {@code SECONDSITE_SHUTDOWN_REQUEST_ID} and
 * {@code SECONDSITE_MACHINE_NAME} in its environment. A non-zero exit, a failure to start or running past the
 * timeout is a failure; the failover goes on regardless, so a failure is reported, never retried.
 */
final class ShutdownCommand {
    static final Duration TIMEOUT_DEFAULT = Duration.ofSeconds(60);

    private final String command;
    private final Duration timeout;
    private final String machineName;

    /** {@code command} null or blank: nothing to run (the agent only stops replicating). */
    ShutdownCommand(String command, Duration timeout, String machineName) {
        this.command = command == null || command.isBlank() ? null : command;
        this.timeout = timeout;
        this.machineName = machineName;
    }

    /** Runs the command; returns null when it succeeded (or there is none), else why it failed. */
    String run(String requestId) {
        if (command == null) {
            return null;
        }
        ProcessBuilder builder = new ProcessBuilder(Quiescer.shell(command)).inheritIO();
        builder.environment().put("SECONDSITE_SHUTDOWN_REQUEST_ID", requestId);
        builder.environment().put("SECONDSITE_MACHINE_NAME", machineName);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            return "the shutdown command could not start: " + e.getMessage();
        }
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                // A hung command must not keep the failover waiting: kill it and what it started.
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                return "the shutdown command did not finish within " + timeout.toSeconds() + " s and was killed";
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return "the shutdown command was interrupted";
        }
        int status = process.exitValue();
        return status == 0 ? null : "the shutdown command exited with status " + status;
    }
}
