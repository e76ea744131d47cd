package dev.secondsite.replication.point;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.function.Predicate;

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

    /**
     * Durably stores the manifest (temp + fsync + atomic rename in a file store). A manifest already stored
     * with the same bytes (a re-applied segment writes its manifests again) is left alone: a rewrite that a
     * crash tore would damage a point that was durable, on a store without atomic puts. One stored torn is
     * rewritten.
     */
    public void write(RecoveryPointManifest manifest) throws IOException {
        beforeWrite.run();
        byte[] bytes = manifest.encode();
        Optional<byte[]> stored = blobs.get(manifest.blobName());
        if (stored.isPresent() && Arrays.equals(stored.get(), bytes)) {
            return;
        }
        blobs.put(manifest.blobName(), bytes);
    }

    /**
     * Recovery when a replica disk is opened: deletes the disk's manifests that belong to a segment after
     * {@code lastSequence} (one whose apply has not committed) and do not decode. Such a manifest is a put
     * torn by a crash; applying the segment again writes it whole. Left in place it would fail every listing
     * of the disk's points, and so the start of replication that re-applies the segment. A manifest of a
     * committed segment that does not decode is damage, not a torn write: it stays and reads as corrupt.
     * Returns the names deleted.
     */
    public List<String> discardTorn(UUID diskId, long lastSequence) throws IOException {
        List<String> deleted = new ArrayList<>();
        for (String name : names(diskId)) {
            OptionalLong sequence = RecoveryPointManifest.sequenceOf(name);
            if (sequence.isEmpty() || sequence.getAsLong() <= lastSequence) {
                continue;
            }
            try {
                read(name);
            } catch (CorruptManifestException torn) {
                if (blobs.delete(name)) {
                    deleted.add(name);
                }
            }
        }
        return deleted;
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
     * Retention: deletes the disk's manifests that {@code keep} rejects, except the newest manifest, which is always
     * kept (a disk never loses its last point to retention). Returns the deleted manifests. Their chunks are freed
     * by the next garbage collection.
     */
    public List<RecoveryPointManifest> retain(UUID diskId, Predicate<RecoveryPointManifest> keep) throws IOException {
        List<RecoveryPointManifest> manifests = list(diskId);
        List<RecoveryPointManifest> deleted = new ArrayList<>();
        for (int i = 0; i < manifests.size() - 1; i++) {
            RecoveryPointManifest manifest = manifests.get(i);
            if (!keep.test(manifest)) {
                delete(manifest.blobName());
                deleted.add(manifest);
            }
        }
        return deleted;
    }
}
