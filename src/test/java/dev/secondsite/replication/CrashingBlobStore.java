package dev.secondsite.replication;

import java.io.IOException;
import java.io.InputStream;

import dev.secondsite.replication.blob.BlobStore;

/**
 * Wraps a blob store and "kills the process" at the n-th write (put or delete): that write and every
 * later one throw {@link SimulatedCrash} without reaching the store, so the store holds exactly the
 * effects of writes 1..n-1 - what a real crash leaves behind a store whose puts are atomic. With
 * {@code crashAtWrite = Long.MAX_VALUE} it only counts writes.
 */
public final class CrashingBlobStore extends ForwardingBlobStore {
    /** Unchecked on purpose: nothing in the code under test may catch and survive it, as with kill -9. */
    public static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash(long write) {
            super("simulated crash at write " + write);
        }
    }

    private final long crashAtWrite;
    private long writes;

    public CrashingBlobStore(BlobStore inner, long crashAtWrite) {
        super(inner);
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
        super.put(name, data);
    }

    @Override
    public void put(String name, InputStream data, long lengthBytes) throws IOException {
        write();
        super.put(name, data, lengthBytes);
    }

    @Override
    public boolean delete(String name) throws IOException {
        write();
        return super.delete(name);
    }
}
