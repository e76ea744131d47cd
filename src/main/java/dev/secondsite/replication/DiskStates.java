package dev.secondsite.replication;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import dev.secondsite.replication.blob.BlobStore;

/** The {@link DiskState} of every replica disk in a recovery store, one blob each. */
public final class DiskStates {
    public static final String PREFIX = "disks/";
    public static final String SUFFIX = ".state";

    private final BlobStore blobs;
    private final BlobStore.BeforeReference beforeWrite;

    /** {@code beforeWrite} runs before every state put: the chunk store's flush (see RecoveryStore). */
    public DiskStates(BlobStore blobs, BlobStore.BeforeReference beforeWrite) {
        this.blobs = blobs;
        this.beforeWrite = beforeWrite;
    }

    public Optional<DiskState> read(UUID diskId) throws IOException {
        String name = DiskState.blobName(diskId);
        Optional<byte[]> bytes = blobs.get(name);
        if (bytes.isEmpty()) {
            return Optional.empty();
        }
        DiskState state;
        try {
            state = DiskState.decode(bytes.get());
        } catch (IllegalArgumentException e) {
            throw new IOException("read on " + blobs + " failed for " + name + ": " + e.getMessage(), e);
        }
        if (!state.diskId().equals(diskId)) {
            throw new IOException("read on " + blobs + " failed for " + name + ": holds the state of disk " + state.diskId());
        }
        return Optional.of(state);
    }

    /** Durably replaces the disk's state: the apply engine's commit point. */
    public void write(DiskState state) throws IOException {
        beforeWrite.run();
        blobs.put(DiskState.blobName(state.diskId()), state.encode());
    }

    public List<UUID> diskIds() throws IOException {
        List<UUID> ids = new ArrayList<>();
        for (String name : blobs.list(PREFIX)) {
            if (name.endsWith(SUFFIX)) {
                try {
                    ids.add(UUID.fromString(name.substring(PREFIX.length(), name.length() - SUFFIX.length())));
                } catch (IllegalArgumentException notOurs) {
                    // a stray blob under disks/: not a state, ignore
                }
            }
        }
        return ids;
    }

    public boolean delete(UUID diskId) throws IOException {
        return blobs.delete(DiskState.blobName(diskId));
    }
}
