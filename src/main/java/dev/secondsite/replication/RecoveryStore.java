package dev.secondsite.replication;

import java.time.Clock;

import dev.secondsite.replication.blob.BlobStore;
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
 */
public final class RecoveryStore {
    private final BlobStore blobs;
    private final Clock clock;
    private final ChunkStore chunks;
    private final RecoveryPoints points;
    private final DiskStates states;

    /**
     * Manifests and disk states flush the chunk store's pending pack before each put: nothing may durably
     * name a chunk that is not durable yet.
     */
    public RecoveryStore(BlobStore blobs, Clock clock, int packBytesTarget) {
        this.blobs = blobs;
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

    @Override
    public String toString() {
        return "recovery store on " + blobs;
    }
}
