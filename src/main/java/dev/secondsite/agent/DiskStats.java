package dev.secondsite.agent;

import java.time.Instant;

/**
 * Live numbers for one disk, reported in heartbeat {@code stats}. Written by the pass, read by the
 * heartbeat; each field is independently consistent (volatile), which is all a report needs.
 */
final class DiskStats {
    /** Bytes of changed disk content detected but not yet acknowledged by the server. */
    volatile long pendingBytes;
    /** Bytes changed per second between the last two change-detection passes (0 until known). */
    volatile double churnBytesPerSecond;
    /** Bytes read so far by the pass in progress, or by the last pass. */
    volatile long scannedBytes;
    volatile long sizeBytes;
    /** What the disk is doing: Idle, InitialReplication, ChangeDetection, Resync, FullResend, Error. */
    volatile String activity = "Idle";
    /** Marker time of the last acknowledged consistency point (null: none since start). */
    volatile Instant lastPointAt;
    volatile String lastError;
    /** The resync request whose tagged pass was acknowledged last (null: none since start). */
    volatile String completedResyncId;

    /** Scan progress of the pass in progress (100 when idle). */
    double scanProgressPercent() {
        long size = sizeBytes;
        return size <= 0 || activity.equals("Idle") ? 100.0 : Math.min(100.0, 100.0 * scannedBytes / size);
    }
}
