package dev.secondsite.cloud.compute;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** qemu-img / qemu-io (qemu-utils) as the test oracle for disk bytes. */
final class QemuTool {
    private static Boolean available;

    private QemuTool() {}

    record Result(int exitCode, String output) {}

    static synchronized void assumeAvailable() {
        if (available == null) {
            try {
                available = run("qemu-img", "--version").exitCode() == 0 && run("qemu-io", "--version").exitCode() == 0;
            } catch (IOException e) {
                available = false;
            }
        }
        Assumptions.assumeTrue(available, "qemu-img/qemu-io not installed (apt-get install qemu-utils)");
    }

    static Result run(String... command) throws IOException {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    static String ok(String... command) throws IOException {
        Result r = run(command);
        assertThat(r.exitCode()).as("%s\n%s", String.join(" ", command), r.output()).isZero();
        return r.output();
    }
}
