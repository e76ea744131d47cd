package dev.secondsite.replication;

import java.util.List;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.point.RecoveryPointManifest;

/** What {@link ReplicaDisk#apply} did with one segment. */
public record ApplyResult(String segmentName, long sequence, Outcome outcome, ChunkDigest root,
                          List<RecoveryPointManifest> points, long recordsApplied) {
    public enum Outcome {
        /** The segment's changes are now part of the disk (and its markers are recovery points). */
        APPLIED,
        /** The segment's sequence was applied before; nothing was read past its header or changed. */
        ALREADY_APPLIED
    }

    public ApplyResult {
        points = List.copyOf(points);
    }
}
