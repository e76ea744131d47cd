package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.secondsite.disk.DiskFormat;
import dev.secondsite.disk.DiskImage;
import dev.secondsite.disk.DiskImages;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.segment.Segment;
import dev.secondsite.replication.segment.SegmentRecord;

/** The scan-mode replicator against the real apply engine (no HTTP): what it sends and when it records it. */
class ReplicatorTest {
    static final int CHUNK = 64 << 10;
    static final long MIB = 1 << 20;

    @TempDir
    Path tmp;
    UUID diskId;
    Path disk;
    Path state;
    Path spool;

    @BeforeEach
    void setUp() {
        diskId = UUID.randomUUID();
        disk = tmp.resolve("disk.raw");
        state = tmp.resolve("state");
        spool = tmp.resolve("spool");
    }

    @Test
    void initialReplicationSkipsZeroChunksAndEndsWithACrashConsistentMarker() throws Exception {
        createRaw(disk, 8 * MIB);
        write(disk, 1 * MIB, pattern(0x5a, 64 << 10));        // chunk 16
        write(disk, 3 * MIB + 100, pattern(0x11, 1000));       // inside chunk 48
        write(disk, 8 * MIB - 10, pattern(0x22, 10));          // the last chunk
        ReplicaSink sink = sink(8 * MIB);
        Replicator replicator = replicator(sink);

        Replicator.PassResult result = pass(replicator, sink, false);

        assertThat(result.kind()).isEqualTo(Replicator.PassKind.INITIAL);
        List<SegmentRecord> records = records(sink);
        assertThat(records.stream().filter(r -> r instanceof SegmentRecord.Data).map(r -> ((SegmentRecord.Data) r).offset()))
                .containsExactly(16 * (long) CHUNK, 48 * (long) CHUNK, 127 * (long) CHUNK);
        assertThat(records).noneMatch(r -> r instanceof SegmentRecord.Zero);
        assertThat(records.getLast()).isInstanceOfSatisfying(SegmentRecord.Marker.class, m -> {
            assertThat(m.type()).isEqualTo(ConsistencyType.CRASH_CONSISTENT);
            assertThat(m.tag()).isEqualTo("initial");
        });
        assertThat(result.dataBytes()).isEqualTo(3L * CHUNK);
        assertRestoredEquals(sink, disk);
    }

    @Test
    void aDiskEndingInsideAChunkIsReadWholeAndAFailedChunkReadFailsThePass() throws Exception {
        long size = 5 * MIB + 1000; // the last chunk is short
        createRaw(disk, size);
        write(disk, 0, pattern(0x31, 100));
        write(disk, 4 * MIB - 10, pattern(0x32, 20)); // across the pass's 4 MiB read buffers
        write(disk, size - 500, pattern(0x33, 500));
        ReplicaSink sink = sink(size);
        Replicator replicator = replicator(sink);

        Replicator.PassResult result = pass(replicator, sink, false);

        assertThat(records(sink).stream().filter(r -> r instanceof SegmentRecord.Data)
                .map(r -> ((SegmentRecord.Data) r).offset()))
                .containsExactly(0L, 4 * MIB - CHUNK, 4 * MIB, 5 * MIB);
        assertThat(result.readBytes()).isEqualTo(size);
        assertRestoredEquals(sink, disk);

        // A chunk that cannot be read fails the pass with the cause.
        write(disk, 4 * MIB + CHUNK, pattern(0x34, 10));
        long next = sink.nextSequence();
        Replicator.PassKind kind = replicator.prepare(size, CHUNK, next, false);
        try (DiskSource disk0 = DiskSource.open(disk); DiskSource failing = new DiskSource() {
            @Override
            public long sizeBytes() {
                return disk0.sizeBytes();
            }

            @Override
            public void readFully(long offset, byte[] dst, int from, int length) throws IOException {
                long bad = 4 * MIB + 2 * CHUNK;
                if (offset <= bad && bad < offset + length) {
                    throw new IOException("sector 8448 unreadable");
                }
                disk0.readFully(offset, dst, from, length);
            }

            @Override
            public boolean mayHoldData(long offset, long length) throws IOException {
                return disk0.mayHoldData(offset, length);
            }

            @Override
            public void close() {
            }
        }) {
            assertThatThrownBy(() -> replicator.scan(kind, failing, next, false, spool, () -> { }))
                    .isInstanceOf(IOException.class).hasMessage("sector 8448 unreadable");
        }
    }

