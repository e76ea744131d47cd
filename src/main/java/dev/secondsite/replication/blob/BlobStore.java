package dev.secondsite.replication.blob;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * Named immutable-by-convention blobs: the cache storage for change-log segments and the recovery
 * store for chunks, tree nodes, manifests and disk state. Kept small so that a filesystem directory
 * ({@link FileBlobStore}) and an object store (Azure Blob, S3) both implement it directly.
 *
 * <p>Contract shared by every implementation:
 * <ul>
 *   <li>{@code put} is the acknowledgement point: when it returns, the blob is durable and whole under
 *       its name; a crash during {@code put} leaves either the previous blob or the new one, never a
 *       torn mix. Overwriting replaces atomically. (The recovery store also survives a store that breaks
 *       this for the put in flight at a crash - truncated or garbage tail under the final name - by
 *       detecting and repairing it; see ADR 0007, "Torn writes". It still needs puts that returned to be
 *       durable and whole.)</li>
 *   <li>Names are validated by {@link BlobNames#validate}: {@code [A-Za-z0-9._/-]}, at most
 *       {@link BlobNames#NAME_CHARS_MAX} characters (segments {@link BlobNames#SEGMENT_CHARS_MAX}), '/'-separated segments, no empty, "." or ".."
 *       segments, no segment starting with '.' (reserved for in-flight temporary files).</li>
 *   <li>{@code list} returns full names starting with the prefix, sorted ascending (String order).</li>
 *   <li>Failures are IOExceptions whose message reads "&lt;action&gt; on &lt;store&gt; failed for
 *       &lt;name&gt;: &lt;cause&gt;".</li>
 * </ul>
 */
public interface BlobStore {

    /** Stores {@code data} under {@code name}, durably, replacing any previous blob. */
    void put(String name, byte[] data) throws IOException;

    /**
     * Stores the remaining bytes of {@code parts}, one after the other, under {@code name}, as
     * {@link #put(String, byte[])} does, without the caller building them in one array of the exact size (a pack
     * is tens of MB of chunk files; an upload's body is read into a reused array). The buffers' positions are
     * left as they are. By default the parts are copied into one array; stores that write in pieces anyway write
     * them as they are.
     */
    default void put(String name, List<ByteBuffer> parts) throws IOException {
        int length = 0;
        for (ByteBuffer part : parts) {
            length = Math.addExact(length, part.remaining());
        }
        byte[] data = new byte[length];
        int at = 0;
        for (ByteBuffer part : parts) {
            part.get(part.position(), data, at, part.remaining());
            at += part.remaining();
        }
        put(name, data);
    }

    /** Stores exactly {@code lengthBytes} read from {@code data}; fails (storing nothing) if it ends sooner. */
    void put(String name, InputStream data, long lengthBytes) throws IOException;

    /** The whole blob, or empty if there is none. For blobs known to be small. */
    Optional<byte[]> get(String name) throws IOException;

    /** A stream over the blob, or empty if there is none; buffered (small reads are cheap). The caller closes it. */
    Optional<InputStream> open(String name) throws IOException;

    /**
     * Up to {@code length} bytes of the blob from {@code offset} (fewer if it ends sooner), or empty if
     * there is none. Packs of chunks are read this way: one chunk out of a large blob.
     */
    default Optional<byte[]> readRange(String name, long offset, int length) throws IOException {
        Optional<InputStream> opened = open(name);
        if (opened.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream in = opened.get()) {
            for (long skipped = 0; skipped < offset; ) {
                long step = in.skip(offset - skipped);
                if (step <= 0) {
                    if (in.read() < 0) {
                        return Optional.of(new byte[0]);
                    }
                    step = 1;
                }
                skipped += step;
            }
            return Optional.of(in.readNBytes(length));
        }
    }

    /** Names starting with {@code prefix} ("" for all), sorted ascending. */
    List<String> list(String prefix) throws IOException;

    /** Size and last-modified time, or empty if there is no such blob. */
    Optional<BlobInfo> stat(String name) throws IOException;

    default boolean exists(String name) throws IOException {
        return stat(name).isPresent();
    }

    /**
     * Sets the blob's last-modified time to now, if it exists. Content-addressed writers call this
     * instead of re-writing a blob that is already there, so a concurrent garbage collection (which
     * spares blobs modified after its safety cut-off) cannot delete a blob that a new write relies on.
     */
    boolean touch(String name) throws IOException;

    /** Removes the blob; returns whether there was one. Durable when it returns. */
    boolean delete(String name) throws IOException;

    /**
     * Removes the blob, without waiting for the removal to be durable: after a crash the blob may be back. Only for
     * blobs whose return is harmless (a segment already applied, which cache storage recognizes and deletes again).
     * Spares a file store the directory fsync that makes a delete durable; by default the same as {@link #delete}.
     */
    default boolean deleteWithoutSync(String name) throws IOException {
        return delete(name);
    }

    /** Bytes held by all blobs (content only, without filesystem or temporary-file overhead). */
    long usedBytes() throws IOException;

    /** Work that must be durable before a blob that refers to it is put (a chunk store's flush). */
    @FunctionalInterface
    interface BeforeReference {
        void run() throws IOException;
    }
}
