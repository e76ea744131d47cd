package dev.secondsite.replication;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

import dev.secondsite.replication.blob.BlobInfo;
import dev.secondsite.replication.blob.BlobStore;

/**
 * Wraps a blob store and "kills the process" at the n-th write (put or delete): that write and every
 * later one throw {@link SimulatedCrash} without reaching the store, so the store holds exactly the
 * effects of writes 1..n-1 - what a real crash leaves behind a store whose puts are atomic. With
 * {@code crashAtWrite = Long.MAX_VALUE} it only counts writes.
 */
public final class CrashingBlobStore implements BlobStore {
    /** Unchecked on purpose: nothing in the code under test may catch and survive it, as with kill -9. */
    public static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash(long write) {
            super("simulated crash at write " + write);
        }
    }

    private final BlobStore inner;
    private final long crashAtWrite;
    private long writes;

    public CrashingBlobStore(BlobStore inner, long crashAtWrite) {
        this.inner = inner;
        this.crashAtWrite = crashAtWrite;
    }

    public synchronized long writes() {
        return writes;
    }

    private synchronized void write() {
        writes++;
        if (writes >= crashAtWrite) {
            throw new SimulatedCrash(writes);
        }
    }

    @Override
    public void put(String name, byte[] data) throws IOException {
        write();
        inner.put(name, data);
    }

    @Override
    public void put(String name, InputStream data, long lengthBytes) throws IOException {
        write();
        inner.put(name, data, lengthBytes);
    }

    @Override
    public Optional<byte[]> get(String name) throws IOException {
        return inner.get(name);
    }

    @Override
    public Optional<InputStream> open(String name) throws IOException {
        return inner.open(name);
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        return inner.list(prefix);
    }

    @Override
    public Optional<BlobInfo> stat(String name) throws IOException {
        return inner.stat(name);
    }

    @Override
    public boolean touch(String name) throws IOException {
        return inner.touch(name);
    }

    @Override
    public boolean delete(String name) throws IOException {
        write();
        return inner.delete(name);
    }

    @Override
    public long usedBytes() throws IOException {
        return inner.usedBytes();
    }
}
