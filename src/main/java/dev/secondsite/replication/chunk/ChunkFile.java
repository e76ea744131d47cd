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
 * Byte layout of one stored chunk file (a data chunk or a tree node), version 1, little-endian:
 *
 * <pre>
 *   0  4  magic "SSCK"
 *   4  1  format version (1)
 *   5  1  flags: bit 0 = LZ4 (the payload, or a delta's data, is LZ4-compressed; else raw: compression did
 *                not help); bit 1 = delta (the payload is a delta, below)
 *   6  2  reserved, zero
 *   8  4  content bytes (uncompressed), 1..CONTENT_BYTES_MAX
 *  12  4  stored bytes (the payload after this header)
 *  16  4  CRC32C of the content (of a delta: of the whole content it stands for, base and changes together)
 *  20  4  CRC32C of bytes 0..19
 *  24     payload
 * </pre>
 *
 * The CRC32C tells "this file was damaged" cheaply and precisely; the SHA-256 check against the chunk's
 * name (done by {@link ChunkStore#read}) tells "this is the content the tree asked for".
 *
 * <p><b>Deltas</b> (flag bit 1). A chunk that a small write changed in part is stored as the bytes that
 * differ from a full chunk, its <em>base</em>, rather than whole: a 4 KiB write into a 64 KiB chunk then
 * costs about 4 KiB of pack instead of 64 KiB (ADR 0007, "Deltas"). The chunk is still named by the SHA-256
 * of its whole content, so trees, points, dedup and resync digests do not change. A delta's payload:
 *
 * <pre>
 *   0     32  base digest (all zeros: the base is a chunk of zeros)
 *   32     4  range count n, 1..content bytes / {@link #SECTOR_BYTES}
 *   36    8n  ranges, sorted, not overlapping or touching: offset in the chunk (4), length (4)
 *   36+8n     the ranges' bytes back to back (LZ4-compressed if flag bit 0 is set)
 * </pre>
 *
 * A base is always a full chunk (never a delta), so reading a delta reads at most two files.
 */
final class ChunkFile {
    static final int MAGIC = 0x4B435353; // "SSCK" little-endian
    static final int FORMAT_VERSION = 1;
    static final int HEADER_BYTES = 24;
    static final byte FLAG_LZ4 = 1;
    static final byte FLAG_DELTA = 2;
    /** The unit in which deltas record what changed (a disk sector). */
    static final int SECTOR_BYTES = 512;
    private static final int DELTA_HEAD_BYTES = ChunkDigest.BYTES + 4;
    private static final int RANGE_BYTES = 8;

    private ChunkFile() {
    }

    static byte[] encode(byte[] content, int offset, int length) {
        assert length >= 1 && length <= ChunkStore.CONTENT_BYTES_MAX;
        byte[] file = Lz4Codec.compressAfter(HEADER_BYTES, content, offset, length);
        boolean lz4 = file != null;
        if (!lz4) {
            file = new byte[HEADER_BYTES + length];
            System.arraycopy(content, offset, file, HEADER_BYTES, length);
        }
        writeHeader(file, lz4 ? FLAG_LZ4 : 0, length, Crc32c.of(content, offset, length));
        return file;
    }

    /**
     * A delta file for {@code content} (a whole chunk) over {@code base}: the sectors set in {@code changed}
     * (sector i = bytes [i * SECTOR_BYTES, (i + 1) * SECTOR_BYTES) of the chunk), each run of set sectors as one
     * range. The caller guarantees that every other byte of {@code content} equals the base's.
     */
    static byte[] encodeDelta(byte[] content, ChunkDigest base, BitSet changed) {
        assert !changed.isEmpty() && (long) (changed.length() - 1) * SECTOR_BYTES < content.length;
        List<int[]> ranges = new ArrayList<>();
        int dataBytes = 0;
        for (int from = changed.nextSetBit(0); from >= 0; from = changed.nextSetBit(from)) {
            int to = changed.nextClearBit(from);
            int start = from * SECTOR_BYTES;
            int length = Math.min(to * SECTOR_BYTES, content.length) - start;
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
        int headBytes = DELTA_HEAD_BYTES + RANGE_BYTES * ranges.size();
        byte[] file = Lz4Codec.compressAfter(HEADER_BYTES + headBytes, data, 0, dataBytes);
        boolean lz4 = file != null;
        if (!lz4) {
            file = new byte[HEADER_BYTES + headBytes + dataBytes];
            System.arraycopy(data, 0, file, HEADER_BYTES + headBytes, dataBytes);
        }
        ByteBuffer head = ByteBuffer.wrap(file, HEADER_BYTES, headBytes).order(ByteOrder.LITTLE_ENDIAN);
        head.put(base.toBytes()).putInt(ranges.size());
        for (int[] range : ranges) {
            head.putInt(range[0]).putInt(range[1]);
        }
        assert !head.hasRemaining();
        writeHeader(file, (byte) (FLAG_DELTA | (lz4 ? FLAG_LZ4 : 0)), content.length,
                Crc32c.of(content));
        return file;
    }

    private static void writeHeader(byte[] file, byte flags, int contentBytes, int contentCrc) {
        ByteBuffer header = ByteBuffer.wrap(file, 0, HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(MAGIC).put((byte) FORMAT_VERSION).put(flags).putShort((short) 0).putInt(contentBytes)
                .putInt(file.length - HEADER_BYTES).putInt(contentCrc);
        header.putInt(Crc32c.of(file, 0, HEADER_BYTES - 4));
    }

    /** A validated chunk file header: how many payload bytes follow and what they decode to. */
    record Header(boolean lz4, boolean delta, int contentBytes, int storedBytes, int contentCrc) {
    }

    /** A delta's changes: {@code data} holds the ranges' bytes back to back. */
    record Delta(ChunkDigest base, int[] offsets, int[] lengths, byte[] data) {
    }

    /**
     * A decoded chunk file: a full chunk's verified {@code content}, or a {@code delta} whose content is only
     * known once it is {@linkplain #compose composed} with its base.
     */
    record Decoded(Header header, byte[] content, Delta delta) {
        /** The base this file needs, or null (a full chunk, or a delta over zeros). */
        ChunkDigest base() {
            return delta == null || delta.base().isZero() ? null : delta.base();
        }
    }

    /** Validates a header; returns null with {@code problem[0]} set if it is damaged. */
    static Header decodeHeader(byte[] header, String[] problem) {
        assert header.length == HEADER_BYTES;
        ByteBuffer buffer = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        if (buffer.getInt(0) != MAGIC) {
            problem[0] = "bad magic";
        } else if (buffer.getInt(HEADER_BYTES - 4) != Crc32c.of(header, 0, HEADER_BYTES - 4)) {
            problem[0] = "header CRC32C mismatch";
        } else if (buffer.get(4) != FORMAT_VERSION) {
            problem[0] = "unsupported format version " + buffer.get(4);
        } else if ((buffer.get(5) & ~(FLAG_LZ4 | FLAG_DELTA)) != 0 || buffer.getShort(6) != 0) {
            problem[0] = "unknown flags or reserved bytes set";
        } else {
            boolean lz4 = (buffer.get(5) & FLAG_LZ4) != 0;
            boolean delta = (buffer.get(5) & FLAG_DELTA) != 0;
            int contentBytes = buffer.getInt(8);
            int storedBytes = buffer.getInt(12);
            if (contentBytes < 1 || contentBytes > ChunkStore.CONTENT_BYTES_MAX) {
                problem[0] = "content length " + Integer.toUnsignedString(contentBytes) + " is out of range";
            } else if (delta ? storedBytes < DELTA_HEAD_BYTES + RANGE_BYTES + 1
                    : lz4 ? (storedBytes < 1 || storedBytes >= contentBytes) : storedBytes != contentBytes) {
                problem[0] = "stored length " + Integer.toUnsignedString(storedBytes) + " does not fit content length "
                        + contentBytes;
            } else {
                return new Header(lz4, delta, contentBytes, storedBytes, buffer.getInt(16));
            }
        }
        return null;
    }

    /** Decodes a whole chunk file; null with {@code problem[0]} set if it is damaged. */
    static Decoded decode(byte[] file, String[] problem) {
        if (file.length < HEADER_BYTES) {
            problem[0] = "truncated header (" + file.length + " bytes)";
            return null;
        }
        Header header = decodeHeader(Arrays.copyOf(file, HEADER_BYTES), problem);
        if (header == null) {
            return null;
        }
        int payloadBytes = file.length - HEADER_BYTES;
        if (payloadBytes < header.storedBytes()) {
            problem[0] = "truncated payload (" + payloadBytes + " of " + header.storedBytes() + " bytes)";
            return null;
        }
        if (payloadBytes > header.storedBytes()) {
            problem[0] = "bytes follow the payload";
            return null;
        }
        // The payload is decoded where it lies in the file (no copy of it first): a chunk read in apply is on
        // the hot path of every small write.
        if (header.delta()) {
            Delta delta = decodeDelta(header, file, problem);
            return delta == null ? null : new Decoded(header, null, delta);
        }
        byte[] content = decodePayload(header, file, problem);
        return content == null ? null : new Decoded(header, content, null);
    }

    /**
     * Decodes a validated full chunk's payload (after the header of {@code file}) to the content; null with
     * {@code problem[0]} set if damaged.
     */
    private static byte[] decodePayload(Header header, byte[] file, String[] problem) {
        assert file.length - HEADER_BYTES == header.storedBytes() && !header.delta();
        byte[] content;
        if (header.lz4()) {
            content = new byte[header.contentBytes()];
            if (!Lz4Codec.decompressExactly(file, HEADER_BYTES, header.storedBytes(), content, 0, content.length)) {
                problem[0] = "payload does not decompress to " + header.contentBytes() + " bytes";
                return null;
            }
        } else {
            content = Arrays.copyOfRange(file, HEADER_BYTES, file.length);
        }
        if (Crc32c.of(content) != header.contentCrc()) {
            problem[0] = "content CRC32C mismatch";
            return null;
        }
        return content;
    }

    /**
     * The content a delta stands for: {@code baseContent} (consumed: changed in place) with the delta's ranges
     * written over it, checked against the header's content CRC32C; null with {@code problem[0]} set if the
     * result is not what was stored (a damaged delta, or a base that is not the one it was made over).
     */
    static byte[] compose(Decoded decoded, byte[] baseContent, String[] problem) {
        Delta delta = decoded.delta();
        assert delta != null;
        if (baseContent.length != decoded.header().contentBytes()) {
            problem[0] = "delta base holds " + baseContent.length + " bytes, expected " + decoded.header().contentBytes();
            return null;
        }
        int at = 0;
        for (int i = 0; i < delta.offsets().length; i++) {
            System.arraycopy(delta.data(), at, baseContent, delta.offsets()[i], delta.lengths()[i]);
            at += delta.lengths()[i];
        }
        if (Crc32c.of(baseContent) != decoded.header().contentCrc()) {
            problem[0] = "content CRC32C mismatch (delta over base " + delta.base() + ")";
            return null;
        }
        return baseContent;
    }

    /**
     * Validates a delta payload's ranges (after the header of {@code file}) and decodes its data; null with
     * {@code problem[0]} set if damaged.
     */
    private static Delta decodeDelta(Header header, byte[] file, String[] problem) {
        ByteBuffer buffer = ByteBuffer.wrap(file, HEADER_BYTES, header.storedBytes()).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        int payloadBytes = header.storedBytes();
        ChunkDigest base = ChunkDigest.read(file, HEADER_BYTES);
        int count = buffer.getInt(ChunkDigest.BYTES);
        int countMax = Math.ceilDiv(header.contentBytes(), SECTOR_BYTES);
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
            if (offsets[i] <= end || lengths[i] < 1 || (long) offsets[i] + lengths[i] > header.contentBytes()) {
                problem[0] = "delta range " + i + " (" + Integer.toUnsignedString(offsets[i]) + ", "
                        + Integer.toUnsignedString(lengths[i]) + ") is out of order or out of bounds";
                return null;
            }
            end = (long) offsets[i] + lengths[i];
            dataBytes += lengths[i];
        }
        int dataAt = HEADER_BYTES + DELTA_HEAD_BYTES + RANGE_BYTES * count;
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
        return new Delta(base, offsets, lengths, data);
    }
}
