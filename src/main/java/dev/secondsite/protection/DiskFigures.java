package dev.secondsite.protection;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * The live numbers of one replicated disk, as the protected item body and /metrics show them. Bytes are
 * bytes; rates are per second over the last minute.
 *
 * @param pendingUploadBytes   what the agent says it still has to upload (from its last heartbeat)
 * @param pendingApplyBytes    change bytes stored in cache storage, not yet applied (uncompressed when known)
 * @param cacheBytes           bytes of this disk's segments in cache storage (as uploaded)
 * @param churnBytesPerSecond  how fast the source disk changes: the agent's figure, else the uploaded DATA rate
 * @param dataBytesPerSecond   uncompressed DATA bytes received per second
 * @param uploadBytesPerSecond segment bytes (compressed) received per second
 * @param rpoSeconds           age of the disk's newest recovery point; empty before its first point
 * @param recoveryStoreBytes   distinct recovery-store bytes the disk's state and points reference; -1 until measured
 * @param recoveryPoints       the disk's recovery points, as retention left them (-1 until counted, with the bytes)
 * @param cacheWrites          segments written to cache storage since the server started, because their apply was
 *                             not written in time or the server held too many already (the others were applied
 *                             from memory)
 */
public record DiskFigures(UUID diskId, String name, long capacityBytes, long pendingUploadBytes, long pendingApplyBytes,
                          long cacheBytes, double churnBytesPerSecond, double dataBytesPerSecond,
                          double uploadBytesPerSecond, Optional<Long> rpoSeconds, Optional<Instant> lastPoint,
                          Optional<Instant> lastAppPoint, long recoveryStoreBytes, int recoveryPoints,
                          long lastAppliedSequence, long nextSequence, long cacheWrites) {

    static DiskFigures of(ProtectionStore.Disk disk, Optional<ReplicationEngine.DiskRuntime> live, long now) {
        long cacheBytes = live.map(ReplicationEngine.DiskRuntime::cacheBytes).orElse(0L);
        long pendingApply = live.map(ReplicationEngine.DiskRuntime::pendingApplyBytes).orElse(0L);
        double data = live.map(r -> r.churnBytesPerSecond(now)).orElse(0.0);
        double upload = live.map(r -> r.uploadBytesPerSecond(now)).orElse(0.0);
        Optional<Instant> lastPoint = live.flatMap(ReplicationEngine.DiskRuntime::lastPoint)
                .or(() -> Optional.ofNullable(disk.lastPointAt()).map(Instant::ofEpochMilli));
        Optional<Instant> lastAppPoint = live.flatMap(ReplicationEngine.DiskRuntime::lastAppPoint)
                .or(() -> Optional.ofNullable(disk.lastAppPointAt()).map(Instant::ofEpochMilli));
        Optional<Long> rpo = lastPoint.map(p -> Math.max(0, (now - p.toEpochMilli()) / 1000));
        return new DiskFigures(disk.diskId(), disk.name(), disk.capacityBytes(), disk.pendingUploadBytes(), pendingApply,
                cacheBytes, disk.churnBytesPerSecond() > 0 ? disk.churnBytesPerSecond() : data, data, upload, rpo,
                lastPoint, lastAppPoint, live.map(ReplicationEngine.DiskRuntime::recoveryStoreBytes).orElse(-1L),
                live.map(ReplicationEngine.DiskRuntime::recoveryPoints).orElse(-1),
                live.map(ReplicationEngine.DiskRuntime::lastApplied).orElse(disk.lastAppliedSequence()),
                live.map(ReplicationEngine.DiskRuntime::expectedNext).orElse(disk.nextSequence()),
                live.map(ReplicationEngine.DiskRuntime::cacheWrites).orElse(0L));
    }
}
