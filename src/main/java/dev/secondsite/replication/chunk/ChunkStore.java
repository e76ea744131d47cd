package dev.secondsite.replication.chunk;

import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import dev.secondsite.replication.blob.BlobInfo;
import dev.secondsite.replication.blob.BlobStore;

/**
 * Content-addressed storage of chunks and tree nodes over a {@link BlobStore}.
 *
 * <p>Layout: content with SHA-256 {@code d} lives in blob {@code chunks/<d[0..2)>/<d[2..4)>/<d>} (two
 * levels of hex-prefix folders, so no directory grows past a few thousand entries), encoded as a
 * {@link ChunkFile}. Corrupt files are moved to {@code quarantine/<d>.<epoch-millis>}.
 *
 * <p>Insert is insert-if-missing: a digest that is already stored is only {@linkplain BlobStore#touch
 * touched} (so garbage collection's safety margin covers it again), never rewritten; a new one is written
 * through the blob store's temp + fsync + atomic rename. Content of all zeros is never stored: it is
 * {@link ChunkDigest#ZERO}. Every read is verified end to end: file header CRC32C, decompression to the
 * recorded length, content CRC32C, and SHA-256 equal to the digest asked for.
 *
 * <p>Thread-safe if the blob store is.
 */
public final class ChunkStore {
    /** Largest content of one stored object: a chunk of the largest chunk size (tree nodes are far smaller). */
    public static final int CONTENT_BYTES_MAX = DiskGeometry.CHUNK_BYTES_MAX;
    public static final String CHUNKS_PREFIX = "chunks/";
    public static final String QUARANTINE_PREFIX = "quarantine/";
    /** Number of first-level prefix folders (one per value of the digest's first byte). */
    public static final int SHARD_COUNT = 256;

    private final BlobStore blobs;
    private final Clock clock;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong deduplicated = new AtomicLong();

    public ChunkStore(BlobStore blobs, Clock clock) {
        this.blobs = blobs;
        this.clock = clock;
    }

    public ChunkStore(BlobStore blobs) {
        this(blobs, Clock.systemUTC());
    }

    public BlobStore blobs() {
        return blobs;
    }

    public ChunkDigest insert(byte[] content) throws IOException {
        return insert(content, 0, content.length);
    }

    /** Stores the content unless already present; returns its digest ({@link ChunkDigest#ZERO} for zeros). */
    public ChunkDigest insert(byte[] content, int offset, int length) throws IOException {
        if (length < 1 || length > CONTENT_BYTES_MAX) {
            throw new IllegalArgumentException("chunk content must be 1.." + CONTENT_BYTES_MAX + " bytes, got " + length);
        }
        if (Zeros.isAllZero(content, offset, length)) {
            return ChunkDigest.ZERO;
        }
        ChunkDigest digest = ChunkDigest.of(content, offset, length);
        String name = blobName(digest);
        if (blobs.touch(name)) {
            deduplicated.incrementAndGet();
            return digest;
        }
        byte[] file = ChunkFile.encode(content, offset, length);
        assert decodeForAssertion(file, digest); // paired: what we store reads back as the same content
        blobs.put(name, file);
        written.incrementAndGet();
        return digest;
    }

    /** Whether a chunk file exists for the digest (without verifying it). ZERO is always "present". */
    public boolean contains(ChunkDigest digest) throws IOException {
        return digest.isZero() || blobs.exists(blobName(digest));
    }

