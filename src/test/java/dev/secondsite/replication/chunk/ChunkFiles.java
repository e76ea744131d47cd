package dev.secondsite.replication.chunk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.secondsite.replication.Crc32c;

/** Chunk files for tests: as the store writes them now, and as stores from before block digests did. */
final class ChunkFiles {
    private ChunkFiles() {
    }

    /** A format 2 file of a whole chunk, named by {@link ChunkDigest#of}. */
    static byte[] encode(byte[] content) {
        return ChunkFile.encode(content, 0, content.length, ChunkDigest.blockDigests(content, 0, content.length));
    }

    /** A format 1 file of a whole chunk, raw, as written before block digests: named by {@link #legacyName}. */
    static byte[] legacy(byte[] content) {
        ByteBuffer file = ByteBuffer.allocate(ChunkFile.HEADER_BYTES + content.length).order(ByteOrder.LITTLE_ENDIAN);
        file.putInt(ChunkFile.MAGIC).put((byte) ChunkFile.FORMAT_VERSION_LEGACY).put((byte) 0).putShort((short) 0)
                .putInt(content.length).putInt(content.length).putInt(Crc32c.of(content));
        file.putInt(Crc32c.of(file.array(), 0, ChunkFile.HEADER_BYTES - 4)).put(content);
        return file.array();
    }

    /** What a format 1 file's content was named: its plain SHA-256. */
    static ChunkDigest legacyName(byte[] content) {
        return ChunkDigest.legacy(content, 0, content.length);
    }
}
