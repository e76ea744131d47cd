package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.secondsite.disk.DiskFormat;
import dev.secondsite.disk.DiskImage;
import dev.secondsite.disk.DiskImages;
import dev.secondsite.replication.chunk.ChunkDigest;

/**
 * {@link FailbackWriter} against {@link FailbackFakeServer}: only differing chunks are downloaded and written,
 * zero chunks are written without a download (and only where the disk is not zero already), a corrupt
 * download fails the request before it or anything after it is written, a recorded request is never written
 * again, and a too-small disk fails with nothing written. Every test compares the disk's bytes.
 */
class FailbackWriterTest {
    static final int CHUNK = 4096;

    @TempDir
    Path tmp;
    FailbackFakeServer server;
    StateDir state;
    final ByteArrayOutputStream log = new ByteArrayOutputStream();
    final AtomicInteger stopReplication = new AtomicInteger();
    final AtomicInteger reports = new AtomicInteger();

    @AfterEach
    void close() throws IOException {
        if (server != null) {
            server.close();
        }
        if (state != null) {
            state.close();
        }
    }

    /** Server content: chunk i is zero when i % 7 == 0, else seeded random bytes. */
    static byte[] serverContent(long sizeBytes) {
        byte[] content = new byte[(int) sizeBytes];
        for (int i = 0; (long) i * CHUNK < sizeBytes; i++) {
            if (i % 7 != 0) {
                byte[] chunk = new byte[CHUNK];
                new Random(i).nextBytes(chunk);
                System.arraycopy(chunk, 0, content, i * CHUNK, Math.min(CHUNK, content.length - i * CHUNK));
            }
        }
        return content;
    }

