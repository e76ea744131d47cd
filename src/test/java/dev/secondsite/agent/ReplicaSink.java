package dev.secondsite.agent;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import dev.secondsite.replication.RecoveryStore;
import dev.secondsite.replication.ReplicaDisk;
import dev.secondsite.replication.SequenceGapException;
import dev.secondsite.replication.blob.FileBlobStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.replication.Restore;
import dev.secondsite.replication.segment.Segment;
import dev.secondsite.replication.segment.SegmentReader;

/**
 * A {@link SegmentUploader} for scanner unit tests that needs no HTTP: it verifies each segment with the
 * real reader and applies it to a real {@link ReplicaDisk} in a file blob store - the same engine the
 * server runs - so a test can restore a recovery point and compare it with the source disk byte for
 * byte. It can also fail on purpose: before storing (no ack, nothing stored) or after storing (the
 * server holds the segment but the agent never hears the ack).
 */
final class ReplicaSink implements SegmentUploader {
    final List<Segment> received = new ArrayList<>();
    final List<Integer> sizes = new ArrayList<>();
    final Set<Long> failBeforeStore = new HashSet<>();
    final Set<Long> failAfterStore = new HashSet<>();
    private final RecoveryStore store;
    private final UUID diskId;
    private final DiskGeometry geometry;
    private final ReplicaDisk replica;
    final RecoveryStore recoveryStore() {
        return store;
    }

    ReplicaSink(Path dir, UUID diskId, long virtualBytes, int chunkBytes) throws IOException {
        this.store = new RecoveryStore(new FileBlobStore(dir));
        this.diskId = diskId;
        this.geometry = new DiskGeometry(virtualBytes, chunkBytes);
        this.replica = ReplicaDisk.create(store, diskId, geometry);
    }

    /** The "server's" replica digests (agent-protocol §4a), as ReplicaDigestQuery computes them. */
    java.util.Optional<ReplicaDigestSource.Page> digests(UUID disk, long first, int count) throws IOException {
        digestPagesServed++;
        byte[] digests = dev.secondsite.replication.ReplicaDigests.of(replica.currentTree(), first, count);
        return java.util.Optional.of(new ReplicaDigestSource.Page(geometry.chunkBytes(), replica.lastSequence()
                + appliedSequenceSkew, replica.lastSequence() + 1, first, digests));
    }

    /** Added to the applied sequence the digests report: non-zero simulates segments waiting to be applied. */
    long appliedSequenceSkew;
    int digestPagesServed;

    /** The sequence the "server" expects next (its heartbeat's nextSequence). */
    long nextSequence() {
        return replica.lastSequence() + 1;
    }

    /** Uploads in progress (the agent runs up to {@link Replicator#UPLOADS_IN_FLIGHT} at once). Guarded by this. */
    private final Set<Long> receiving = new HashSet<>();

    /**
     * As the server does (agent-protocol §4): an upload whose sequence follows uploads still in progress waits for
     * them (and for those that have not arrived yet, a second), then is stored or refused in sequence order.
     */
    @Override
    public synchronized int upload(UUID disk, long sequence, byte[] segment, int length) throws IOException {
        receiving.add(sequence);
        notifyAll();
        try {
            long grace = System.nanoTime() + 1_000_000_000L;
            long limit = System.nanoTime() + 10_000_000_000L;
            while (sequence > replica.lastSequence() + 1 && System.nanoTime() < limit
                    && (System.nanoTime() < grace || predecessorsReceiving(sequence))) {
                wait(10);
            }
            return store(disk, sequence, segment, length);
        } catch (InterruptedException e) {
            throw new java.io.InterruptedIOException();
        } finally {
            receiving.remove(sequence);
            notifyAll();
        }
    }

    private boolean predecessorsReceiving(long sequence) {
        for (long before = replica.lastSequence() + 1; before < sequence; before++) {
            if (!receiving.contains(before)) {
                return false;
            }
        }
        return true;
    }

    private int store(UUID disk, long sequence, byte[] segment, int length) throws IOException {
        if (!disk.equals(diskId)) {
            throw new AgentApiException(404, "UnknownDisk", "no disk " + disk);
        }
        if (failBeforeStore.remove(sequence)) {
            throw new IOException("simulated network failure before segment " + sequence + " was stored");
        }
        byte[] copy = java.util.Arrays.copyOf(segment, length);
        Segment parsed = SegmentReader.readFully(dev.secondsite.replication.segment.SegmentName.of(disk, sequence), copy, geometry.virtualBytes());
        if (parsed.header().sequence() != sequence || !parsed.header().diskId().equals(disk)) {
            throw new AgentApiException(400, "MalformedSegment", "header does not match the path");
        }
        int status = sequence <= replica.lastSequence() ? 200 : 201;
        if (sequence > replica.lastSequence() + 1) {
            throw new AgentApiException(409, "SequenceGap", "expected sequence " + (replica.lastSequence() + 1));
        }
        if (sequence == replica.lastSequence() + 1) {
            try {
                replica.apply(parsed.name(), new ByteArrayInputStream(copy));
            } catch (SequenceGapException e) {
                throw new AssertionError(e);
            }
            received.add(parsed);
            sizes.add(length);
        }
        if (failAfterStore.remove(sequence)) {
            throw new IOException("simulated connection reset after segment " + sequence + " was stored");
        }
        return status;
    }

    RecoveryPointManifest latestPoint() throws IOException {
        return store.points().latest(diskId).orElseThrow(() -> new AssertionError("no recovery point"));
    }

    List<RecoveryPointManifest> points() throws IOException {
        return store.points().list(diskId);
    }

    /** Restores the latest point to a new raw file. */
    Path restoreLatest(Path target) throws IOException {
        Restore.toRawFile(store, latestPoint(), target);
        return target;
    }
}
