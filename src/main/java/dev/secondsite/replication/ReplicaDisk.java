package dev.secondsite.replication;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.replication.segment.SegmentReader;
import dev.secondsite.replication.segment.SegmentRecord;

/**
 * The apply engine for one replica disk: applies change-log segments, in sequence order, to the disk's
 * current tree, and turns every consistency marker into a recovery point.
 *
 * <h2>Why a crash at any instant is safe</h2>
 *
 * <p>Everything the engine writes goes through {@code BlobStore.put}, which is atomic and durable when it
 * returns (or, over a {@link dev.secondsite.replication.blob.WriteBehindBlobStore}, queued and written later in the
 * order of the calls); so a crash leaves some prefix of the puts below done, each one whole. Over write-behind
 * that prefix may end before {@code apply} returned: its caller acknowledges the segment only once
 * {@link RecoveryStore#isWritten} says so. The puts of one segment happen in this order:
 * <ol>
 *   <li><b>Chunks and tree nodes</b> for the new content, content-addressed and insert-if-missing, written
 *       as packs (usually one per segment: the chunk store buffers new content and puts it as one pack when
 *       flushed or full). They are immutable and only <em>added</em>: no existing tree changes meaning,
 *       because a tree is named by the digest of its content. Until something names their root they are
 *       unreachable garbage. The step ends with a flush, so they are durable before step 2.</li>
 *   <li><b>Recovery point manifests</b>, one per MARKER, written only after the reader has verified the
 *       whole segment (trailer, counts, CRC32C) and after every node of the point's tree is durable (step
 *       1 finished). A manifest is therefore never visible for a tree that is incomplete or that came from a
 *       corrupt segment. Its name and bytes are a function of the segment alone (marker time, sequence,
 *       content root), so writing it again finds identical bytes stored and leaves them.</li>
 *   <li><b>The disk state</b> ({@link DiskState}: current root + last sequence), written to the older of
 *       its two slots ({@link DiskStates}). This is the commit point: before it the segment counts as not
 *       applied, after it as applied.</li>
 * </ol>
 *
 * <p>On a store whose puts are not atomic, the put in flight at a crash may be left torn under its name.
 * Each kind of blob copes: a torn pack fails its trailer check and is quarantined when indexed (its chunks
 * count as missing and are stored again); a torn state slot fails its CRC32C and the other slot still holds
 * the previous commit; a torn manifest belongs to the uncommitted segment and is deleted by {@link #open}
 * (and rewritten by the re-apply); manifests already stored whole are never rewritten. See ADR 0007, "Torn
 * writes", and {@code TornWriteCrashTest}.
 *
 * <p>Recovery is simply: reopen (read the state) and apply the same segment again. If the crash came
 * before step 3, the state still says {@code lastSequence = s - 1}, so segment {@code s} is applied again
 * from the same base root; the tree's shape and every node depend only on content, so the same chunks,
 * nodes, root and manifests result (re-inserts find their blobs present; manifests are found stored
 * with identical bytes, or written if absent). If the crash came after step 3, the segment is recognized as already applied
 * ({@code sequence <= lastSequence}) and ignored. Either way the segment's effect lands exactly once, and
 * no existing recovery point is touched: manifests of earlier segments are never written, and the chunks
 * and nodes they reference are never modified or deleted here (only garbage collection deletes, and only
 * what no manifest or state reaches).
 *
 * <p>A segment whose sequence skips ahead is refused ({@link SequenceGapException}) before anything is
 * written: applying it would lose the changes of the missing ones. A corrupt segment is refused when the
 * reader finds the fault; anything stored before that is unreachable garbage, and no manifest or state was
 * written.
 *
 * <p>Concurrency: one applier per disk (the caller serializes {@code apply} calls); garbage collection
 * may run concurrently, protected by its safety margin (see {@link GarbageCollector}).
 */
public final class ReplicaDisk {
    /** Segment sequences start at 1; a new disk has applied "sequence 0". */
    public static final long SEQUENCE_FIRST = 1;

    private final RecoveryStore store;
    private final UUID diskId;
    private DiskTree tree;
    private long lastSequence;

    private ReplicaDisk(RecoveryStore store, DiskState state) {
        this.store = store;
        this.diskId = state.diskId();
        this.tree = new DiskTree(store.chunks(), state.geometry(), state.root());
        this.lastSequence = state.lastSequence();
    }