    /**
     * The verified content of a stored chunk. A damaged file is quarantined and reported as
     * {@link CorruptChunkException}, as is a missing one. ZERO has no stored content: the caller knows its
     * length and must not ask.
     */
    public byte[] read(ChunkDigest digest) throws IOException {
        if (digest.isZero()) {
            throw new IllegalArgumentException("the ZERO digest has no stored content");
        }
        String name = blobName(digest);
        Optional<InputStream> opened = blobs.open(name);
        if (opened.isEmpty()) {
            throw new CorruptChunkException(failure(digest, "chunk is missing"), digest, false);
        }
        String[] problem = new String[1];
        byte[] content = null;
        try (InputStream in = opened.get()) {
            byte[] headerBytes = in.readNBytes(ChunkFile.HEADER_BYTES);
            ChunkFile.Header header = null;
            if (headerBytes.length != ChunkFile.HEADER_BYTES) {
                problem[0] = "truncated header (" + headerBytes.length + " bytes)";
            } else {
                header = ChunkFile.decodeHeader(headerBytes, problem);
            }
            if (header != null) {
                byte[] payload = in.readNBytes(header.storedBytes());
                if (payload.length != header.storedBytes()) {
                    problem[0] = "truncated payload (" + payload.length + " of " + header.storedBytes() + " bytes)";
                } else if (in.read() != -1) {
                    problem[0] = "bytes follow the payload";
                } else {
                    content = ChunkFile.decodePayload(header, payload, problem);
                }
            }
        }
        if (content != null && !ChunkDigest.of(content).equals(digest)) {
            problem[0] = "content hashes to " + ChunkDigest.of(content) + ", not to its name";
            content = null;
        }
        if (content == null) {
            String cause = problem[0] + "; quarantined as " + quarantine(name, digest);
            throw new CorruptChunkException(failure(digest, cause), digest, true);
        }
        return content;
    }

    /** Digests stored in one first-level prefix folder (shard 0..255), sorted. */
    public List<ChunkDigest> listShard(int shard) throws IOException {
        if (shard < 0 || shard >= SHARD_COUNT) {
            throw new IllegalArgumentException("shard must be 0.." + (SHARD_COUNT - 1) + ", got " + shard);
        }
        List<ChunkDigest> digests = new ArrayList<>();
        for (String name : blobs.list(CHUNKS_PREFIX + String.format("%02x/", shard))) {
            digestOf(name).ifPresent(digests::add);
        }
        return digests;
    }

    public Optional<BlobInfo> stat(ChunkDigest digest) throws IOException {
        return blobs.stat(blobName(digest));
    }

    /** Deletes a chunk file (garbage collection only). */
    public boolean delete(ChunkDigest digest) throws IOException {
        return blobs.delete(blobName(digest));
    }

    /** Chunk files moved to quarantine so far (persistent: counted from the quarantine folder). */
    public long quarantinedCount() throws IOException {
        return blobs.list(QUARANTINE_PREFIX).size();
    }

    /** Chunk files written by this instance (inserts of new content). */
    public long writtenCount() {
        return written.get();
    }

    /** Inserts by this instance that found their content already stored. */
    public long deduplicatedCount() {
        return deduplicated.get();
    }

    public static String blobName(ChunkDigest digest) {
        String hex = digest.hex();
        return CHUNKS_PREFIX + hex.substring(0, 2) + "/" + hex.substring(2, 4) + "/" + hex;
    }

    /** The digest a chunk blob name stands for, if it is one. */
    public static Optional<ChunkDigest> digestOf(String name) {
        if (!name.startsWith(CHUNKS_PREFIX) || name.length() != CHUNKS_PREFIX.length() + 6 + 2 * ChunkDigest.BYTES) {
            return Optional.empty();
        }
        String hex = name.substring(name.length() - 2 * ChunkDigest.BYTES);
        try {
            ChunkDigest digest = ChunkDigest.parse(hex);
            return blobName(digest).equals(name) ? Optional.of(digest) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return "chunk store on " + blobs;
    }

    private String quarantine(String name, ChunkDigest digest) throws IOException {
        String target = QUARANTINE_PREFIX + digest.hex() + "." + clock.millis();
        Optional<BlobInfo> info = blobs.stat(name);
        Optional<InputStream> opened = blobs.open(name);
        if (info.isEmpty() || opened.isEmpty()) {
            return "(already gone)";
        }
        try (InputStream in = opened.get()) {
            blobs.put(target, in, info.get().sizeBytes());
        }
        blobs.delete(name);
        return target;
    }

    private String failure(ChunkDigest digest, String cause) {
        return "read on " + this + " failed for " + digest + ": " + cause;
    }

    private static boolean decodeForAssertion(byte[] file, ChunkDigest digest) {
        String[] problem = new String[1];
        byte[] headerBytes = java.util.Arrays.copyOf(file, ChunkFile.HEADER_BYTES);
        ChunkFile.Header header = ChunkFile.decodeHeader(headerBytes, problem);
        assert header != null : problem[0];
        byte[] payload = java.util.Arrays.copyOfRange(file, ChunkFile.HEADER_BYTES, file.length);
        byte[] content = ChunkFile.decodePayload(header, payload, problem);
        return content != null && ChunkDigest.of(content).equals(digest);
    }
}
