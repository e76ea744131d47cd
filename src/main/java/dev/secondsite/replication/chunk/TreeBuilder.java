package dev.secondsite.replication.chunk;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import static dev.secondsite.replication.chunk.DiskGeometry.NODE_FANOUT;

/**
 * Builds a {@link DiskTree} from a full pass over a disk, chunk by chunk in index order, holding at most
 * one partial node per level in memory (O(height x fanout), not O(disk)). Produces exactly the tree that
 * {@link DiskTree#withChanges} would reach for the same content: the shape comes from the geometry only.
 */
public final class TreeBuilder {
    private final ChunkStore store;
    private final DiskGeometry geometry;
    private final int height;
    /** pending.get(L): digests at level L waiting for their parent node (level L + 1). */
    private final List<List<ChunkDigest>> pending = new ArrayList<>();
    /** emitted[L]: nodes completed so far at level L (chunks added, for L = 0). */
    private final long[] emitted;
    private boolean finished;

    public TreeBuilder(ChunkStore store, DiskGeometry geometry) {
        this.store = store;
        this.geometry = geometry;
        this.height = geometry.height();
        this.emitted = new long[height + 1];
        for (int level = 0; level <= height; level++) {
            pending.add(new ArrayList<>(NODE_FANOUT));
        }
    }

    /**
     * Reads exactly {@code geometry.virtualBytes()} from {@code image}, stores every non-zero chunk and
     * returns the tree. Fails if the image is shorter.
     */
    public static DiskTree scan(ChunkStore store, DiskGeometry geometry, InputStream image) throws IOException {
        TreeBuilder builder = new TreeBuilder(store, geometry);
        for (long index = 0; index < geometry.chunkCount(); index++) {
            byte[] chunk = new byte[geometry.chunkBytes()];
            int length = geometry.chunkLength(index);
            int read = image.readNBytes(chunk, 0, length);
            if (read != length) {
                throw new IOException("scan of disk image failed at chunk " + index + ": image ends after "
                        + (index * geometry.chunkBytes() + read) + " of " + geometry.virtualBytes() + " bytes");
            }
            builder.addChunk(chunk);
        }
        return builder.finish();
    }

    /** Stores the next chunk's content (exactly chunkBytes; zero-padded past the disk's end) and adds it. */
    public ChunkDigest addChunk(byte[] content) throws IOException {
        if (content.length != geometry.chunkBytes()) {
            throw new IllegalArgumentException("chunk content must be " + geometry.chunkBytes() + " bytes, got "
                    + content.length);
        }
        ChunkDigest digest = store.insert(content);
        add(digest);
        return digest;
    }

    /** Adds the next chunk by digest (already stored, or ZERO). */
    public void add(ChunkDigest leaf) throws IOException {
        if (finished || emitted[0] >= geometry.chunkCount()) {
            throw new IllegalStateException("tree builder already has all " + geometry.chunkCount() + " chunks");
        }
        emitted[0]++;
        push(0, leaf);
    }

    /** Completes the tree and makes it durable (flushes the store); all chunkCount chunks must have been added. */
    public DiskTree finish() throws IOException {
        if (emitted[0] != geometry.chunkCount()) {
            throw new IllegalStateException("tree builder has " + emitted[0] + " of " + geometry.chunkCount() + " chunks");
        }
        finished = true;
        for (int level = 0; level < height; level++) {
            if (!pending.get(level).isEmpty()) {
                emitNode(level + 1);
            }
        }
        assert pending.get(height).size() == 1 && emitted[height] == 1;
        for (int level = 0; level < height; level++) {
            assert pending.get(level).isEmpty() && emitted[level + 1] == geometry.nodeCount(level + 1);
        }
        store.flush();
        return new DiskTree(store, geometry, pending.get(height).getFirst());
    }

    private void push(int level, ChunkDigest digest) throws IOException {
        pending.get(level).add(digest);
        if (level < height && pending.get(level).size() == NODE_FANOUT) {
            emitNode(level + 1);
        }
    }

    private void emitNode(int level) throws IOException {
        List<ChunkDigest> children = pending.get(level - 1);
        long index = emitted[level];
        assert children.size() == geometry.childCount(level, index);
        ChunkDigest node = DiskTree.storeNode(store, level, children.toArray(ChunkDigest[]::new));
        children.clear();
        emitted[level]++;
        push(level, node);
    }
}
