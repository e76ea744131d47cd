package dev.secondsite.bench.e2e;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where {@link Churn} writes: the image file itself (scan mode: page cache, no fsync, the agent rescans the
 * file) or an NBD export the agent serves (CDP mode: every write goes through the agent, which tracks it).
 */
interface ChurnTarget extends AutoCloseable {

    /** Writes all of {@code data}'s remaining bytes at {@code offset} (the buffer is consumed). */
    void write(long offset, ByteBuffer data) throws IOException;

    /** Makes every write so far durable in the image file (before peers read it, O_DIRECT included). */
    void flush() throws IOException;

    /** For logs and the report. */
    String describe();

    @Override
    void close() throws IOException;

    /** Writes to the image file through the page cache, like a guest writing to its disk. */
    static ChurnTarget file(Path image) throws IOException {
        FileChannel channel = FileChannel.open(image, StandardOpenOption.WRITE);
        return new ChurnTarget() {
            @Override
            public void write(long offset, ByteBuffer data) throws IOException {
                long position = offset;
                while (data.hasRemaining()) {
                    position += channel.write(data, position);
                }
            }

            @Override
            public void flush() throws IOException {
                channel.force(true);
            }

            @Override
            public String describe() {
                return "file " + image;
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }

    /**
     * Writes through an NBD export. A write counts once it is sent (up to the client's window is in flight, as
     * with page-cache writes not yet written back); {@link #flush()} waits for every reply and sends
     * NBD_CMD_FLUSH; {@link #close()} sends NBD_CMD_DISC.
     */
    static ChurnTarget nbd(NbdClient client) {
        return new ChurnTarget() {
            @Override
            public void write(long offset, ByteBuffer data) throws IOException {
                client.pwrite(offset, data);
            }

            @Override
            public void flush() throws IOException {
                client.flush();
            }

            @Override
            public String describe() {
                return "NBD export " + client.export();
            }

            @Override
            public void close() throws IOException {
                client.close();
            }
        };
    }
}
