package dev.secondsite.replication;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import dev.secondsite.replication.blob.BlobInfo;
import dev.secondsite.replication.blob.BlobNames;
import dev.secondsite.replication.blob.BlobStore;

/**
 * A simulated blob store in memory: same name rules and atomic-put semantics as the real ones, times from
 * an injected clock, and {@link #copy()} to fork a store's state (crash tests start every run from the
 * same snapshot). Thread-safe.
 */
public final class MemoryBlobStore implements BlobStore {
    private record Blob(byte[] data, java.time.Instant modified) {
    }

    private final Clock clock;
    private final TreeMap<String, Blob> blobs = new TreeMap<>();

    public MemoryBlobStore(Clock clock) {
        this.clock = clock;
    }

    public MemoryBlobStore() {
        this(Clock.systemUTC());
    }

    public synchronized MemoryBlobStore copy() {
        MemoryBlobStore copy = new MemoryBlobStore(clock);
        copy.blobs.putAll(blobs); // blob arrays are never mutated in place
        return copy;
    }

    /** Every blob's bytes, for comparing whole store states. */
    public synchronized Map<String, byte[]> snapshot() {
        Map<String, byte[]> snapshot = new TreeMap<>();
        blobs.forEach((name, blob) -> snapshot.put(name, blob.data()));
        return snapshot;
    }

    /** Replaces a blob's bytes without any checks: simulated bit rot. */
    public synchronized void corrupt(String name, int offset, int xorMask) {
        Blob blob = blobs.get(name);
        byte[] data = blob.data().clone();
        data[offset] ^= (byte) xorMask;
        blobs.put(name, new Blob(data, blob.modified()));
    }

    @Override
    public synchronized void put(String name, byte[] data) {
        BlobNames.validate(name);
        blobs.put(name, new Blob(data.clone(), clock.instant()));
    }

    @Override
    public void put(String name, InputStream data, long lengthBytes) throws IOException {
        BlobNames.validate(name);
        byte[] bytes = data.readNBytes(Math.toIntExact(lengthBytes));
        if (bytes.length != lengthBytes) {
            throw new IOException("put on memory blob store failed for " + name + ": stream ended after "
                    + bytes.length + " of " + lengthBytes + " bytes");
        }
        put(name, bytes);
    }

    @Override
    public synchronized Optional<byte[]> get(String name) {
        BlobNames.validate(name);
        Blob blob = blobs.get(name);
        return blob == null ? Optional.empty() : Optional.of(blob.data().clone());
    }

    @Override
    public Optional<InputStream> open(String name) {
        return get(name).map(ByteArrayInputStream::new);
    }

    @Override
    public synchronized List<String> list(String prefix) {
        BlobNames.validatePrefix(prefix);
        List<String> names = new ArrayList<>();
        for (String name : blobs.tailMap(prefix, true).keySet()) {
            if (!name.startsWith(prefix)) {
                break;
            }
            names.add(name);
        }
        return names;
    }

    @Override
    public synchronized Optional<BlobInfo> stat(String name) {
        BlobNames.validate(name);
        Blob blob = blobs.get(name);
        return blob == null ? Optional.empty() : Optional.of(new BlobInfo(name, blob.data().length, blob.modified()));
    }

    @Override
    public synchronized boolean touch(String name) {
        BlobNames.validate(name);
        Blob blob = blobs.get(name);
        if (blob == null) {
            return false;
        }
        blobs.put(name, new Blob(blob.data(), clock.instant()));
        return true;
    }

    @Override
    public synchronized boolean delete(String name) {
        BlobNames.validate(name);
        return blobs.remove(name) != null;
    }

    @Override
    public synchronized long usedBytes() {
        return blobs.values().stream().mapToLong(blob -> blob.data().length).sum();
    }

    @Override
    public String toString() {
        return "memory blob store";
    }
}
