package dev.secondsite.replication.chunk;

import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import dev.secondsite.replication.blob.BlobInfo;
import dev.secondsite.replication.blob.BlobStore;

/**
 * Content-addressed storage of chunks and tree nodes over a {@link BlobStore}.
 *
 * <p>Layout (ADR 0007): new content is written in packs, {@code packs/<pp>/<128-bit random hex>.pack}
 * ({@link PackFile}), each holding many chunk files ({@link ChunkFile}) behind an index. Stores written by
 * earlier versions hold one blob per chunk, {@code chunks/<d[0..2)>/<d[2..4)>/<d>}; those stay readable
 * (and collectable) and are never written any more. Corrupt content is copied to
 * {@code quarantine/<d>.<epoch-millis>}.
 *
 * <p>Why packs: a durable put costs an fsync of the file and of its directory; with one blob per chunk,
 * applying a segment cost two fsyncs per changed chunk. Inserts are now buffered in memory (the
 * <em>pending pack</em>) and {@link #flush()} writes them as one pack with one put. Until then they are
 * not durable, so <b>nothing may name a pending chunk durably</b>: the recovery store's manifest and
 * disk-state writers call {@link #flush()} before every put (and {@link TreeBuilder#finish} flushes).
 * The pending pack is also flushed when it reaches {@link #PACK_BYTES_TARGET}, bounding memory.
 *
 * <p>Lookup: an in-memory index ({@link ChunkIndex}, about 70 bytes per entry) maps every stored digest to its
 * pack entry (or legacy blob). It is built on first use from the packs' indexes (the head of each pack) and the
 * legacy blob names, and refreshed when a read misses (another process may have added packs).
 *
 * <p>Insert is insert-if-missing: content already stored is not written again; its pack (or legacy blob)
 * is {@linkplain BlobStore#touch touched} so garbage collection's safety margin covers it again. Content
 * of all zeros is never stored: it is {@link ChunkDigest#ZERO}. Every read is verified end to end: file
 * header CRC32C, decompression to the recorded length, content CRC32C, and the content named by the digest.
 *
 * <p>Deltas (ADR 0007, "Deltas" and "Delta chains"): a chunk changed in part by apply ({@link #edit},
 * {@link #prepare(EditableChunk)}) is stored as the blocks this change wrote, over the chunk as it was (its
 * base), when they are at most {@link #DELTA_SHARE_MAX} of the chunk and the base's chain is shorter than
 * {@link #CHAIN_FILES_MAX} files; otherwise whole. So a chunk written again and again in small pieces costs about
 * the bytes written, and a read opens at most {@link #CHAIN_FILES_MAX} files. The base is recorded in the pack
 * index; a delta counts as stored only while its whole chain is, {@link #addDeltaBases} lets garbage collection
 * keep live deltas' chains, and a read of a delta composes its chain. Names are made of block digests
 * ({@link ChunkDigest}), so apply changes a chunk without reading its content: only its block digests.
 *
 * <p>Thread-safe if the blob store is (one lock guards the index and the pending pack).
 */
public final class ChunkStore {
    /** Largest content of one stored object: a chunk of the largest chunk size (tree nodes are far smaller). */
    public static final int CONTENT_BYTES_MAX = DiskGeometry.CHUNK_BYTES_MAX;
    public static final String CHUNKS_PREFIX = "chunks/";
    public static final String PACKS_PREFIX = "packs/";
    public static final String PACK_SUFFIX = ".pack";
    public static final String QUARANTINE_PREFIX = "quarantine/";
    /** Number of first-level prefix folders of legacy chunk blobs (one per value of the digest's first byte). */
    public static final int SHARD_COUNT = 256;
    /** The pending pack is written once its chunk files reach this many bytes. */
    public static final int PACK_BYTES_TARGET = 32 << 20;

    /** Stored chunk changed in part and written as a delta only if its changed blocks are at most this share. */
    static final double DELTA_SHARE_MAX = 0.75;
    /**
     * Most files a read of one chunk opens: a full chunk (or a delta over zeros) and the deltas over it. A change
     * that would make the chain longer stores the chunk whole. Eight keeps a chunk written in small pieces at about
     * 1.1 bytes stored per byte written (ADR 0007) and a read of the longest chain at eight ranged reads.
     */
    static final int CHAIN_FILES_MAX = 8;
    /** A blob this store touched less than this long ago is not touched again (see {@link #touch}). */
    static final Duration TOUCH_EVERY = Duration.ofMinutes(10);

