package dev.secondsite.replication;

import java.util.UUID;

/**
 * A segment arrived whose sequence is beyond the next one expected: segments in between are missing, and
 * applying this one would skip their changes. The caller fetches the missing segments or resyncs.
 */
public final class SequenceGapException extends Exception {
    private final UUID diskId;
    private final long expectedSequence;
    private final long actualSequence;

    public SequenceGapException(UUID diskId, long expectedSequence, long actualSequence) {
        super("apply on replica disk " + diskId + " failed for segment " + actualSequence + ": expected sequence "
                + expectedSequence + ", segments " + expectedSequence + ".." + (actualSequence - 1) + " are missing");
        this.diskId = diskId;
        this.expectedSequence = expectedSequence;
        this.actualSequence = actualSequence;
    }

    public UUID diskId() {
        return diskId;
    }

    public long expectedSequence() {
        return expectedSequence;
    }

    public long actualSequence() {
        return actualSequence;
    }
}
