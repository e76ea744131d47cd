package dev.secondsite.bench.jmh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.chunk.EditableChunk;

/**
 * Heap bytes per entry of the chunk store's in-memory index: a store of {@code chunks} small chunks in packs (all
 * full, then half of them deltas) is opened again and its index built from the packs' heads, measured as the heap
 * it adds (after full GCs). In the same run, the peer: a {@code HashMap<ChunkDigest, Location>} of as many entries,
 * the index before 2026-12-07, in which a delta's base digest is one more object. Not timed: the figure is a size.
 *
 * <p>Arguments: {@code [--chunks N]} (default 2,000,000).
 */
public final class IndexFootprint {
    private IndexFootprint() {
    }

    public static void main(String[] args) throws Exception {
        int chunks = 2_000_000;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--chunks")) {
                chunks = Integer.parseInt(args[++i]);
            } else {
                throw new IllegalArgumentException("unknown option " + args[i]
                        + "; usage: bench/run index-footprint [--chunks N]");
            }
        }
        for (boolean deltas : new boolean[] {false, true}) {
            MemoryBlobStore blobs = new MemoryBlobStore();
            ChunkDigest[] stored = store(blobs, chunks, deltas);
            ChunkDigest last = stored[chunks - 1];
            long before = usedHeap();
            ChunkStore reopened = new ChunkStore(blobs);
            if (!reopened.contains(last)) { // builds the index from the packs
                throw new IllegalStateException("the reopened store lacks its last chunk");
            }
            long after = usedHeap();
            print("ChunkStore index, " + kind(deltas), chunks, after - before);
            if (!reopened.contains(last)) { // keeps the store reachable until measured
                throw new AssertionError();
            }
        }
        for (boolean deltas : new boolean[] {false, true}) {
            long before = usedHeap();
            Map<ChunkDigest, ChunkStore.Location> map = hashMapIndex(chunks, deltas);
            long after = usedHeap();
            print("HashMap<ChunkDigest, Location>, " + kind(deltas), map.size(), after - before);
        }
    }

    private static String kind(boolean deltas) {
        return deltas ? "half deltas" : "full chunks";
    }

    /**
     * Stores {@code chunks} small chunks (8 KiB, two blocks, compressible), and with {@code deltas} every second one a
     * change of one block of the one before: a delta over it. Returns their digests, in order.
     */
    static ChunkDigest[] store(MemoryBlobStore blobs, int chunks, boolean deltas) throws IOException {
        ChunkStore writer = new ChunkStore(blobs);
        byte[] content = new byte[8 << 10];
        ChunkDigest[] stored = new ChunkDigest[chunks];
        ChunkDigest last = null;
        for (int i = 0; i < chunks; i++) {
            if (deltas && i % 2 == 1) {
                EditableChunk edited = writer.edit(last, content.length);
                edited.write(4096, ByteBuffer.allocate(Long.BYTES).putLong(i).array(), 0, Long.BYTES);
                ChunkStore.Prepared prepared = writer.prepare(edited);
                if (prepared.base() == null) {
                    throw new IllegalStateException("a one-block change was not stored as a delta");
                }
                last = writer.insert(prepared);
            } else {
                ByteBuffer.wrap(content).putLong(0, i + 1L);
                last = writer.insert(content);
            }
            stored[i] = last;
        }
        writer.flush();
        return stored;
    }

    /** The index as it was: one map entry per chunk, digests as objects, the pack's name shared. */
    private static Map<ChunkDigest, ChunkStore.Location> hashMapIndex(int entries, boolean deltas) {
        Random random = new Random(entries);
        byte[] bytes = new byte[ChunkDigest.BYTES];
        Map<ChunkDigest, ChunkStore.Location> map = new HashMap<>();
        String pack = "packs/ab/" + "0".repeat(32) + ".pack";
        for (int i = 0; i < entries; i++) {
            random.nextBytes(bytes);
            ChunkDigest digest = ChunkDigest.read(bytes, 0);
            ChunkDigest base = null;
            if (deltas && i % 2 == 1) {
                random.nextBytes(bytes);
                base = ChunkDigest.read(bytes, 0);
            }
            map.put(digest, new ChunkStore.Location(pack, i * 100L, 100, base));
        }
        return map;
    }

    private static void print(String what, int entries, long bytes) {
        System.out.printf(Locale.ROOT, "%-48s %,12d entries %,14d bytes %7.1f bytes/entry%n", what, entries, bytes,
                (double) bytes / entries);
    }

    private static long usedHeap() throws InterruptedException {
        Runtime runtime = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