    /**
     * Where a digest's chunk file is: an entry of a pack, or (pack == null) a legacy per-chunk blob; and the
     * full chunk it is a delta over (null: none).
     */
    public record Location(String pack, long offset, int length, ChunkDigest base) {
        boolean legacy() {
            return pack == null;
        }
    }

    private final BlobStore blobs;
    private final Clock clock;
    private final int packBytesTarget;
    private final SecureRandom random = new SecureRandom();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong deduplicated = new AtomicLong();
    private final AtomicLong packsWritten = new AtomicLong();

    private final Object lock = new Object();
    /** Digest to location of everything stored; null until first used. Guarded by lock. */
    private ChunkIndex index;
    private final Set<String> indexedPacks = new HashSet<>();
    /** A chunk file inserted but not yet written, and its delta base (null: none). */
    private record PendingFile(byte[] file, ChunkDigest base) {
    }

    /** Chunk files inserted but not yet written (insertion order). Guarded by lock. */
    private final LinkedHashMap<ChunkDigest, PendingFile> pending = new LinkedHashMap<>();
    private long pendingBytes;
    /** When this store last touched each blob (clock millis), to touch each at most every TOUCH_EVERY. Guarded by lock. */
    private final Map<String, Long> touchedAt = new HashMap<>();
    /** Decoded tree nodes, shared by every tree over this store. */
    private final NodeCache nodes = new NodeCache();

    public ChunkStore(BlobStore blobs, Clock clock, int packBytesTarget) {
        if (packBytesTarget < 1) {
            throw new IllegalArgumentException("pack target must be >= 1 byte, got " + packBytesTarget);
        }
        this.blobs = blobs;
        this.clock = clock;
        this.packBytesTarget = packBytesTarget;
    }

