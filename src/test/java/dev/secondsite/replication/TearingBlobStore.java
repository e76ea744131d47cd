package dev.secondsite.replication;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import dev.secondsite.replication.blob.BlobStore;

/**
 * Wraps a blob store and "kills the process" at the n-th write (put or delete), like
 * {@link CrashingBlobStore}, but without assuming that the write in flight was atomic: it is left in one
 * of the {@link Tear} states, chosen deterministically from {@code (seed, n)} unless the test forces one.
 * Every later write throws {@link CrashingBlobStore.SimulatedCrash} without reaching the store (the process
 * is dead). Writes 1..n-1 returned, so they are durable and whole, as the {@code BlobStore} contract says
 * of a put that returned; only the in-flight one is damaged. Reads pass through.
 *
 * <p>The same {@code (seed, n, tear)} always leaves the same bytes, so a failing case reproduces from the
 * numbers {@link #describe()} prints.
 */
public final class TearingBlobStore extends ForwardingBlobStore {
    /** What the write in flight at the crash leaves under its name. */
    public enum Tear {
        /**
         * Nothing changed: the previous blob (if any) is still there. A crash before an atomic rename or
         * before an object store committed the upload.
         */
        ABSENT,
        /**
         * The whole new blob, though the caller never learned that its put returned. A crash right after
         * the rename / commit.
         */
        COMPLETE,
        /**
         * A prefix of the new bytes (possibly empty) under the final name; any previous blob is gone. A store
         * that overwrites in place (truncate, then write) or an object store without atomic uploads, or a
         * file system that made the rename (or the size) durable before all of the data; the cut is often
         * on a 4 KiB page boundary.
         */
        TRUNCATED,
        /**
         * Full length, but the bytes from some offset to the end are garbage - zeros or noise. A file system
         * that made the new size durable before the last data blocks (unwritten extents read as zeros; with
         * data=writeback, stale blocks read as whatever they held).
         */
        GARBLED_TAIL
    }

    private final long crashAtWrite;
    private final long seed;
    private final Tear forced;
    private final List<String> completedPuts = new ArrayList<>();
    private long writes;
    private String tornWrite = "(no crash yet)";

    /** Crashes at write {@code crashAtWrite}, tearing it as {@code forced}, or as the seed picks if null. */
    public TearingBlobStore(BlobStore inner, long crashAtWrite, long seed, Tear forced) {
        super(inner);
        this.crashAtWrite = crashAtWrite;
        this.seed = seed;
        this.forced = forced;
    }

    /** Only counts writes. */
    public static TearingBlobStore counting(BlobStore inner) {
        return new TearingBlobStore(inner, Long.MAX_VALUE, 0, null);
    }

    public synchronized long writes() {
        return writes;
    }

    /** Names of the puts that returned before the crash (durable and whole), in order. */
    public synchronized List<String> completedPuts() {
        return List.copyOf(completedPuts);
    }

    /** Seed, write number and what the crash left: enough to reproduce a failing case. */
    public synchronized String describe() {
        return "seed " + seed + ", crash at write " + crashAtWrite + ": " + tornWrite;
    }

    @Override
    public void put(String name, byte[] data) throws IOException {
        synchronized (this) {
            writes++;
            if (writes >= crashAtWrite) {
                if (writes == crashAtWrite) {
                    tear(name, data);
                }
                throw new CrashingBlobStore.SimulatedCrash(writes);
            }
        }
        delegate().put(name, data);
        synchronized (this) {
            completedPuts.add(name);
        }
    }

    @Override
    public void put(String name, InputStream data, long lengthBytes) throws IOException {
        byte[] bytes = data.readNBytes((int) Math.min(lengthBytes, Integer.MAX_VALUE - 8));
        if (bytes.length != lengthBytes) {
            throw new IOException("put on " + this + " failed for " + name + ": stream ended after " + bytes.length
                    + " of " + lengthBytes + " bytes");
        }
        put(name, bytes);
    }

    @Override
    public boolean delete(String name) throws IOException {
        synchronized (this) {
            writes++;
            if (writes >= crashAtWrite) {
                if (writes == crashAtWrite) {
                    // An unlink or a DELETE is atomic: it happened or it did not.
                    boolean done = pick(new Random(mix(seed, writes))) != Tear.ABSENT;
                    if (done) {
                        delegate().delete(name);
                    }
                    tornWrite = "delete of " + name + (done ? " happened" : " did not happen");
                }
                throw new CrashingBlobStore.SimulatedCrash(writes);
            }
        }
        return delegate().delete(name);
    }

    /** Leaves the in-flight put as the chosen tear; caller holds the monitor. */
    private void tear(String name, byte[] data) throws IOException {
        Random random = new Random(mix(seed, writes));
        Tear tear = pick(random);
        if (tear != Tear.ABSENT && tear != Tear.COMPLETE && data.length == 0) {
            tear = Tear.COMPLETE; // nothing to tear
        }
        int cut = data.length == 0 ? 0 : random.nextInt(data.length); // the first byte not (validly) written
        if (random.nextBoolean() && cut >= 4096) {
            cut &= ~4095; // page granular, as file systems tear
        }
        String detail = "";
        switch (tear) {
            case ABSENT -> { }
            case COMPLETE -> delegate().put(name, data);
            case TRUNCATED -> {
                delegate().put(name, Arrays.copyOf(data, cut));
                detail = " to " + cut + " of " + data.length + " bytes";
            }
            case GARBLED_TAIL -> {
                byte[] garbled = data.clone();
                boolean zeros = random.nextBoolean();
                byte[] noise = new byte[data.length - cut];
                if (!zeros) {
                    random.nextBytes(noise);
                }
                System.arraycopy(noise, 0, garbled, cut, noise.length);
                if (Arrays.equals(garbled, data)) { // the tail was zeros already: make it differ
                    garbled[data.length - 1] ^= 1;
                }
                delegate().put(name, garbled);
                detail = " from byte " + cut + " of " + data.length + " (" + (zeros ? "zeros" : "noise") + ")";
            }
        }
        tornWrite = "put of " + name + " left " + tear + detail;
    }

    /** The seed's tear, or the forced one; draws from {@code random} either way, so the cut is the same. */
    private Tear pick(Random random) {
        Tear picked = Tear.values()[random.nextInt(Tear.values().length)];
        return forced != null ? forced : picked;
    }

    private static long mix(long seed, long write) {
        return seed * 0x9E3779B97F4A7C15L + write;
    }

    @Override
    public Optional<byte[]> readRange(String name, long offset, int length) throws IOException {
        return delegate().readRange(name, offset, length);
    }

    @Override
    public String toString() {
        return "tearing store over " + delegate();
    }
}
