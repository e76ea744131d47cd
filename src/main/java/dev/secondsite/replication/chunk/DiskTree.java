package dev.secondsite.replication.chunk;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;

import static dev.secondsite.replication.chunk.DiskGeometry.NODE_FANOUT;

/**
 * A disk image at one point in time: an immutable Merkle tree of content-addressed nodes over the disk's
 * chunks (shape: {@link DiskGeometry}; node bytes: {@link TreeNode}). The root digest is a function of
 * the disk's content alone, so two trees with equal roots hold equal disks, and identical subtrees -
 * across points of one disk, or within it - are stored once.
 *
 * <p>Every node read is verified: the chunk store checks that its bytes hash to the digest its parent
 * holds, and the decoder checks that it is the node the geometry puts at that position. So reading from
 * a trusted root reads only trusted data.
 *
 * <p>Immutable and thread-safe; {@link #withChanges} returns a new tree sharing every unchanged subtree.
 */
public final class DiskTree {
    private final ChunkStore store;
    private final DiskGeometry geometry;
    private final ChunkDigest root;

    public DiskTree(ChunkStore store, DiskGeometry geometry, ChunkDigest root) {
        this.store = store;
        this.geometry = geometry;
        this.root = root;
    }

    /** The tree of a disk that reads as zeros everywhere. */
    public static DiskTree empty(ChunkStore store, DiskGeometry geometry) {
        return new DiskTree(store, geometry, ChunkDigest.ZERO);
    }

    public ChunkDigest root() {
        return root;
    }

    public DiskGeometry geometry() {
        return geometry;
    }

    public ChunkStore store() {
        return store;
    }

    /** The digest of chunk {@code index}, following (and verifying) the path from the root. */
    public ChunkDigest leaf(long index) throws IOException {
        return leaf(index, false);
    }

    private ChunkDigest leaf(long index, boolean cached) throws IOException {
        checkIndex(index);
        ChunkDigest digest = root;
        for (int level = geometry.height(); level >= 1 && !digest.isZero(); level--) {
            long nodeIndex = index / geometry.span(level);
            ChunkDigest[] children = cached ? readNodeCached(level, nodeIndex, digest) : readNode(level, nodeIndex, digest);
            digest = children[(int) ((index - nodeIndex * geometry.span(level)) / geometry.span(level - 1))];
        }
        return digest;
    }

    /** The verified content of chunk {@code index}, always {@code chunkBytes} long (fresh array). */
    public byte[] readChunk(long index) throws IOException {
        return readChunk(index, leaf(index));
    }

    /** The verified content of chunk {@code index} whose digest the caller got from this tree. */
    public byte[] readChunk(long index, ChunkDigest digest) throws IOException {
        if (digest.isZero()) {
            return new byte[geometry.chunkBytes()];
        }
        byte[] content;
        try {
            content = store.read(digest);
        } catch (CorruptChunkException e) {
            throw new CorruptChunkException(e.getMessage() + " (chunk " + index + ")", digest, e.quarantined());
        }
        checkLength(index, digest, content);
        return content;
    }

    /**
     * Chunk {@code index} for a change by apply: the path from the root through the node cache, the chunk as
     * far as its block digests ({@link ChunkStore#edit}). Reads for restore, export and digests take the
     * verifying path ({@link #readChunk}, {@link #readNode}), so damage on disk is still found.
     */
    public EditableChunk editChunk(long index) throws IOException {
        ChunkDigest digest = leaf(index, true);
        try {
            return store.edit(digest, geometry.chunkBytes());
        } catch (CorruptChunkException e) {
            throw new CorruptChunkException(e.getMessage() + " (chunk " + index + ")", digest, e.quarantined());
        }
    }

    private void checkLength(long index, ChunkDigest digest, byte[] content) throws CorruptChunkException {
        if (content.length != geometry.chunkBytes()) {
            throw new CorruptChunkException("read on " + store + " failed for " + digest + ": chunk " + index
                    + " holds " + content.length + " bytes, expected " + geometry.chunkBytes(), digest, false);
        }
    }

    /**
     * A new tree in which chunk {@code i} has digest {@code changes.get(i)} for every key, and every other
     * chunk is unchanged. Reads and rewrites only the nodes on paths to changed chunks: O(changes x height)
     * node operations, independent of the disk's size. The caller must have stored the changed chunks.
     */
    public DiskTree withChanges(NavigableMap<Long, ChunkDigest> changes) throws IOException {
        if (changes.isEmpty()) {
            return this;
        }
        checkIndex(changes.firstKey());
        checkIndex(changes.lastKey());
        ChunkDigest newRoot = rewrite(geometry.height(), 0, root, changes);
        return new DiskTree(store, geometry, newRoot);
    }

    /** Visits the whole tree: nodes top-down, chunks in index order, zero runs without reading. */
    public void walk(TreeVisitor visitor) throws IOException {
        walk(geometry.height(), 0, root, visitor);
    }

