package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class RetryTest {
    final List<Duration> slept = new ArrayList<>();
    final PrintStream log = new PrintStream(new ByteArrayOutputStream());

    @Test
    void backsOffExponentiallyUpToThirtySeconds() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Retry retry = new Retry(0, slept::add, () -> false, log);
        String result = retry.call("test", () -> {
            if (calls.incrementAndGet() < 9) {
                throw new IOException("connection refused");
            }
            return "ok";
        });
        assertThat(result).isEqualTo("ok");
        assertThat(slept).hasSize(8);
        long[] base = {1, 2, 4, 8, 16, 30, 30, 30};
        for (int i = 0; i < base.length; i++) { // each delay is the base plus at most 25% jitter
            assertThat(slept.get(i).toMillis()).as("delay %d", i).isBetween(base[i] * 1000, base[i] * 1250);
        }
    }

    @Test
    void aFinalRefusalIsNotRetried() {
        AtomicInteger calls = new AtomicInteger();
        Retry retry = new Retry(0, slept::add, () -> false, log);
        assertThatThrownBy(() -> retry.call("test", () -> {
            calls.incrementAndGet();
            throw new AgentApiException(409, "SequenceGap", "expected 3");
        })).isInstanceOf(AgentApiException.class);
        assertThat(calls).hasValue(1);
    }

    @Test
    void transientRefusalsAreRetriedAndAttemptsAreBounded() {
        AtomicInteger calls = new AtomicInteger();
        Retry retry = new Retry(3, slept::add, () -> false, log);
        assertThatThrownBy(() -> retry.call("test", () -> {
            calls.incrementAndGet();
            throw new AgentApiException(507, "CacheStorageFull", "full");
        })).isInstanceOf(AgentApiException.class);
        assertThat(calls).hasValue(3);
    }

    @Test
    void stoppingEndsTheWait() {
        Retry retry = new Retry(0, slept::add, () -> slept.size() >= 2, log);
        assertThatThrownBy(() -> retry.call("test", () -> {
            throw new IOException("down");
        })).isInstanceOf(Retry.StopRequested.class);
    }
}