    public ChunkStore(BlobStore blobs, Clock clock) {
        this(blobs, clock, PACK_BYTES_TARGET);
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

    /**
     * Stores the content unless already present; returns its digest ({@link ChunkDigest#ZERO} for zeros).
     * New content is durable only after the next {@link #flush()}.
     */
    public ChunkDigest insert(byte[] content, int offset, int length) throws IOException {
        return insert(prepare(content, offset, length));
    }

    /**
     * A chunk named and encoded for {@link #insert(Prepared)}: {@code file} is null for ZERO and for content
     * already stored; {@code base} is the full chunk a delta file is made over (else null). The expensive half
     * of an insert (SHA-256, compression), safe to run for many chunks in parallel; the inserts themselves then
     * go in a fixed order, so what the store writes stays deterministic.
     */
    public record Prepared(ChunkDigest digest, byte[] file, ChunkDigest base) {
    }

    public Prepared prepare(byte[] content, int offset, int length) throws IOException {
        if (length < 1 || length > CONTENT_BYTES_MAX) {
            throw new IllegalArgumentException("chunk content must be 1.." + CONTENT_BYTES_MAX + " bytes, got " + length);
        }
        if (Zeros.isAllZero(content, offset, length)) {
            return new Prepared(ChunkDigest.ZERO, null, null);
        }
        byte[] digests = ChunkDigest.blockDigests(content, offset, length);
        ChunkDigest digest = ChunkDigest.ofBlocks(digests, length);
        if (alreadyStored(digest)) {
            return new Prepared(digest, null, null);
        }
        // Outside the lock: compression is the slow part.
        byte[] file = ChunkFile.encode(content, offset, length, digests);
        assert decodeForAssertion(file, digest, null); // paired: what we store reads back as the same content
        return new Prepared(digest, file, null);
    }

    /**
     * As {@link #prepare(byte[], int, int)} for a chunk changed by apply: its name from its block digests, the
     * changed blocks hashed anew (not the whole chunk); a delta over the edit's base when the changed blocks are
     * at most {@link #DELTA_SHARE_MAX} of the chunk and the base is still stored with a chain shorter than
     * {@link #CHAIN_FILES_MAX}, else the whole chunk (which reads the base if its content is not at hand).
     */
    public Prepared prepare(EditableChunk edited) throws IOException {
        byte[] content = edited.content();
        byte[] digests = edited.refreshDigests();
        if (ChunkDigest.zeroBlocks(digests, content.length)) {
            return new Prepared(ChunkDigest.ZERO, null, null);
        }
        ChunkDigest digest = ChunkDigest.ofBlocks(digests, content.length);
        if (alreadyStored(digest)) {
            return new Prepared(digest, null, null);
        }
        BitSet changed = edited.changedBlocks();
        long changedBytes = (long) changed.cardinality() * ChunkDigest.BLOCK_BYTES;
        ChunkDigest base = edited.base();
        boolean small = !changed.isEmpty() && changedBytes <= DELTA_SHARE_MAX * content.length;
        // A base gone since it was read (collected elsewhere) cannot carry a delta, nor one whose chain is full.
        if (small && (base.isZero() || canCarryDelta(base))) {
            byte[] file = ChunkFile.encodeDelta(content, base, changed, digests);
            assert decodeForAssertion(file, digest, edited);
            return new Prepared(digest, file, base.isZero() ? null : base);
        }
        edited.complete();
        byte[] file = ChunkFile.encode(content, 0, content.length, digests);
        assert decodeForAssertion(file, digest, null);
        return new Prepared(digest, file, null);
    }

    /** Stores a prepared chunk unless already present (see {@link #prepare}); returns its digest. */
    public ChunkDigest insert(Prepared prepared) throws IOException {
        ChunkDigest digest = prepared.digest();
        if (digest.isZero()) {
            return digest;
        }
        byte[] file = prepared.file();
        if (file == null || alreadyStored(digest)) {
            deduplicated.incrementAndGet();
            return digest;
        }
        synchronized (lock) {
            if (pending.putIfAbsent(digest, new PendingFile(file, prepared.base())) == null) {
                pendingBytes += file.length;
                written.incrementAndGet();
                if (pendingBytes >= packBytesTarget) {
                    flush();
                }
            }
        }
        return digest;
    }

    /** Makes every inserted chunk durable: writes the pending pack, if any, with one put. */
    public void flush() throws IOException {
        synchronized (lock) {
            if (pending.isEmpty()) {
                return;
            }
            ensureIndex();
            List<ChunkDigest> digests = new ArrayList<>(pending.keySet());
            List<byte[]> files = pending.values().stream().map(PendingFile::file).toList();
            List<ChunkDigest> bases = pending.values().stream().map(PendingFile::base).toList();
            String name = newPackName();
            blobs.put(name, PackFile.encodeParts(digests, files, bases)); // if this fails, the chunks stay pending
            long offset = PackFile.indexBytes(digests.size());
            for (int i = 0; i < digests.size(); i++) {
                index.put(digests.get(i), new Location(name, offset, files.get(i).length, bases.get(i)));
                offset += files.get(i).length;
            }
            indexedPacks.add(name);
            pending.clear();
            pendingBytes = 0;
            packsWritten.incrementAndGet();
        }
    }

    /**
     * Whether the digest's content is stored or pending (without verifying it), a delta's whole chain included.
     * ZERO is always "present".
     */
    public boolean contains(ChunkDigest digest) throws IOException {
        if (digest.isZero()) {
            return true;
        }
        synchronized (lock) {
            ensureIndex();
            return storedChain(digest, false) > 0;
        }
    }

    /**
     * Adds to {@code live} the chains of the deltas in it (their bases, their bases' bases, ...): a live delta keeps
     * its chain alive (garbage collection, after marking). Returns how many were added.
     */
    public int addDeltaBases(Set<ChunkDigest> live) throws IOException {
        List<ChunkDigest> bases = new ArrayList<>();
        synchronized (lock) {
            ensureIndex();
            for (ChunkDigest digest : live) {
                ChunkDigest base = baseOf(digest);
                for (int link = 1; base != null && link < CHAIN_FILES_MAX; link++) {
                    bases.add(base);
                    base = baseOf(base);
                }
            }
        }
        int added = 0;
        for (ChunkDigest base : bases) {
            added += live.add(base) ? 1 : 0;
        }
        return added;
    }

    /** Where the digest's chunk file is stored, if it is (not while pending). For tests and diagnostics. */
    public Optional<Location> location(ChunkDigest digest) throws IOException {
        synchronized (lock) {
            ensureIndex();
            return Optional.ofNullable(index.get(digest));
        }
    }

    /**
     * The verified content of a stored chunk. Damaged content is quarantined and reported as
     * {@link CorruptChunkException}, as is a missing chunk. ZERO has no stored content: the caller knows
     * its length and must not ask.
     */
    public byte[] read(ChunkDigest digest) throws IOException {
        return readContents(digest, true, 1);
    }

    NodeCache nodes() {
        return nodes;
    }

    /**
     * Chunk {@code digest} of {@code chunkBytes}, to be changed by apply: the base of the delta a change of it can
     * become (ADR 0007, "Delta chains"). A chunk file, full or delta, is read only as far as its block digests
     * ("Block digests"), which are checked against the name. Anything else (a chunk file from before block
     * digests, or one whose digests do not match) is read whole and verified like {@link #read}, so damage is
     * caught and quarantined.
     */
    public EditableChunk edit(ChunkDigest digest, int chunkBytes) throws IOException {
        if (digest.isZero()) {
            return EditableChunk.zeros(chunkBytes);
        }
        byte[] file = fetch(digest, ChunkFile.HEADER_BYTES + ChunkFile.digestBytes(chunkBytes)).file();
        String[] problem = new String[1];
        ChunkFile.Header header = ChunkFile.decodeHeader(file, problem);
        if (header != null && !header.legacy() && header.contentBytes() == chunkBytes) {
            byte[] digests = ChunkFile.blockDigests(header, file); // the header is decoded once
            if (digests != null && ChunkDigest.ofBlocks(digests, chunkBytes).equals(digest)) {
                return new EditableChunk(this, new byte[chunkBytes], digest, new BitSet(), digests, false);
            }
        }
        byte[] content = readContents(digest, true, 1);
        if (content.length != chunkBytes) {
            throw new CorruptChunkException(failure(digest, "it holds " + content.length + " bytes, expected "
                    + chunkBytes), digest, false);
        }
        return new EditableChunk(this, content, digest, new BitSet(), ChunkDigest.blockDigests(content, 0,
                content.length), true);
    }

    /**
     * The CRC-checked content of a chunk, composed through its delta chain: a delta's base, read when an edit
     * needs bytes it does not have. The name is not checked (the edit's new name is made of block digests).
     */
    byte[] baseContent(ChunkDigest base) throws IOException {
        return readContents(base, false, 1);
    }

    /** A chunk file's bytes as stored (unverified), and where: pending (location null) or stored. */
    private record Stored(byte[] file, Location location) {
    }

    /**
     * A chunk file's bytes; of a pack entry, at most its first {@code limit} bytes. A chunk that is not there, or
     * is deleted before it is read, is {@link CorruptChunkException}.
     */
    private Stored fetch(ChunkDigest digest, int limit) throws IOException {
        Location location;
        synchronized (lock) {
            PendingFile pendingFile = pending.get(digest);
            if (pendingFile != null) {
                return new Stored(pendingFile.file(), null);
            }
            location = locate(digest);
        }
        if (location != null) {
            Optional<byte[]> stored = readStored(digest, location, limit);
            if (stored.isEmpty()) { // deleted since we looked (by a collector elsewhere): look once more
                synchronized (lock) {
                    index.remove(digest, location);
                    location = locate(digest);
                }
                stored = location == null ? Optional.empty() : readStored(digest, location, limit);
            }
            if (stored.isPresent()) {
                return new Stored(stored.get(), location);
            }
        }
        throw new CorruptChunkException(failure(digest, "chunk is missing"), digest, false);
    }

    /**
     * Reads, decodes and checks a chunk; a delta is composed with its base, read the same way. {@code link}: the
     * chunk's place in the chain being read (1: the chunk asked for); a chain longer than {@link #CHAIN_FILES_MAX}
     * is damage (a base that is not the one the delta was made over), never followed further.
     */
    private byte[] readContents(ChunkDigest digest, boolean verifyName, int link) throws IOException {
        if (digest.isZero()) {
            throw new IllegalArgumentException("the ZERO digest has no stored content");
        }
        Stored stored = fetch(digest, Integer.MAX_VALUE);
        byte[] file = stored.file();
        Location location = stored.location();
        String[] problem = new String[1];
        ChunkFile.Decoded decoded = ChunkFile.decode(file, problem);
        byte[] content = decoded == null ? null : decoded.content();
        if (decoded != null && decoded.delta() != null) {
            content = ChunkFile.compose(decoded, baseContent(digest, decoded, link), problem);
        }
        if (verifyName && content != null) {
            problem[0] = nameProblem(digest, decoded, content);
            content = problem[0] == null ? content : null;
        }
        if (content == null) {
            String cause = problem[0] + "; quarantined as " + quarantine(digest, location, file);
            throw new CorruptChunkException(failure(digest, cause), digest, true);
        }
        return content;
    }

    /**
     * Why a decoded file's content is not what {@code digest} names, or null if it is: the content must hash to
     * the name and, in format 2, to the block digests stored with it (apply builds new names on those).
     */
    private static String nameProblem(ChunkDigest digest, ChunkFile.Decoded decoded, byte[] content) {
        if (decoded.header().legacy()) {
            ChunkDigest named = ChunkDigest.legacy(content, 0, content.length);
            return named.equals(digest) ? null : "content hashes to " + named + ", not to its name";
        }
        byte[] digests = ChunkDigest.blockDigests(content, 0, content.length);
        ChunkDigest named = ChunkDigest.ofBlocks(digests, content.length);
        if (!named.equals(digest)) {
            return "content hashes to " + named + ", not to its name";
        }
        return java.util.Arrays.equals(digests, decoded.blockDigests()) ? null
                : "the block digests stored with it do not match its content";
    }

    /**
     * The content of the base a delta is made over, CRC-checked (the delta's own content CRC32C, and the name
     * check of {@code read}, then cover the composed whole). A base that cannot be read makes the delta
     * unreadable, but the delta itself is not damaged, so it is not quarantined.
     */
    private byte[] baseContent(ChunkDigest digest, ChunkFile.Decoded decoded, int link) throws IOException {
        ChunkDigest base = decoded.delta().base();
        if (base.isZero()) {
            return new byte[decoded.header().contentBytes()];
        }
        if (link >= CHAIN_FILES_MAX) {
            throw new CorruptChunkException(failure(digest, "its delta chain is longer than " + CHAIN_FILES_MAX
                    + " files"), digest, false);
        }
        try {
            return readContents(base, false, link + 1);
        } catch (CorruptChunkException e) {
            throw new CorruptChunkException(failure(digest, "its delta base cannot be read: " + e.getMessage()), digest,
                    false);
        }
    }

    /** Names of all packs, sorted. */
    public List<String> packNames() throws IOException {
        return blobs.list(PACKS_PREFIX).stream().filter(name -> name.endsWith(PACK_SUFFIX)).toList();
    }

    /** The digests a pack holds (read from its index), or empty if it is gone. */
    public Optional<List<ChunkDigest>> packDigests(String pack) throws IOException {
        Optional<List<PackFile.Entry>> entries = readPackIndex(pack);
        return entries.map(list -> list.stream().map(PackFile.Entry::digest).toList());
    }

    /** Deletes a pack (garbage collection only: none of its chunks may be referenced). */
    public boolean deletePack(String pack) throws IOException {
        synchronized (lock) {
            Optional<List<PackFile.Entry>> entries = index == null ? Optional.empty() : readPackIndex(pack);
            boolean deleted = blobs.delete(pack);
            if (entries.isPresent()) { // forget its entries, unless a newer pack holds the same digest
                for (PackFile.Entry entry : entries.get()) {
                    index.removeIfIn(entry.digest(), pack);
                }
            } else if (index != null) {
                index.removePack(pack);
            }
            indexedPacks.remove(pack);
            touchedAt.remove(pack);
            return deleted;
        }
    }

    /**
     * Replaces a pack by a new one holding only the chunks {@code keep} accepts (garbage collection's
     * compaction, and quarantine). The new pack is durable before the old one is deleted, so a crash in
     * between leaves both, never neither. Returns the old pack's size in bytes minus the new one's entries.
     */
    public long rewritePack(String pack, Predicate<ChunkDigest> keep) throws IOException {
        synchronized (lock) {
            Optional<List<PackFile.Entry>> entries = readPackIndex(pack);
            if (entries.isEmpty()) {
                return 0;
            }
            flush(); // so that what is pending now does not end up tied to this rewrite
            long kept = 0;
            for (PackFile.Entry entry : entries.get()) {
                if (keep.test(entry.digest())) {
                    Optional<byte[]> file = blobs.readRange(pack, entry.offset(), entry.length());
                    if (file.isPresent() && file.get().length == entry.length()) { // a truncated entry is lost anyway
                        pending.put(entry.digest(), new PendingFile(file.get(), entry.base()));
                        pendingBytes += entry.length();
                        kept += entry.length();
                    }
                }
            }
            long before = blobs.stat(pack).map(BlobInfo::sizeBytes).orElse(0L);
            flush();
            deletePack(pack);
            return Math.max(0, before - kept);
        }
    }

    /** Digests of legacy per-chunk blobs in one first-level prefix folder (shard 0..255), sorted. */
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

    /** Size and age of a legacy per-chunk blob. */
    public Optional<BlobInfo> stat(ChunkDigest digest) throws IOException {
        return blobs.stat(blobName(digest));
    }

    /** Deletes a legacy per-chunk blob (garbage collection only). */
    public boolean delete(ChunkDigest digest) throws IOException {
        synchronized (lock) {
            if (index != null) {
                index.remove(digest, new Location(null, 0, 0, null));
            }
            touchedAt.remove(blobName(digest));
            return blobs.delete(blobName(digest));
        }
    }

    /** Chunk files moved to quarantine so far (persistent: counted from the quarantine folder). */
    public long quarantinedCount() throws IOException {
        return blobs.list(QUARANTINE_PREFIX).size();
    }

    /** Chunks written by this instance (inserts of new content). */
    public long writtenCount() {
        return written.get();
    }

    /** Inserts by this instance that found their content already stored. */
    public long deduplicatedCount() {
        return deduplicated.get();
    }

    /** Packs written by this instance (each one durable put). */
    public long packsWrittenCount() {
        return packsWritten.get();
    }

    /** The legacy per-chunk blob name of a digest (stores from before packs). */
    public static String blobName(ChunkDigest digest) {
        String hex = digest.hex();
        return CHUNKS_PREFIX + hex.substring(0, 2) + "/" + hex.substring(2, 4) + "/" + hex;
    }

    /** The digest a legacy chunk blob name stands for, if it is one. */
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

    /**
     * Whether the digest is stored (touching its blob, and its delta chain's, so GC keeps them) or pending. A
     * delta whose chain is broken counts as not stored: the content is stored again.
     */
    private boolean alreadyStored(ChunkDigest digest) throws IOException {
        synchronized (lock) {
            ensureIndex();
            return storedChain(digest, true) > 0;
        }
    }

    /**
     * How many files a read of the digest opens (its delta chain: 1 for a full chunk), each stored or pending; 0 if
     * a link is missing, or the chain is longer than {@link #CHAIN_FILES_MAX} (damage). {@code touch}: touch each
     * stored link's blob, so GC's safety margin covers it again, and forget links whose blob is gone. Caller holds
     * the lock, index loaded.
     */
    private int storedChain(ChunkDigest digest, boolean touch) throws IOException {
        ChunkDigest at = digest;
        for (int files = 1; files <= CHAIN_FILES_MAX; files++) {
            PendingFile pendingFile = pending.get(at);
            Location location = pendingFile == null ? index.get(at) : null;
            if (pendingFile == null && location == null) {
                return 0;
            }
            if (location != null && touch && !touch(location.legacy() ? blobName(at) : location.pack())) {
                index.remove(at, location); // its blob is gone (collected elsewhere): store the content again
                return 0;
            }
            at = pendingFile != null ? pendingFile.base() : location.base();
            if (at == null) {
                return files;
            }
        }
        return 0;
    }

    /**
     * Touches a blob unless this store touched it less than {@link #TOUCH_EVERY} ago; false if it is gone. A delta
     * touches its whole chain, so without this every change of a busy chunk would touch up to seven packs. Skipping
     * is safe: garbage collection spares blobs modified within its safety margin (a day), far longer than
     * {@link #TOUCH_EVERY}, so a blob touched that recently can be neither deleted nor compacted yet. Caller holds
     * the lock.
     */
    private boolean touch(String name) throws IOException {
        long now = clock.millis();
        Long last = touchedAt.get(name);
        if (last != null && now - last < TOUCH_EVERY.toMillis() && now >= last) {
            return true;
        }
        if (!blobs.touch(name)) {
            touchedAt.remove(name);
            return false;
        }
        touchedAt.put(name, now);
        return true;
    }

    /** Whether a delta can be made over the chunk: it is stored (touched) with a chain shorter than the most. */
    private boolean canCarryDelta(ChunkDigest base) throws IOException {
        synchronized (lock) {
            ensureIndex();
            int files = storedChain(base, true);
            return files > 0 && files < CHAIN_FILES_MAX;
        }
    }

    /** The base a stored or pending delta is made over; null for a full chunk, a delta over zeros, or unknown. */
    private ChunkDigest baseOf(ChunkDigest digest) {
        PendingFile pendingFile = pending.get(digest);
        if (pendingFile != null) {
            return pendingFile.base();
        }
        Location location = index.get(digest);
        return location == null ? null : location.base();
    }

    /** The digest's location, refreshing the index once if it is not there. Caller holds the lock. */
    private Location locate(ChunkDigest digest) throws IOException {
        ensureIndex();
        Location location = index.get(digest);
        if (location == null) {
            loadIndex();
            location = index.get(digest);
        }
        return location;
    }

    /** The chunk file's bytes as stored (unverified), of a pack entry at most {@code limit}, or empty if its blob is gone. */
    private Optional<byte[]> readStored(ChunkDigest digest, Location location, int limit) throws IOException {
        if (!location.legacy()) {
            return blobs.readRange(location.pack(), location.offset(), Math.min(location.length(), limit));
        }
        Optional<InputStream> opened = blobs.open(blobName(digest));
        if (opened.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream in = opened.get()) { // one byte more than the largest file tells "bytes follow"
            return Optional.of(in.readNBytes(ChunkFile.HEADER_BYTES + CONTENT_BYTES_MAX + 1));
        }
    }

    private void ensureIndex() throws IOException {
        if (index == null) {
            index = new ChunkIndex();
            loadIndex();
        }
    }

    /** Adds legacy blobs and packs not indexed yet. Caller holds the lock. */
    private void loadIndex() throws IOException {
        for (String name : blobs.list(CHUNKS_PREFIX)) {
            digestOf(name).ifPresent(digest -> index.putIfAbsent(digest, new Location(null, 0, 0, null)));
        }
        for (String pack : packNames()) {
            if (indexedPacks.contains(pack)) {
                continue;
            }
            Optional<List<PackFile.Entry>> entries = readPackIndex(pack);
            if (entries.isEmpty()) {
                continue; // deleted meanwhile, or quarantined because its index is damaged
            }
            for (PackFile.Entry entry : entries.get()) {
                // The same content in two packs: a whole copy (written when a delta's base was lost) wins.
                Location known = index.get(entry.digest());
                if (known == null || known.base() != null || entry.base() == null) {
                    index.put(entry.digest(), new Location(pack, entry.offset(), entry.length(), entry.base()));
                }
            }
            indexedPacks.add(pack);
        }
    }

    /**
     * A pack's index. A pack whose index is damaged, or whose trailer shows that its put was cut short (a
     * torn write, see {@link PackFile}), is quarantined whole: its chunks read as missing, so inserts store
     * them again instead of trusting entries that are not there. A crash cannot leave a torn pack that
     * anything durable names: manifests and states are put only after the pack's put returned.
     */
    private Optional<List<PackFile.Entry>> readPackIndex(String pack) throws IOException {
        Optional<byte[]> header = blobs.readRange(pack, 0, PackFile.HEADER_BYTES);
        if (header.isEmpty()) {
            return Optional.empty();
        }
        String[] problem = new String[1];
        int count = PackFile.entryCount(header.get(), problem);
        PackFile.Index decoded = null;
        if (count >= 0) {
            Optional<byte[]> head = blobs.readRange(pack, 0, PackFile.indexBytes(PackFile.version(header.get()), count));
            if (head.isEmpty()) {
                return Optional.empty();
            }
            decoded = PackFile.decodeIndex(head.get(), problem);
        }
        if (decoded != null && decoded.trailer() != null) {
            // One byte more than the trailer: bytes after it are damage too.
            Optional<byte[]> tail = blobs.readRange(pack, decoded.trailerOffset(), PackFile.TRAILER_BYTES + 1);
            if (tail.isEmpty()) {
                return Optional.empty();
            }
            if (!java.util.Arrays.equals(tail.get(), decoded.trailer())) {
                problem[0] = "torn pack: its trailer is missing or damaged (a write cut short)";
                decoded = null;
            }
        }
        if (decoded == null) {
            String target = QUARANTINE_PREFIX + pack.substring(pack.lastIndexOf('/') + 1) + "." + clock.millis();
            moveToQuarantine(pack, target);
            synchronized (lock) {
                indexedPacks.remove(pack);
                if (index != null) {
                    index.removePack(pack);
                }
            }
            return Optional.empty();
        }
        return Optional.of(decoded.entries());
    }

    private String newPackName() {
        byte[] id = new byte[16];
        random.nextBytes(id);
        String hex = HexFormat.of().formatHex(id);
        return PACKS_PREFIX + hex.substring(0, 2) + "/" + hex + PACK_SUFFIX;
    }

    /**
     * Copies damaged content to quarantine and makes the store forget it, persistently, so that a later
     * insert of the same content (a resync) heals the store: a legacy blob is moved; a pack is rewritten
     * without the entry.
     */
    private String quarantine(ChunkDigest digest, Location location, byte[] file) throws IOException {
        String target = QUARANTINE_PREFIX + digest.hex() + "." + clock.millis();
        if (location == null) { // pending content that does not decode: a bug, not damage
            throw new IllegalStateException("pending chunk " + digest + " does not decode");
        }
        if (location.legacy()) {
            boolean moved = moveToQuarantine(blobName(digest), target);
            synchronized (lock) {
                index.remove(digest, location);
            }
            return moved ? target : "(already gone)";
        }
        blobs.put(target, file);
        rewritePack(location.pack(), other -> !other.equals(digest));
        return target;
    }

    private boolean moveToQuarantine(String name, String target) throws IOException {
        Optional<BlobInfo> info = blobs.stat(name);
        Optional<InputStream> opened = blobs.open(name);
        if (info.isEmpty() || opened.isEmpty()) {
            return false;
        }
        try (InputStream in = opened.get()) {
            blobs.put(target, in, info.get().sizeBytes());
        }
        blobs.delete(name);
        return true;
    }

    private String failure(ChunkDigest digest, String cause) {
        return "read on " + this + " failed for " + digest + ": " + cause;
    }

    /**
     * Whether a file decodes to the digest's content: a full chunk hashes to it; a delta's block digests name
     * it, and its ranges carry exactly the edited chunk's changed blocks (the base's content is not at hand).
     */
    private static boolean decodeForAssertion(byte[] file, ChunkDigest digest, EditableChunk edited) {
        String[] problem = new String[1];
        ChunkFile.Decoded decoded = ChunkFile.decode(file, problem);
        if (decoded == null || (decoded.delta() == null) != (edited == null)) {
            return false;
        }
        if (edited == null) {
            return ChunkDigest.of(decoded.content()).equals(digest);
        }
        byte[] composed = edited.content().clone();
        decoded.delta().writeOver(composed);
        return ChunkDigest.ofBlocks(decoded.blockDigests(), composed.length).equals(digest)
                && java.util.Arrays.equals(composed, edited.content());
    }
}
