package dev.secondsite.replication.blob;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * A stream over a whole file mapped into memory, for the large blobs read from start to end (cache segments of tens
 * of MB, read once by apply). A read copies straight from the page cache into the caller's array, where a file
 * channel read into a heap array copies through a temporary direct buffer, and a BufferedInputStream on top once
 * more: two copies of every byte fewer, and no system call per read. The mapping is released when the stream is
 * closed.
 *
 * <p>Blobs are not changed in place (a put writes a temporary file and renames it), so the file keeps its length
 * under the mapping, and deleting it leaves the mapping readable. Should something truncate it anyway, reading the
 * lost part makes the JVM raise an InternalError on the reading thread, possibly a little after the read (it cannot
 * be caught here reliably); a segment's checksums fail on what such a read returned.
 *
 * <p>Not thread-safe, like any stream; it may be read and closed by another thread than the one that opened it.
 */
final class MappedFileInputStream extends InputStream {
    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private long position;
    private long mark;
    private boolean closed;

    private MappedFileInputStream(Path path, Arena arena, MemorySegment file) {
        this.path = path;
        this.arena = arena;
        this.file = file;
    }

    static MappedFileInputStream open(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            Arena arena = Arena.ofShared();
            try {
                return new MappedFileInputStream(path, arena,
                        channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena));
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        ensureOpen();
        if (length == 0) {
            return 0;
        }
        long remaining = file.byteSize() - position;
        if (remaining <= 0) {
            return -1;
        }
        int count = (int) Math.min(length, remaining);
        MemorySegment.copy(file, ValueLayout.JAVA_BYTE, position, bytes, offset, count);
        position += count;
        return count;
    }

    @Override
    public long skip(long n) throws IOException {
        ensureOpen();
        long skipped = Math.max(0, Math.min(n, file.byteSize() - position));
        position += skipped;
        return skipped;
    }

    @Override
    public int available() throws IOException {
        ensureOpen();
        return (int) Math.min(Integer.MAX_VALUE, file.byteSize() - position);
    }

    @Override
    public boolean markSupported() {
        return true;
    }

    @Override
    public void mark(int readLimit) {
        mark = position;
    }

    @Override
    public void reset() throws IOException {
        ensureOpen();
        position = mark;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("the stream over " + path + " is closed");
        }
    }
}
