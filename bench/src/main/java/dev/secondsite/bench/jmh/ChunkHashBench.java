package dev.secondsite.bench.jmh;

import java.security.DigestException;
import java.security.MessageDigest;
import java.util.Arrays;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import dev.secondsite.replication.Crc32c;
import dev.secondsite.replication.chunk.ChunkDigest;

/**
 * Hashing kernels of the data plane. {@code chunkDigest}: ChunkDigest.of on one 64 KiB chunk (what the
 * chunk store does per insert and per verified read: the SHA-256 of its 16 block digests); its peer
 * {@code plainSha256}, one SHA-256 over the same 64 KiB (how chunks were named before block digests).
 * {@code scanBlock}: the scan-mode agent's inner loop over a 4 MiB read buffer (all-zero test, then
 * ChunkDigest.of) - the CPU ceiling of a scan or resync pass without I/O. {@code crc32c}: the segment record
 * checksum over 64 KiB.
 */
@State(Scope.Benchmark)
public class ChunkHashBench {
    static final int CHUNK_BYTES = 64 * BenchData.KIB;
    static final int BLOCK_BYTES = 4 * BenchData.MIB;

    private byte[] chunk;
    private byte[] block;
    private final byte[] zeros = new byte[CHUNK_BYTES];
    private final byte[] digest = new byte[ChunkDigest.BYTES];
    private MessageDigest sha256;

    @Setup
    public void setup() {
        chunk = BenchData.random(CHUNK_BYTES, 3);
        block = BenchData.random(BLOCK_BYTES, 4);
        sha256 = ChunkDigest.sha256();
    }

    @Benchmark
    public ChunkDigest chunkDigest() {
        return ChunkDigest.of(chunk);
    }

    @Benchmark
    public int plainSha256() throws DigestException {
        sha256.update(chunk, 0, CHUNK_BYTES);
        return sha256.digest(digest, 0, ChunkDigest.BYTES);
    }

    @Benchmark
    public void scanBlock(Blackhole blackhole) {
        for (int at = 0; at < BLOCK_BYTES; at += CHUNK_BYTES) {
            if (Arrays.equals(block, at, at + CHUNK_BYTES, zeros, 0, CHUNK_BYTES)) {
                continue;
            }
            blackhole.consume(ChunkDigest.of(block, at, CHUNK_BYTES).toBytes());
        }
    }

    @Benchmark
    public int crc32c() {
        return Crc32c.of(chunk, 0, CHUNK_BYTES);
    }
}
