package dev.secondsite.replication;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.CorruptChunkException;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.chunk.TreeVisitor;
import dev.secondsite.replication.point.RecoveryPointManifest;

/**
 * Materializes a recovery point as a raw disk image.
 *
 * <p>Every interior node and every chunk is verified on the way (its bytes hash to the digest its parent
 * holds, all the way up to the point's root), and the SHA-256 of the whole logical disk is computed in the
 * same pass. The image is written as {@code <target>.partial} - sparse: zero chunks are holes, never
 * written - fsynced, and renamed to {@code <target>} only when complete, so a file under the target name is
 * always a whole, verified image. On failure the partial file is removed.
 */
public final class Restore {
    public static final String PARTIAL_SUFFIX = ".partial";
    /** Zero bytes fed to the whole-disk hash per update across holes. */
    private static final int ZERO_HASH_BYTES = 1 << 20;
    private static final byte[] ZEROS = new byte[ZERO_HASH_BYTES];

    private Restore() {
    }

    /** Restores a recovery point to {@code target}, which must not exist. */
    public static RestoreResult toRawFile(RecoveryStore store, RecoveryPointManifest point, Path target) throws IOException {
        return toRawFile(new DiskTree(store.chunks(), point.geometry(), point.root()), target, "recovery point "
                + point.blobName());
    }

    /** Restores any tree (a point's, or a disk's current one) to {@code target}, which must not exist. */
    public static RestoreResult toRawFile(DiskTree tree, Path target, String what) throws IOException {
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "restore target exists");
        }
        Path partial = target.resolveSibling(target.getFileName() + PARTIAL_SUFFIX);
        DiskGeometry geometry = tree.geometry();
        boolean complete = false;
        RestoreResult result;
        try {
            try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                result = copy(tree, channel, target, what);
                if (channel.size() < geometry.virtualBytes()) {
                    // The disk ends in a hole: extend the file (sparsely) to its full size.
                    channel.write(ByteBuffer.wrap(new byte[1]), geometry.virtualBytes() - 1);
                }
                assert channel.size() == geometry.virtualBytes();
                channel.force(true);
            }
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(target.toAbsolutePath().getParent());
            complete = true;
        } finally {
            if (!complete) {
                Files.deleteIfExists(partial);
            }
        }
        return result;
    }

    /**
     * Reads and verifies a whole tree without writing it anywhere: every node and chunk checked, and the
     * SHA-256 of the logical disk computed (what {@link #toRawFile} would produce). For verification jobs
     * and end-to-end checks.
     */
    public static RestoreResult verify(DiskTree tree, String what) throws IOException {
        return copy(tree, null, null, what);
    }

    /** The one pass over a tree behind both restore and verify; writes chunks to {@code channel} if given. */
    private static RestoreResult copy(DiskTree tree, FileChannel channel, Path target, String what) throws IOException {
        DiskGeometry geometry = tree.geometry();
        MessageDigest sha256 = ChunkDigest.sha256();
        long[] counts = new long[2]; // chunks written, zero chunks
        try {
            tree.walk(new TreeVisitor() {
                @Override
                public void chunk(long index, ChunkDigest digest) throws IOException {
                    byte[] content;
                    try {
                        content = tree.readChunk(index, digest);
                    } catch (CorruptChunkException e) {
                        throw new RestoreException("restore on " + tree.store() + " failed for " + what + ": chunk "
                                + index + " (" + digest + "): " + e.getMessage(), index, digest, e);
                    }
                    int length = geometry.chunkLength(index);
                    if (channel != null) {
                        ByteBuffer buffer = ByteBuffer.wrap(content, 0, length);
                        long position = index * geometry.chunkBytes();
                        while (buffer.hasRemaining()) {
                            position += channel.write(buffer, position);
                        }
                    }
                    sha256.update(content, 0, length);
                    counts[0]++;
                }

                @Override
                public void zeros(long firstIndex, long count) {
                    // A hole: nothing to write (the file is sparse), but the disk hash covers its zeros.
                    long start = firstIndex * geometry.chunkBytes();
                    long bytes = Math.min(count * geometry.chunkBytes(), geometry.virtualBytes() - start);
                    for (long done = 0; done < bytes; ) {
                        int part = (int) Math.min(ZEROS.length, bytes - done);
                        sha256.update(ZEROS, 0, part);
                        done += part;
                    }
                    counts[1] += count;
                }
            });
        } catch (CorruptChunkException e) {
            throw new RestoreException("restore on " + tree.store() + " failed for " + what + ": " + e.getMessage(), -1,
                    e.digest(), e);
        }
        assert counts[0] + counts[1] == geometry.chunkCount();
        return new RestoreResult(target, geometry.virtualBytes(), counts[0], counts[1],
                HexFormat.of().formatHex(sha256.digest()));
    }

    private static void fsyncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
