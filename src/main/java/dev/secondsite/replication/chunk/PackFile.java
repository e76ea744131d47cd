package dev.secondsite.replication.chunk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import dev.secondsite.replication.Crc32c;

/**
 * Byte layout of a pack: many chunk files (data chunks and tree nodes) in one blob, so storing a
 * segment's new chunks costs one durable put instead of one per chunk (ADR 0007). Version 3 (written),
 * little-endian:
 *
 * <pre>
 *   0  4  magic "SSPK"
 *   4  1  format version (3; versions 1 and 2 are still read)
 *   5  3  reserved, zero
 *   8  4  entry count n (>= 1)
 *  12     index: n entries of E bytes: SHA-256 digest (32), offset in the pack (8), length (4), and from
 *         version 3 the digest of the entry's delta base (32; all zeros: none), so E = 76 (44 before)
 *  12+En  4  CRC32C of bytes 0..12+En
 *  16+En     the entries' chunk files ({@link ChunkFile}), back to back, in index order
 *  end    8  trailer (from version 2): magic "SSPE", then the index CRC32C again
 * </pre>
 *
 * The base is in the index so that opening a store learns which chunks a delta keeps alive without reading
 * the chunk files: garbage collection must keep a live delta's base.
 *
 * The index comes first so that opening a store reads only the head of each pack. Each entry is a
 * complete chunk file with its own CRC32C, verified (and hashed against its digest) on every read exactly
 * like a chunk stored alone.
 *
 * <p>Why the trailer: a put that a crash cut short can leave the pack under its final name with an intact
 * index but a missing or garbage tail (a store without atomic puts, or a file system that made the name or
 * size durable before the data). Its index would then advertise chunks that are not there, and insert's
 * dedup would trust them: a re-applied segment would name a chunk that cannot be read. The pack's bytes
 * are written in order, so the last 8 bytes are the last to become durable; reading them back (one small
 * ranged read when the pack is indexed) tells a whole pack from a torn one. Repeating the index CRC binds
 * the trailer to this pack, so a trailer left by another file in reused blocks does not pass.
 */
final class PackFile {
    static final int MAGIC = 0x4B505353; // "SSPK" little-endian
    /** Written; versions 1 (no trailer) and 2 (no bases) are still read. */
    static final int FORMAT_VERSION = 3;
    static final int FORMAT_VERSION_NO_BASES = 2;
    static final int FORMAT_VERSION_NO_TRAILER = 1;
    static final int TRAILER_MAGIC = 0x45505353; // "SSPE" little-endian
    static final int TRAILER_BYTES = 8;
    static final int HEADER_BYTES = 12;
    static final int ENTRY_BYTES_NO_BASES = ChunkDigest.BYTES + 8 + 4;
    static final int ENTRY_BYTES = ENTRY_BYTES_NO_BASES + ChunkDigest.BYTES;
    /** Most entries in one pack; bounds what a damaged count can make a reader allocate. */
    static final int ENTRIES_MAX = 1 << 20;

    private PackFile() {
    }

    /** Where one chunk file sits in its pack, and the base it is a delta over (null: none). */
    record Entry(ChunkDigest digest, long offset, int length, ChunkDigest base) {
    }

    /** A decoded index: its entries, and the trailer the pack must end with (null for version 1 packs). */
    record Index(List<Entry> entries, byte[] trailer) {
        /** Where the trailer starts: just after the last entry. */
        long trailerOffset() {
            Entry last = entries.getLast();
            return last.offset() + last.length();
        }
    }

    /** Bytes of header, index and index CRC for a pack (as written) of {@code count} entries. */
    static int indexBytes(int count) {
        return indexBytes(FORMAT_VERSION, count);
    }

    /** Bytes of header, index and index CRC for a pack of the given version and entry count. */
    static int indexBytes(int version, int count) {
        return HEADER_BYTES + count * (version >= FORMAT_VERSION ? ENTRY_BYTES : ENTRY_BYTES_NO_BASES) + 4;
    }

    /** Encodes a pack of full chunk files: {@code files.get(i)} is the chunk file of {@code digests.get(i)}. */
    static byte[] encode(List<ChunkDigest> digests, List<byte[]> files) {
        return encode(digests, files, java.util.Collections.nCopies(digests.size(), null));
    }

    /** {@link #encodeParts} as one array. */
    static byte[] encode(List<ChunkDigest> digests, List<byte[]> files, List<ChunkDigest> bases) {
        List<ByteBuffer> parts = encodeParts(digests, files, bases);
        ByteBuffer pack = ByteBuffer.allocate(parts.stream().mapToInt(ByteBuffer::remaining).sum());
        parts.forEach(pack::put);
        return pack.array();
    }

