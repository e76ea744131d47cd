package dev.secondsite.replication;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.CorruptChunkException;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeVisitor;

/**
 * The verified pass over a tree behind restore, verify and export: every node is checked on the walk, every chunk
 * against its name (and so, through its parents, against the root), and the SHA-256 of the whole logical disk is
 * computed on the way. Chunks reach the sink in index order; zero chunks do not (they are holes), but the hash
 * covers them.
 *
 * <p>Why reader threads: a chunk's read is a ranged read per file it is stored in (a delta chain has several,
 * ADR 0007) and a SHA-256 of its content. On the caller's thread alone, restore used one core. Now
 * {@link #READERS} readers read and verify up to {@link #READ_AHEAD_BYTES} ahead, and the caller's thread walks the
 * tree, writes and hashes the disk in order. There are more readers than cores because a store larger than memory
 * makes the reads wait on the disk, one small read after another along each chain: with the page cache dropped, a
 * 4 GiB point of chains of 1 to 8 files read in 17–26 s with 2 readers, 12–13 s with 16 and 11–12 s with 64
 * (docs/benchmarks.md, 2026-12-08, {@code bench/run restore-cold}).
 */
public final class PointReader {
    /** Reader threads of a pass: I/O depth for cold reads (at least one per core for the hashing). */
    static final int READERS = Math.max(16, Runtime.getRuntime().availableProcessors());
    /** Chunk bytes read ahead of the sink at most (at least two chunks per reader). */
    static final int READ_AHEAD_BYTES = 8 << 20;
    /** Zero bytes fed to the whole-disk hash per update across holes. */
    private static final byte[] ZEROS = new byte[1 << 20];

    /** Receives each non-zero chunk's content, in index order. */
    public interface ChunkSink {
        void chunk(long index, byte[] content, int length) throws IOException;
    }

    /** What a pass read: chunks handed to the sink, zero chunks, and the SHA-256 (hex) of the logical disk. */
    public record Result(long chunks, long zeroChunks, String sha256) {
    }

    private PointReader() {
    }

    /**
     * Reads the whole tree into {@code sink}. A chunk or node that fails verification ends the pass with a
     * {@link RestoreException} naming it: "{@code operation} on (store) failed for {@code what}: ...".
     */
    public static Result read(DiskTree tree, String operation, String what, ChunkSink sink) throws IOException {
        return read(tree, operation, what, sink, READERS);
    }

    /** {@link #read(DiskTree, String, String, ChunkSink)} with {@code readers} reader threads. */
    public static Result read(DiskTree tree, String operation, String what, ChunkSink sink, int readers)
            throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(readers,
                Thread.ofPlatform().daemon().name(operation + "-read-", 0).factory());
        try {
            Pass pass = new Pass(tree, operation, what, sink, Math.max(2 * readers,
                    READ_AHEAD_BYTES / tree.geometry().chunkBytes()), pool);
            tree.walk(pass);
            pass.handAll();
            return new Result(pass.chunks, pass.zeroChunks, HexFormat.of().formatHex(pass.sha256.digest()));
        } catch (CorruptChunkException e) { // a node (chunks are reported by Pass with their index)
            throw new RestoreException(operation + " on " + tree.store() + " failed for " + what + ": "
                    + e.getMessage(), -1, e.digest(), e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** A chunk being read ahead. */
    private record Ahead(long index, ChunkDigest digest, Future<byte[]> content) {
    }

    /** One pass: the walk submits chunk reads, and hands them to the sink in order once the window is full. */
    private static final class Pass implements TreeVisitor {
        private final DiskTree tree;
        private final DiskGeometry geometry;
        private final String operation;
        private final String what;
        private final ChunkSink sink;
        private final int window;
        private final ExecutorService pool;
        private final ArrayDeque<Ahead> ahead = new ArrayDeque<>();
        private final MessageDigest sha256 = ChunkDigest.sha256();
        private long chunks;
        private long zeroChunks;

        Pass(DiskTree tree, String operation, String what, ChunkSink sink, int window, ExecutorService pool) {
            this.tree = tree;
            this.geometry = tree.geometry();
            this.operation = operation;
            this.what = what;
            this.sink = sink;
            this.window = window;
            this.pool = pool;
        }

        @Override
        public void chunk(long index, ChunkDigest digest) throws IOException {
            ahead.add(new Ahead(index, digest, pool.submit(() -> tree.readChunk(index, digest))));
            if (ahead.size() >= window) {
                hand(ahead.poll());
            }
        }

        @Override
        public void zeros(long firstIndex, long count) throws IOException {
            handAll(); // the hash goes in disk order
            long start = firstIndex * geometry.chunkBytes();
            long bytes = Math.min(count * geometry.chunkBytes(), geometry.virtualBytes() - start);
            for (long done = 0; done < bytes; ) {
                int part = (int) Math.min(ZEROS.length, bytes - done);
                sha256.update(ZEROS, 0, part);
                done += part;
            }
            zeroChunks += count;
        }

        void handAll() throws IOException {
            while (!ahead.isEmpty()) {
                hand(ahead.poll());
            }
        }

        private void hand(Ahead chunk) throws IOException {
            byte[] content = await(chunk);
            int length = geometry.chunkLength(chunk.index());
            sink.chunk(chunk.index(), content, length);
            sha256.update(content, 0, length);
            chunks++;
        }

        private byte[] await(Ahead chunk) throws IOException {
            try {
                return chunk.content().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(operation + " of " + what + " interrupted");
            } catch (ExecutionException e) {
                if (e.getCause() instanceof CorruptChunkException corrupt) {
                    throw new RestoreException(operation + " on " + tree.store() + " failed for " + what + ": chunk "
                            + chunk.index() + " (" + chunk.digest() + "): " + corrupt.getMessage(), chunk.index(),
                            chunk.digest(), corrupt);
                }
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                if (e.getCause() instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw new IllegalStateException(e.getCause());
            }
        }
    }
}