    @Test
    void aSecondPassSendsOnlyTheChunksThatChanged() throws Exception {
        createRaw(disk, 4 * MIB);
        write(disk, 0, random(4 * (int) MIB, 1));
        ReplicaSink sink = sink(4 * MIB);
        Replicator replicator = replicator(sink);
        pass(replicator, sink, false);
        int before = sink.received.size();

        write(disk, 5L * CHUNK + 7, pattern(0x01, 3));               // one byte range in chunk 5
        write(disk, 20L * CHUNK - 2, pattern(0x02, 4));              // straddles chunks 19 and 20
        Replicator.PassResult second = pass(replicator, sink, false);

        assertThat(second.kind()).isEqualTo(Replicator.PassKind.CHANGES);
        List<SegmentRecord> sent = records(sink.received.subList(before, sink.received.size()));
        assertThat(sent.stream().filter(r -> r instanceof SegmentRecord.Data).map(r -> ((SegmentRecord.Data) r).offset()))
                .containsExactly(5L * CHUNK, 19L * CHUNK, 20L * CHUNK);
        assertThat(sent.getLast()).isInstanceOfSatisfying(SegmentRecord.Marker.class,
                m -> assertThat(m.tag()).isEqualTo("changes"));
        assertRestoredEquals(sink, disk);

        // Nothing changed: only a marker (a new recovery point), no data.
        int mark = sink.received.size();
        Replicator.PassResult idle = pass(replicator, sink, false);
        assertThat(idle.changedChunks()).isZero();
        assertThat(records(sink.received.subList(mark, sink.received.size())))
                .singleElement().isInstanceOf(SegmentRecord.Marker.class);
        assertThat(sink.points()).hasSize(3);
    }

    @Test
    void aZeroedRegionIsSentAsZeroRecordsCoalescedIntoRanges() throws Exception {
        createRaw(disk, 4 * MIB);
        write(disk, 0, random(4 * (int) MIB, 2));
        ReplicaSink sink = sink(4 * MIB);
        Replicator replicator = replicator(sink);
        pass(replicator, sink, false);
        int before = sink.received.size();

        write(disk, 10L * CHUNK, new byte[6 * CHUNK]);          // chunks 10..15 become zeros
        write(disk, 30L * CHUNK, new byte[CHUNK]);              // chunk 30
        Replicator.PassResult result = pass(replicator, sink, false);

        List<SegmentRecord> sent = records(sink.received.subList(before, sink.received.size()));
        assertThat(sent).noneMatch(r -> r instanceof SegmentRecord.Data);
        assertThat(sent.stream().filter(r -> r instanceof SegmentRecord.Zero).map(r -> (SegmentRecord.Zero) r))
                .containsExactly(new SegmentRecord.Zero(10L * CHUNK, 6L * CHUNK), new SegmentRecord.Zero(30L * CHUNK, CHUNK));
        assertThat(result.zeroBytes()).isEqualTo(7L * CHUNK);
        assertRestoredEquals(sink, disk);
    }

