package dev.secondsite.bench.e2e;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes to the protected image at a target rate: random writes of 4 KiB to 64 KiB (1-16 pages, 4 KiB
 * aligned, uniform) at uniformly random places, incompressible content that is new every time (a slice of a
 * random pool with a counter stamped into every page). The writes go to a {@link ChurnTarget}: the image file
 * through the page cache without fsync, like a guest writing to its disk, which the agent rescans (scan mode);
 * or the agent's NBD export of the image (CDP mode). Same pattern, pacing and accounting either way. Paced
 * by a token bucket that refills at the target rate with at most 100 ms of burst, so a generator that falls
 * behind (CPU) shows a lower achieved rate instead of catching up in bursts.
 */
final class Churn implements AutoCloseable {
    static final int PAGE = 4096;
    static final int PAGES_MAX = 16;
    private static final int POOL_BYTES = 32 << 20;

    private final ChurnTarget target;
    private final long imageBytes;
    private final SplittableRandom random;
    private final byte[] pool;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private volatile boolean running;
    private volatile IOException failure;
    private Thread thread;
    private long stamp;

    /** Takes ownership of {@code target} (closed by {@link #close()}). */
    Churn(ChurnTarget target, long imageBytes, long seed) {
        this.target = target;
        this.imageBytes = imageBytes;
        this.random = new SplittableRandom(seed);
        this.pool = new byte[POOL_BYTES];
        Images.fillRandom(pool, 0, pool.length, new SplittableRandom(seed ^ 0x5eed));
    }

    /** Bytes written since this generator was created. */
    long writtenBytes() {
        return written.get();
    }

    long writes() {
        return writes.get();
    }

    /** Starts writing at {@code bytesPerSecond}. */
    void start(double bytesPerSecond) {
        if (running) {
            throw new IllegalStateException("already running");
        }
        running = true;
        thread = Thread.ofPlatform().name("churn").daemon(true).start(() -> loop(bytesPerSecond));
    }

    /** Stops and returns when the last write has returned. */
    void stop() throws IOException, InterruptedException {
        running = false;
        if (thread != null) {
            thread.join();
            thread = null;
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void loop(double bytesPerSecond) {
        ByteBuffer scratch = ByteBuffer.allocate(PAGES_MAX * PAGE).order(ByteOrder.LITTLE_ENDIAN);
        double burst = bytesPerSecond * 0.1;
        double tokens = 0;
        long last = System.nanoTime();
        try {
            while (running) {
                long now = System.nanoTime();
                tokens = Math.min(burst, tokens + bytesPerSecond * (now - last) / 1e9);
                last = now;
                if (tokens <= 0) {
                    LockSupport.parkNanos(Math.max(50_000L, (long) (-tokens / bytesPerSecond * 1e9)));
                    continue;
                }
                int length = PAGE * (1 + random.nextInt(PAGES_MAX));
                long offset = random.nextLong((imageBytes - length) / PAGE + 1) * PAGE;
                int from = random.nextInt(pool.length - length);
                scratch.clear();
                scratch.put(pool, from, length);
                for (int page = 0; page < length; page += PAGE) {
                    scratch.putLong(page, ++stamp);
                }
                scratch.flip();
                target.write(offset, scratch);
                tokens -= length;
                written.addAndGet(length);
                writes.incrementAndGet();
            }
        } catch (IOException e) {
            failure = e;
            running = false;
        }
    }

    /**
     * Makes every write so far durable in the image file (before peers read it with O_DIRECT): fsync of the file,
     * or NBD_CMD_FLUSH after every write was answered. Call after {@link #stop()}.
     */
    void force() throws IOException {
        target.flush();
    }

    String describe() {
        return target.describe();
    }

    /** Stops the generator thread if it runs, then closes the target (NBD: NBD_CMD_DISC). */
    @Override
    public void close() throws IOException {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // already reported by stop() in the phase, or the run is failing anyway: close regardless
        }
        target.close();
    }
}
