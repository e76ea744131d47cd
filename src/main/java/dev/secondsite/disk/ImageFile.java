package dev.secondsite.disk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The file behind a disk image: positional I/O that checks every offset and length against the file
 * size before touching the file, and builds {@link DiskFormatException}s in the package's one shape.
 * Parsers read untrusted structures only through {@link #read}, whose length is always a constant or
 * a value the caller has already bounded by a named maximum.
 */
final class ImageFile implements Closeable {

    /** Test hook that sees every write and force in order, so crash tests can replay any prefix. */
    interface IoTrace {
        void write(long position, byte[] bytes);

        void force();
    }

    /** Bytes that stand in for the file's own (a VHDX log replayed in memory for a read-only open). */
    interface Overlay {
        /** The file size the overlay implies (a log may extend the file). */
        long logicalSize();

        /** Replaces buf[off, off+len), which holds file bytes from position, with overlay bytes. */
        void patch(long position, byte[] buf, int off, int len);
    }

    private final Path path;
    private final String format;
    private final FileChannel channel;
    private final boolean writable;
    private final IoTrace trace;
    private long fileSize;
    private Overlay overlay;

    private ImageFile(Path path, String format, FileChannel channel, boolean writable, IoTrace trace)
            throws IOException {
        this.path = path;
        this.format = format;
        this.channel = channel;
        this.writable = writable;
        this.trace = trace;
        this.fileSize = channel.size();
    }

    /**
     * Opens the file. A writable open takes an exclusive lock on the whole file, so two writers (two
     * processes, qemu included, or two opens in this JVM) never append blocks over each other.
     * Read-only opens take no lock: reading an image that a hypervisor is writing is allowed.
     */
    static ImageFile open(Path path, String format, boolean writable, IoTrace trace) throws IOException {
        FileChannel ch = writable
                ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(path, StandardOpenOption.READ);
        if (writable) {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            if (lock == null) {
                ch.close();
                throw new IOException(format + " " + path + ": already open for writing (file is locked)");
            }
        }
        return new ImageFile(path, format, ch, writable, trace);
    }

    Path path() {
        return path;
    }

    String format() {
        return format;
    }

    boolean writable() {
        return writable;
    }

    /** The file size as parsers see it (including an overlay's extension). */
    long size() {
        return overlay == null ? fileSize : Math.max(fileSize, overlay.logicalSize());
    }

    /** The size of the file on disk. */
    long physicalSize() {
        return fileSize;
    }

    void setOverlay(Overlay overlay) {
        this.overlay = overlay;
    }

    DiskFormatException corrupt(String problem, long offset) {
        return new DiskFormatException(format, path, problem, offset);
    }

    /** Throws unless [position, position + length) lies inside the file. */
    void checkRange(long position, long length, String what) throws DiskFormatException {
        long size = size();
        if (position < 0 || length < 0 || position > size || length > size - position) {
            throw corrupt(what + " (" + length + " bytes) extends past the end of the file ("
                    + size + " bytes)", position);
        }
    }

    /** Reads a structure of a bounded length; the buffer is little-endian unless the caller changes it. */
    ByteBuffer read(long position, int length, String what) throws IOException {
        checkRange(position, length, what);
        ByteBuffer buf = ByteBuffer.allocate(length);
        readInto(position, buf, what);
        buf.flip();
        return buf.order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    /** Fills dst from the file at position; the whole range must lie inside the file. */
    void readInto(long position, ByteBuffer dst, String what) throws IOException {
        int len = dst.remaining();
        checkRange(position, len, what);
        int start = dst.position();
        long pos = position;
        while (dst.hasRemaining()) {
            if (pos >= fileSize) {
                // Only reachable under an overlay that extends the file: the extension reads as zeros.
                VhdDynamicImage.zero(dst);
                break;
            }
            int room = (int) Math.min(dst.remaining(), fileSize - pos);
            ByteBuffer slice = dst.slice(dst.position(), room);
            int n = channel.read(slice, pos);
            if (n < 0) {
                throw corrupt(what + ": file shrank while reading", pos);
            }
            dst.position(dst.position() + n);
            pos += n;
        }
        if (overlay != null) {
            if (dst.hasArray()) {
                overlay.patch(position, dst.array(), dst.arrayOffset() + start, len);
            } else {
                byte[] tmp = new byte[len];
                dst.get(start, tmp);
                overlay.patch(position, tmp, 0, len);
                dst.put(start, tmp);
            }
        }
    }

    void write(long position, ByteBuffer src) throws IOException {
        if (!writable) {
            throw new IllegalStateException(format + " " + path + " is open read-only");
        }
        if (trace != null) {
            byte[] copy = new byte[src.remaining()];
            src.get(src.position(), copy);
            trace.write(position, copy);
        }
        long pos = position;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
        fileSize = Math.max(fileSize, pos);
    }

    void writeZeros(long position, long length) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(zeros.capacity(), length - done);
            write(position + done, zeros.clear().limit(n));
            done += n;
        }
    }

    /** A write barrier: everything written so far is durable before anything written next. */
    void force() throws IOException {
        if (trace != null) {
            trace.force();
        }
        channel.force(true);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    static boolean allZero(byte[] b, int off, int len) {
        return Arrays.mismatch(b, off, off + len, ZEROS_64K, 0, len) < 0;
    }

    private static final byte[] ZEROS_64K = new byte[64 * 1024];

    /** Zero-detecting extents for formats without an allocation map (RAW, fixed VHD). */
    static Extent zeroScanExtent(ImageFile file, long dataStart, long virtualSize, long offset)
            throws IOException {
        final int unit = 64 * 1024;
        final long scanBytesMax = 16L << 20;
        long end = Math.min(virtualSize, offset + scanBytesMax);
        byte[] buf = new byte[unit];
        Boolean allocated = null;
        long pos = offset;
        while (pos < end) {
            int n = (int) Math.min(unit - (pos % unit), end - pos);
            file.readInto(dataStart + pos, ByteBuffer.wrap(buf, 0, n), "data");
            boolean data = !allZero(buf, 0, n);
            if (allocated == null) {
                allocated = data;
            } else if (allocated != data) {
                break;
            }
            pos += n;
        }
        return new Extent(offset, pos - offset, allocated != null && allocated);
    }
}
