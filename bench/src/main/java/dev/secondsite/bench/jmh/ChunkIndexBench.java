package dev.secondsite.bench.jmh;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.ChunkStore;

/**
 * Lookups in the chunk store's index ({@code ChunkIndex}): {@code chunkStoreLocation}, where a stored chunk is,
 * through the store (its lock included), for digests in random order; its peer {@code hashMapGet}, the same
 * lookups in a {@code HashMap<ChunkDigest, Location>} of the same entries (the index before 2026-12-07). The
 * queries are fresh digest objects, as apply's are (computed from content), not the stored keys. The
 * footprint side of the trade is {@code bench/run index-footprint}.
 */
@State(Scope.Benchmark)
public class ChunkIndexBench {
    @Param("1000000")
    public int chunks;

    private ChunkStore store;
    private Map<ChunkDigest, ChunkStore.Location> map;
    private ChunkDigest[] queries;
    private int next;

    @Setup
    public void setup() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkDigest[] stored = IndexFootprint.store(blobs, chunks, false);
        store = new ChunkStore(blobs);
        map = new HashMap<>();
        for (ChunkDigest digest : stored) {
            map.put(digest, store.location(digest).orElseThrow());
        }
        Random random = new Random(chunks);
        queries = new ChunkDigest[chunks];
        for (int i = 0; i < chunks; i++) {
            queries[i] = ChunkDigest.read(stored[random.nextInt(chunks)].toBytes(), 0);
        }
    }

    @Benchmark
    public ChunkStore.Location chunkStoreLocation() throws IOException {
        return store.location(nextQuery()).orElseThrow();
    }

    @Benchmark
    public ChunkStore.Location hashMapGet() {
        return map.get(nextQuery());
    }

    private ChunkDigest nextQuery() {
        ChunkDigest query = queries[next];
        next = next + 1 == queries.length ? 0 : next + 1;
        return query;
    }
}
