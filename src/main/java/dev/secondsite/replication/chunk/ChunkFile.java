package dev.secondsite.replication.chunk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

import dev.secondsite.replication.Crc32c;
import dev.secondsite.replication.Lz4Codec;

/**
 * Byte layout of one stored chunk file (a data chunk or a tree node), format 2, little-endian:
 *
 * <pre>
 *   0  4  magic "SSCK"
 *   4  1  format version: 2 (1: written before block digests; still read)
 *   5  1  flags: bit 0 = LZ4 (the payload, or a delta's data, is LZ4-compressed; else raw: compression did
 *                not help); bit 1 = delta (the payload is a delta, below)
 *   6  2  reserved, zero
 *   8  4  content bytes (uncompressed), 1..CONTENT_BYTES_MAX
 *  12  4  stored bytes (everything after this header)
 *  16  4  CRC32C of the content; of a delta: of its data, the ranges' bytes (format 1: of the whole content it
 *         stands for, base and changes together)
 *  20  4  CRC32C of bytes 0..19
 *  24     format 2 only: the content's block digests ({@link ChunkDigest#blockDigests}), 32 bytes per block
 *         of {@link ChunkDigest#BLOCK_BYTES}
 *         payload
 * </pre>
 *
 * The CRC32C tells "this file was damaged" cheaply and precisely; the check against the chunk's name (done by
 * {@link ChunkStore#read}) tells "this is the content the tree asked for". The block digests let apply change
 * a chunk in a few blocks without reading the rest of it: the new name follows from them and the new blocks.
 * They are checked against the name ({@link ChunkDigest#ofBlocks}) whenever they are used.
 *
 * <p><b>Deltas</b> (flag bit 1). A chunk that a small write changed in part is stored as the blocks that
 * differ from a full chunk, its <em>base</em>, rather than whole: a 4 KiB write into a 64 KiB chunk then
 * costs about 4 KiB of pack instead of 64 KiB (ADR 0007, "Deltas"). The chunk is still named by its whole
 * content, so trees, points, dedup and resync digests do not change. A delta's payload:
 *
 * <pre>
 *   0     32  base digest (all zeros: the base is a chunk of zeros)
 *   32     4  range count n, 1..content bytes / {@link ChunkDigest#BLOCK_BYTES} (format 1: / {@link #SECTOR_BYTES})
 *   36    8n  ranges, sorted, not overlapping or touching: offset in the chunk (4), length (4); format 2:
 *             whole blocks (the last may end with the content)
 *   36+8n     the ranges' bytes back to back (LZ4-compressed if flag bit 0 is set)
 * </pre>
 *
 * A base may itself be a delta; {@link ChunkStore} bounds the chain ({@code CHAIN_FILES_MAX} files per read).
 */
final class ChunkFile {
    static final int MAGIC = 0x4B435353; // "SSCK" little-endian
    static final int FORMAT_VERSION = 2;
    /** Chunk files written before block digests: no digests; a delta's CRC32C covers the composed content. */
    static final int FORMAT_VERSION_LEGACY = 1;
    static final int HEADER_BYTES = 24;
    static final byte FLAG_LZ4 = 1;
    static final byte FLAG_DELTA = 2;
    /** The unit in which format 1 deltas recorded what changed (a disk sector). */
    static final int SECTOR_BYTES = 512;
    private static final int DELTA_HEAD_BYTES = ChunkDigest.BYTES + 4;
    private static final int RANGE_BYTES = 8;

    private ChunkFile() {
    }

    /** The file of a whole chunk: {@code content[offset, offset + length)}, whose block digests are given. */
    static byte[] encode(byte[] content, int offset, int length, byte[] blockDigests) {
        assert length >= 1 && length <= ChunkStore.CONTENT_BYTES_MAX;
        assert blockDigests.length == digestBytes(length);
        int headBytes = HEADER_BYTES + blockDigests.length;
        byte[] file = Lz4Codec.compressAfter(headBytes, content, offset, length);
        boolean lz4 = file != null;
        if (!lz4) {
            file = new byte[headBytes + length];
            System.arraycopy(content, offset, file, headBytes, length);
        }
        System.arraycopy(blockDigests, 0, file, HEADER_BYTES, blockDigests.length);
        writeHeader(file, lz4 ? FLAG_LZ4 : 0, length, Crc32c.of(content, offset, length));
        return file;
    }

