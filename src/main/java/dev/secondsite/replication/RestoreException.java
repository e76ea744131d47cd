package dev.secondsite.replication;

import java.io.IOException;

import dev.secondsite.replication.chunk.ChunkDigest;

/**
 * A restore that could not be completed from verified data. Names the chunk index (or -1 when a tree node
 * failed) and the digest; the target file was not created.
 */
public final class RestoreException extends IOException {
    private final long chunkIndex;
    private final ChunkDigest digest;

    public RestoreException(String message, long chunkIndex, ChunkDigest digest, Throwable cause) {
        super(message, cause);
        this.chunkIndex = chunkIndex;
        this.digest = digest;
    }

    /** The chunk that failed, or -1 if a tree node failed. */
    public long chunkIndex() {
        return chunkIndex;
    }

    public ChunkDigest digest() {
        return digest;
    }
}
