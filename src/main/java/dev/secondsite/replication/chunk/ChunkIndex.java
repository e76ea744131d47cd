package dev.secondsite.replication.chunk;

import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.secondsite.replication.chunk.ChunkStore.Location;

/**
 * The chunk store's lookup table: where each stored digest is ({@link Location}), kept in primitive arrays.
 *
 * <p>Why not a {@code HashMap<ChunkDigest, Location>}: the index holds one entry per chunk version kept, so a
 * 1 TiB disk of 64 KiB chunks is 16.8 million entries before any history. As map entries they were four objects
 * each (six for a delta, whose base digest is two more): 136-140 bytes, 203 for a delta, all of it traced by every
 * collection of the old generation. Here an entry is {@link #ENTRY_BYTES} bytes in arrays of primitives, which
 * the garbage collector does not trace, plus its slot in the hash table (about 70 bytes per
 * entry in all: docs/benchmarks.md, "the chunk index in flat arrays").
 *
 * <p>Layout. <b>Entries</b> are numbered and kept in pages of {@link #PAGE} entries, each {@link #ENTRY_LONGS} longs
 * side by side (one or two cache lines): the digest (four longs), the offset in the pack, the kind (free, key
 * only, a legacy blob, or {@code PACKED +} the pack's id) with the length, and the delta base as an entry number
 * plus one (0: none). An entry keeps its number until it is dropped, so a delta names its base by number.
 * <b>The hash table</b> is open addressing with linear probing over a power of two of longs, each the entry's
 * number plus one and 32 bits of its digest's hash, so that a probe that does not match rarely reads the entry.
 *
 * <p>Removing an entry makes it <em>key only</em>: its digest stays, because a delta may name it as its base. A
 * base that is not stored (yet, or any more) is such an entry; as with a map keyed by digest, storing the base
 * again makes the delta's base present again. Once key-only entries outnumber live ones by half, those no live
 * delta names are dropped and their numbers reused.
 *
 * <p>Pack names are kept once, as ids with a count of the live entries in the pack; an id is freed (and its name
 * forgotten) when its count drops to 0.
 *
 * <p>Not thread-safe: the chunk store calls it under its lock.
 */
final class ChunkIndex {
    /** Longs of one entry in its page: the digest's four, offset, kind and length, base. */
    static final int ENTRY_LONGS = ChunkDigest.WORDS + 3;
    static final int ENTRY_BYTES = ENTRY_LONGS * Long.BYTES;
    static final int PAGE = 1 << 12;
    private static final int OFFSET = ChunkDigest.WORDS;
    private static final int KIND_LENGTH = OFFSET + 1;
    private static final int BASE = KIND_LENGTH + 1;

    private static final int FREE = 0;
    private static final int KEY_ONLY = 1;
    private static final int LEGACY = 2;
    /** kind = PACKED + the pack's id. */
    private static final int PACKED = 3;
    private static final int WORDS = ChunkDigest.WORDS;
    private static final int TABLE_MIN = 1 << 10;
    /** The largest table: 2^30 slots (8 GiB), at most 3/4 full, about 805 million entries. */
    static final int TABLE_MAX = 1 << 30;
    private static final int KEY_ONLY_DROP_MIN = 1 << 10;

    /** Mixed into hashes, so that content cannot be made to collide in the table (a slow-down attack). */
    private final long seed = new SecureRandom().nextLong();

    private long[][] pages = new long[0][];
    /** Entry numbers handed out so far; those of dropped entries are reused first. */
    private int entries;
    /**
     * The first dropped entry plus one (0: none). Dropped entries form a list through their offset word, so that
     * freeing millions of them (a collection that deleted many packs) allocates nothing.
     */
    private int freeHead;

    private long[] table;
    private int shift;
    private int tableUsed;

    private int size;
    private int keyOnly;
    private final int tableMax;

    private final List<String> packNames = new ArrayList<>();
    private final Map<String, Integer> packIds = new HashMap<>();
    private final ArrayDeque<Integer> freePackIds = new ArrayDeque<>();
    private int[] packEntries = new int[16];

    ChunkIndex() {
        this(TABLE_MAX);
    }

    /** With a smaller largest table: tests reach it. */
    ChunkIndex(int tableMax) {
        if (Integer.bitCount(tableMax) != 1 || tableMax < TABLE_MIN || tableMax > TABLE_MAX) {
            throw new IllegalArgumentException("the largest table must be a power of two in [2^10, 2^30]: " + tableMax);
        }
        this.tableMax = tableMax;
        allocateTable(TABLE_MIN);
    }