    /**
     * A delta file over {@code base} for a chunk whose block digests are {@code blockDigests}: the blocks set in
     * {@code changed} (block i = bytes [i * BLOCK_BYTES, (i + 1) * BLOCK_BYTES) of the chunk, taken from
     * {@code content}), each run of set blocks as one range. The caller guarantees that every other block of
     * the chunk equals the base's.
     */
    static byte[] encodeDelta(byte[] content, ChunkDigest base, BitSet changed, byte[] blockDigests) {
        int blockBytes = ChunkDigest.BLOCK_BYTES;
        assert !changed.isEmpty() && (long) (changed.length() - 1) * blockBytes < content.length;
        assert blockDigests.length == digestBytes(content.length);
        List<int[]> ranges = new ArrayList<>();
        int dataBytes = 0;
        for (int from = changed.nextSetBit(0); from >= 0; from = changed.nextSetBit(from)) {
            int to = changed.nextClearBit(from);
            int start = from * blockBytes;
            int length = Math.min(to * blockBytes, content.length) - start;
            ranges.add(new int[] {start, length});
            dataBytes += length;
            from = to;
        }
        byte[] data = new byte[dataBytes];
        int at = 0;
        for (int[] range : ranges) {
            System.arraycopy(content, range[0], data, at, range[1]);
            at += range[1];
        }
        int headBytes = HEADER_BYTES + blockDigests.length + DELTA_HEAD_BYTES + RANGE_BYTES * ranges.size();
        byte[] file = Lz4Codec.compressAfter(headBytes, data, 0, dataBytes);
        boolean lz4 = file != null;
        if (!lz4) {
            file = new byte[headBytes + dataBytes];
            System.arraycopy(data, 0, file, headBytes, dataBytes);
        }
        System.arraycopy(blockDigests, 0, file, HEADER_BYTES, blockDigests.length);
        ByteBuffer head = ByteBuffer.wrap(file, HEADER_BYTES + blockDigests.length, headBytes - HEADER_BYTES
                - blockDigests.length).order(ByteOrder.LITTLE_ENDIAN);
        head.put(base.toBytes()).putInt(ranges.size());
        for (int[] range : ranges) {
            head.putInt(range[0]).putInt(range[1]);
        }
        assert !head.hasRemaining();
        writeHeader(file, (byte) (FLAG_DELTA | (lz4 ? FLAG_LZ4 : 0)), content.length, Crc32c.of(data));
        return file;
    }

    /** Bytes of block digests a format 2 file of {@code contentBytes} holds after its header. */
    static int digestBytes(int contentBytes) {
        return ChunkDigest.blockCount(contentBytes) * ChunkDigest.BYTES;
    }

