package dev.secondsite.protection;

import java.util.ArrayDeque;

/** Bytes per second over a sliding window: enough for "data rate" and churn figures. Thread-safe. */
final class RateMeter {
    static final long WINDOW_MILLIS = 60_000;

    private record Sample(long at, long bytes) {}

    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private long sum;

    synchronized void add(long now, long bytes) {
        samples.addLast(new Sample(now, bytes));
        sum += bytes;
        trim(now);
    }

    /** Average bytes per second over the last window (0 when nothing happened). */
    synchronized double perSecond(long now) {
        trim(now);
        return sum / (WINDOW_MILLIS / 1000.0);
    }

    private void trim(long now) {
        while (!samples.isEmpty() && samples.peekFirst().at() < now - WINDOW_MILLIS) {
            sum -= samples.removeFirst().bytes();
        }
    }
}
