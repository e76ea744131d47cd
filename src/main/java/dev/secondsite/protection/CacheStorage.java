package dev.secondsite.protection;

import dev.secondsite.Causes;
import dev.secondsite.replication.blob.BlobInfo;
import dev.secondsite.replication.blob.BlobStore;
import dev.secondsite.replication.segment.SegmentName;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Cache storage: where uploaded segments wait, durably, until the replication engine has applied them.
 * One blob per segment, named {@code {diskId}/{sequence}.seg} ({@link SegmentName}), so uploads are idempotent
 * by name; segments found corrupt at apply time move to {@code quarantine/{diskId}/{sequence}.seg} for
 * inspection. Any {@link BlobStore} will do (a directory today; Azure Blob is being added).
 */
public final class CacheStorage {
    static final String QUARANTINE = "quarantine/";

    private final BlobStore blobs;

    public CacheStorage(BlobStore blobs) {
        this.blobs = blobs;
    }

    public BlobStore blobs() {
        return blobs;
    }

    /** The disk's stored segments: sequence to stored bytes, in sequence order. */
    public TreeMap<Long, Long> list(UUID diskId) throws IOException {
        TreeMap<Long, Long> segments = new TreeMap<>();
        for (String name : blobs.list(SegmentName.prefix(diskId))) {
            SegmentName parsed;
            try {
                parsed = SegmentName.parse(name);
            } catch (IllegalArgumentException notASegment) {
                continue; // a stray blob: not ours to judge
            }
            Optional<BlobInfo> info = blobs.stat(name);
            if (info.isPresent()) {
                segments.put(parsed.sequence(), info.get().sizeBytes());
            }
        }
        return segments;
    }

    /** Stores a verified segment (the buffer's remaining bytes) durably: when this returns it is acknowledged. */
    public void put(UUID diskId, long sequence, ByteBuffer segment) throws IOException {
        blobs.put(SegmentName.of(diskId, sequence), List.of(segment));
    }

    /** A stream over a stored segment (buffered, as every blob store's), or empty when it is gone. */
    public Optional<InputStream> open(UUID diskId, long sequence) throws IOException {
        return blobs.open(SegmentName.of(diskId, sequence));
    }

    public boolean delete(UUID diskId, long sequence) throws IOException {
        return blobs.delete(SegmentName.of(diskId, sequence));
    }

    /**
     * Deletes a segment the recovery store holds (its apply is written): not durably, since one that comes back
     * after a crash is at or below the replica's last sequence and deleted again when the disk is loaded.
     */
    public boolean deleteApplied(UUID diskId, long sequence) throws IOException {
        return blobs.deleteWithoutSync(SegmentName.of(diskId, sequence));
    }

    /** Moves a segment that failed at apply out of the way (copy, then delete); true when there was one. */
    public boolean quarantine(UUID diskId, long sequence) throws IOException {
        String name = SegmentName.of(diskId, sequence);
        Optional<byte[]> bytes = blobs.get(name);
        if (bytes.isEmpty()) {
            return false;
        }
        blobs.put(QUARANTINE + name, bytes.get());
        return blobs.delete(name);
    }

    /** Deletes every segment of the disk, quarantined ones included; returns how many. */
    public int deleteAll(UUID diskId) throws IOException {
        int deleted = 0;
        for (String prefix : new String[] {SegmentName.prefix(diskId), QUARANTINE + SegmentName.prefix(diskId)}) {
            for (String name : blobs.list(prefix)) {
                if (blobs.delete(name)) {
                    deleted++;
                }
            }
        }
        return deleted;
    }

    /** True for the failure of a full filesystem or an account out of space, whatever the store. */
    static boolean isOutOfSpace(Throwable e) {
        return Causes.find(e, Throwable.class, t -> {
            String message = String.valueOf(t.getMessage());
            return message.contains("No space left") || message.contains("ENOSPC") || message.contains("Disk quota exceeded")
                    || message.contains("There is not enough space on the disk");
        }).isPresent();
    }
}
