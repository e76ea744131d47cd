package dev.secondsite.disk;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A disk image is malformed, truncated, or uses a feature SecondSite does not support. Every parser
 * in this package reports bad input with this one type, in one shape:
 * {@code "<format> <path>: <what is wrong> at offset N"}, where N is the file offset of the structure
 * at fault.
 */
public final class DiskFormatException extends IOException {
    private final String format;
    private final Path path;
    private final String problem;
    private final long offset;

    public DiskFormatException(String format, Path path, String problem, long offset) {
        super(format + " " + path + ": " + problem + " at offset " + Long.toUnsignedString(offset));
        this.format = format;
        this.path = path;
        this.problem = problem;
        this.offset = offset;
    }

    /** RAW, VHD or VHDX. */
    public String format() {
        return format;
    }

    public Path path() {
        return path;
    }

    /** What is wrong, without the format, path and offset. */
    public String problem() {
        return problem;
    }

    /** File offset of the structure at fault (unsigned: a bad 64-bit field is reported as stored). */
    public long offset() {
        return offset;
    }
}
