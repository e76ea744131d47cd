package dev.secondsite.cloud.compute;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Sparse-file primitives for disk files, so a 1 TiB empty disk costs no space and copying it costs no time.
 * On Linux they use libc through the FFM API: a reflink clone (ioctl FICLONE, on btrfs/XFS), the data
 * extents of a file (lseek SEEK_DATA/SEEK_HOLE, on every mainstream filesystem), and hole punching
 * (fallocate PUNCH_HOLE). Elsewhere, or when a call fails, they fall back to portable Java that gives the
 * same bytes: a copy that skips all-zero blocks, one extent covering the file, zeros written.
 */
public final class SparseFiles {
    private static final int COPY_BLOCK = 1 << 20;
    private static final Native NATIVE = Native.load();

    private SparseFiles() {}

    /** A run of bytes [start, end) that may hold data; everything between runs reads as zeros. */
    public record Range(long start, long end) {
        public long length() {
            return end - start;
        }
    }

    /**
     * Copies src to a new file dst (which must not exist) with the same size and bytes, keeping holes:
     * a reflink clone when the filesystem can, else only the source's data extents are copied.
     */
    public static void copy(Path src, Path dst) throws IOException {
        if (NATIVE != null && NATIVE.cloneFile(src, dst)) {
            return;
        }
        try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(dst, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long size = in.size();
            ByteBuffer buf = ByteBuffer.allocateDirect(COPY_BLOCK);
            for (Range r : dataRanges(src, 0, size)) {
                for (long pos = r.start(); pos < r.end(); ) {
                    buf.clear().limit((int) Math.min(COPY_BLOCK, r.end() - pos));
                    int n = readFully(in, buf, pos);
                    buf.flip();
                    if (!allZero(buf)) {
                        while (buf.hasRemaining()) {
                            pos += out.write(buf, pos);
                        }
                    } else {
                        pos += n;
                    }
                }
            }
            out.force(true);
        }
        setLength(dst, java.nio.file.Files.size(src));
    }

    /** The runs of [from, to) that may hold data (allocated extents); one run covering it all without SEEK_DATA. */
    public static List<Range> dataRanges(Path file, long from, long to) throws IOException {
        if (from >= to) {
            return List.of();
        }
        if (NATIVE != null) {
            List<Range> ranges = NATIVE.dataRanges(file, from, to);
            if (ranges != null) {
                return ranges;
            }
        }
        return List.of(new Range(from, to));
    }

