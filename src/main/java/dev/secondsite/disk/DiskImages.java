package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.UUID;

/**
 * Opens and creates disk images.
 *
 * <p>Formats are told apart by content, the way the specifications lay them out: "vhdxfile" at offset
 * 0 is VHDX; a "conectix" footer in the last 512 bytes is VHD (fixed or dynamic by its disk type), as
 * is a "conectix" footer copy at offset 0 (a dynamic VHD whose trailing footer was lost); anything
 * else is RAW. A raw disk whose own content starts with one of these signatures would be taken for
 * that format, so callers that know the format should use {@link #open(Path, DiskFormat, boolean)}.
 *
 * <p>Every parser checks offsets and lengths against the file before reading and bounds every table
 * by a named maximum; malformed input fails with {@link DiskFormatException}.
 */
public final class DiskImages {

    private DiskImages() {
    }

    /**
     * Options for {@link #create}. A block size of 0 means the format's default (VHD: 2 MiB, VHDX:
     * 32 MiB); sector sizes apply to VHDX only (512 or 4096).
     */
    public record CreateOptions(long blockSize, int logicalSectorSize, int physicalSectorSize) {
        public static CreateOptions defaults() {
            return new CreateOptions(0, 512, 512);
        }

        public CreateOptions withBlockSize(long bytes) {
            return new CreateOptions(bytes, logicalSectorSize, physicalSectorSize);
        }

        public CreateOptions withSectorSizes(int logical, int physical) {
            return new CreateOptions(blockSize, logical, physical);
        }
    }

    /** The format of the image at path, judged by its content. */
    public static DiskFormat detect(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            byte[] head = readAt(ch, 0, (int) Math.min(size, VhdFooter.SIZE));
            if (head.length >= 8 && Arrays.equals(head, 0, 8, VhdxImage.FILE_SIGNATURE, 0, 8)) {
                return DiskFormat.VHDX;
            }
            if (size >= VhdFooter.SIZE) {
                byte[] tail = readAt(ch, size - VhdFooter.SIZE, VhdFooter.SIZE);
                if (Arrays.equals(tail, 0, 8, VhdFooter.COOKIE, 0, 8)) {
                    int type = ByteBuffer.wrap(tail).getInt(VhdFooter.DISK_TYPE_OFFSET);
                    return type == VhdFooter.TYPE_FIXED ? DiskFormat.VHD_FIXED : DiskFormat.VHD_DYNAMIC;
                }
                if (Arrays.equals(head, 0, 8, VhdFooter.COOKIE, 0, 8)) {
                    return DiskFormat.VHD_DYNAMIC;
                }
            }
            return DiskFormat.RAW;
        }
    }

    private static byte[] readAt(FileChannel ch, long pos, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(len);
        while (buf.hasRemaining()) {
            if (ch.read(buf, pos + buf.position()) < 0) {
                break;
            }
        }
        return Arrays.copyOf(buf.array(), buf.position());
    }

    /** Opens an image, detecting its format by content. */
    public static DiskImage open(Path path, boolean writable) throws IOException {
        return open(path, detect(path), writable, null);
    }

    /** Opens an image as the given format (VHD_FIXED and VHD_DYNAMIC must match the footer). */
    public static DiskImage open(Path path, DiskFormat format, boolean writable) throws IOException {
        return open(path, format, writable, null);
    }

    static DiskImage open(Path path, DiskFormat format, boolean writable, ImageFile.IoTrace trace)
            throws IOException {
        ImageFile file = ImageFile.open(path, format.family(), writable, trace);
        try {
            AbstractImage image = switch (format) {
                case RAW -> new RawImage(file);
                case VHD_FIXED, VHD_DYNAMIC -> Vhd.open(file);
                case VHDX -> VhdxImage.open(file);
            };
            if (image.format() != format) {
                throw file.corrupt("is a " + image.format() + " image, not " + format, 0);
            }
            return image;
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Creates a new, empty (all zeros) image with default options and opens it writable. */
    public static DiskImage create(Path path, DiskFormat format, long virtualSize) throws IOException {
        return create(path, format, virtualSize, CreateOptions.defaults());
    }

    /**
     * Creates a new, empty image and opens it writable. The image is built under a temporary name in
     * the same directory and renamed into place, so path never holds a half-written image.
     *
     * @throws FileAlreadyExistsException if path exists
     * @throws IllegalArgumentException if the size or options do not suit the format
     */
    public static DiskImage create(Path path, DiskFormat format, long virtualSize, CreateOptions options)
            throws IOException {
        if (virtualSize <= 0) {
            throw new IllegalArgumentException("virtual size must be positive, got " + virtualSize);
        }
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(path.toString());
        }
        Path tmp = path.resolveSibling("." + path.getFileName() + ".creating-" + UUID.randomUUID());
        Files.createFile(tmp);
        try {
            switch (format) {
                case RAW -> RawImage.format(tmp, virtualSize);
                case VHD_FIXED -> Vhd.formatFixed(tmp, virtualSize);
                case VHD_DYNAMIC -> Vhd.formatDynamic(tmp, virtualSize,
                        options.blockSize() == 0 ? VhdDynamicHeader.DEFAULT_BLOCK_SIZE : options.blockSize());
                case VHDX -> VhdxImage.format(tmp, virtualSize,
                        options.blockSize() == 0 ? VhdxImage.DEFAULT_BLOCK_SIZE : options.blockSize(),
                        options.logicalSectorSize(), options.physicalSectorSize());
            }
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncDirectory(path.toAbsolutePath().getParent());
        return open(path, format, true);
    }

    private static void syncDirectory(Path dir) {
        if (dir == null) {
            return;
        }
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Not every platform can open a directory; the rename itself has happened.
        }
    }
}