    /** Live entries. */
    int size() {
        return size;
    }

    /** Slots in the hash table (a footprint figure for tests). */
    int tableCapacity() {
        return table.length;
    }

    /** Entry numbers handed out, live or not (a footprint figure for tests). */
    int entryCount() {
        return entries;
    }

    Location get(ChunkDigest digest) {
        int entry = find(digest);
        return entry >= 0 && kind(entry) >= LEGACY ? location(entry) : null;
    }

    boolean containsKey(ChunkDigest digest) {
        int entry = find(digest);
        return entry >= 0 && kind(entry) >= LEGACY;
    }

    /** Adds the entry, or replaces the digest's entry. */
    void put(ChunkDigest digest, Location location) {
        int base = location.base() == null ? 0 : entryOf(location.base()) + 1;
        int entry = entryOf(digest);
        int kind = location.legacy() ? LEGACY : PACKED + takePackId(location.pack());
        forget(entry);
        keyOnly--;
        size++;
        long[] page = pages[entry / PAGE];
        int at = entry % PAGE * ENTRY_LONGS;
        page[at + OFFSET] = location.offset();
        page[at + KIND_LENGTH] = (long) kind << 32 | (location.length() & 0xffffffffL);
        page[at + BASE] = base;
    }

    void putIfAbsent(ChunkDigest digest, Location location) {
        if (!containsKey(digest)) {
            put(digest, location);
        }
    }

    /** Removes the digest's entry if it is {@code expected}; returns whether it did. */
    boolean remove(ChunkDigest digest, Location expected) {
        int entry = find(digest);
        if (entry < 0 || kind(entry) < LEGACY || !location(entry).equals(expected)) {
            return false;
        }
        forget(entry);
        dropKeyOnlyIfMany();
        return true;
    }

    /** Removes the digest's entry if it is in {@code pack} (not if a newer pack holds the same content). */
    void removeIfIn(ChunkDigest digest, String pack) {
        Integer id = packIds.get(pack);
        int entry = find(digest);
        if (id != null && entry >= 0 && kind(entry) == PACKED + id) {
            forget(entry);
            dropKeyOnlyIfMany();
        }
    }

    /** Removes every entry in {@code pack}: a scan of all entries, for a pack whose own index is unreadable. */
    void removePack(String pack) {
        Integer id = packIds.get(pack);
        if (id == null) {
            return;
        }
        for (int entry = 0; entry < entries; entry++) {
            if (kind(entry) == PACKED + id) {
                forget(entry);
            }
        }
        dropKeyOnlyIfMany();
    }

    private int kind(int entry) {
        return (int) (pages[entry / PAGE][entry % PAGE * ENTRY_LONGS + KIND_LENGTH] >>> 32);
    }

    private int base(int entry) {
        return (int) pages[entry / PAGE][entry % PAGE * ENTRY_LONGS + BASE];
    }

    /** Sets the kind of an entry that has no location (free or key only: no length, no base). */
    private void setKind(int entry, int kind) {
        long[] page = pages[entry / PAGE];
        int at = entry % PAGE * ENTRY_LONGS;
        page[at + KIND_LENGTH] = (long) kind << 32;
        page[at + BASE] = 0;
    }

    private Location location(int entry) {
        long[] page = pages[entry / PAGE];
        int at = entry % PAGE * ENTRY_LONGS;
        int kind = (int) (page[at + KIND_LENGTH] >>> 32);
        int base = (int) page[at + BASE];
        return new Location(kind == LEGACY ? null : packNames.get(kind - PACKED), page[at + OFFSET],
                (int) page[at + KIND_LENGTH], base == 0 ? null : digest(base - 1));
    }

    private ChunkDigest digest(int entry) {
        return ChunkDigest.ofWords(pages[entry / PAGE], entry % PAGE * ENTRY_LONGS);
    }

    /** Makes a live entry key-only (its digest stays: a delta may name it as its base). */
    private void forget(int entry) {
        int kind = kind(entry);
        if (kind < LEGACY) {
            return;
        }
        if (kind >= PACKED) {
            releasePackId(kind - PACKED);
        }
        setKind(entry, KEY_ONLY);
        size--;
        keyOnly++;
    }

    private int takePackId(String pack) {
        Integer id = packIds.get(pack);
        if (id == null) {
            id = freePackIds.isEmpty() ? packNames.size() : freePackIds.pop();
            if (id == packNames.size()) {
                packNames.add(pack);
            } else {
                packNames.set(id, pack);
            }
            packIds.put(pack, id);
            if (id >= packEntries.length) {
                packEntries = Arrays.copyOf(packEntries, 2 * packEntries.length);
            }
        }
        packEntries[id]++;
        return id;
    }

