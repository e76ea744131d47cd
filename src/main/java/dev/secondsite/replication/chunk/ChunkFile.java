package dev.secondsite.replication.chunk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.secondsite.replication.Crc32c;
import dev.secondsite.replication.Lz4Codec;

/**
 * Byte layout of one stored chunk file (a data chunk or a tree node), version 1, little-endian:
 *
 * <pre>
 *   0  4  magic "SSCK"
 *   4  1  format version (1)
 *   5  1  flags: bit 0 = payload is LZ4-compressed (else raw: compression did not help)
 *   6  2  reserved, zero
 *   8  4  content bytes (uncompressed), 1..CONTENT_BYTES_MAX
 *  12  4  stored bytes (the payload after this header)
 *  16  4  CRC32C of the content
 *  20  4  CRC32C of bytes 0..19
 *  24     payload
 * </pre>
 *
 * The CRC32C tells "this file was damaged" cheaply and precisely; the SHA-256 check against the chunk's
 * name (done by {@link ChunkStore#read}) tells "this is the content the tree asked for".
 */
final class ChunkFile {
    static final int MAGIC = 0x4B435353; // "SSCK" little-endian
    static final int FORMAT_VERSION = 1;
    static final int HEADER_BYTES = 24;
    static final byte FLAG_LZ4 = 1;

    private ChunkFile() {
    }

    static byte[] encode(byte[] content, int offset, int length) {
        assert length >= 1 && length <= ChunkStore.CONTENT_BYTES_MAX;
        byte[] file = new byte[HEADER_BYTES + Lz4Codec.compressedBytesMax(length)];
        byte[] compressed = new byte[Lz4Codec.compressedBytesMax(length)];
        int storedBytes = Lz4Codec.compress(content, offset, length, compressed);
        byte flags = storedBytes > 0 ? FLAG_LZ4 : 0;
        if (storedBytes > 0) {
            System.arraycopy(compressed, 0, file, HEADER_BYTES, storedBytes);
        } else {
            storedBytes = length;
            System.arraycopy(content, offset, file, HEADER_BYTES, length);
        }
        ByteBuffer header = ByteBuffer.wrap(file, 0, HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(MAGIC).put((byte) FORMAT_VERSION).put(flags).putShort((short) 0).putInt(length).putInt(storedBytes)
                .putInt(Crc32c.of(content, offset, length));
        header.putInt(Crc32c.of(file, 0, HEADER_BYTES - 4));
        return java.util.Arrays.copyOf(file, HEADER_BYTES + storedBytes);
    }

    /** A validated chunk file header: how many payload bytes follow and what they decode to. */
    record Header(boolean lz4, int contentBytes, int storedBytes, int contentCrc) {
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
        } else if ((buffer.get(5) & ~FLAG_LZ4) != 0 || buffer.getShort(6) != 0) {
            problem[0] = "unknown flags or reserved bytes set";
        } else {
            boolean lz4 = (buffer.get(5) & FLAG_LZ4) != 0;
            int contentBytes = buffer.getInt(8);
            int storedBytes = buffer.getInt(12);
            if (contentBytes < 1 || contentBytes > ChunkStore.CONTENT_BYTES_MAX) {
                problem[0] = "content length " + Integer.toUnsignedString(contentBytes) + " is out of range";
            } else if (lz4 ? (storedBytes < 1 || storedBytes >= contentBytes) : storedBytes != contentBytes) {
                problem[0] = "stored length " + Integer.toUnsignedString(storedBytes) + " does not fit content length "
                        + contentBytes;
            } else {
                return new Header(lz4, contentBytes, storedBytes, buffer.getInt(16));
            }
        }
        return null;
    }

    /** Decodes a whole chunk file to its content; null with {@code problem[0]} set if it is damaged. */
    static byte[] decode(byte[] file, String[] problem) {
        if (file.length < HEADER_BYTES) {
            problem[0] = "truncated header (" + file.length + " bytes)";
            return null;
        }
        Header header = decodeHeader(java.util.Arrays.copyOf(file, HEADER_BYTES), problem);
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
        return decodePayload(header, java.util.Arrays.copyOfRange(file, HEADER_BYTES, file.length), problem);
    }

    /** Decodes a validated header's payload to the content; null with {@code problem[0]} set if damaged. */
    static byte[] decodePayload(Header header, byte[] payload, String[] problem) {
        assert payload.length == header.storedBytes();
        byte[] content;
        if (header.lz4()) {
            content = new byte[header.contentBytes()];
            if (!Lz4Codec.decompressExactly(payload, 0, payload.length, content, 0, content.length)) {
                problem[0] = "payload does not decompress to " + header.contentBytes() + " bytes";
                return null;
            }
        } else {
            content = payload;
        }
        if (Crc32c.of(content) != header.contentCrc()) {
            problem[0] = "content CRC32C mismatch";
            return null;
        }
        return content;
    }
}
