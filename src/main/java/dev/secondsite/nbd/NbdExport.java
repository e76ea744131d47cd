package dev.secondsite.nbd;

import java.io.IOException;

/**
 * A disk served over NBD by {@link NbdServer}. Implementations must be safe for calls from several
 * connections at once; offsets and lengths are already checked against {@link #sizeBytes()}.
 */
public interface NbdExport {

    /** The export name clients ask for (NBD_OPT_GO / NBD_OPT_EXPORT_NAME). */
    String name();

    long sizeBytes();

    boolean readOnly();

    void read(long offset, byte[] dst, int from, int length) throws IOException;

    /** Not durable until {@link #flush()}. */
    void write(long offset, byte[] src, int from, int length) throws IOException;

    /** {@code [offset, offset + length)} reads as zeros afterwards (NBD_CMD_WRITE_ZEROES). */
    void writeZeroes(long offset, long length) throws IOException;

    /** Makes every completed write durable. */
    void flush() throws IOException;
}
