package dev.secondsite.replication;

import java.io.IOException;
import java.time.Clock;

import dev.secondsite.replication.blob.BlobStore;
import dev.secondsite.replication.blob.WriteBehindBlobStore;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.point.RecoveryPoints;

/**
 * The recovery store in target storage: one blob store holding
 * <pre>
 *   packs/ab/abcd....pack  chunks and tree nodes, content-addressed, many per pack ({@link ChunkStore})
 *   chunks/ab/cd/abcd...   one chunk per blob: stores written before packs (read, never written)
 *   quarantine/...         chunk files that failed verification
 *   points/{disk}/...      one manifest per recovery point ({@link RecoveryPoints})
 *   disks/{disk}.state     each replica disk's current root and last applied segment ({@link DiskStates}),
 *   disks/{disk}.state.b   in two slots written alternately
 * </pre>
 *
 * <p>Over a {@link WriteBehindBlobStore} (as the server runs it), a put is queued and written later, in order:
 * the write marks below tell when what was put so far is written. Over any other store every put is written
 * when it returns, and every mark is written already.
 */
public final class RecoveryStore implements AutoCloseable {
    private final BlobStore blobs;
    private final Clock clock;
    private final ChunkStore chunks;
    private final RecoveryPoints points;
    private final DiskStates states;
    private final WriteBehindBlobStore writeBehind;

    /**
     * Manifests and disk states flush the chunk store's pending pack before each put: nothing may durably
     * name a chunk that is not durable yet.
     */
    public RecoveryStore(BlobStore blobs, Clock clock, int packBytesTarget) {
        this.blobs = blobs;
        this.writeBehind = blobs instanceof WriteBehindBlobStore queued ? queued : null;
        this.clock = clock;
        this.chunks = new ChunkStore(blobs, clock, packBytesTarget);
        this.points = new RecoveryPoints(blobs, chunks::flush);
        this.states = new DiskStates(blobs, chunks::flush);
    }

    public RecoveryStore(BlobStore blobs, Clock clock) {
        this(blobs, clock, ChunkStore.PACK_BYTES_TARGET);
    }

    public RecoveryStore(BlobStore blobs) {
        this(blobs, Clock.systemUTC());
    }

    public BlobStore blobs() {
        return blobs;
    }

    public Clock clock() {
        return clock;
    }

    public ChunkStore chunks() {
        return chunks;
    }

    public RecoveryPoints points() {
        return points;
    }

    public DiskStates states() {
        return states;
    }

    /** A mark for everything put so far (see {@link #isWritten}). */
    public long writeMark() {
        return writeBehind == null ? 0 : writeBehind.mark();
    }

    /** Whether everything put before {@code mark} was taken is written, durably. */
    public boolean isWritten(long mark) {
        return writeBehind == null || writeBehind.isWritten(mark);
    }

    /**
     * Waits at most {@code timeoutMillis} until everything put before {@code mark} is written; returns whether it
     * is. While writes keep failing, throws the failure instead (they are retried in the background).
     */
    public boolean awaitWritten(long mark, long timeoutMillis) throws IOException {
        return writeBehind == null || writeBehind.awaitWritten(mark, timeoutMillis);
    }

    /** Writes what is queued and stops the writer, if there is one. */
    @Override
    public void close() {
        if (writeBehind != null) {
            writeBehind.close();
        }
    }

    @Override
    public String toString() {
        return "recovery store on " + blobs;
    }
}