    private static void writeHeader(byte[] file, byte flags, int contentBytes, int contentCrc) {
        ByteBuffer header = ByteBuffer.wrap(file, 0, HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(MAGIC).put((byte) FORMAT_VERSION).put(flags).putShort((short) 0).putInt(contentBytes)
                .putInt(file.length - HEADER_BYTES).putInt(contentCrc);
        header.putInt(Crc32c.of(file, 0, HEADER_BYTES - 4));
    }

    /** A validated chunk file header: how many bytes follow and what they decode to. */
    record Header(int version, boolean lz4, boolean delta, int contentBytes, int storedBytes, int contentCrc) {
        boolean legacy() {
            return version == FORMAT_VERSION_LEGACY;
        }

        /** Where the payload starts: after the header and, in format 2, the block digests. */
        int payloadAt() {
            return HEADER_BYTES + (legacy() ? 0 : digestBytes(contentBytes));
        }
    }

    /** A delta's changes: {@code data} holds the ranges' bytes back to back. */
    record Delta(ChunkDigest base, int[] offsets, int[] lengths, byte[] data) {
        /** Writes the changed bytes over {@code content} (a base's content, or a chunk-sized buffer). */
        void writeOver(byte[] content) {
            int at = 0;
            for (int i = 0; i < offsets.length; i++) {
                System.arraycopy(data, at, content, offsets[i], lengths[i]);
                at += lengths[i];
            }
        }
    }

    /**
     * A decoded chunk file: a full chunk's CRC-checked {@code content}, or a {@code delta} whose content is only
     * known once it is {@linkplain #compose composed} with its base; and its block digests (null: format 1).
     */
    record Decoded(Header header, byte[] content, Delta delta, byte[] blockDigests) {
        /** The base this file needs, or null (a full chunk, or a delta over zeros). */
        ChunkDigest base() {
            return delta == null || delta.base().isZero() ? null : delta.base();
        }
    }

    /** Validates a header; returns null with {@code problem[0]} set if it is damaged. */
    static Header decodeHeader(byte[] file, String[] problem) {
        if (file.length < HEADER_BYTES) {
            problem[0] = "truncated header (" + file.length + " bytes)";
            return null;
        }
        ByteBuffer buffer = ByteBuffer.wrap(file, 0, HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        int version = buffer.get(4);
        if (buffer.getInt(0) != MAGIC) {
            problem[0] = "bad magic";
        } else if (buffer.getInt(HEADER_BYTES - 4) != Crc32c.of(file, 0, HEADER_BYTES - 4)) {
            problem[0] = "header CRC32C mismatch";
        } else if (version != FORMAT_VERSION && version != FORMAT_VERSION_LEGACY) {
            problem[0] = "unsupported format version " + version;
        } else if ((buffer.get(5) & ~(FLAG_LZ4 | FLAG_DELTA)) != 0 || buffer.getShort(6) != 0) {
            problem[0] = "unknown flags or reserved bytes set";
        } else {
            boolean lz4 = (buffer.get(5) & FLAG_LZ4) != 0;
            boolean delta = (buffer.get(5) & FLAG_DELTA) != 0;
            int contentBytes = buffer.getInt(8);
            int storedBytes = buffer.getInt(12);
            if (contentBytes < 1 || contentBytes > ChunkStore.CONTENT_BYTES_MAX) {
                problem[0] = "content length " + Integer.toUnsignedString(contentBytes) + " is out of range";
                return null;
            }
            Header header = new Header(version, lz4, delta, contentBytes, storedBytes, buffer.getInt(16));
            long payload = (long) storedBytes - (header.payloadAt() - HEADER_BYTES); // a negative int: huge
            if (storedBytes < 0 || (delta ? payload < DELTA_HEAD_BYTES + RANGE_BYTES + 1
                    : lz4 ? (payload < 1 || payload >= contentBytes) : payload != contentBytes)) {
                problem[0] = "stored length " + Integer.toUnsignedString(storedBytes) + " does not fit content length "
                        + contentBytes;
                return null;
            }
            return header;
        }
        return null;
    }

    /**
     * The block digests of a format 2 file, whose validated header is {@code header}, from its first bytes
     * ({@code prefix}), without its payload: what apply needs of a full chunk it changes in part. Null if the
     * prefix ends before them.
     */
    static byte[] blockDigests(Header header, byte[] prefix) {
        assert !header.legacy();
        return prefix.length < header.payloadAt() ? null : Arrays.copyOfRange(prefix, HEADER_BYTES, header.payloadAt());
    }

    /** Decodes a whole chunk file; null with {@code problem[0]} set if it is damaged. */
    static Decoded decode(byte[] file, String[] problem) {
        Header header = decodeHeader(file, problem);
        if (header == null) {
            return null;
        }
        int storedBytes = file.length - HEADER_BYTES;
        if (storedBytes < header.storedBytes()) {
            problem[0] = "truncated payload (" + storedBytes + " of " + header.storedBytes() + " bytes)";
            return null;
        }
        if (storedBytes > header.storedBytes()) {
            problem[0] = "bytes follow the payload";
            return null;
        }
        byte[] digests = header.legacy() ? null : Arrays.copyOfRange(file, HEADER_BYTES, header.payloadAt());
        // The payload is decoded where it lies in the file (no copy of it first): a chunk read in apply is on
        // the hot path of every small write.
        if (header.delta()) {
            Delta delta = decodeDelta(header, file, problem);
            return delta == null ? null : new Decoded(header, null, delta, digests);
        }
        byte[] content = decodePayload(header, file, problem);
        return content == null ? null : new Decoded(header, content, null, digests);
    }

    /**
     * Decodes a validated full chunk's payload (in {@code file}) to the content; null with {@code problem[0]}
     * set if damaged.
     */
    private static byte[] decodePayload(Header header, byte[] file, String[] problem) {
        assert !header.delta();
        int at = header.payloadAt();
        byte[] content;
        if (header.lz4()) {
            content = new byte[header.contentBytes()];
            if (!Lz4Codec.decompressExactly(file, at, file.length - at, content, 0, content.length)) {
                problem[0] = "payload does not decompress to " + header.contentBytes() + " bytes";
                return null;
            }
        } else {
            content = Arrays.copyOfRange(file, at, file.length);
        }
        if (Crc32c.of(content) != header.contentCrc()) {
            problem[0] = "content CRC32C mismatch";
            return null;
        }
        return content;
    }

    /**
     * The content a delta stands for: {@code baseContent} (consumed: changed in place) with the delta's ranges
     * written over it; null with {@code problem[0]} set if the result is not what was stored (format 1 only:
     * its CRC32C covers the composed content, so a damaged delta or a wrong base shows here; a format 2 delta's
     * data was checked when it was decoded, and the name check of the composed content covers the rest).
     */
    static byte[] compose(Decoded decoded, byte[] baseContent, String[] problem) {
        Delta delta = decoded.delta();
        assert delta != null;
        if (baseContent.length != decoded.header().contentBytes()) {
            problem[0] = "delta base holds " + baseContent.length + " bytes, expected " + decoded.header().contentBytes();
            return null;
        }
        delta.writeOver(baseContent);
        if (decoded.header().legacy() && Crc32c.of(baseContent) != decoded.header().contentCrc()) {
            problem[0] = "content CRC32C mismatch (delta over base " + delta.base() + ")";
            return null;
        }
        return baseContent;
    }

    /**
     * Validates a delta payload's ranges (in {@code file}) and decodes its data; null with {@code problem[0]}
     * set if damaged.
     */
    private static Delta decodeDelta(Header header, byte[] file, String[] problem) {
        int payloadAt = header.payloadAt();
        ByteBuffer buffer = ByteBuffer.wrap(file, payloadAt, file.length - payloadAt).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        int payloadBytes = file.length - payloadAt;
        ChunkDigest base = ChunkDigest.read(file, payloadAt);
        int count = buffer.getInt(ChunkDigest.BYTES);
        int unit = header.legacy() ? SECTOR_BYTES : ChunkDigest.BLOCK_BYTES;
        int countMax = Math.ceilDiv(header.contentBytes(), unit);
        if (count < 1 || count > countMax || DELTA_HEAD_BYTES + (long) RANGE_BYTES * count > payloadBytes) {
            problem[0] = "delta range count " + Integer.toUnsignedString(count) + " is out of range";
            return null;
        }
        int[] offsets = new int[count];
        int[] lengths = new int[count];
        long end = -1; // ranges are sorted and neither overlap nor touch
        long dataBytes = 0;
        for (int i = 0; i < count; i++) {
            offsets[i] = buffer.getInt(DELTA_HEAD_BYTES + RANGE_BYTES * i);
            lengths[i] = buffer.getInt(DELTA_HEAD_BYTES + RANGE_BYTES * i + 4);
            long rangeEnd = (long) offsets[i] + lengths[i];
            boolean aligned = header.legacy() || (offsets[i] % unit == 0
                    && (rangeEnd % unit == 0 || rangeEnd == header.contentBytes()));
            if (offsets[i] <= end || lengths[i] < 1 || rangeEnd > header.contentBytes() || !aligned) {
                problem[0] = "delta range " + i + " (" + Integer.toUnsignedString(offsets[i]) + ", "
                        + Integer.toUnsignedString(lengths[i]) + ") is out of order, out of bounds or not block-aligned";
                return null;
            }
            end = rangeEnd;
            dataBytes += lengths[i];
        }
        int dataAt = payloadAt + DELTA_HEAD_BYTES + RANGE_BYTES * count;
        int storedData = file.length - dataAt;
        byte[] data;
        if (header.lz4()) {
            data = new byte[(int) dataBytes];
            if (storedData < 1 || storedData >= dataBytes
                    || !Lz4Codec.decompressExactly(file, dataAt, storedData, data, 0, data.length)) {
                problem[0] = "delta data does not decompress to " + dataBytes + " bytes";
                return null;
            }
        } else if (storedData != dataBytes) {
            problem[0] = "delta data holds " + storedData + " bytes, its ranges " + dataBytes;
            return null;
        } else {
            data = Arrays.copyOfRange(file, dataAt, file.length);
        }
        if (!header.legacy() && Crc32c.of(data) != header.contentCrc()) {
            problem[0] = "delta data CRC32C mismatch";
            return null;
        }
        return new Delta(base, offsets, lengths, data);
    }
}