    @Test
    void segmentsStayWithinTheirBoundAndSequencesFollowEachOther() throws Exception {
        long size = 3 * MIB + 12345; // not a multiple of the chunk size either
        createRaw(disk, size);
        write(disk, 0, random((int) size, 3)); // incompressible
        ReplicaSink sink = sink(size);
        long bound = 300 << 10;
        Replicator replicator = new Replicator(diskId, state, sink, Clock.systemUTC(), bound);

        Replicator.PassResult result = pass(replicator, sink, false);

        assertThat(sink.sizes).allSatisfy(s -> assertThat((long) s).isLessThanOrEqualTo(bound));
        assertThat(sink.received).hasSizeGreaterThan(10);
        assertThat(sink.received.stream().map(s -> s.header().sequence()))
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, sink.received.size()).boxed().toList());
        assertThat(result.segments()).isEqualTo(sink.received.size());
        // Only the last segment carries the marker.
        for (int i = 0; i < sink.received.size(); i++) {
            boolean hasMarker = sink.received.get(i).records().stream().anyMatch(r -> r instanceof SegmentRecord.Marker);
            assertThat(hasMarker).isEqualTo(i == sink.received.size() - 1);
        }
        assertRestoredEquals(sink, disk);
    }

    @Test
    void defaultSegmentBoundHolds() throws Exception {
        long size = 80 * MIB;
        createRaw(disk, size);
        write(disk, 0, random((int) size, 4));
        ReplicaSink sink = sink(size);

        pass(replicator(sink), sink, false);

        assertThat(sink.received).hasSizeGreaterThanOrEqualTo(3);
        assertThat(sink.sizes).allSatisfy(s -> assertThat((long) s).isLessThanOrEqualTo(SegmentBuilder.SEGMENT_BYTES_MAX));
        assertRestoredEquals(sink, disk);
    }

    @Test
    void theDiskIsReadOnWhileTheFullSegmentBeforeUploads() throws Exception {
        long size = 12 * MIB; // three read blocks; 5 MiB segments: segment 1 is sent during block 2
        createRaw(disk, size);
        write(disk, 0, random((int) size, 21));
        ReplicaSink sink = sink(size);
        java.util.concurrent.CountDownLatch readOn = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger ticks = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean overlapped = new java.util.concurrent.atomic.AtomicBoolean();
        // Segment 1 is handed over during read block 2; its upload waits until block 2 has been read. A pass
        // that uploaded in line could not finish block 2 first: the wait would time out.
        SegmentUploader slowFirst = (d, sequence, bytes, length) -> {
            if (sequence == 1) {
                try {
                    overlapped.set(readOn.await(10, java.util.concurrent.TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
            }
            return sink.upload(d, sequence, bytes, length);
        };
        Replicator replicator = new Replicator(diskId, state, slowFirst, Clock.systemUTC(), 5 * MIB);
        Replicator.PassKind kind = replicator.prepare(size, CHUNK, sink.nextSequence(), false);
        try (DiskSource source = DiskSource.open(disk)) {
            Replicator.Pass pass = replicator.scan(kind, source, sink.nextSequence(), false, spool, () -> {
                if (ticks.incrementAndGet() >= 2) {
                    readOn.countDown(); // read block 2 is done
                }
            });
            pass.finish(ConsistencyType.CRASH_CONSISTENT, java.time.Instant.now());
        }
        assertThat(overlapped).as("the next segment was built while segment 1 uploaded").isTrue();
        assertThat(sink.received).hasSizeGreaterThanOrEqualTo(3);
        assertRestoredEquals(sink, disk);
    }

    @Test
    void hashesAreRecordedOnlyForAcknowledgedSegments() throws Exception {
        long size = 2 * MIB;
        createRaw(disk, size);
        write(disk, 0, random((int) size, 5));
        ReplicaSink sink = sink(size);
        Replicator replicator = new Replicator(diskId, state, sink, Clock.systemUTC(), 300 << 10);
        sink.failBeforeStore.add(2L);

        assertThatThrownBy(() -> pass(replicator, sink, false)).isInstanceOf(IOException.class)
                .hasMessageContaining("before segment 2");
        replicator.close();

        int firstSegmentChunks = (int) sink.received.getFirst().records().stream()
                .filter(r -> r instanceof SegmentRecord.Data).count();
        try (DiskLedger ledger = DiskLedger.open(state, diskId).orElseThrow()) {
            assertThat(ledger.lastAckedSequence()).isEqualTo(1);
            byte[] chunk = new byte[CHUNK];
            read(disk, 0, chunk);
            for (long i = 0; i < ledger.chunkCount(); i++) {
                if (i < firstSegmentChunks) {
                    assertThat(ledger.digest(i)).as("chunk %d", i).isEqualTo(digestOf(i));
                } else if (i < 2L * firstSegmentChunks) {
                    assertThat(ledger.digest(i)).as("chunk %d (the failed segment)", i).isEqualTo(DiskLedger.UNKNOWN);
                } else { // never sent, or in the segment uploading alongside the failed one, refused after it
                    assertThat(ledger.digest(i)).as("chunk %d", i).isIn(DiskLedger.UNKNOWN, DiskLedger.ZERO);
                }
            }
        }

        // A restarted agent picks up where the server is and completes the disk.
        Replicator restarted = replicator(sink);
        Replicator.PassResult result = pass(restarted, sink, false);
        assertThat(result.firstSequence()).isEqualTo(2);
        assertThat(result.dataBytes()).isEqualTo(size - (long) firstSegmentChunks * CHUNK);
        assertRestoredEquals(sink, disk);
    }

    @Test
    void aSegmentStoredButNeverAcknowledgedIsResentSoARevertedChunkIsNotLost() throws Exception {
        createRaw(disk, 1 * MIB);
        byte[] a = pattern(0x0a, CHUNK);
        byte[] b = pattern(0x0b, CHUNK);
        write(disk, 0, a);
        ReplicaSink sink = sink(1 * MIB);
        Replicator replicator = replicator(sink);
        pass(replicator, sink, false);                            // server: A (sequence 1)

        write(disk, 0, b);
        sink.failAfterStore.add(2L);                              // server stores B, the agent never hears it
        assertThatThrownBy(() -> pass(replicator, sink, false)).isInstanceOf(IOException.class);
        replicator.close();

        write(disk, 0, a);                                        // back to A; the ledger's old hash says A
        Replicator restarted = replicator(sink);
        assertThat(sink.nextSequence()).isEqualTo(3);
        Replicator.PassResult result = pass(restarted, sink, false);

        assertThat(result.changedChunks()).isEqualTo(1);          // the in-flight chunk is resent
        assertRestoredEquals(sink, disk);
    }

    @Test
    void resyncResendsEveryNonZeroChunkAndZeroesTheRest() throws Exception {
        createRaw(disk, 2 * MIB);
        write(disk, 0, random(CHUNK * 3, 6));
        ReplicaSink sink = sink(2 * MIB);
        Replicator replicator = replicator(sink);
        pass(replicator, sink, false);
        int before = sink.received.size();

        Replicator.PassResult result = pass(replicator, sink, true);

        assertThat(result.kind()).isEqualTo(Replicator.PassKind.RESYNC);
        List<SegmentRecord> sent = records(sink.received.subList(before, sink.received.size()));
        assertThat(sent.stream().filter(r -> r instanceof SegmentRecord.Data)).hasSize(3);
        assertThat(sent.stream().filter(r -> r instanceof SegmentRecord.Zero).map(r -> (SegmentRecord.Zero) r))
                .containsExactly(new SegmentRecord.Zero(3L * CHUNK, 2 * MIB - 3L * CHUNK));
        assertThat(sent.getLast()).isInstanceOfSatisfying(SegmentRecord.Marker.class,
                m -> assertThat(m.tag()).isEqualTo("resync"));
        assertRestoredEquals(sink, disk);

        // After a resync the ledger is whole again: the next pass sends nothing.
        assertThat(pass(replicator, sink, false).changedChunks()).isZero();
    }

    @Test
    void aResyncWithTheReplicasDigestsSendsOnlyTheChunksThatDiffer() throws Exception {
        createRaw(disk, 4 * MIB);
        write(disk, 0, random(4 * (int) MIB, 7));
        ReplicaSink sink = sink(4 * MIB);
        Replicator replicator = new Replicator(diskId, state, sink, SegmentUploader.Acknowledged.NONE, sink::digests,
                Clock.systemUTC(), SegmentBuilder.SEGMENT_BYTES_MAX);
        pass(replicator, sink, false);
        // The replica lost a chunk's content (found damaged and quarantined); the disk changed behind the
        // agent's back in two places (e.g. written while the agent was not running).
        ChunkDigest damaged = sink.recoveryStore().chunks().insert(java.util.Arrays.copyOfRange(
                java.nio.file.Files.readAllBytes(disk), 5 * CHUNK, 6 * CHUNK));
        sink.recoveryStore().chunks().flush();
        sink.recoveryStore().chunks().rewritePack(sink.recoveryStore().chunks().location(damaged).orElseThrow().pack(),
                digest -> !digest.equals(damaged));
        write(disk, 20L * CHUNK + 7, pattern(0x33, 100));
        write(disk, 40L * CHUNK, new byte[CHUNK]);
        int before = sink.received.size();

        Replicator.PassResult result = pass(replicator, sink, true);

        assertThat(result.kind()).isEqualTo(Replicator.PassKind.RESYNC);
        assertThat(sink.digestPagesServed).isEqualTo(1);
        List<SegmentRecord> sent = records(sink.received.subList(before, sink.received.size()));
        assertThat(sent.stream().filter(r -> r instanceof SegmentRecord.Data).map(r -> ((SegmentRecord.Data) r).offset()))
                .containsExactlyInAnyOrder(5L * CHUNK, 20L * CHUNK);
        assertThat(sent.stream().filter(r -> r instanceof SegmentRecord.Zero).map(r -> (SegmentRecord.Zero) r))
                .containsExactly(new SegmentRecord.Zero(40L * CHUNK, CHUNK));
        assertRestoredEquals(sink, disk);
        assertThat(pass(replicator, sink, false).changedChunks()).isZero();
    }

    @Test
    void aResyncSendsEverythingWhenTheReplicaHasSegmentsStillToApply() throws Exception {
        createRaw(disk, 2 * MIB);
        write(disk, 0, random(CHUNK * 3, 8));
        ReplicaSink sink = sink(2 * MIB);
        Replicator replicator = new Replicator(diskId, state, sink, SegmentUploader.Acknowledged.NONE, sink::digests,
                Clock.systemUTC(), SegmentBuilder.SEGMENT_BYTES_MAX);
        pass(replicator, sink, false);
        sink.appliedSequenceSkew = -1; // the digests describe a state behind what our segments land on
        int before = sink.received.size();

        pass(replicator, sink, true);

        List<SegmentRecord> sent = records(sink.received.subList(before, sink.received.size()));
        assertThat(sent.stream().filter(r -> r instanceof SegmentRecord.Data)).hasSize(3);
        assertRestoredEquals(sink, disk);
    }

    @Test
    void aResyncEndsWithItsTaggedMarkerAndIsNotRepeatedForTheSameId() throws Exception {
        createRaw(disk, 1 * MIB);
        write(disk, 0, random(CHUNK, 12));
        ReplicaSink sink = sink(1 * MIB);
        Replicator replicator = replicator(sink);
        pass(replicator, sink, false);

        assertThat(replicator.prepare(MIB, CHUNK, sink.nextSequence(), true, "r-1"))
                .isEqualTo(Replicator.PassKind.RESYNC);
        assertThat(replicator.stats().completedResyncId).isNull();
        finishPass(replicator, sink, Replicator.PassKind.RESYNC);
        assertThat(sink.latestPoint().tag()).isEqualTo("resync:r-1");
        assertThat(replicator.stats().completedResyncId).as("reported in heartbeats: the resync's progress is 100")
                .isEqualTo("r-1");

        // The server has not applied it yet and still asks for r-1: no second resync.
        assertThat(replicator.prepare(MIB, CHUNK, sink.nextSequence(), true, "r-1"))
                .isEqualTo(Replicator.PassKind.CHANGES);
        finishPass(replicator, sink, Replicator.PassKind.CHANGES);
        // A new request is honoured.
        assertThat(replicator.prepare(MIB, CHUNK, sink.nextSequence(), true, "r-2"))
                .isEqualTo(Replicator.PassKind.RESYNC);
    }

    @Test
    void aResyncEndedByAShutdownMarkerIsDoneAgainWhileTheServerStillAsks() throws Exception {
        createRaw(disk, 1 * MIB);
        write(disk, 0, random(CHUNK, 13));
        ReplicaSink sink = sink(1 * MIB);
        Replicator replicator = replicator(sink);
        pass(replicator, sink, false);

        // A failover's final pass lands on a resync: same content, the shutdown tag instead of resync:r-1.
        assertThat(replicator.prepare(MIB, CHUNK, sink.nextSequence(), true, "r-1"))
                .isEqualTo(Replicator.PassKind.RESYNC);
        try (DiskSource source = DiskSource.open(disk)) {
            Replicator.Pass pass = replicator.scan(Replicator.PassKind.RESYNC, source, sink.nextSequence(), false,
                    spool, () -> { });
            Thread.sleep(2);
            assertThat(pass.finish(ConsistencyType.CRASH_CONSISTENT, java.time.Instant.now(), "shutdown:f-1").tag())
                    .isEqualTo("shutdown:f-1");
        }
        assertThat(sink.latestPoint().tag()).isEqualTo("shutdown:f-1");
        assertThat(replicator.stats().completedResyncId).as("a shutdown-tagged pass completes no resync").isNull();

        // The server clears a resync on its own tag only, so after a rollback it still asks: resync again.
        assertThat(replicator.prepare(MIB, CHUNK, sink.nextSequence(), true, "r-1"))
                .isEqualTo(Replicator.PassKind.RESYNC);
    }

    private void finishPass(Replicator replicator, ReplicaSink sink, Replicator.PassKind kind) throws Exception {
        try (DiskSource source = DiskSource.open(disk)) {
            Replicator.Pass pass = replicator.scan(kind, source, sink.nextSequence(), false, spool, () -> { });
            Thread.sleep(2);
            pass.finish(ConsistencyType.CRASH_CONSISTENT, java.time.Instant.now());
        }
    }

    @Test
    void lostLocalStateResendsEverythingIncludingZeroes() throws Exception {
        createRaw(disk, 2 * MIB);
        write(disk, 0, random((int) (2 * MIB), 7));
        ReplicaSink sink = sink(2 * MIB);
        Replicator first = replicator(sink);
        pass(first, sink, false);
        first.close();
        deleteTree(state);

        write(disk, 4L * CHUNK, new byte[2 * CHUNK]);            // zeroed while the agent had no state
        Replicator fresh = replicator(sink);
        Replicator.PassResult result = pass(fresh, sink, false);

        assertThat(result.kind()).isEqualTo(Replicator.PassKind.FULL_RESEND);
        assertThat(result.zeroBytes()).isEqualTo(2L * CHUNK);
        assertRestoredEquals(sink, disk);
    }

    @Test
    void aServerBehindTheLedgerGetsTheWholeDiskAgain() throws Exception {
        createRaw(disk, 1 * MIB);
        write(disk, 0, random((int) MIB, 8));
        ReplicaSink sink = sink(1 * MIB);
        Replicator replicator = replicator(sink);
        pass(replicator, sink, false);
        pass(replicator, sink, false);

        // The server says it expects sequence 2 although the agent recorded an ack for 2.
        Replicator.PassKind kind = replicator.prepare(MIB, CHUNK, 2, false);
        assertThat(kind).isEqualTo(Replicator.PassKind.FULL_RESEND);
        assertThat(replicator.ledger().digest(0)).isEqualTo(DiskLedger.UNKNOWN);
        assertThat(replicator.ledger().lastAckedSequence()).isEqualTo(1);
    }

    @Test
    void aResizedDiskIsRefused() throws Exception {
        createRaw(disk, 1 * MIB);
        ReplicaSink sink = sink(1 * MIB);
        Replicator replicator = replicator(sink);
        pass(replicator, sink, false);
        assertThatThrownBy(() -> replicator.prepare(2 * MIB, CHUNK, sink.nextSequence(), false))
                .isInstanceOf(Replicator.DiskResizedException.class).hasMessageContaining("re-protected");
    }

    @Test
    void aDeferredPassSpoolsSegmentsUntilFinished() throws Exception {
        createRaw(disk, 2 * MIB);
        write(disk, 0, random((int) (2 * MIB), 9));
        ReplicaSink sink = sink(2 * MIB);
        Replicator replicator = new Replicator(diskId, state, sink, Clock.systemUTC(), 300 << 10);
        Replicator.PassKind kind = replicator.prepare(2 * MIB, CHUNK, sink.nextSequence(), false);
        Replicator.Pass pass;
        try (DiskSource source = DiskSource.open(disk)) {
            pass = replicator.scan(kind, source, sink.nextSequence(), true, spool, () -> { });
        }
        assertThat(sink.received).isEmpty();                    // nothing on the wire during the read
        try (var files = Files.list(spool)) {
            assertThat(files.count()).isGreaterThan(1);
        }
        Replicator.PassResult result = pass.finish(ConsistencyType.APP_CONSISTENT, pass.scanEnd());

        assertThat(result.segments()).isEqualTo(sink.received.size());
        assertThat(sink.latestPoint().consistency()).isEqualTo(ConsistencyType.APP_CONSISTENT);
        try (var files = Files.list(spool)) {
            assertThat(files.count()).isZero();
        }
        assertRestoredEquals(sink, disk);
    }

    @Test
    void aVhdxIsReadAsItsVirtualDisk() throws Exception {
        Path vhdx = tmp.resolve("disk.vhdx");
        long size = 64 * MIB;
        byte[] data = random(3 * CHUNK, 10);
        try (DiskImage image = DiskImages.create(vhdx, DiskFormat.VHDX, size)) {
            image.write(40 * MIB + 512, ByteBuffer.wrap(data));
            image.flush();
        }
        ReplicaSink sink = sink(size);
        Replicator replicator = replicator(sink);
        Replicator.PassKind kind = replicator.prepare(size, CHUNK, 1, false);
        Replicator.PassResult result;
        try (DiskSource source = DiskSource.open(vhdx)) {
            assertThat(source.sizeBytes()).isEqualTo(size);
            Replicator.Pass pass = replicator.scan(kind, source, 1, false, spool, () -> { });
            result = pass.finish(ConsistencyType.CRASH_CONSISTENT, pass.scanEnd());
        }
        assertThat(result.changedChunks()).isEqualTo(4);          // 3 chunks of data straddle 4 chunks

        Path restored = sink.restoreLatest(tmp.resolve("restored.raw"));
        byte[] expected = new byte[(int) size];
        System.arraycopy(data, 0, expected, (int) (40 * MIB + 512), data.length);
        assertThat(Files.readAllBytes(restored)).isEqualTo(expected);
    }

    @Test
    void aBlockDeviceIsReadRaw() throws Exception {
        long size = 3 * MIB;
        createRaw(disk, size);
        write(disk, 2 * MIB, random(CHUNK * 2, 13));
        Path device = attachLoopDevice(disk);
        try {
            assertThat(DiskSource.BlockDevice.is(device)).isTrue();
            DiskSource.Description description = DiskSource.describe("disk0", device);
            assertThat(description.sizeBytes()).isEqualTo(size);
            assertThat(description.format()).isEqualTo("RAW");
            assertThat(description.logicalSectorBytes()).isIn(512, 4096);
            ReplicaSink sink = sink(size);
            Replicator replicator = replicator(sink);
            Replicator.PassKind kind = replicator.prepare(size, CHUNK, 1, false);
            try (DiskSource source = DiskSource.open(device)) {
                Replicator.Pass pass = replicator.scan(kind, source, 1, false, spool, () -> { });
                assertThat(pass.finish(ConsistencyType.CRASH_CONSISTENT, pass.scanEnd()).changedChunks()).isEqualTo(2);
            }
            assertRestoredEquals(sink, disk);
        } finally {
            new ProcessBuilder("losetup", "-d", device.toString()).inheritIO().start().waitFor();
        }
    }

    /** Attaches a loop device (Linux, root) or skips the test where the platform cannot. */
    private static Path attachLoopDevice(Path file) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(Path.of("/dev/loop-control"))
                && Files.isWritable(Path.of("/dev/loop-control")), "no loop devices here (needs Linux and root)");
        Process losetup = new ProcessBuilder("losetup", "--find", "--show", "--read-only", file.toString())
                .redirectErrorStream(true).start();
        String output = new String(losetup.getInputStream().readAllBytes()).strip();
        org.junit.jupiter.api.Assumptions.assumeTrue(losetup.waitFor() == 0 && output.startsWith("/dev/loop"),
                "losetup failed: " + output);
        return Path.of(output);
    }

    @Test
    void theLedgerHoldsTheServersChunkDigests() throws Exception {
        long size = 1 * MIB + 100;
        createRaw(disk, size);
        byte[] tail = random(100, 11);
        write(disk, 1 * MIB, tail);
        ReplicaSink sink = sink(size);
        Replicator replicator = replicator(sink);
        pass(replicator, sink, false);
        byte[] padded = new byte[CHUNK];
        System.arraycopy(tail, 0, padded, 0, 100);
        assertThat(replicator.ledger().digest(16)).isEqualTo(ChunkDigest.of(padded).toBytes());
        assertThat(replicator.ledger().digest(0)).isEqualTo(DiskLedger.ZERO);
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void theNextSegmentUploadsWhileThePreviousOneIsStillInFlight() throws Exception {
        long size = 2 * MIB;
        createRaw(disk, size);
        write(disk, 0, random((int) size, 9));
        ReplicaSink sink = sink(size);
        java.util.concurrent.atomic.AtomicBoolean overlapped = new java.util.concurrent.atomic.AtomicBoolean();
        Replicator replicator = new Replicator(diskId, state, firstHeldUntilSecondBegins(sink, overlapped),
                Clock.systemUTC(), 300 << 10);
        Replicator.PassResult result = pass(replicator, sink, false);
        replicator.close();

        assertThat(overlapped).as("segment 2 began uploading before segment 1 was acknowledged").isTrue();
        assertThat(result.segments()).isGreaterThan(2);
        assertThat(sink.received).extracting(segment -> segment.header().sequence())
                .as("stored in order").isSorted().doesNotHaveDuplicates();
        assertRestoredEquals(sink, disk);
    }

    @Test
    void theSegmentsInFlightStoredWithoutTheirAcknowledgementsAreNotAReasonToResendEverything() throws Exception {
        long size = 2 * MIB;
        createRaw(disk, size);
        write(disk, 0, random((int) size, 10));
        ReplicaSink sink = sink(size);
        sink.failAfterStore.add(1L); // stored, but the agent never hears it; the others in flight are stored after it
        Replicator replicator = new Replicator(diskId, state,
                firstHeldUntilSecondBegins(sink, new java.util.concurrent.atomic.AtomicBoolean()), Clock.systemUTC(),
                300 << 10);
        assertThatThrownBy(() -> pass(replicator, sink, false)).isInstanceOf(IOException.class);
        replicator.close();
        long next = 1 + Replicator.UPLOADS_IN_FLIGHT;
        assertThat(sink.nextSequence()).as("all in flight stored, none acknowledged").isEqualTo(next);

        Replicator restarted = replicator(sink);
        Replicator.PassResult result = pass(restarted, sink, false);
        assertThat(result.kind()).isNotEqualTo(Replicator.PassKind.FULL_RESEND);
        assertThat(result.firstSequence()).isEqualTo(next);
        assertRestoredEquals(sink, disk);
    }

    /**
     * Uploads to the sink, holding segment 1's upload until segment 2's has begun (which never happens with one
     * upload in flight: then after 10 s); {@code overlapped} says whether it did.
     */
    private static SegmentUploader firstHeldUntilSecondBegins(ReplicaSink sink,
                                                              java.util.concurrent.atomic.AtomicBoolean overlapped) {
        java.util.concurrent.CountDownLatch secondStarted = new java.util.concurrent.CountDownLatch(1);
        return (d, sequence, bytes, length) -> {
            if (sequence == 1) {
                try {
                    overlapped.set(secondStarted.await(10, java.util.concurrent.TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
            } else if (sequence == 2) {
                secondStarted.countDown();
            }
            return sink.upload(d, sequence, bytes, length);
        };
    }

    private ReplicaSink sink(long size) throws IOException {
        return new ReplicaSink(tmp.resolve("server-" + UUID.randomUUID()), diskId, size, CHUNK);
    }

    private Replicator replicator(ReplicaSink sink) {
        return new Replicator(diskId, state, sink, Clock.systemUTC());
    }

    private Replicator.PassResult pass(Replicator replicator, ReplicaSink sink, boolean resync) throws IOException {
        long size = Files.size(disk);
        long next = sink.nextSequence();
        Replicator.PassKind kind = replicator.prepare(size, CHUNK, next, resync);
        try (DiskSource source = DiskSource.open(disk)) {
            Replicator.Pass pass = replicator.scan(kind, source, next, false, spool, () -> { });
            Thread.sleep(2); // distinct marker times
            return pass.finish(ConsistencyType.CRASH_CONSISTENT, java.time.Instant.now());
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private void assertRestoredEquals(ReplicaSink sink, Path source) throws IOException {
        Path restored = sink.restoreLatest(tmp.resolve("restored-" + UUID.randomUUID() + ".raw"));
        assertThat(Files.size(restored)).isEqualTo(Files.size(source));
        assertThat(Files.mismatch(restored, source)).as("first differing byte").isEqualTo(-1L);
    }

    private static List<SegmentRecord> records(ReplicaSink sink) {
        return records(sink.received);
    }

    private static List<SegmentRecord> records(List<Segment> segments) {
        return segments.stream().flatMap(s -> s.records().stream()).toList();
    }

    static void createRaw(Path path, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.truncate(0);
            channel.write(ByteBuffer.allocate(1), size - 1);
        }
    }

    static void write(Path path, long offset, byte[] data) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(data);
            while (buffer.hasRemaining()) {
                channel.write(buffer, offset + buffer.position());
            }
        }
    }

    static void read(Path path, long offset, byte[] into) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.read(ByteBuffer.wrap(into), offset);
        }
    }

    private byte[] digestOf(long chunk) throws IOException {
        byte[] content = new byte[CHUNK];
        read(disk, chunk * CHUNK, content);
        return ChunkDigest.of(content).toBytes();
    }

    static byte[] pattern(int value, int length) {
        byte[] bytes = new byte[length];
        java.util.Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