    FailbackWriter writer() throws IOException {
        if (state == null) {
            state = StateDir.open(tmp.resolve("state"));
        }
        Retry retry = new Retry(2, d -> { }, () -> false, new PrintStream(log, true, StandardCharsets.UTF_8));
        return new FailbackWriter(server.client(), retry, state, Clock.systemUTC(),
                new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    boolean handle(FailbackWriter writer, AgentClient.FailbackRequest request, Map<String, DiskSource.Description> disks)
            throws IOException {
        return writer.handle(request, disks, stopReplication::incrementAndGet, () -> { }, reports::incrementAndGet);
    }

    static byte[] chunk(byte[] content, long index) {
        int from = (int) (index * CHUNK);
        return Arrays.copyOfRange(content, from, Math.min(content.length, from + CHUNK));
    }

    static void setChunk(byte[] content, long index, byte[] bytes) {
        System.arraycopy(bytes, 0, content, (int) (index * CHUNK), Math.min(bytes.length, content.length
                - (int) (index * CHUNK)));
    }

    static byte[] random(long seed) {
        byte[] bytes = new byte[CHUNK];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** The digest a ledger holds for {@code index} of {@code content}: ZERO for zeros, else padded SHA-256. */
    static byte[] ledgerDigest(byte[] content, long index) {
        byte[] padded = Arrays.copyOf(chunk(content, index), CHUNK);
        return Arrays.equals(padded, new byte[CHUNK]) ? DiskLedger.ZERO : ChunkDigest.of(padded).toBytes();
    }

    @Test
    void writesOnlyTheDifferingChunksInDigestBatchesAndResetsTheLedger() throws Exception {
        long size = 4100L * CHUNK + 1024; // 4101 chunks: two digest batches and a short last chunk
        UUID diskId = UUID.randomUUID();
        server = new FailbackFakeServer("fb-1");
        byte[] remote = serverContent(size);
        server.disks.put(diskId, new FailbackFakeServer.Disk(remote, CHUNK));
        byte[] local = remote.clone();
        setChunk(local, 1, random(-1));           // differs: downloaded
        setChunk(local, 2, new byte[CHUNK]);      // zero here, data there: downloaded
        setChunk(local, 7, random(-7));           // data here, zero there: zeroed without a download
        local[4097 * CHUNK + 10] ^= 0x40;         // one bit, in the second batch: downloaded
        local[4100 * CHUNK + 1000] ^= 0x01;       // the short last chunk: downloaded
        assertThat(chunk(remote, 14)).isEqualTo(new byte[CHUNK]); // zero on both sides: left alone
        Path disk = tmp.resolve("disk0.raw");
        Files.write(disk, local);
        writer(); // opens the state dir
        DiskLedger.create(state.diskDir(diskId), diskId, size, CHUNK, 7, DiskLedger.ZERO).close();

        FailbackWriter writer = writer();
        boolean held = handle(writer, server.failbackRequestRecord(Map.of("disk0", diskId)), disks(disk));

        assertThat(held).isTrue();
        assertThat(Files.readAllBytes(disk)).isEqualTo(remote);
        assertThat(server.chunkCalls).containsExactly(1L, 2L, 4097L, 4100L);
        assertThat(server.digestCalls).containsExactly("0+4096", "4096+5");
        AgentClient.FailbackReport report = writer.report();
        assertThat(report.requestId()).isEqualTo("fb-1");
        assertThat(report.status()).as(report.message()).isEqualTo("Completed");
        assertThat(report.chunksWritten()).isEqualTo(5);
        assertThat(report.bytesWritten()).isEqualTo(4L * CHUNK + 1024);
        assertThat(report.message()).contains("disk0: 5 of 4101 chunks differed");
        assertThat(stopReplication).hasValue(1);
        assertThat(reports).hasValue(1);
        assertThat(writer.completed()).isTrue();
        assertThat(Files.readString(state.root().resolve(FailbackWriter.RECORD_FILE))).contains("fb-1", "Completed");

        // The ledger now holds the written content, with its sequence kept: replication resumes as a delta.
        try (DiskLedger ledger = DiskLedger.open(state.diskDir(diskId), diskId).orElseThrow()) {
            assertThat(ledger.lastAckedSequence()).isEqualTo(7);
            assertThat(ledger.chunkBytes()).isEqualTo(CHUNK);
            for (long i = 0; i < ledger.chunkCount(); i++) {
                assertThat(ledger.matches(i, ledgerDigest(remote, i), 0)).as("chunk %d", i).isTrue();
            }
        }
        assertThat(state.disk(diskId).orElseThrow().name()).isEqualTo("disk0");
    }

    @Test
    void aCorruptChunkFailsTheRequestAndNothingFromItOnIsWritten() throws Exception {
        long size = 64L * CHUNK;
        UUID diskId = UUID.randomUUID();
        UUID laterDiskId = UUID.randomUUID();
        server = new FailbackFakeServer("fb-corrupt");
        byte[] remote = serverContent(size);
        server.disks.put(diskId, new FailbackFakeServer.Disk(remote, CHUNK));
        server.disks.put(laterDiskId, new FailbackFakeServer.Disk(remote, CHUNK));
        server.corrupt.add(5L);
        byte[] local = remote.clone();
        setChunk(local, 3, random(-3));
        setChunk(local, 5, random(-5));
        setChunk(local, 9, random(-9));
        Path disk = tmp.resolve("disk0.raw");
        Path later = tmp.resolve("disk1.raw");
        Files.write(disk, local);
        Files.write(later, new byte[(int) size]);
        writer();
        DiskLedger.create(state.diskDir(diskId), diskId, size, CHUNK, 3, DiskLedger.ZERO).close();
        Map<String, UUID> names = new LinkedHashMap<>();
        names.put("disk0", diskId);
        names.put("disk1", laterDiskId);

        FailbackWriter writer = writer();
        assertThat(handle(writer, server.failbackRequestRecord(names), disks(disk, later))).isTrue();

        AgentClient.FailbackReport report = writer.report();
        assertThat(report.status()).isEqualTo("Failed");
        assertThat(report.message()).contains("disk0", "chunk 5", "downloaded content has digest");
        assertThat(report.chunksWritten()).isEqualTo(1);
        assertThat(report.bytesWritten()).isEqualTo(CHUNK);
        assertThat(server.chunkCalls).containsExactly(3L, 5L);
        byte[] after = Files.readAllBytes(disk);
        byte[] expected = local.clone();
        setChunk(expected, 3, chunk(remote, 3)); // before the corrupt chunk: written
        assertThat(after).isEqualTo(expected); // chunk 5 and 9 keep the local content
        assertThat(Files.readAllBytes(later)).isEqualTo(new byte[(int) size]); // later disks untouched
        assertThat(writer.completed()).isFalse();
        // The ledger trusts nothing of this disk now: replication would resend it whole.
        try (DiskLedger ledger = DiskLedger.open(state.diskDir(diskId), diskId).orElseThrow()) {
            assertThat(ledger.lastAckedSequence()).isEqualTo(3);
            for (long i = 0; i < ledger.chunkCount(); i++) {
                assertThat(ledger.matches(i, DiskLedger.UNKNOWN, 0)).as("chunk %d", i).isTrue();
            }
        }

        // A failed request is recorded: seen again, it is reported, not retried (a retry is a new requestId).
        int calls = server.chunkCalls.size() + server.digestCalls.size();
        assertThat(handle(writer(), server.failbackRequestRecord(names), disks(disk, later))).isTrue();
        assertThat(server.chunkCalls.size() + server.digestCalls.size()).isEqualTo(calls);
    }

    @Test
    void aCompletedRequestIsNotWrittenAgainAfterARestart() throws Exception {
        long size = 32L * CHUNK;
        UUID diskId = UUID.randomUUID();
        server = new FailbackFakeServer("fb-restart");
        byte[] remote = serverContent(size);
        server.disks.put(diskId, new FailbackFakeServer.Disk(remote, CHUNK));
        byte[] local = new byte[(int) size];
        Path disk = tmp.resolve("disk0.raw");
        Files.write(disk, local);
        AgentClient.FailbackRequest request = server.failbackRequestRecord(Map.of("disk0", diskId));
        assertThat(handle(writer(), request, disks(disk))).isTrue();
        assertThat(Files.readAllBytes(disk)).isEqualTo(remote);
        long written = remote.length - 5L * CHUNK; // chunks 0, 7, 14, 21, 28 are zero on both sides
        assertThat(server.chunkCalls).hasSize(27);

        // The machine writes after the failback; then the agent restarts while the server still asks.
        byte[] changed = random(99);
        ReplicatorTest.write(disk, 3L * CHUNK, changed);
        state.close();
        state = null;
        int calls = server.chunkCalls.size() + server.digestCalls.size();
        FailbackWriter restarted = writer();
        assertThat(restarted.report().status()).isEqualTo("Completed"); // reported from the first heartbeat on
        assertThat(handle(restarted, request, disks(disk))).isTrue();
        assertThat(server.chunkCalls.size() + server.digestCalls.size()).isEqualTo(calls);
        assertThat(Arrays.copyOfRange(Files.readAllBytes(disk), 3 * CHUNK, 4 * CHUNK)).isEqualTo(changed);
        assertThat(restarted.report().bytesWritten()).isEqualTo(written);
        assertThat(stopReplication).hasValue(1);

        // The server drops the request: replication resumes, reporting stops; the record is kept.
        assertThat(handle(restarted, null, disks(disk))).isFalse();
        assertThat(restarted.report()).isNull();
        assertThat(Files.readString(state.root().resolve(FailbackWriter.RECORD_FILE))).contains("\"closed\" : true");
        // Asked again for the same id (a server that lost track): reported again, still not written.
        assertThat(handle(restarted, request, disks(disk))).isTrue();
        assertThat(restarted.report().status()).isEqualTo("Completed");
        assertThat(server.chunkCalls.size() + server.digestCalls.size()).isEqualTo(calls);
    }

    @Test
    void aStoppedFailbackIsNotRecordedAndItsRedoTransfersOnlyWhatIsLeft() throws Exception {
        long size = 32L * CHUNK;
        UUID diskId = UUID.randomUUID();
        server = new FailbackFakeServer("fb-stopped");
        byte[] remote = serverContent(size);
        server.disks.put(diskId, new FailbackFakeServer.Disk(remote, CHUNK));
        Path disk = tmp.resolve("disk0.raw");
        Files.write(disk, new byte[(int) size]);
        AgentClient.FailbackRequest request = server.failbackRequestRecord(Map.of("disk0", diskId));
        AtomicInteger ticks = new AtomicInteger();
        FailbackWriter writer = writer();

        assertThatThrownBy(() -> writer.handle(request, disks(disk), () -> { }, () -> {
            if (ticks.incrementAndGet() == 10) { // after chunk 9: the agent is asked to stop
                throw new Retry.StopRequested();
            }
        }, reports::incrementAndGet)).isInstanceOf(Retry.StopRequested.class);

        assertThat(writer.outcome()).isNull();
        assertThat(writer.report()).isNull();
        assertThat(reports).hasValue(0);
        assertThat(server.chunkCalls).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 8L, 9L);
        try (DiskLedger ledger = DiskLedger.open(state.diskDir(diskId), diskId).orElseThrow()) {
            assertThat(ledger.matches(1, DiskLedger.UNKNOWN, 0)).isTrue();
        }

        // Seen again (or after a restart): done from the start, and only what is still missing is transferred.
        assertThat(handle(writer, request, disks(disk))).isTrue();
        assertThat(writer.report().status()).isEqualTo("Completed");
        assertThat(writer.report().chunksWritten()).isEqualTo(27 - 8);
        assertThat(server.chunkCalls).hasSize(27).doesNotHaveDuplicates();
        assertThat(Files.readAllBytes(disk)).isEqualTo(remote);
    }

    @Test
    void aDiskSmallerThanTheServersFailsWithNothingWrittenOnAnyDisk() throws Exception {
        UUID okId = UUID.randomUUID();
        UUID bigId = UUID.randomUUID();
        server = new FailbackFakeServer("fb-small");
        server.disks.put(okId, new FailbackFakeServer.Disk(serverContent(16L * CHUNK), CHUNK));
        server.disks.put(bigId, new FailbackFakeServer.Disk(serverContent(32L * CHUNK), CHUNK));
        Path ok = tmp.resolve("ok.raw");
        Path small = tmp.resolve("small.raw");
        Files.write(ok, new byte[16 * CHUNK]);
        Files.write(small, new byte[16 * CHUNK]);
        Map<String, UUID> names = new LinkedHashMap<>();
        names.put("disk0", okId);
        names.put("disk1", bigId);

        FailbackWriter writer = writer();
        assertThat(handle(writer, server.failbackRequestRecord(names), disks(ok, small))).isTrue();

        AgentClient.FailbackReport report = writer.report();
        assertThat(report.status()).isEqualTo("Failed");
        assertThat(report.message()).contains("disk1", small.toString(), "smaller than the " + 32 * CHUNK,
                "nothing was written");
        assertThat(report.chunksWritten()).isZero();
        assertThat(server.digestCalls).isEmpty();
        assertThat(server.chunkCalls).isEmpty();
        assertThat(Files.readAllBytes(ok)).isEqualTo(new byte[16 * CHUNK]);
        assertThat(Files.readAllBytes(small)).isEqualTo(new byte[16 * CHUNK]);
        assertThat(Files.exists(state.diskDir(okId))).isFalse(); // no ledger touched either
    }

    @Test
    void aLargerDiskGetsTheServersBytesAndKeepsItsTail() throws Exception {
        long size = 10L * CHUNK + 512; // unaligned: the last chunk shares a chunk with the local tail
        UUID diskId = UUID.randomUUID();
        server = new FailbackFakeServer("fb-larger");
        byte[] remote = serverContent(size);
        server.disks.put(diskId, new FailbackFakeServer.Disk(remote, CHUNK));
        byte[] local = new byte[12 * CHUNK];
        Arrays.fill(local, (byte) 0x5a);
        Path disk = tmp.resolve("disk0.raw");
        Files.write(disk, local);

        FailbackWriter writer = writer();
        assertThat(handle(writer, server.failbackRequestRecord(Map.of("disk0", diskId)), disks(disk))).isTrue();

        assertThat(writer.report().status()).as(writer.report().message()).isEqualTo("Completed");
        byte[] after = Files.readAllBytes(disk);
        assertThat(Arrays.copyOf(after, (int) size)).isEqualTo(remote);
        assertThat(Arrays.copyOfRange(after, (int) size, after.length))
                .isEqualTo(Arrays.copyOfRange(local, (int) size, local.length));
        try (DiskLedger ledger = DiskLedger.open(state.diskDir(diskId), diskId).orElseThrow()) {
            assertThat(ledger.virtualBytes()).isEqualTo(local.length);
            for (long i = 0; i < 10; i++) {
                assertThat(ledger.matches(i, ledgerDigest(remote, i), 0)).as("chunk %d", i).isTrue();
            }
            for (long i = 10; i < 12; i++) { // partly or wholly outside what the server wrote
                assertThat(ledger.matches(i, DiskLedger.UNKNOWN, 0)).as("chunk %d", i).isTrue();
            }
        }
    }

    @Test
    void aVhdxDiskIsWrittenThroughItsFormat() throws Exception {
        long size = 4L << 20;
        UUID diskId = UUID.randomUUID();
        server = new FailbackFakeServer("fb-vhdx");
        byte[] remote = serverContent(size);
        server.disks.put(diskId, new FailbackFakeServer.Disk(remote, CHUNK));
        Path disk = tmp.resolve("disk0.vhdx");
        try (DiskImage image = DiskImages.create(disk, DiskFormat.VHDX, size)) {
            image.write(0, ByteBuffer.wrap(remote, 0, 100 * CHUNK)); // the first 100 chunks survived
        }

        FailbackWriter writer = writer();
        assertThat(handle(writer, server.failbackRequestRecord(Map.of("disk0", diskId)), disks(disk))).isTrue();

        assertThat(writer.report().status()).as(writer.report().message()).isEqualTo("Completed");
        long zeroChunks = (size / CHUNK + 6) / 7;
        assertThat(server.chunkCalls).hasSize((int) (size / CHUNK - zeroChunks - (100 - 15)));
        try (DiskImage image = DiskImages.open(disk, false)) {
            ByteBuffer after = ByteBuffer.allocate((int) size);
            image.readFully(0, after);
            assertThat(after.array()).isEqualTo(remote);
        }
    }

    @Test
    void anUnreachableServerRecordsNothingSoTheRequestIsRetried() throws Exception {
        UUID diskId = UUID.randomUUID();
        server = new FailbackFakeServer("fb-gone");
        server.disks.put(diskId, new FailbackFakeServer.Disk(serverContent(8L * CHUNK), CHUNK));
        Path disk = tmp.resolve("disk0.raw");
        Files.write(disk, new byte[8 * CHUNK]);
        AgentClient.FailbackRequest request = server.failbackRequestRecord(Map.of("disk0", diskId));
        FailbackWriter writer = writer();
        server.close(); // connection refused from now on

        assertThatThrownBy(() -> handle(writer, request, disks(disk)))
                .isInstanceOf(FailbackWriter.ServerUnreachableException.class);
        assertThat(writer.outcome()).isNull();
        assertThat(writer.report()).isNull();
        server = null;
    }

    static Map<String, DiskSource.Description> disks(Path... paths) throws IOException {
        Map<String, DiskSource.Description> disks = new LinkedHashMap<>();
        for (int i = 0; i < paths.length; i++) {
            disks.put("disk" + i, DiskSource.describe("disk" + i, paths[i]));
        }
        return disks;
    }
}
