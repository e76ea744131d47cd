package dev.secondsite.replication.chunk;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decoded tree nodes by digest, least recently used first out. Nodes are content-addressed, so an entry is
 * never stale: it spares a lookup the pack read, CRC, SHA-256 and decode of every node on the path to a
 * chunk (apply reads the path of every chunk it changes in part) and of nodes written moments ago.
 * Entries are copied in and out: callers modify the arrays they get. Thread-safe.
 */
final class NodeCache {
    /** About 17 KiB per full node: 1024 nodes hold the leaf level of a 16 GiB disk. */
    static final int NODES_MAX = 1024;

    private record Node(int level, ChunkDigest[] children) {
    }

    private final Map<ChunkDigest, Node> nodes = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ChunkDigest, Node> eldest) {
            return size() > NODES_MAX;
        }
    };

    /** A copy of the node's children, or null if it is not cached (or was cached for another place). */
    synchronized ChunkDigest[] get(ChunkDigest digest, int level, int childCount) {
        Node node = nodes.get(digest);
        return node == null || node.level() != level || node.children().length != childCount ? null
                : node.children().clone();
    }

    synchronized void put(ChunkDigest digest, int level, ChunkDigest[] children) {
        nodes.put(digest, new Node(level, children.clone()));
    }
}
