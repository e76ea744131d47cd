package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuiescerTest {
    @TempDir
    Path tmp;
    final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    final PrintStream log = new PrintStream(logBytes, true);

    @Test
    void runsPreThenPostWithThePhaseInTheEnvironment() throws Exception {
        Path trace = tmp.resolve("trace");
        String script = "echo $SECONDSITE_QUIESCE_PHASE-$SECONDSITE_MACHINE_NAME >> " + trace;
        Quiescer quiescer = new Quiescer(script, script, List.of(), Duration.ofSeconds(10), "web01", log);
        assertThat(quiescer.configured()).isTrue();

        Quiescer.Session session = quiescer.begin();
        assertThat(session.quiesced()).isTrue();
        assertThat(Files.readAllLines(trace)).containsExactly("pre-web01");
        assertThat(session.end()).isTrue();
        assertThat(Files.readAllLines(trace)).containsExactly("pre-web01", "post-web01");
    }

    @Test
    void aFailingPreScriptStillRunsThePostScriptAndReportsFailure() throws Exception {
        Path post = tmp.resolve("post-ran");
        Quiescer quiescer = new Quiescer("exit 3", "touch " + post, List.of(), Duration.ofSeconds(10), "m", log);
        Quiescer.Session session = quiescer.begin();
        assertThat(session.quiesced()).isFalse();
        assertThat(session.end()).isFalse();
        assertThat(post).exists();
        assertThat(logBytes.toString()).contains("pre-snapshot script exited with status 3");
    }

    @Test
    void aHangingScriptIsKilledAtTheTimeout() {
        Quiescer quiescer = new Quiescer("sleep 30", null, List.of(), Duration.ofMillis(300), "m", log);
        long start = System.nanoTime();
        Quiescer.Session session = quiescer.begin();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(session.end()).isFalse();
        assertThat(logBytes.toString()).contains("did not finish within");
    }

    @Test
    void withoutHooksNothingIsConfigured() {
        assertThat(new Quiescer(null, " ", List.of(), Duration.ofSeconds(1), "m", log).configured()).isFalse();
    }
}
