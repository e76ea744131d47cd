package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * What every format shares: argument checks against the virtual size, the per-image lock, and
 * flush-on-close. Subclasses see only in-range, non-empty requests.
 */
abstract class AbstractImage implements DiskImage {

    protected final ImageFile file;
    private boolean closed;

    AbstractImage(ImageFile file) {
        this.file = file;
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public boolean writable() {
        return file.writable();
    }

    /** Reads dst.remaining() bytes at offset; the range lies inside the disk. */
    protected abstract void readAt(long offset, ByteBuffer dst) throws IOException;

    /** Writes src at offset; the range lies inside the disk. */
    protected abstract void writeAt(long offset, ByteBuffer src) throws IOException;

    /** extentAt with 0 &lt;= offset &lt; virtualSize(). */
    protected abstract Extent extentAtChecked(long offset) throws IOException;

    /** Extra durable work of a flush (e.g. nothing, or header updates); called before the force. */
    protected void beforeFlush() throws IOException {
    }

    @Override
    public final synchronized int read(long offset, ByteBuffer dst) throws IOException {
        ensureOpen();
        long size = virtualSize();
        if (offset < 0 || offset > size) {
            throw new IllegalArgumentException("read at offset " + offset + " outside the disk (0.."
                    + size + ")");
        }
        if (!dst.hasRemaining()) {
            return 0;
        }
        if (offset == size) {
            return -1;
        }
        int n = (int) Math.min(dst.remaining(), size - offset);
        ByteBuffer window = dst.slice(dst.position(), n);
        readAt(offset, window);
        dst.position(dst.position() + n);
        return n;
    }

    @Override
    public final synchronized void write(long offset, ByteBuffer src) throws IOException {
        ensureOpen();
        if (!writable()) {
            throw new IllegalStateException(format().family() + " " + path() + " is open read-only");
        }
        long size = virtualSize();
        if (offset < 0 || src.remaining() > size || offset > size - src.remaining()) {
            throw new IllegalArgumentException("write of " + src.remaining() + " bytes at offset " + offset
                    + " does not fit in the disk (" + size + " bytes)");
        }
        if (src.hasRemaining()) {
            writeAt(offset, src);
        }
    }

    @Override
    public final synchronized void flush() throws IOException {
        ensureOpen();
        if (writable()) {
            beforeFlush();
            file.force();
        }
    }

    @Override
    public final synchronized Extent extentAt(long offset) throws IOException {
        ensureOpen();
        if (offset < 0 || offset >= virtualSize()) {
            throw new IllegalArgumentException("extent at offset " + offset + " outside the disk (0.."
                    + virtualSize() + ")");
        }
        return extentAtChecked(offset);
    }

    @Override
    public final synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            if (writable()) {
                beforeFlush();
                file.force();
            }
        } finally {
            closed = true;
            file.close();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(format().family() + " " + path() + " is closed");
        }
    }

    @Override
    public String toString() {
        return format() + " " + path() + " (" + virtualSize() + " bytes" + (writable() ? ", writable" : "")
                + ")";
    }
}