    /** Makes [offset, offset + length) read as zeros, freeing its space where the filesystem can. */
    public static void zero(FileChannel channel, Path file, long offset, long length) throws IOException {
        if (length <= 0) {
            return;
        }
        if (NATIVE != null && NATIVE.punchHole(file, offset, length)) {
            return;
        }
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(COPY_BLOCK, length));
        for (long pos = offset; pos < offset + length; ) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), offset + length - pos));
            while (zeros.hasRemaining()) {
                pos += channel.write(zeros, pos);
            }
        }
    }

    /** Grows or shrinks a file; growing adds a hole, not zeros on disk. */
    public static void setLength(Path file, long size) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        }
    }

    static boolean allZero(ByteBuffer buf) {
        int p = buf.position();
        int limit = buf.limit();
        while (p + 8 <= limit) {
            if (buf.getLong(p) != 0) {
                return false;
            }
            p += 8;
        }
        while (p < limit) {
            if (buf.get(p++) != 0) {
                return false;
            }
        }
        return true;
    }

    static int readFully(FileChannel in, ByteBuffer buf, long pos) throws IOException {
        int total = 0;
        while (buf.hasRemaining()) {
            int n = in.read(buf, pos + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    /** The libc calls, or null where they are not available. */
    private static final class Native {
        private static final int O_RDONLY = 0;
        private static final int O_WRONLY = 1;
        private static final int O_CREAT = 0100;
        private static final int O_EXCL = 0200;
        private static final int SEEK_DATA = 3;
        private static final int SEEK_HOLE = 4;
        private static final long FICLONE = 0x40049409L;
        private static final int FALLOC_FL_KEEP_SIZE = 1;
        private static final int FALLOC_FL_PUNCH_HOLE = 2;

        private final MethodHandle open;
        private final MethodHandle close;
        private final MethodHandle lseek;
        private final MethodHandle ioctl;
        private final MethodHandle fallocate;
        private final MethodHandle unlink;

        private Native(MethodHandle open, MethodHandle close, MethodHandle lseek, MethodHandle ioctl,
                       MethodHandle fallocate, MethodHandle unlink) {
            this.open = open;
            this.close = close;
            this.lseek = lseek;
            this.ioctl = ioctl;
            this.fallocate = fallocate;
            this.unlink = unlink;
        }

        static Native load() {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
                MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT));
                MethodHandle lseek = linker.downcallHandle(libc.find("lseek").orElseThrow(),
                        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
                MethodHandle ioctl = linker.downcallHandle(libc.find("ioctl").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT), Linker.Option.firstVariadicArg(2));
                MethodHandle fallocate = linker.downcallHandle(libc.find("fallocate").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
                MethodHandle unlink = linker.downcallHandle(libc.find("unlink").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS));
                return new Native(open, close, lseek, ioctl, fallocate, unlink);
            } catch (Throwable e) {
                return null;
            }
        }

        private int open(Arena arena, Path path, int flags, int mode) throws Throwable {
            return (int) open.invokeExact(arena.allocateFrom(path.toString()), flags, mode);
        }

        /** true when dst was created as a reflink of src; false (and no dst) when the filesystem cannot. */
        boolean cloneFile(Path src, Path dst) {
            try (Arena arena = Arena.ofConfined()) {
                int in = open(arena, src, O_RDONLY, 0);
                if (in < 0) {
                    return false;
                }
                try {
                    int out = open(arena, dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
                    if (out < 0) {
                        return false;
                    }
                    int rc;
                    try {
                        rc = (int) ioctl.invokeExact(out, FICLONE, in);
                    } finally {
                        int ignored = (int) close.invokeExact(out);
                    }
                    if (rc != 0) {
                        int ignored = (int) unlink.invokeExact(arena.allocateFrom(dst.toString()));
                        return false;
                    }
                    return true;
                } finally {
                    int ignored = (int) close.invokeExact(in);
                }
            } catch (Throwable e) {
                return false;
            }
        }

        List<Range> dataRanges(Path file, long from, long to) {
            try (Arena arena = Arena.ofConfined()) {
                int fd = open(arena, file, O_RDONLY, 0);
                if (fd < 0) {
                    return null;
                }
                try {
                    List<Range> ranges = new ArrayList<>();
                    long pos = from;
                    while (pos < to) {
                        long data = (long) lseek.invokeExact(fd, pos, SEEK_DATA);
                        if (data < 0 || data >= to) {
                            break; // ENXIO: no data after pos
                        }
                        long hole = (long) lseek.invokeExact(fd, data, SEEK_HOLE);
                        if (hole < 0) {
                            return null;
                        }
                        long end = Math.min(hole, to);
                        ranges.add(new Range(data, end));
                        pos = end;
                    }
                    return ranges;
                } finally {
                    int ignored = (int) close.invokeExact(fd);
                }
            } catch (Throwable e) {
                return null;
            }
        }

        boolean punchHole(Path file, long offset, long length) {
            try (Arena arena = Arena.ofConfined()) {
                int fd = open(arena, file, O_WRONLY, 0);
                if (fd < 0) {
                    return false;
                }
                try {
                    return (int) fallocate.invokeExact(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0;
                } finally {
                    int ignored = (int) close.invokeExact(fd);
                }
            } catch (Throwable e) {
                return false;
            }
        }
    }
}