    /** Registers a new replica disk that reads as zeros; its first segment has sequence 1. */
    public static ReplicaDisk create(RecoveryStore store, UUID diskId, DiskGeometry geometry) throws IOException {
        return create(store, diskId, DiskTree.empty(store.chunks(), geometry));
    }

    /**
     * Registers a new replica disk whose content is {@code initial} (for example a {@code TreeBuilder} scan
     * of a seeded copy, stored in the same store); its first segment has sequence 1.
     */
    public static ReplicaDisk create(RecoveryStore store, UUID diskId, DiskTree initial) throws IOException {
        if (initial.store() != store.chunks()) {
            throw new IllegalArgumentException("the initial tree must live in " + store);
        }
        if (store.states().read(diskId).isPresent()) {
            throw new IllegalStateException("create on " + store + " failed for replica disk " + diskId + ": it exists");
        }
        DiskState state = new DiskState(diskId, initial.geometry(), initial.root(), SEQUENCE_FIRST - 1);
        store.states().write(state);
        return new ReplicaDisk(store, state);
    }

    /**
     * Opens an existing replica disk at its last committed state, and discards what a crash tore in an
     * apply that did not commit (manifests that do not decode, {@link dev.secondsite.replication.point.RecoveryPoints#discardTorn}). Only the
     * disk's applier opens it.
     */
    public static ReplicaDisk open(RecoveryStore store, UUID diskId) throws IOException {
        Optional<DiskState> state = store.states().read(diskId);
        if (state.isEmpty()) {
            throw new IOException("open on " + store + " failed for replica disk " + diskId + ": no such disk");
        }
        store.points().discardTorn(diskId, state.get().lastSequence());
        return new ReplicaDisk(store, state.get());
    }

    public UUID diskId() {
        return diskId;
    }

    public DiskGeometry geometry() {
        return tree.geometry();
    }

    /** The tree of the disk as of the last applied segment. */
    public DiskTree currentTree() {
        return tree;
    }

    public long lastSequence() {
        return lastSequence;
    }

    /**
     * Applies segment {@code name} read from {@code in} (see the class comment for the guarantees).
     *
     * @throws SequenceGapException if its sequence is beyond {@code lastSequence() + 1}
     * @throws dev.secondsite.replication.segment.SegmentFormatException if it is unsealed, truncated or corrupt
     * @throws IllegalArgumentException if it belongs to another disk
     */
    public ApplyResult apply(String name, InputStream in) throws IOException, SequenceGapException {
        SegmentReader reader = SegmentReader.open(name, in, geometry().virtualBytes());
        long sequence = reader.header().sequence();
        if (!reader.header().diskId().equals(diskId)) {
            throw new IllegalArgumentException("apply on replica disk " + diskId + " failed for segment " + name
                    + ": it belongs to disk " + reader.header().diskId());
        }
        if (sequence <= lastSequence) {
            return new ApplyResult(name, sequence, ApplyResult.Outcome.ALREADY_APPLIED, tree.root(), List.of(), 0);
        }
        if (sequence != lastSequence + 1) {
            throw new SequenceGapException(diskId, lastSequence + 1, sequence);
        }

        // Step 1: chunks and nodes. Points are only remembered until the segment has been verified whole.
        ChangeBuffer changes = new ChangeBuffer(tree);
        List<RecoveryPointManifest> points = new ArrayList<>();
        long records = 0;
        for (SegmentRecord record = reader.next(); record != null; record = reader.next()) {
            switch (record) {
                case SegmentRecord.Data data -> changes.write(data.offset(), data.bytes());
                case SegmentRecord.Zero zero -> changes.zero(zero.offset(), zero.lengthBytes());
                case SegmentRecord.Marker marker -> points.add(new RecoveryPointManifest(diskId, geometry(),
                        changes.commit().root(), marker.type(), marker.timestamp(), sequence, marker.tag()));
            }
            records++;
        }
        DiskTree applied = changes.commit();
        assert reader.trailer().recordCount() == records;
        // The manifest and state writers flush too (RecoveryStore); explicit here because step 2 relies on it.
        store.chunks().flush();

        // Step 2: recovery points (their trees are durable, the segment verified).
        for (RecoveryPointManifest point : points) {
            store.points().write(point);
        }
        // Step 3: the commit point.
        store.states().write(new DiskState(diskId, geometry(), applied.root(), sequence));
        tree = applied;
        lastSequence = sequence;
        return new ApplyResult(name, sequence, ApplyResult.Outcome.APPLIED, applied.root(), points, records);
    }

    @Override
    public String toString() {
        return "replica disk " + diskId + " at sequence " + lastSequence;
    }
}