    /**
     * Encodes a pack holding {@code files.get(i)} as the chunk file of {@code digests.get(i)}, a delta over
     * {@code bases.get(i)} when that is not null, as parts to write one after the other
     * ({@link dev.secondsite.replication.blob.BlobStore#put(String, List)}): header and index, the chunk files
     * themselves (not copied), and the trailer.
     */
    static List<ByteBuffer> encodeParts(List<ChunkDigest> digests, List<byte[]> files, List<ChunkDigest> bases) {
        assert digests.size() == files.size() && digests.size() == bases.size() && !digests.isEmpty()
                && digests.size() <= ENTRIES_MAX;
        int count = digests.size();
        long total = indexBytes(count) + TRAILER_BYTES;
        for (byte[] file : files) {
            total += file.length;
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("pack of " + total + " bytes is too large");
        }
        ByteBuffer head = ByteBuffer.allocate(indexBytes(count)).order(ByteOrder.LITTLE_ENDIAN);
        head.putInt(MAGIC).put((byte) FORMAT_VERSION).put((byte) 0).putShort((short) 0).putInt(count);
        long offset = indexBytes(count);
        for (int i = 0; i < count; i++) {
            ChunkDigest base = bases.get(i) == null ? ChunkDigest.ZERO : bases.get(i);
            head.put(digests.get(i).toBytes()).putLong(offset).putInt(files.get(i).length).put(base.toBytes());
            offset += files.get(i).length;
        }
        int indexCrc = Crc32c.of(head.array(), 0, head.position());
        head.putInt(indexCrc);
        assert !head.hasRemaining();
        List<ByteBuffer> parts = new ArrayList<>(count + 2);
        parts.add(head.flip());
        files.forEach(file -> parts.add(ByteBuffer.wrap(file)));
        parts.add(ByteBuffer.wrap(trailer(indexCrc)));
        return parts;
    }

    /** The entry count from a pack's first {@link #HEADER_BYTES}; -1 with {@code problem[0]} set if damaged. */
    static int entryCount(byte[] header, String[] problem) {
        ByteBuffer buffer = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        if (header.length < HEADER_BYTES || buffer.getInt(0) != MAGIC) {
            problem[0] = "not a pack (bad magic or truncated header)";
        } else if (buffer.get(4) < FORMAT_VERSION_NO_TRAILER || buffer.get(4) > FORMAT_VERSION) {
            problem[0] = "unsupported pack version " + buffer.get(4);
        } else if (buffer.get(5) != 0 || buffer.getShort(6) != 0) {
            problem[0] = "reserved pack header bytes are not zero";
        } else if (buffer.getInt(8) < 1 || buffer.getInt(8) > ENTRIES_MAX) {
            problem[0] = "pack entry count " + Integer.toUnsignedString(buffer.getInt(8)) + " is out of range";
        } else {
            return buffer.getInt(8);
        }
        return -1;
    }

    /** The format version of a pack whose header {@link #entryCount} accepted. */
    static int version(byte[] header) {
        return header[4];
    }

    /** Decodes header + index ({@link #indexBytes} long); null with {@code problem[0]} set if damaged. */
    static Index decodeIndex(byte[] head, String[] problem) {
        int count = entryCount(head, problem);
        if (count < 0) {
            return null;
        }
        int version = version(head);
        int entryBytes = version >= FORMAT_VERSION ? ENTRY_BYTES : ENTRY_BYTES_NO_BASES;
        if (head.length != indexBytes(version, count)) {
            problem[0] = "truncated pack index (" + head.length + " of " + indexBytes(version, count) + " bytes)";
            return null;
        }
        ByteBuffer buffer = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        if (buffer.getInt(head.length - 4) != Crc32c.of(head, 0, head.length - 4)) {
            problem[0] = "pack index CRC32C mismatch";
            return null;
        }
        List<Entry> entries = new ArrayList<>(count);
        long expectedOffset = indexBytes(version, count);
        for (int i = 0; i < count; i++) {
            int at = HEADER_BYTES + i * entryBytes;
            ChunkDigest base = version >= FORMAT_VERSION ? ChunkDigest.read(head, at + ENTRY_BYTES_NO_BASES) : null;
            Entry entry = new Entry(ChunkDigest.read(head, at), buffer.getLong(at + ChunkDigest.BYTES),
                    buffer.getInt(at + ChunkDigest.BYTES + 8), base == null || base.isZero() ? null : base);
            if (entry.offset() != expectedOffset || entry.length() <= ChunkFile.HEADER_BYTES) {
                problem[0] = "pack index entry " + i + " has offset " + entry.offset() + " and length " + entry.length()
                        + ", expected offset " + expectedOffset;
                return null;
            }
            expectedOffset += entry.length();
            entries.add(entry);
        }
        int indexCrc = buffer.getInt(head.length - 4);
        return new Index(entries, head[4] == FORMAT_VERSION_NO_TRAILER ? null : trailer(indexCrc));
    }

    private static byte[] trailer(int indexCrc) {
        return ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(TRAILER_MAGIC).putInt(indexCrc)
                .array();
    }
}
