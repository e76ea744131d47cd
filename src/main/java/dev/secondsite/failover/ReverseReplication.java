package dev.secondsite.failover;

import dev.secondsite.arm.ArmException;
import dev.secondsite.protection.ProtectionModule;
import dev.secondsite.protection.ReplicationEngine;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentWriter;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import java.util.UUID;

/**
 * Reverse replication after a failover (reprotect): the recovered VM's managed disk, a file in the local cloud,
 * replicated back into the item's recovery store so a failback can write it onto the primary machine.
 *
 * <p>A pass is a scan of the disk file: each chunk's digest is compared with the replica's newest point, and only
 * the chunks that differ travel, as ordinary sealed segments through the same intake and ordered apply as an
 * agent's ({@link ProtectionModule#intake()}), ending in a crash-consistent marker, so every pass is a recovery
 * point. The first pass after a failover compares with the failover's point, so reprotect is a delta sync: it sends
 * what the VM changed, not the disk.
 */
public final class ReverseReplication {
    /** Segments are sealed at about this size (the intake takes up to 64 MiB). */
    private static final int SEGMENT_TARGET_BYTES = 16 << 20;

    private final ProtectionModule protection;
    private final Clock clock;

    public ReverseReplication(ProtectionModule protection, Clock clock) {
        this.protection = protection;
        this.clock = clock;
    }

    /** What one pass sent. */
    public record PassResult(long chunksScanned, long chunksSent, long bytesSent, int segments) {}

    /**
     * One pass over {@code file} (a fixed VHD whose data is the disk) into replica {@code diskId}, ending in a
     * marker tagged {@code tag}. Waits (bounded) for the disk's earlier segments to be applied first, so the
     * comparison is with the replica's current content.
     */
    public PassResult pass(UUID diskId, Path file, String tag) throws IOException, InterruptedException {
        ReplicationEngine engine = protection.engine();
        ReplicationEngine.DiskRuntime rt = engine.runtime(diskId).orElseThrow(() -> ArmException.conflict(
                "ReplicaNotFound", "Disk " + diskId + " has no replica to replicate back into."));
        awaitApplied(rt);
        RecoveryPointManifest latest = engine.recovery().points().latest(diskId).orElseThrow(() -> ArmException.conflict(
                "NoRecoveryPoint", "Disk " + diskId + " has no recovery point to compare with."));
        DiskGeometry geometry = latest.geometry();
        List<ChunkDigest> replica = new DiskTree(engine.recovery().chunks(), geometry, latest.root()).leaves();
        long scanned = 0;
        long sent = 0;
        long bytes = 0;
        int segments = 0;
        Batch batch = new Batch(diskId, rt.expectedNext(), geometry.virtualBytes());
        byte[] chunk = new byte[geometry.chunkBytes()];
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            if (in.size() < geometry.virtualBytes()) {
                throw ArmException.conflict("RecoveredDiskTooSmall", "The recovered disk " + file.getFileName() + " holds "
                        + in.size() + " bytes; the replica is " + geometry.virtualBytes() + " bytes.");
            }
            for (long i = 0; i < geometry.chunkCount(); i++) {
                int length = geometry.chunkLength(i);
                ByteBuffer buffer = ByteBuffer.wrap(chunk, 0, length);
                long offset = i * geometry.chunkBytes();
                while (buffer.hasRemaining()) {
                    if (in.read(buffer, offset + buffer.position()) < 0) {
                        throw new IOException("unexpected end of " + file);
                    }
                }
                scanned++;
                boolean zero = isZero(chunk, length);
                ChunkDigest known = replica.get((int) i);
                if (zero ? known.isZero() : ChunkDigest.of(chunk, 0, length).equals(known)) {
                    continue;
                }
                if (zero) {
                    batch.writer.zero(offset, length);
                } else {
                    batch.writer.data(offset, chunk, 0, length);
                    bytes += length;
                }
                sent++;
                if (batch.out.size() >= SEGMENT_TARGET_BYTES) {
                    upload(rt, batch);
                    segments++;
                    batch = new Batch(diskId, batch.sequence + 1, geometry.virtualBytes());
                }
            }
        }
        batch.writer.marker(ConsistencyType.CRASH_CONSISTENT, clock.instant(), tag);
        upload(rt, batch);
        segments++;
        awaitApplied(rt);
        return new PassResult(scanned, sent, bytes, segments);
    }

    private void upload(ReplicationEngine.DiskRuntime rt, Batch batch) throws IOException {
        batch.writer.seal();
        byte[] segment = batch.out.toByteArray();
        protection.intake().receive(rt.agentId(), rt.diskId().toString(), Long.toString(batch.sequence),
                segment.length, new ByteArrayInputStream(segment));
    }

    private void awaitApplied(ReplicationEngine.DiskRuntime rt) throws InterruptedException {
        long deadline = clock.millis() + 120_000;
        while (rt.pendingApplyBytes() > 0 && clock.millis() < deadline) {
            protection.engine().signal();
            Thread.sleep(100);
        }
        if (rt.pendingApplyBytes() > 0) {
            throw ArmException.conflict("ReplicaBusy", "Disk " + rt.diskId() + " still has segments waiting to be "
                    + "applied after 120 seconds; try again.");
        }
    }

    private static boolean isZero(byte[] chunk, int length) {
        for (int i = 0; i < length; i++) {
            if (chunk[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** One segment being written in memory. */
    private static final class Batch {
        final long sequence;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final SegmentWriter writer;

        Batch(UUID diskId, long sequence, long diskBytes) throws IOException {
            this.sequence = sequence;
            this.writer = SegmentWriter.start(out, new SegmentHeader(diskId, sequence, java.time.Instant.now()),
                    SegmentWriter.Compression.LZ4, diskBytes);
        }
    }
}
