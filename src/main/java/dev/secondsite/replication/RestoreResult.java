package dev.secondsite.replication;

import java.nio.file.Path;

/**
 * A completed restore.
 *
 * @param file           the raw image (exactly virtualBytes long); null for {@link Restore#verify}
 * @param virtualBytes   logical size of the disk
 * @param chunksWritten  stored chunks written to the file
 * @param zeroChunks     chunks left as holes (they read as zeros)
 * @param sha256         SHA-256 of the whole logical disk, hex: compare with the source for end-to-end checks
 */
public record RestoreResult(Path file, long virtualBytes, long chunksWritten, long zeroChunks, String sha256) {
}
