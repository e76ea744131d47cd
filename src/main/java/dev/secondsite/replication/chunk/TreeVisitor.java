package dev.secondsite.replication.chunk;

import java.io.IOException;

/** Receives a {@link DiskTree#walk}: nodes top-down, then chunks in index order. */
public interface TreeVisitor {

    /**
     * A stored interior node about to be read. Return false to skip its subtree (garbage collection does,
     * for subtrees it has already marked). Nodes equal to ZERO are reported through {@link #zeros}.
     */
    default boolean enterNode(int level, long index, ChunkDigest digest) throws IOException {
        return true;
    }

    /** A stored (non-zero) chunk. */
    void chunk(long index, ChunkDigest digest) throws IOException;

    /** {@code count} consecutive chunks from {@code firstIndex} that read as zeros. */
    default void zeros(long firstIndex, long count) throws IOException {
    }
}
