package dev.secondsite.replication;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import dev.secondsite.replication.blob.BlobStore;

/**
 * The {@link DiskState} of every replica disk in a recovery store: the apply engine's commit point.
 *
 * <h2>Two slots, so that a torn write cannot lose the replica</h2>
 *
 * <p>The state is rewritten after every applied segment. If it lived in one blob and a crash tore that
 * overwrite (a store without atomic puts, or a file system that made the new name durable before its
 * data), the only copy of the disk's current root would be garbage and the replica could not be opened.
 * So each disk has two slots, {@code disks/{disk}.state} (the name every version used) and
 * {@code disks/{disk}.state.b}, and a write always goes to the slot that does <em>not</em> hold the newest
 * valid state. The newest valid state therefore survives any crash during a write, whole. Reading takes the
 * valid slot with the higher last-applied sequence (every write has a higher sequence than the state it
 * replaces: create writes 0, each apply the next segment's); a slot that fails its CRC32C or size check is
 * a torn write and is ignored. A store written before slots holds only the first slot and reads unchanged;
 * its next write goes to the second.
 *
 * <p>A disk exists exactly when its first slot does. Its first state is written to the second slot and
 * then to the first, so a crash that tears creation leaves at most a second slot, which reads as "no such
 * disk" (creating it again overwrites it), never as a disk with no valid state. Deletion removes the second
 * slot first.
 */
public final class DiskStates {
    public static final String PREFIX = "disks/";
    public static final String SUFFIX = ".state";
    /** Appended to the first slot's name to name the second. */
    public static final String SECOND_SLOT_SUFFIX = ".b";

    private final BlobStore blobs;
    private final BlobStore.BeforeReference beforeWrite;

    /** {@code beforeWrite} runs before every state put: the chunk store's flush (see RecoveryStore). */
    public DiskStates(BlobStore blobs, BlobStore.BeforeReference beforeWrite) {
        this.blobs = blobs;
        this.beforeWrite = beforeWrite;
    }

    /** The disk's newest valid state; empty if it has none; an IOException if no slot holds a valid one. */
    public Optional<DiskState> read(UUID diskId) throws IOException {
        Slots slots = readSlots(diskId);
        if (!slots.firstPresent()) {
            return Optional.empty(); // nothing, or a creation a crash interrupted
        }
        if (slots.newest() != null) {
            return Optional.of(slots.newest());
        }
        if (slots.problems().isEmpty()) {
            return Optional.empty();
        }
        throw new IOException("read on " + blobs + " failed for " + DiskState.blobName(diskId) + ": no valid state: "
                + String.join("; ", slots.problems()));
    }

    /** Durably replaces the disk's state, writing over the older slot only. */
    public void write(DiskState state) throws IOException {
        beforeWrite.run();
        Slots slots = readSlots(state.diskId());
        String target = DiskState.blobName(state.diskId());
        if (!slots.firstPresent()) { // creation: the second slot, then the first (the disk then exists)
            blobs.put(secondSlotName(state.diskId()), state.encode());
        } else if (slots.newest() != null) {
            if (state.lastSequence() <= slots.newest().lastSequence()) {
                throw new IllegalStateException("write on " + blobs + " failed for " + target + ": sequence "
                        + state.lastSequence() + " does not follow the stored " + slots.newest().lastSequence());
            }
            if (slots.newestIsFirst()) {
                target = secondSlotName(state.diskId());
            }
        }
        blobs.put(target, state.encode());
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

    /** Deletes both slots, the second first (the first slot is what {@link #diskIds} lists). */
    public boolean delete(UUID diskId) throws IOException {
        boolean second = blobs.delete(secondSlotName(diskId));
        return blobs.delete(DiskState.blobName(diskId)) | second;
    }

    public static String secondSlotName(UUID diskId) {
        return DiskState.blobName(diskId) + SECOND_SLOT_SUFFIX;
    }

    /**
     * The newest valid state of both slots (null if none), whether the first slot exists, and what was wrong
     * with the slots that are invalid. On equal sequences (both slots written at creation) the first wins.
     */
    private record Slots(DiskState newest, boolean newestIsFirst, boolean firstPresent, List<String> problems) {
    }

    private Slots readSlots(UUID diskId) throws IOException {
        List<String> problems = new ArrayList<>();
        Optional<byte[]> firstBytes = blobs.get(DiskState.blobName(diskId));
        DiskState first = decode(diskId, DiskState.blobName(diskId), firstBytes, problems);
        DiskState second = decode(diskId, secondSlotName(diskId), blobs.get(secondSlotName(diskId)), problems);
        if (second != null && (first == null || second.lastSequence() > first.lastSequence())) {
            return new Slots(second, false, firstBytes.isPresent(), problems);
        }
        return new Slots(first, first != null, firstBytes.isPresent(), problems);
    }

    /** One slot's state, or null if it is absent or invalid (then saying why in {@code problems}). */
    private static DiskState decode(UUID diskId, String name, Optional<byte[]> bytes, List<String> problems) {
        if (bytes.isEmpty()) {
            return null;
        }
        try {
            DiskState state = DiskState.decode(bytes.get());
            if (state.diskId().equals(diskId)) {
                return state;
            }
            problems.add(name + " holds the state of disk " + state.diskId());
        } catch (IllegalArgumentException e) {
            problems.add(name + ": " + e.getMessage());
        }
        return null;
    }
}
