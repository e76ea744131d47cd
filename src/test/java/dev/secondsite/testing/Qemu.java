package dev.secondsite.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/** qemu-img / qemu-io (Debian qemu-utils, installed by run-tests) as a test oracle and a real NBD client. */
public final class Qemu {
    private static Boolean available;

    private Qemu() {
    }

    public record Result(int exitCode, String output) {
    }

    public static synchronized void assumeAvailable() {
        if (available == null) {
            try {
                available = run("qemu-img", "--version").exitCode() == 0 && run("qemu-io", "--version").exitCode() == 0;
            } catch (IOException e) {
                available = false;
            }
        }
        Assumptions.assumeTrue(available, "qemu-img/qemu-io not installed (apt-get install qemu-utils)");
    }

    /** Runs a command (60 s at most), stdout and stderr together. */
    public static Result run(String... command) throws IOException {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        try {
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), output);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** Runs a command that must succeed; returns its output. */
    public static String ok(String... command) throws IOException {
        Result r = run(command);
        assertThat(r.exitCode()).as("%s\n%s", String.join(" ", command), r.output()).isZero();
        return r.output();
    }
}
