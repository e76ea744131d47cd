package dev.secondsite.bench.e2e;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes to the protected image at a target rate: random writes of 4 KiB to 64 KiB (1-16 pages, 4 KiB
 * aligned, uniform) at uniformly random places, incompressible content that is new every time (a slice of a
 * random pool with a counter stamped into every page). Writes go through the page cache without fsync,
 * like a guest writing to its disk; the agent reads the same file. Paced by a token bucket that refills at
 * the target rate with at most 100 ms of burst, so a generator that falls behind (CPU) shows a lower
 * achieved rate instead of catching up in bursts.
 */
final class Churn implements AutoCloseable {
    static final int PAGE = 4096;
    static final int PAGES_MAX = 16;
    private static final int POOL_BYTES = 32 << 20;

    private final FileChannel channel;
    private final long imageBytes;
    private final SplittableRandom random;
    private final byte[] pool;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private volatile boolean running;
    private volatile IOException failure;
    private Thread thread;
    private long stamp;

    Churn(Path image, long imageBytes, long seed) throws IOException {
        this.channel = FileChannel.open(image, StandardOpenOption.WRITE);
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
                long position = offset;
                while (scratch.hasRemaining()) {
                    position += channel.write(scratch, position);
                }
                tokens -= length;
                written.addAndGet(length);
                writes.incrementAndGet();
            }
        } catch (IOException e) {
            failure = e;
            running = false;
        }
    }

    /** Makes every write so far durable (before peers read the file with O_DIRECT). */
    void force() throws IOException {
        channel.force(true);
    }

    @Override
    public void close() throws IOException {
        running = false;
        channel.close();
    }
}