    /** Every chunk's digest, in index order (ZERO for zero chunks). For small disks: O(chunk count) memory. */
    public List<ChunkDigest> leaves() throws IOException {
        if (geometry.chunkCount() > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("disk has too many chunks to list in memory");
        }
        List<ChunkDigest> leaves = new ArrayList<>((int) geometry.chunkCount());
        walk(new TreeVisitor() {
            @Override
            public void chunk(long index, ChunkDigest digest) {
                assert index == leaves.size();
                leaves.add(digest);
            }

            @Override
            public void zeros(long firstIndex, long count) {
                assert firstIndex == leaves.size();
                for (long i = 0; i < count; i++) {
                    leaves.add(ChunkDigest.ZERO);
                }
            }
        });
        assert leaves.size() == geometry.chunkCount();
        return leaves;
    }

    /** Reads and decodes a node, verifying it is the node at this position. */
    public ChunkDigest[] readNode(int level, long index, ChunkDigest digest) throws IOException {
        assert !digest.isZero();
        byte[] bytes;
        try {
            bytes = store.read(digest);
        } catch (CorruptChunkException e) {
            throw new CorruptChunkException(e.getMessage() + " (tree node at level " + level + " index " + index + ")",
                    digest, e.quarantined());
        }
        String[] problem = new String[1];
        ChunkDigest[] children = TreeNode.decode(bytes, level, geometry.childCount(level, index), problem);
        if (children == null) {
            throw new CorruptChunkException("read on " + store + " failed for " + digest + ": tree node at level "
                    + level + " index " + index + ": " + problem[0], digest, false);
        }
        store.nodes().put(digest, level, children);
        return children;
    }

    /** {@link #readNode} through the store's {@link NodeCache} (apply's paths: content-addressed, never stale). */
    private ChunkDigest[] readNodeCached(int level, long index, ChunkDigest digest) throws IOException {
        ChunkDigest[] cached = store.nodes().get(digest, level, geometry.childCount(level, index));
        return cached != null ? cached : readNode(level, index, digest);
    }

    private ChunkDigest rewrite(int level, long index, ChunkDigest digest, NavigableMap<Long, ChunkDigest> changes)
            throws IOException {
        long first = index * geometry.span(level);
        assert changes.firstKey() >= first && changes.lastKey() < first + geometry.span(level);
        int childCount = geometry.childCount(level, index);
        ChunkDigest[] children;
        if (digest.isZero()) {
            children = new ChunkDigest[childCount];
            Arrays.fill(children, ChunkDigest.ZERO);
        } else {
            children = readNodeCached(level, index, digest);
        }
        if (level == 1) {
            for (Map.Entry<Long, ChunkDigest> change : changes.entrySet()) {
                children[(int) (change.getKey() - first)] = change.getValue();
            }
        } else {
            long childSpan = geometry.span(level - 1);
            for (Long key = changes.firstKey(); key != null; ) {
                int child = (int) ((key - first) / childSpan);
                long childEnd = first + (child + 1) * childSpan;
                NavigableMap<Long, ChunkDigest> forChild = changes.subMap(key, true, childEnd, false);
                children[child] = rewrite(level - 1, index * NODE_FANOUT + child, children[child], forChild);
                key = changes.ceilingKey(childEnd); // null past the last change (or past this node's range)
            }
        }
        return writeNode(level, children);
    }

    private ChunkDigest writeNode(int level, ChunkDigest[] children) throws IOException {
        return storeNode(store, level, children);
    }

    private void walk(int level, long index, ChunkDigest digest, TreeVisitor visitor) throws IOException {
        long first = index * geometry.span(level);
        if (digest.isZero()) {
            visitor.zeros(first, Math.min(geometry.span(level), geometry.chunkCount() - first));
        } else if (level == 0) {
            visitor.chunk(index, digest);
        } else if (visitor.enterNode(level, index, digest)) {
            ChunkDigest[] children = readNode(level, index, digest);
            for (int child = 0; child < children.length; child++) {
                walk(level - 1, index * NODE_FANOUT + child, children[child], visitor);
            }
        }
    }

    private void checkIndex(long index) {
        if (index < 0 || index >= geometry.chunkCount()) {
            throw new IndexOutOfBoundsException("chunk " + index + " is outside the disk (" + geometry.chunkCount()
                    + " chunks)");
        }
    }

    /** Stores a node (or returns ZERO for one with only zero children); shared with {@link TreeBuilder}. */
    static ChunkDigest storeNode(ChunkStore store, int level, ChunkDigest[] children) throws IOException {
        for (ChunkDigest child : children) {
            if (!child.isZero()) {
                ChunkDigest digest = store.insert(TreeNode.encode(level, children));
                store.nodes().put(digest, level, children); // the next segment's lookups start from it
                return digest;
            }
        }
        return ChunkDigest.ZERO;
    }
}
