package dev.secondsite.bench.jmh;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

import dev.secondsite.replication.blob.BlobInfo;
import dev.secondsite.replication.blob.BlobStore;

/**
 * A blob store in the heap, for benchmarks only: no durability at all. Running the apply kernel on it
 * next to FileBlobStore separates the apply path's CPU cost from its file-system cost (temp file, fsync,
 * rename, directory fsync per blob).
 */
final class MemoryBlobStore implements BlobStore {
    private record Blob(byte[] data, Instant modified) {
    }

    private final ConcurrentSkipListMap<String, Blob> blobs = new ConcurrentSkipListMap<>();

    @Override
    public void put(String name, byte[] data) {
        blobs.put(name, new Blob(data.clone(), Instant.now()));
    }

    @Override
    public void put(String name, InputStream data, long lengthBytes) throws IOException {
        byte[] bytes = data.readNBytes((int) lengthBytes);
        if (bytes.length != lengthBytes) {
            throw new IOException("put on memory store failed for " + name + ": stream ended early");
        }
        blobs.put(name, new Blob(bytes, Instant.now()));
    }

    @Override
    public Optional<byte[]> get(String name) {
        Blob blob = blobs.get(name);
        return blob == null ? Optional.empty() : Optional.of(blob.data().clone());
    }

    @Override
    public Optional<InputStream> open(String name) {
        Blob blob = blobs.get(name);
        return blob == null ? Optional.empty() : Optional.of(new ByteArrayInputStream(blob.data()));
    }

    @Override
    public List<String> list(String prefix) {
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, Blob> e : blobs.tailMap(prefix).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            names.add(e.getKey());
        }
        return names;
    }

    @Override
    public Optional<BlobInfo> stat(String name) {
        Blob blob = blobs.get(name);
        return blob == null ? Optional.empty() : Optional.of(new BlobInfo(name, blob.data().length, blob.modified()));
    }

    @Override
    public boolean touch(String name) {
        return blobs.computeIfPresent(name, (k, b) -> new Blob(b.data(), Instant.now())) != null;
    }

    @Override
    public boolean delete(String name) {
        return blobs.remove(name) != null;
    }

    @Override
    public long usedBytes() {
        return blobs.values().stream().mapToLong(b -> b.data().length).sum();
    }

    @Override
    public String toString() {
        return "memory blob store";
    }
}
