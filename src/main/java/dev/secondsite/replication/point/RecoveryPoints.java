package dev.secondsite.replication.point;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import dev.secondsite.replication.blob.BlobStore;

/**
 * The recovery point manifests of all disks in a recovery store. A manifest is written only after every
 * node and chunk of its tree is durable, and is never modified afterwards (rewriting it with identical
 * bytes, as a re-applied segment does, is allowed); retention deletes it.
 */
public final class RecoveryPoints {
    private final BlobStore blobs;
    private final BlobStore.BeforeReference beforeWrite;

    /** {@code beforeWrite} runs before every manifest put: the chunk store's flush (see RecoveryStore). */
    public RecoveryPoints(BlobStore blobs, BlobStore.BeforeReference beforeWrite) {
        this.blobs = blobs;
        this.beforeWrite = beforeWrite;
    }

    /** Durably stores the manifest (temp + fsync + atomic rename in a file store). */
    public void write(RecoveryPointManifest manifest) throws IOException {
        beforeWrite.run();
        blobs.put(manifest.blobName(), manifest.encode());
    }

    public Optional<RecoveryPointManifest> read(String name) throws IOException {
        Optional<byte[]> bytes = blobs.get(name);
        if (bytes.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(RecoveryPointManifest.decode(name, bytes.get()));
    }

    /** Manifest names of one disk, oldest first. */
    public List<String> names(UUID diskId) throws IOException {
        return blobs.list(RecoveryPointManifest.prefix(diskId)).stream()
                .filter(name -> name.endsWith(RecoveryPointManifest.SUFFIX)).toList();
    }

    /** Manifest names of every disk. */
    public List<String> allNames() throws IOException {
        return blobs.list(RecoveryPointManifest.PREFIX).stream()
                .filter(name -> name.endsWith(RecoveryPointManifest.SUFFIX)).toList();
    }

    /** Manifests of one disk, oldest first. */
    public List<RecoveryPointManifest> list(UUID diskId) throws IOException {
        List<RecoveryPointManifest> manifests = new ArrayList<>();
        for (String name : names(diskId)) {
            read(name).ifPresent(manifests::add);
        }
        return manifests;
    }

    public Optional<RecoveryPointManifest> latest(UUID diskId) throws IOException {
        List<String> names = names(diskId);
        return names.isEmpty() ? Optional.empty() : read(names.getLast());
    }

    public boolean delete(String name) throws IOException {
        return blobs.delete(name);
    }

    /**
     * Retention: deletes the disk's manifests created before {@code keepAfter}, except the newest manifest,
     * which is always kept (a disk never loses its last point to retention). Returns the deleted manifests.
     * Their chunks are freed by the next garbage collection.
     */
    public List<RecoveryPointManifest> prune(UUID diskId, Instant keepAfter) throws IOException {
        List<RecoveryPointManifest> manifests = list(diskId);
        List<RecoveryPointManifest> deleted = new ArrayList<>();
        for (int i = 0; i < manifests.size() - 1; i++) {
            RecoveryPointManifest manifest = manifests.get(i);
            if (manifest.createdAt().isBefore(keepAfter)) {
                delete(manifest.blobName());
                deleted.add(manifest);
            }
        }
        return deleted;
    }
}
