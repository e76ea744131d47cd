package dev.secondsite.replication;

import java.time.Instant;

/**
 * What one garbage collection found and did.
 *
 * @param roots          live roots walked (disk states and recovery point manifests)
 * @param markedNodes    distinct tree nodes reachable from them
 * @param markedChunks   distinct data chunks reachable from them
 * @param scannedFiles   packs and legacy chunk blobs examined in the sweep
 * @param deletedFiles   packs and legacy chunk blobs deleted (unreachable) or compacted (partly reachable)
 * @param freedBytes     bytes that freed
 * @param keptYoungFiles packs and legacy chunk blobs with unreachable content kept because they are newer
 *                       than the safety cut-off
 * @param cutoff         files last modified before this instant were eligible for deletion
 */
public record GcResult(int roots, long markedNodes, long markedChunks, long scannedFiles, long deletedFiles,
                       long freedBytes, long keptYoungFiles, Instant cutoff) {
}
