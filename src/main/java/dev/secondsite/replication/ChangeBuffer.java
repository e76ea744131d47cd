package dev.secondsite.replication;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.EditableChunk;
import dev.secondsite.replication.chunk.Zeros;

/**
 * Turns byte-range changes (DATA, ZERO records) into chunk changes on top of a base tree.
 *
 * <p>Three tiers, each bounded: {@code dirty} holds whole chunks being modified in memory (a partial
 * write reads the chunk's current content first: read-modify-write; the blocks changed are recorded, so that a
 * chunk changed in small part is stored as a delta over its previous version, see
 * {@link ChunkStore#prepare(EditableChunk)}); {@code staged} holds digests of
 * chunks already stored but not yet in a tree; {@link #commit()} folds staged digests into a new tree.
 * When dirty chunks exceed {@link #DIRTY_BYTES_MAX} they are stored and staged; when staged chunks exceed
 * {@link #STAGED_CHUNKS_MAX} they are folded into an intermediate tree. Intermediate trees are never
 * recorded anywhere, so their nodes are garbage for the collector, but the tree reached at a commit
 * depends only on the disk's content, not on when flushes happened.
 *
 * <p>Not thread-safe; one per segment being applied.
 */
final class ChangeBuffer {
    /** Most bytes of modified chunks held in memory before they are stored. */
    static final long DIRTY_BYTES_MAX = 64L << 20;
    /** Most stored-but-untreed chunk digests held before they are folded into the tree. */
    static final int STAGED_CHUNKS_MAX = 1 << 16;

    private final ChunkStore chunks;
    private final DiskGeometry geometry;
    private final int chunkBytes;
    private final long dirtyBytesMax;
    private final int stagedChunksMax;
    private DiskTree base;
    private final TreeMap<Long, EditableChunk> dirty = new TreeMap<>();
    private final TreeMap<Long, ChunkDigest> staged = new TreeMap<>();

    ChangeBuffer(DiskTree base) {
        this(base, DIRTY_BYTES_MAX, STAGED_CHUNKS_MAX);
    }

    /** With other bounds: tests use tiny ones to exercise every flush path. */
    ChangeBuffer(DiskTree base, long dirtyBytesMax, int stagedChunksMax) {
        if (dirtyBytesMax < 0 || stagedChunksMax < 1) {
            throw new IllegalArgumentException("change buffer bounds must be >= 0 bytes and >= 1 chunk");
        }
        this.base = base;
        this.chunks = base.store();
        this.geometry = base.geometry();
        this.chunkBytes = geometry.chunkBytes();
        this.dirtyBytesMax = dirtyBytesMax;
        this.stagedChunksMax = stagedChunksMax;
    }

    /** {@code [offset, offset + data.length)} now holds {@code data}. */
    void write(long offset, byte[] data) throws IOException {
        assert offset >= 0 && offset + data.length <= geometry.virtualBytes();
        int done = 0;
        while (done < data.length) {
            long position = offset + done;
            long index = position / chunkBytes;
            int within = (int) (position % chunkBytes);
            int length = Math.min(chunkBytes - within, data.length - done);
            EditableChunk chunk = length == chunkBytes ? replace(index) : modify(index);
            chunk.write(within, data, done, length);
            done += length;
        }
        bound();
    }

    /** {@code [offset, offset + length)} now reads as zeros. */
    void zero(long offset, long length) throws IOException {
        assert offset >= 0 && length > 0 && offset + length <= geometry.virtualBytes();
        long end = offset + length;
        for (long position = offset; position < end; ) {
            long index = position / chunkBytes;
            int within = (int) (position % chunkBytes);
            long chunkEnd = (index + 1) * chunkBytes;
            // A range reaching the disk's end covers the last chunk's padding too: it is zeros already.
            boolean whole = within == 0 && (end >= chunkEnd || end == geometry.virtualBytes());
            if (whole) {
                dirty.remove(index);
                staged.put(index, ChunkDigest.ZERO);
                if (staged.size() >= stagedChunksMax) {
                    fold();
                }
            } else {
                EditableChunk chunk = modify(index);
                chunk.zero(within, (int) (Math.min(end, chunkEnd) - index * chunkBytes));
            }
            position = Math.min(end, chunkEnd);
        }
        bound();
    }

    /** Stores every pending change and returns the tree holding all changes so far. */
    DiskTree commit() throws IOException {
        storeDirty();
        fold();
        assert dirty.isEmpty() && staged.isEmpty();
        return base;
    }

    /** The chunk's buffer for a write that covers it whole: no need to read the old content. */
    private EditableChunk replace(long index) {
        return dirty.computeIfAbsent(index, ignored -> EditableChunk.zeros(chunkBytes));
    }

    /** The chunk's buffer for a partial change: its current content, read from wherever it is newest. */
    private EditableChunk modify(long index) throws IOException {
        EditableChunk chunk = dirty.get(index);
        if (chunk == null) {
            ChunkDigest stagedDigest = staged.get(index);
            if (stagedDigest == null) {
                chunk = base.editChunk(index);
            } else {
                chunk = chunks.edit(stagedDigest, chunkBytes);
            }
            dirty.put(index, chunk);
        }
        return chunk;
    }

    private void bound() throws IOException {
        if ((long) dirty.size() * chunkBytes > dirtyBytesMax) {
            storeDirty();
        }
        if (staged.size() >= stagedChunksMax) {
            fold();
        }
    }

    /**
     * Stores the modified chunks: named and encoded in parallel (the apply's CPU cost: changed blocks hashed,
     * and the bases of chunks now changed in more than half read), then inserted in index order, so the store's writes stay the same from run to run (crash
     * tests replay them by number).
     */
    private void storeDirty() throws IOException {
        List<Map.Entry<Long, EditableChunk>> entries = new ArrayList<>(dirty.entrySet());
        List<ChunkStore.Prepared> prepared;
        try {
            prepared = entries.parallelStream().map(entry -> {
                byte[] content = entry.getValue().content();
                long index = entry.getKey();
                // Past the disk's end the last chunk stays zero-padded; writes are bounded by the disk size.
                assert geometry.chunkLength(index) == chunkBytes
                        || Zeros.isAllZero(content, geometry.chunkLength(index),
                        chunkBytes - geometry.chunkLength(index));
                try {
                    return chunks.prepare(entry.getValue());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        for (int i = 0; i < entries.size(); i++) {
            staged.put(entries.get(i).getKey(), chunks.insert(prepared.get(i)));
        }
        dirty.clear();
    }

    private void fold() throws IOException {
        if (!staged.isEmpty()) {
            base = base.withChanges(staged);
            staged.clear();
        }
    }
}
