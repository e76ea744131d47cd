package dev.secondsite.agent;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import dev.secondsite.disk.DiskFormat;
import dev.secondsite.disk.DiskImage;
import dev.secondsite.disk.DiskImages;

/**
 * A protected disk opened for one read pass: a disk image file (raw, VHD, VHDX) read as its
 * <em>virtual</em> disk through {@link DiskImages}, or a block device read raw. Opened afresh for every
 * pass, so a pass sees the image's current allocation tables.
 */
interface DiskSource extends Closeable {

    /** The virtual size in bytes. */
    long sizeBytes();

    /** Reads exactly {@code length} bytes at {@code offset} (within the disk) into {@code dst[from..]}. */
    void readFully(long offset, byte[] dst, int from, int length) throws IOException;

    /**
     * Reads as {@link #readFully} for a pass that reads the whole disk once (initial replication, resync, full
     * resend): past the page cache where the source can ({@link DirectReads}).
     */
    default void readOnce(long offset, byte[] dst, int from, int length) throws IOException {
        readFully(offset, dst, from, length);
    }

    /** False only if {@code [offset, offset + length)} certainly reads as zeros (an unallocated region). */
    boolean mayHoldData(long offset, long length) throws IOException;

    /** What the agent tells the server about a disk (register and heartbeat bodies). */
    record Description(String name, String path, long sizeBytes, int logicalSectorBytes, int physicalSectorBytes,
                       String format) {
    }

    /** Opens {@code path}: a block device raw, anything else through the disk image library. */
    static DiskSource open(Path path) throws IOException {
        if (BlockDevice.is(path)) {
            return BlockDevice.open(path);
        }
        return new Image(DiskImages.open(path, false));
    }

    /** Describes the disk at {@code path} as {@code name} (opens and closes it). */
    static Description describe(String name, Path path) throws IOException {
        Path absolute = path.toAbsolutePath().normalize();
        if (BlockDevice.is(path)) {
            try (BlockDevice device = BlockDevice.open(path)) {
                return new Description(name, absolute.toString(), device.sizeBytes(), device.logicalSectorBytes,
                        device.physicalSectorBytes, "RAW");
            }
        }
        try (DiskImage image = DiskImages.open(path, false)) {
            return describe(name, image);
        }
    }

    /**
     * Whether the image's format says where data is without reading it (allocation tables: dynamic VHD, VHDX).
     * Raw and fixed VHD find zeros only by reading them, which a pass does anyway: asking them first would read
     * every window twice.
     */
    static boolean sparse(DiskImage image) {
        return image.format() == DiskFormat.VHD_DYNAMIC || image.format() == DiskFormat.VHDX;
    }

    /** Describes an open image as {@code name}. */
    static Description describe(String name, DiskImage image) {
        return new Description(name, image.path().toAbsolutePath().normalize().toString(), image.virtualSize(),
                image.logicalSectorSize(), image.logicalSectorSize(), image.format().family());
    }

    /** A disk image file, read through its format's allocation tables. */
    class Image implements DiskSource {
        private final DiskImage image;
        private final boolean sparse;
        private final DirectReads direct; // null: not raw (other formats map offsets through their tables)

        Image(DiskImage image) {
            this.image = image;
            this.sparse = sparse(image);
            this.direct = image.format() == DiskFormat.RAW ? new DirectReads(image.path()) : null;
        }

        @Override
        public long sizeBytes() {
            return image.virtualSize();
        }

        @Override
        public void readFully(long offset, byte[] dst, int from, int length) throws IOException {
            image.readFully(offset, ByteBuffer.wrap(dst, from, length));
        }

        @Override
        public void readOnce(long offset, byte[] dst, int from, int length) throws IOException {
            if (direct == null || !direct.read(offset, dst, from, length)) {
                readFully(offset, dst, from, length);
            }
        }

        @Override
        public boolean mayHoldData(long offset, long length) throws IOException {
            return !sparse || image.isAllocated(offset, length);
        }

        @Override
        public void close() throws IOException {
            try (image) {
                if (direct != null) {
                    direct.close();
                }
            }
        }
    }

    /** A Linux block device (or any device node) read raw with positional reads. */
    final class BlockDevice implements DiskSource {
        private static final int S_IFMT = 0170000;
        private static final int S_IFBLK = 0060000;

        private final FileChannel channel;
        private final DirectReads direct;
        private final long size;
        final int logicalSectorBytes;
        final int physicalSectorBytes;

        private BlockDevice(FileChannel channel, DirectReads direct, long size, int logical, int physical) {
            this.channel = channel;
            this.direct = direct;
            this.size = size;
            this.logicalSectorBytes = logical;
            this.physicalSectorBytes = physical;
        }

        static boolean is(Path path) {
            try {
                Object mode = Files.getAttribute(path, "unix:mode");
                return mode instanceof Integer m && (m & S_IFMT) == S_IFBLK;
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                return false;
            }
        }

        static BlockDevice open(Path path) throws IOException {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
            try {
                String device = path.toRealPath().getFileName().toString();
                long size = channel.size();
                if (size <= 0) {
                    size = sysLong(Path.of("/sys/class/block", device, "size"), 0) * 512;
                }
                if (size <= 0) {
                    throw new IOException("cannot tell the size of block device " + path);
                }
                int logical = (int) sysLong(queue(device, "logical_block_size"), 512);
                int physical = (int) sysLong(queue(device, "physical_block_size"), logical);
                return new BlockDevice(channel, new DirectReads(path), size, logical, physical);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }

        private static Path queue(String device, String attribute) {
            Path own = Path.of("/sys/class/block", device, "queue", attribute);
            // A partition has no queue of its own; its parent disk's applies.
            return Files.exists(own) ? own : Path.of("/sys/class/block", device, "..", "queue", attribute);
        }

        private static long sysLong(Path file, long fallback) {
            try {
                return Long.parseLong(Files.readString(file).strip());
            } catch (IOException | NumberFormatException e) {
                return fallback;
            }
        }

        @Override
        public long sizeBytes() {
            return size;
        }

        @Override
        public void readFully(long offset, byte[] dst, int from, int length) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(dst, from, length);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, offset + (buffer.position() - from)) < 0) {
                    throw new EOFException("block device ended at " + (offset + buffer.position() - from));
                }
            }
        }

        @Override
        public void readOnce(long offset, byte[] dst, int from, int length) throws IOException {
            if (!direct.read(offset, dst, from, length)) {
                readFully(offset, dst, from, length);
            }
        }

        @Override
        public boolean mayHoldData(long offset, long length) {
            return true;
        }

        @Override
        public void close() throws IOException {
            try (channel) {
                direct.close();
            }
        }
    }
}
