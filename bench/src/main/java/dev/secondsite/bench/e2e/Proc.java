package dev.secondsite.bench.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs an external command with a time limit; output (stdout + stderr) goes to a log file and is returned. */
record Proc(int exitCode, String output, double seconds) {

    boolean ok() {
        return exitCode == 0;
    }

    static Proc run(Duration timeout, Map<String, String> env, Path log, List<String> command)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
        builder.environment().putAll(env);
        long start = System.nanoTime();
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            return new Proc(127, "cannot run " + command.getFirst() + ": " + e.getMessage(), 0);
        }
        boolean finished = process.waitFor(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!finished) {
            kill(process);
            return new Proc(124, "timed out after " + timeout.toSeconds() + " s: " + String.join(" ", command), seconds);
        }
        return new Proc(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8), seconds);
    }

    static Proc run(Duration timeout, Path log, String... command) throws IOException, InterruptedException {
        return run(timeout, Map.of(), log, List.of(command));
    }

    /** Ends a process this harness started, and its children, by their ids. */
    static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static boolean available(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
