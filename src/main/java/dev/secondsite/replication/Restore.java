package dev.secondsite.replication;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
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
        PointReader.Result read = PointReader.read(tree, "restore", what, (index, content, length) -> {
            if (channel != null) {
                ByteBuffer buffer = ByteBuffer.wrap(content, 0, length);
                long position = index * geometry.chunkBytes();
                while (buffer.hasRemaining()) {
                    position += channel.write(buffer, position);
                }
            }
        });
        assert read.chunks() + read.zeroChunks() == geometry.chunkCount();
        return new RestoreResult(target, geometry.virtualBytes(), read.chunks(), read.zeroChunks(), read.sha256());
    }

    private static void fsyncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
