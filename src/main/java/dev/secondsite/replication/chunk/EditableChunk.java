package dev.secondsite.replication.chunk;

import java.io.IOException;
import java.util.Arrays;
import java.util.BitSet;

import static dev.secondsite.replication.chunk.ChunkDigest.BLOCK_BYTES;

/**
 * A chunk being changed by apply, and what a delta of it can be made over: {@code base}, the chunk as it was
 * (stored whole, as a delta, or ZERO), equal to this chunk outside the {@linkplain #changedBlocks() changed blocks}.
 *
 * <p>Apply's read-modify-write, mostly without the read (ADR 0007, "Block digests"): the chunk starts from its
 * block digests, not its content. A write of whole blocks only needs those; the new name then follows from the
 * digests of the blocks written ({@link ChunkStore#prepare(EditableChunk)}). The rest of the content is read
 * (from the base, through its delta chain) only when it is needed: a write that covers part of an unchanged
 * block, or a chunk stored whole (changed in most of it, or its chain full). {@link #content()} holds the changed
 * blocks' bytes, and every byte once {@link #complete()}.
 *
 * <p>Not thread-safe.
 */
public final class EditableChunk {
    private final ChunkStore store;
    private final byte[] content;
    private final ChunkDigest base;
    private final BitSet changed;
    /** Block digests of the content; those of changed blocks are brought up to date by {@link #refreshDigests}. */
    private final byte[] digests;
    /** Blocks written since their digest was last computed. */
    private final BitSet stale = new BitSet();
    private boolean complete;

    EditableChunk(ChunkStore store, byte[] content, ChunkDigest base, BitSet changed, byte[] digests,
                  boolean complete) {
        assert digests.length == ChunkDigest.blockCount(content.length) * ChunkDigest.BYTES;
        this.store = store;
        this.content = content;
        this.base = base;
        this.changed = changed;
        this.digests = digests;
        this.complete = complete;
    }

    /** A chunk of zeros to change (the base of a sparse delta, or a chunk about to be written whole). */
    public static EditableChunk zeros(int chunkBytes) {
        return new EditableChunk(null, new byte[chunkBytes], ChunkDigest.ZERO, new BitSet(),
                ChunkDigest.zeroBlockDigests(chunkBytes), true);
    }

    /** Writes {@code source[from, from + length)} at {@code at} of the chunk. */
    public void write(int at, byte[] source, int from, int length) throws IOException {
        prepareWrite(at, at + length);
        System.arraycopy(source, from, content, at, length);
        markChanged(at, at + length);
    }

    /** Makes {@code [from, to)} of the chunk zeros. */
    public void zero(int from, int to) throws IOException {
        prepareWrite(from, to);
        Arrays.fill(content, from, to, (byte) 0);
        markChanged(from, to);
    }

    /** The chunk's bytes: those of changed blocks, and all of them once {@link #complete()}. */
    public byte[] content() {
        return content;
    }

    public ChunkDigest base() {
        return base;
    }

    /** The blocks ({@link ChunkDigest#BLOCK_BYTES} each) in which this chunk differs from its base. */
    public BitSet changedBlocks() {
        return changed;
    }

    /** Whether {@link #content()} holds every byte of the chunk. */
    public boolean isComplete() {
        return complete;
    }

    /** Reads the base, if needed, so that {@link #content()} holds every byte of the chunk. */
    public void complete() throws IOException {
        if (complete) {
            return;
        }
        if (base.isZero()) { // blocks not changed were never written: still zeros
            complete = true;
            return;
        }
        byte[] full = store.baseContent(base);
        if (full.length != content.length) {
            throw new CorruptChunkException("read on " + store + " failed for " + base + ": delta base holds "
                    + full.length + " bytes, expected " + content.length, base, false);
        }
        for (int block = changed.nextClearBit(0); block * BLOCK_BYTES < content.length;
             block = changed.nextClearBit(block + 1)) {
            int from = block * BLOCK_BYTES;
            System.arraycopy(full, from, content, from, Math.min(BLOCK_BYTES, content.length - from));
        }
        complete = true;
    }

    /** The block digests, those of blocks written since last time recomputed (the hashing cost of a change). */
    byte[] refreshDigests() {
        var sha256 = ChunkDigest.sha256();
        for (int block = stale.nextSetBit(0); block >= 0; block = stale.nextSetBit(block + 1)) {
            ChunkDigest.digestBlock(sha256, content, 0, content.length, block, digests);
        }
        stale.clear();
        return digests;
    }

    /** A write of {@code [from, to)} that covers part of a block whose bytes are not at hand needs the base. */
    private void prepareWrite(int from, int to) throws IOException {
        assert from >= 0 && from < to && to <= content.length;
        if (complete) {
            return;
        }
        int first = from / BLOCK_BYTES;
        int last = (to - 1) / BLOCK_BYTES;
        boolean partFirst = from % BLOCK_BYTES != 0;
        boolean partLast = to % BLOCK_BYTES != 0 && to != content.length;
        if ((partFirst && !changed.get(first)) || (partLast && !changed.get(last))) {
            complete();
        }
    }

    private void markChanged(int from, int to) {
        int first = from / BLOCK_BYTES;
        int end = Math.ceilDiv(to, BLOCK_BYTES);
        changed.set(first, end);
        stale.set(first, end);
    }
}
