package dev.secondsite.agent;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

/**
 * Bounded exponential backoff for calls to the server: 1 s, 2 s, 4 s ... capped at {@link #DELAY_MAX}
 * (plus up to 25% jitter so a fleet does not reconnect in step). Retries a call that got no answer or a
 * transient refusal (5xx, 429, 408); any other refusal, and a server certificate the agent does not trust, is
 * final and thrown at once.
 */
final class Retry {
    static final Duration DELAY_FIRST = Duration.ofSeconds(1);
    static final Duration DELAY_MAX = Duration.ofSeconds(30);

    @FunctionalInterface
    interface Call<T> {
        T call() throws IOException;
    }

    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    /** Thrown when the agent is asked to stop while waiting or working. */
    static final class StopRequested extends InterruptedIOException {
        StopRequested() {
            super("the agent is stopping");
        }
    }

    private final int attemptsMax;
    private final Sleeper sleeper;
    private final BooleanSupplier stopping;
    private final PrintStream log;

    /** {@code attemptsMax} 0 means: retry until it works or the agent stops. */
    Retry(int attemptsMax, Sleeper sleeper, BooleanSupplier stopping, PrintStream log) {
        this.attemptsMax = attemptsMax;
        this.sleeper = sleeper;
        this.stopping = stopping;
        this.log = log;
    }

    <T> T call(String what, Call<T> call) throws IOException {
        Duration delay = DELAY_FIRST;
        for (int attempt = 1; ; attempt++) {
            if (stopping.getAsBoolean()) {
                throw new StopRequested();
            }
            try {
                return call.call();
            } catch (StopRequested | AgentClient.UntrustedServer e) {
                throw e; // stopping, or a trust failure that no retry can cure
            } catch (AgentApiException e) {
                if (!e.transientFailure() || (attemptsMax > 0 && attempt >= attemptsMax)) {
                    throw e;
                }
                log.println("secondsite agent: " + what + ": " + e.getMessage() + "; retrying in " + delay.toSeconds() + " s");
            } catch (IOException e) {
                if (attemptsMax > 0 && attempt >= attemptsMax) {
                    throw e;
                }
                log.println("secondsite agent: " + what + ": " + describe(e) + "; retrying in " + delay.toSeconds() + " s");
            }
            pause(delay);
            delay = next(delay);
        }
    }

    /** Sleeps, jittered, unless the agent is stopping. */
    void pause(Duration delay) throws IOException {
        long jitter = ThreadLocalRandom.current().nextLong(delay.toMillis() / 4 + 1);
        try {
            sleeper.sleep(delay.plusMillis(jitter));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StopRequested();
        }
        if (stopping.getAsBoolean()) {
            throw new StopRequested();
        }
    }

    static Duration next(Duration delay) {
        Duration doubled = delay.multipliedBy(2);
        return doubled.compareTo(DELAY_MAX) > 0 ? DELAY_MAX : doubled;
    }

    /** A network failure in one line (the JDK's messages are often null or nested). */
    static String describe(IOException e) {
        if (e instanceof AgentClient.Unreachable || e instanceof AgentClient.UntrustedServer) {
            return e.getMessage(); // already one line for the user
        }
        Throwable cause = e;
        StringBuilder text = new StringBuilder();
        while (cause != null && text.length() < 300) {
            String part = cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : " " + cause.getMessage());
            if (!text.toString().contains(part)) { // wrappers often repeat their cause
                text.append(text.isEmpty() ? "" : ": ").append(part);
            }
            cause = cause.getCause() == cause ? null : cause.getCause();
        }
        return text.toString();
    }
}
