package dev.secondsite.protection;

import dev.secondsite.disk.DiskFormat;
import dev.secondsite.disk.DiskImage;
import dev.secondsite.disk.DiskImages;
import dev.secondsite.replication.PointReader;
import dev.secondsite.replication.RecoveryStore;
import dev.secondsite.replication.Restore;
import dev.secondsite.replication.RestoreResult;
import dev.secondsite.replication.chunk.DiskGeometry;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.point.RecoveryPointManifest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;

/**
 * Materializes one disk of a recovery point as an image file: raw through {@link Restore} (which verifies
 * every node and chunk against the point's root), VHD or VHDX by the same verified walk written through the
 * disk format library (zero chunks stay unallocated). Either way the SHA-256 of the logical disk is
 * computed on the way, so the result can be checked against the source.
 */
public final class Exporter {
    /** Formats of the API (exportDisk's "format"), lower-case. "vhd" is a fixed VHD, what Azure uploads need. */
    public static final List<String> FORMATS = List.of("raw", "vhd", "vhdDynamic", "vhdx");

    private Exporter() {}

    public static String extension(String format) {
        return switch (format.toLowerCase(Locale.ROOT)) {
            case "raw" -> "img";
            case "vhd", "vhddynamic" -> "vhd";
            case "vhdx" -> "vhdx";
            default -> throw new IllegalArgumentException(format);
        };
    }

    /** Writes the point to {@code target} (which must not exist) and returns what was written. */
    public static RestoreResult export(RecoveryStore store, RecoveryPointManifest point, String format, Path target)
            throws IOException {
        DiskTree tree = new DiskTree(store.chunks(), point.geometry(), point.root());
        String what = "recovery point " + point.blobName();
        return switch (format.toLowerCase(Locale.ROOT)) {
            case "raw" -> Restore.toRawFile(tree, target, what);
            case "vhd" -> toImage(tree, DiskFormat.VHD_FIXED, target, what);
            case "vhddynamic" -> toImage(tree, DiskFormat.VHD_DYNAMIC, target, what);
            case "vhdx" -> toImage(tree, DiskFormat.VHDX, target, what);
            default -> throw new IllegalArgumentException("unknown export format " + format);
        };
    }

    private static RestoreResult toImage(DiskTree tree, DiskFormat format, Path target, String what) throws IOException {
        DiskGeometry geometry = tree.geometry();
        PointReader.Result read;
        boolean complete = false;
        try (DiskImage image = DiskImages.create(target, format, geometry.virtualBytes())) {
            read = PointReader.read(tree, "export", what, (index, content, length) ->
                    image.write(index * geometry.chunkBytes(), ByteBuffer.wrap(content, 0, length)));
            image.flush();
            complete = true;
        } finally {
            if (!complete) {
                Files.deleteIfExists(target);
            }
        }
        try (FileChannel dir = FileChannel.open(target.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException ignored) {
            // not every platform can fsync a directory; the image itself is flushed
        }
        return new RestoreResult(target, geometry.virtualBytes(), read.chunks(), read.zeroChunks(), read.sha256());
    }
}
