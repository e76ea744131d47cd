package dev.secondsite.replication.chunk;

import java.io.IOException;

/**
 * A chunk or tree node that cannot be trusted: its file is damaged, its content does not hash to its
 * digest, it does not decode as the node its parent expects, or it is missing. Damaged files are moved to
 * {@code quarantine/} before this is thrown ({@link #quarantined()}), so a later insert of the same
 * content (a resync) heals the store.
 */
public final class CorruptChunkException extends IOException {
    private final ChunkDigest digest;
    private final boolean quarantined;

    public CorruptChunkException(String message, ChunkDigest digest, boolean quarantined) {
        super(message);
        this.digest = digest;
        this.quarantined = quarantined;
    }

    public ChunkDigest digest() {
        return digest;
    }

    public boolean quarantined() {
        return quarantined;
    }
}
