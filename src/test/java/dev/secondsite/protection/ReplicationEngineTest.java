package dev.secondsite.protection;

import dev.secondsite.arm.ArmException;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.RecoveryStore;
import dev.secondsite.replication.blob.BlobStore;
import dev.secondsite.replication.ForwardingBlobStore;
import dev.secondsite.replication.MemoryBlobStore;
import dev.secondsite.replication.segment.SegmentName;
import dev.secondsite.store.Database;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The engine and the upload path without HTTP, over stores that can be made to fail: a full cache
 * (507, nothing stored), a failing recovery store (Warning, the segment waits in cache, applied once the
 * store works again), the leftover of a crash between an apply's commit and its cache delete, and a slow cache put
 * (it holds back disabling the disk, not the apply thread or metrics). {@link ReplicationEngineWriteBehindTest} runs
 * them again over a write-behind recovery store, as the server has.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReplicationEngineTest {
    private static final long DISK = 1 << 20;
    private static final String ITEM = "/subscriptions/s/resourceGroups/g/providers/Microsoft.RecoveryServices/vaults/v"
            + "/replicationFabrics/f/replicationProtectionContainers/c/replicationProtectedItems/i";

    @TempDir
    Path tmp;

    Database database;
    ProtectionStore store;
    final FailingBlobStore cacheBlobs = new FailingBlobStore(new MemoryBlobStore());
    final FailingBlobStore recoveryBlobs = new FailingBlobStore(new MemoryBlobStore());
    ReplicationEngine engine;
    UUID diskId;

    @BeforeEach
    void setUp() throws Exception {
        database = Database.embedded(tmp);
        store = new ProtectionStore(database.jdbi());
        store.createItem(ITEM, ITEM.substring(0, ITEM.indexOf("/replicationFabrics")), "agent-1", "policy", "job-1", 0);
        diskId = UUID.randomUUID();
        store.createDisk(diskId, ITEM, "agent-1", "disk0", DISK, 64 << 10, 0);
        store.setReplicating(ITEM, true);
        engine = startEngine();
    }

    /** The recovery store a (re)started engine gets: writes go straight to {@link #recoveryBlobs} here. */
    RecoveryStore newRecoveryStore() {
        return new RecoveryStore(recoveryBlobs, Clock.systemUTC());
    }

    ReplicationEngine startEngine() throws IOException {
        ReplicationEngine e = new ReplicationEngine(store, new CacheStorage(cacheBlobs), newRecoveryStore(),
                Clock.systemUTC());
        e.start();
        e.track(store.disk(diskId).orElseThrow());
        return e;
    }

    @AfterEach
    void tearDown() {
        engine.close();
        engine.recovery().close();
        database.close();
    }

    SegmentIntake.Outcome upload(long sequence, byte[] segment) throws IOException {
        return new SegmentIntake(engine, store, Clock.systemUTC()).receive("agent-1", diskId.toString(),
                Long.toString(sequence), segment.length, new ByteArrayInputStream(segment));
    }

    byte[] segment(long sequence, int value, Instant at) throws IOException {
        return ProtectionClient.segment(diskId.toString(), sequence, DISK, w -> {
            w.data(0, new byte[] {(byte) value, 2, 3});
            w.marker(ConsistencyType.CRASH_CONSISTENT, at, "t");
        });
    }

    @Test
    void aFullCacheRefusesWith507AndTheSegmentStaysHeldForTheRetry() throws Exception {
        ReplicationEngine.DiskRuntime rt = engine.runtime(diskId).orElseThrow();
        CountDownLatch applying = new CountDownLatch(1);
        recoveryBlobs.putGate = applying; // the apply does not come in time: the upload must go to cache storage
        SegmentIntake intake = new SegmentIntake(engine, store, Clock.systemUTC(), 0);
        cacheBlobs.failPuts = "No space left on device";
        byte[] seg = segment(1, 1, Instant.now());
        assertThatThrownBy(() -> receive(intake, 1, seg)).isInstanceOfSatisfying(ArmException.class, e -> {
            assertThat(e.status()).isEqualTo(507);
            assertThat(e.code()).isEqualTo("CacheStorageFull");
        });
        assertThat(rt.durableNext()).as("the agent must keep it").isEqualTo(1);
        assertThat(rt.expectedNext()).as("held in memory, for the apply and the retry").isEqualTo(2);
        cacheBlobs.failPuts = "Connection reset";
        assertThatThrownBy(() -> receive(intake, 1, seg)).isInstanceOfSatisfying(ArmException.class,
                e -> assertThat(e.status()).isEqualTo(503));
        assertThat(rt.durableNext()).isEqualTo(1);

        cacheBlobs.failPuts = null;
        SegmentIntake.Outcome retried = receive(intake, 1, seg);
        assertThat(retried.status()).isEqualTo(200);
        assertThat(retried.result()).isEqualTo("AlreadyStored");
        assertThat(cacheBlobs.puts).containsExactly(SegmentName.of(diskId, 1));
        assertThat(rt.durableNext()).isEqualTo(2);

        recoveryBlobs.putGate = null;
        applying.countDown();
        await("applied", () -> rt.lastApplied() == 1);
    }

    @Test
    void aSlowCachePutHoldsBackDisablingButNotTheDisksBookkeeping() throws Exception {
        ReplicationEngine.DiskRuntime rt = engine.runtime(diskId).orElseThrow();
        byte[] seg = segment(1, 1, Instant.now());
        CountDownLatch applying = new CountDownLatch(1);
        recoveryBlobs.putGate = applying; // the apply does not come in time: the upload goes to cache storage
        CountDownLatch gate = new CountDownLatch(1);
        cacheBlobs.putGate = gate;
        // Own threads: the common pool may have a single one, taken by the blocked upload.
        ExecutorService threads = Executors.newCachedThreadPool();
        SegmentIntake intake = new SegmentIntake(engine, store, Clock.systemUTC(), 0);
        Future<SegmentIntake.Outcome> upload = threads.submit(() -> receive(intake, 1, seg));
        assertThat(cacheBlobs.putEntered.tryAcquire(10, TimeUnit.SECONDS)).isTrue();

        // The apply thread, metrics and heartbeats read the disk's state while the put (write + fsync) runs.
        assertThat(threads.submit(rt::pendingApplyBytes).get(5, TimeUnit.SECONDS)).isPositive();
        assertThat(threads.submit(rt::expectedNext).get(5, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(threads.submit(rt::durableNext).get(5, TimeUnit.SECONDS)).isEqualTo(1);
        // Disabling waits for the put in flight, so no segment lands in cache after the disk stopped.
        Future<?> disable = threads.submit(() -> engine.setActive(List.of(diskId), false));
        Thread.sleep(300);
        assertThat(disable.isDone()).as("disabling waited for the put in flight").isFalse();

        cacheBlobs.putGate = null;
        gate.countDown();
        assertThat(upload.get(10, TimeUnit.SECONDS).status()).isEqualTo(201);
        recoveryBlobs.putGate = null;
        applying.countDown(); // disabling also waits for the apply in flight
        disable.get(10, TimeUnit.SECONDS);
        assertThat(rt.durableNext()).isEqualTo(2);
        assertThatThrownBy(() -> upload(2, segment(2, 2, Instant.now()))).isInstanceOfSatisfying(ArmException.class,
                e -> assertThat(e.code()).isEqualTo("UnknownDisk"));
        threads.shutdown();
    }

    @Test
    void anUploadTheEngineAppliesInTimeIsAcknowledgedWithoutGoingToCacheStorage() throws Exception {
        SegmentIntake intake = new SegmentIntake(engine, store, Clock.systemUTC(), 20_000);
        SegmentIntake.Outcome outcome = receive(intake, 1, segment(1, 1, Instant.now()));

        assertThat(outcome.status()).isEqualTo(201);
        assertThat(engine.runtime(diskId).orElseThrow().lastApplied()).as("acknowledged once applied and written")
                .isEqualTo(1);
        assertThat(cacheBlobs.puts).as("applied from memory").isEmpty();
        assertThat(engine.runtime(diskId).orElseThrow().cacheWrites()).isZero();
        assertThat(new CacheStorage(cacheBlobs).list(diskId)).isEmpty();
    }

    @Test
    void uploadsNotAppliedInTimeGoToCacheStorageAndEachTakesTheOnesBeforeItFirst() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        recoveryBlobs.putGate = gate; // the apply of 1 waits in the recovery store
        ExecutorService threads = Executors.newCachedThreadPool();
        SegmentIntake patient = new SegmentIntake(engine, store, Clock.systemUTC(), 20_000);
        Future<SegmentIntake.Outcome> first = threads.submit(() -> receive(patient, 1, segment(1, 1, Instant.now())));
        assertThat(recoveryBlobs.putEntered.tryAcquire(10, TimeUnit.SECONDS)).isTrue();

        // 2 does not wait for its apply: it puts 1, held in memory only, into cache storage, then itself.
        SegmentIntake.Outcome second = receive(new SegmentIntake(engine, store, Clock.systemUTC(), 0), 2,
                segment(2, 2, Instant.now()));
        assertThat(second.status()).isEqualTo(201);
        assertThat(cacheBlobs.puts).containsExactly(SegmentName.of(diskId, 1), SegmentName.of(diskId, 2));
        assertThat(engine.runtime(diskId).orElseThrow().cacheWrites()).as("counted for /metrics").isEqualTo(2);
        assertThat(first.isDone()).as("1 still waits for its apply").isFalse();

        recoveryBlobs.putGate = null;
        gate.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS).status()).isEqualTo(201);
        assertThat(cacheBlobs.puts).as("1 was durable already").hasSize(2);
        await("both applied", () -> engine.runtime(diskId).orElseThrow().lastApplied() == 2);
        await("both deleted from cache storage", () -> {
            try {
                return new CacheStorage(cacheBlobs).list(diskId).isEmpty();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        threads.shutdown();
    }

    private SegmentIntake.Outcome receive(SegmentIntake intake, long sequence, byte[] segment) throws IOException {
        return intake.receive("agent-1", diskId.toString(), Long.toString(sequence), segment.length,
                new ByteArrayInputStream(segment));
    }

    @Test
    void anUploadMayFollowOneStillBeingReceivedAndIsStoredAfterIt() throws Exception {
        ExecutorService threads = Executors.newCachedThreadPool();
        SegmentIntake intake = new SegmentIntake(engine, store, Clock.systemUTC());
        byte[] seg1 = segment(1, 1, Instant.now());
        SlowBody slow1 = new SlowBody(seg1);
        Future<SegmentIntake.Outcome> first = threads.submit(() -> intake.receive("agent-1", diskId.toString(), "1",
                seg1.length, slow1));
        assertThat(slow1.started.await(10, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> upload(3, segment(3, 3, Instant.now()))).as("a gap past what is being received")
                .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.code()).isEqualTo("SequenceGap"));

        Future<SegmentIntake.Outcome> second = threads.submit(() -> upload(2, segment(2, 2, Instant.now())));
        Thread.sleep(300);
        assertThat(second).as("received, then waiting for segment 1 to be stored").isNotDone();
        slow1.release.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS).status()).isEqualTo(201);
        assertThat(second.get(10, TimeUnit.SECONDS).status()).isEqualTo(201);
        await("both applied", () -> engine.runtime(diskId).orElseThrow().lastApplied() == 2);

        // The one before fails: the one after is a gap after all.
        byte[] seg3 = segment(3, 3, Instant.now());
        seg3[seg3.length / 2] ^= 1;
        SlowBody slow3 = new SlowBody(seg3);
        Future<SegmentIntake.Outcome> third = threads.submit(() -> intake.receive("agent-1", diskId.toString(), "3",
                seg3.length, slow3));
        assertThat(slow3.started.await(10, TimeUnit.SECONDS)).isTrue();
        Future<SegmentIntake.Outcome> fourth = threads.submit(() -> upload(4, segment(4, 4, Instant.now())));
        Thread.sleep(300);
        slow3.release.countDown();
        assertThat(threads.submit(() -> {
            try {
                third.get();
                return "stored";
            } catch (java.util.concurrent.ExecutionException e) {
                return ((ArmException) e.getCause()).code();
            }
        }).get(10, TimeUnit.SECONDS)).isEqualTo("MalformedSegment");
        assertThatThrownBy(() -> fourth.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(ArmException.class)
                .cause().satisfies(e -> assertThat(((ArmException) e).code()).isEqualTo("SequenceGap"));
        assertThat(engine.runtime(diskId).orElseThrow().expectedNext()).isEqualTo(3);
        threads.shutdown();
    }

    @Test
    void aLaterUploadIsAdmittedOnlyAfterTheOnesBeforeIt() throws Exception {
        ReplicationEngine.DiskRuntime rt = engine.runtime(diskId).orElseThrow();
        assertThat(rt.startReceiving(1, 0)).isTrue();
        assertThat(rt.startReceiving(2, 0)).as("follows one being received").isTrue();
        assertThat(rt.startReceiving(4, 50)).as("a gap: 3 is not being received").isFalse();
        // Upload 2 must not take one of the intake's permits while upload 1, which it will wait for, queues for one.
        Thread second = Thread.ofPlatform().start(() -> {
            try {
                rt.awaitPredecessorsAdmitted(2, 10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        second.join(200);
        assertThat(second.isAlive()).as("waits while 1 is not admitted").isTrue();
        rt.admitted(1);
        second.join(5_000);
        assertThat(second.isAlive()).isFalse();
        rt.stopReceiving(2, false);
        rt.stopReceiving(1, true);
        assertThat(rt.startReceiving(2, 50)).as("1 ended without being stored: 2 is a gap again").isFalse();
    }

    /** A segment body whose first half arrives at once and the rest once {@link #release} is opened. */
    private static final class SlowBody extends InputStream {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final ByteArrayInputStream bytes;
        private final int half;
        private int read;

        SlowBody(byte[] segment) {
            this.bytes = new ByteArrayInputStream(segment);
            this.half = segment.length / 2;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            started.countDown();
            if (read >= half) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
            }
            int n = bytes.read(b, off, read < half ? Math.min(len, half - read) : len);
            read += Math.max(0, n);
            return n;
        }
    }

    @Test
    void failingRecoveryStoreWarnsAndRetriesWithoutLosingTheSegment() throws Exception {
        recoveryBlobs.failPuts = "No space left on device";
        assertThat(upload(1, segment(1, 1, Instant.now())).status()).isEqualTo(201);
        await("a health error", () -> store.disk(diskId).orElseThrow().healthError() != null);
        var error = store.disk(diskId).orElseThrow().healthError();
        assertThat(error.path("errorCode").asText()).isEqualTo(ReplicationEngine.RECOVERY_STORE_WRITE_FAILED);
        assertThat(error.path("errorLevel").asText()).isEqualTo("Warning");
        assertThat(error.path("possibleCauses").asText()).contains("full");
        assertThat(new CacheStorage(cacheBlobs).list(diskId)).containsKey(1L);
        assertThat(engine.runtime(diskId).orElseThrow().lastApplied()).isZero();

        recoveryBlobs.failPuts = null;
        await("applied after the store recovered", () -> engine.runtime(diskId).orElseThrow().lastApplied() == 1);
        await("health error cleared", () -> store.disk(diskId).orElseThrow().healthError() == null);
        assertThat(new CacheStorage(cacheBlobs).list(diskId)).isEmpty();
        assertThat(engine.recovery().points().list(diskId)).hasSize(1);
    }

    @Test
    void leftoverOfAnAppliedSegmentIsDroppedAfterARestart() throws Exception {
        byte[] seg1 = segment(1, 1, Instant.now().minusSeconds(10));
        assertThat(upload(1, seg1).status()).isEqualTo(201);
        await("applied", () -> engine.runtime(diskId).orElseThrow().lastApplied() == 1);
        var pointsBefore = engine.recovery().points().list(diskId);
        engine.close();
        engine.recovery().close();

        // As if the server died between the apply's commit and the cache delete.
        cacheBlobs.put(dev.secondsite.replication.segment.SegmentName.of(diskId, 1), seg1);
        byte[] seg2 = segment(2, 2, Instant.now());
        cacheBlobs.put(dev.secondsite.replication.segment.SegmentName.of(diskId, 2), seg2);
        engine = startEngine();
        assertThat(engine.runtime(diskId).orElseThrow().expectedNext()).isEqualTo(3);
        await("segment 2 applied", () -> engine.runtime(diskId).orElseThrow().lastApplied() == 2);
        await("cache empty", () -> {
            try {
                return new CacheStorage(cacheBlobs).list(diskId).isEmpty();
            } catch (IOException e) {
                return false;
            }
        });
        var pointsAfter = engine.recovery().points().list(diskId);
        assertThat(pointsAfter).hasSize(2);
        assertThat(pointsAfter.getFirst()).isEqualTo(pointsBefore.getFirst());
        // The database's mirror is written after the in-memory sequence, on the apply thread.
        await("the database mirror", () -> store.disk(diskId).orElseThrow().lastAppliedSequence() == 2);
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** A blob store whose puts fail with a given message while {@link #failPuts} is set. */
    static final class FailingBlobStore extends ForwardingBlobStore {
        volatile String failPuts;
        /** While set, a put announces itself on {@link #putEntered} and waits for the gate to open. */
        volatile CountDownLatch putGate;
        final Semaphore putEntered = new Semaphore(0);
        /** The names put, in order. */
        final List<String> puts = new java.util.concurrent.CopyOnWriteArrayList<>();

        FailingBlobStore(BlobStore delegate) {
            super(delegate);
        }

        private void check(String name) throws IOException {
            CountDownLatch gate = putGate;
            if (gate != null) {
                putEntered.release();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
            }
            String message = failPuts;
            if (message != null) {
                throw new IOException("put on failing store failed for " + name + ": java.io.IOException: " + message);
            }
        }

        @Override
        public void put(String name, byte[] data) throws IOException {
            check(name);
            puts.add(name);
            super.put(name, data);
        }

        @Override
        public void put(String name, InputStream data, long lengthBytes) throws IOException {
            check(name);
            super.put(name, data, lengthBytes);
        }

    }
}