    private void releasePackId(int id) {
        if (--packEntries[id] == 0) {
            packIds.remove(packNames.get(id));
            packNames.set(id, null);
            freePackIds.push(id);
        }
    }

    /** The digest's entry, or -1. */
    private int find(ChunkDigest digest) {
        long w0 = digest.word(0);
        long hash = hash(w0);
        int mask = table.length - 1;
        for (int slot = (int) (hash >>> shift); table[slot] != 0; slot = (slot + 1) & mask) {
            if ((int) (table[slot] >>> 32) == (int) hash) {
                int entry = (int) table[slot] - 1;
                long[] page = pages[entry / PAGE];
                int at = entry % PAGE * ENTRY_LONGS;
                if (page[at] == w0 && page[at + 1] == digest.word(1) && page[at + 2] == digest.word(2)
                        && page[at + 3] == digest.word(3)) {
                    return entry;
                }
            }
        }
        return -1;
    }

    /** The digest's entry, added as key-only if it has none. */
    private int entryOf(ChunkDigest digest) {
        int entry = find(digest);
        if (entry >= 0) {
            return entry;
        }
        if (tableUsed + 1 > table.length / 4 * 3) { // grown before the new entry exists, which it then holds once
            if (table.length == tableMax) {
                throw new IllegalStateException("the chunk index is full: " + (size + keyOnly) + " chunk versions, "
                        + "the most one recovery store's in-memory index holds; expire recovery points or split the "
                        + "disks over several recovery stores");
            }
            rebuildTable(table.length * 2);
        }
        if (freeHead != 0) {
            entry = freeHead - 1;
            freeHead = (int) pages[entry / PAGE][entry % PAGE * ENTRY_LONGS + OFFSET];
        } else {
            entry = newEntry();
        }
        for (int i = 0; i < WORDS; i++) {
            pages[entry / PAGE][entry % PAGE * ENTRY_LONGS + i] = digest.word(i);
        }
        setKind(entry, KEY_ONLY);
        keyOnly++;
        insert(entry);
        return entry;
    }

    private int newEntry() {
        if (entries == pages.length * PAGE) {
            pages = Arrays.copyOf(pages, pages.length + 1);
            pages[pages.length - 1] = new long[PAGE * ENTRY_LONGS];
        }
        return entries++;
    }

    /** Puts an entry (not in the table) into the table. */
    private void insert(int entry) {
        long hash = hash(pages[entry / PAGE][entry % PAGE * ENTRY_LONGS]);
        int mask = table.length - 1;
        int slot = (int) (hash >>> shift);
        while (table[slot] != 0) {
            slot = (slot + 1) & mask;
        }
        table[slot] = (hash << 32) | (entry + 1L);
        tableUsed++;
    }

    private long hash(long w0) {
        return (w0 ^ seed) * 0x9E3779B97F4A7C15L;
    }

    /**
     * Once key-only entries outnumber live ones by half (and by {@link #KEY_ONLY_DROP_MIN}): drops those no live
     * delta names (their numbers are reused) and rebuilds the table for what is left.
     */
    private void dropKeyOnlyIfMany() {
        if (keyOnly < size + Math.max(KEY_ONLY_DROP_MIN, size / 2)) {
            return; // after a drop at most `size` are left (those live deltas name), so drops are O(1) amortized
        }
        BitSet named = new BitSet(entries);
        for (int entry = 0; entry < entries; entry++) {
            int base = base(entry);
            if (base != 0) {
                named.set(base - 1);
            }
        }
        for (int entry = 0; entry < entries; entry++) {
            if (kind(entry) == KEY_ONLY && !named.get(entry)) {
                setKind(entry, FREE);
                pages[entry / PAGE][entry % PAGE * ENTRY_LONGS + OFFSET] = freeHead;
                freeHead = entry + 1;
                keyOnly--;
            }
        }
        int capacity = TABLE_MIN;
        while (capacity / 2 < size + keyOnly && capacity < tableMax) {
            capacity <<= 1;
        }
        rebuildTable(capacity);
    }

    private void rebuildTable(int capacity) {
        allocateTable(capacity);
        for (int entry = 0; entry < entries; entry++) {
            if (kind(entry) != FREE) {
                insert(entry);
            }
        }
    }

    private void allocateTable(int capacity) {
        table = new long[capacity];
        shift = Long.SIZE - Integer.numberOfTrailingZeros(capacity);
        tableUsed = 0;
    }
}
