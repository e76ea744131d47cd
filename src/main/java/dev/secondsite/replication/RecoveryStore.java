package dev.secondsite.replication;

import java.time.Clock;

import dev.secondsite.replication.blob.BlobStore;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.point.RecoveryPoints;

/**
 * The recovery store in target storage: one blob store holding
 * <pre>
 *   chunks/ab/cd/abcd...   chunks and tree nodes, content-addressed ({@link ChunkStore})
 *   quarantine/...         chunk files that failed verification
 *   points/{disk}/...      one manifest per recovery point ({@link RecoveryPoints})
 *   disks/{disk}.state     each replica disk's current root and last applied segment ({@link DiskStates})
 * </pre>
 */
public final class RecoveryStore {
    private final BlobStore blobs;
    private final Clock clock;
    private final ChunkStore chunks;
    private final RecoveryPoints points;
    private final DiskStates states;

    public RecoveryStore(BlobStore blobs, Clock clock) {
        this.blobs = blobs;
        this.clock = clock;
        this.chunks = new ChunkStore(blobs, clock);
        this.points = new RecoveryPoints(blobs);
        this.states = new DiskStates(blobs);
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
