package dev.secondsite.protection;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.secondsite.replication.RecoveryStore;
import dev.secondsite.replication.blob.WriteBehindBlobStore;
import dev.secondsite.replication.point.RecoveryPointManifest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ReplicationEngineTest} over a write-behind recovery store (as the server runs it), plus what write-behind
 * changes: the engine applies the next segments while the writes of earlier ones are queued, acknowledges an apply
 * (drops its segment, shows its sequence and points) only once its writes are done, and a crash that loses the
 * queued writes loses nothing acknowledged: the segments apply again, to the same points.
 */
class ReplicationEngineWriteBehindTest extends ReplicationEngineTest {

    @Override
    RecoveryStore newRecoveryStore() {
        return new RecoveryStore(new WriteBehindBlobStore(recoveryBlobs, WriteBehindBlobStore.PENDING_BYTES_DEFAULT, 200),
                Clock.systemUTC());
    }

    @Test
    void appliesGoOnWhileWritesAreQueuedAndAreAcknowledgedOnceWritten() throws Exception {
        RecoveryStore recovery = engine.recovery();
        assertThat(recovery.awaitWritten(recovery.writeMark(), 10_000)).as("the replica's creation").isTrue();
        CountDownLatch gate = new CountDownLatch(1);
        recoveryBlobs.putGate = gate;
        ReplicationEngine.DiskRuntime rt = engine.runtime(diskId).orElseThrow();

        assertThat(upload(1, segment(1, 1, Instant.now().minusSeconds(2))).status()).isEqualTo(201);
        assertThat(upload(2, segment(2, 2, Instant.now())).status()).isEqualTo(201);
        await("both applied, their writes queued", () -> points(recovery).size() == 2);
        assertThat(recoveryBlobs.putEntered.tryAcquire(10, TimeUnit.SECONDS)).as("the writer is held").isTrue();

        assertThat(rt.lastApplied()).as("nothing acknowledged before it is written").isZero();
        assertThat(new CacheStorage(cacheBlobs).list(diskId)).containsOnlyKeys(1L, 2L);
        assertThat(store.disk(diskId).orElseThrow().lastAppliedSequence()).isZero();
        assertThat(rt.lastPoint()).isEmpty();
        assertThat(rt.expectedNext()).isEqualTo(3);

        recoveryBlobs.putGate = null;
        gate.countDown();
        await("acknowledged once written", () -> rt.lastApplied() == 2);
        await("segments dropped from cache", () -> cacheEmpty());
        // The rest of the acknowledgement follows on the apply thread: the points, then the database's mirror.
        await("the newest point shown", () -> rt.lastPoint().isPresent());
        await("the database mirror", () -> store.disk(diskId).orElseThrow().lastAppliedSequence() == 2);
        assertThat(new RecoveryStore(recoveryBlobs).points().list(diskId)).as("durable").hasSize(2);
    }

    @Test
    void aCrashWithWritesQueuedLosesNothingAcknowledged() throws Exception {
        RecoveryStore recovery = engine.recovery();
        assertThat(recovery.awaitWritten(recovery.writeMark(), 10_000)).isTrue();
        recoveryBlobs.failPuts = "Input/output error"; // the writer never gets a put through: as if the server died
        assertThat(upload(1, segment(1, 1, Instant.now().minusSeconds(2))).status()).isEqualTo(201);
        assertThat(upload(2, segment(2, 2, Instant.now())).status()).isEqualTo(201);
        await("both applied in memory", () -> points(recovery).size() == 2);
        List<RecoveryPointManifest> seen = points(recovery);
        await("the failing writes reported", () -> store.disk(diskId).orElseThrow().healthError() != null);
        assertThat(store.disk(diskId).orElseThrow().healthError().path("errorCode").asText())
                .isEqualTo(ReplicationEngine.RECOVERY_STORE_WRITE_FAILED);

        // Kill: the engine stops, the queued writes are gone (closing a failing writer drops them).
        engine.close();
        recovery.close();
        assertThat(new RecoveryStore(recoveryBlobs).points().list(diskId)).as("nothing was written").isEmpty();
        assertThat(new CacheStorage(cacheBlobs).list(diskId)).as("nothing acknowledged, nothing dropped")
                .containsOnlyKeys(1L, 2L);

        recoveryBlobs.failPuts = null;
        engine = startEngine();
        await("applied again after the restart", () -> engine.runtime(diskId).orElseThrow().lastApplied() == 2);
        await("segments dropped from cache", () -> cacheEmpty());
        assertThat(new RecoveryStore(recoveryBlobs).points().list(diskId)).as("the same points, now durable")
                .isEqualTo(seen);
        await("health error cleared", () -> store.disk(diskId).orElseThrow().healthError() == null);
    }

    @Test
    void stoppingADiskWaitsForItsQueuedWrites() throws Exception {
        RecoveryStore recovery = engine.recovery();
        assertThat(recovery.awaitWritten(recovery.writeMark(), 10_000)).isTrue();
        CountDownLatch gate = new CountDownLatch(1);
        recoveryBlobs.putGate = gate;
        assertThat(upload(1, segment(1, 1, Instant.now())).status()).isEqualTo(201);
        await("applied, its writes queued", () -> points(recovery).size() == 1);

        Thread stopper = Thread.ofPlatform().start(() -> engine.setActive(List.of(diskId), false));
        stopper.join(300);
        assertThat(stopper.isAlive()).as("stopping waits for the writes").isTrue();
        recoveryBlobs.putGate = null;
        gate.countDown();
        stopper.join(10_000);
        assertThat(stopper.isAlive()).isFalse();
        assertThat(engine.runtime(diskId).orElseThrow().lastApplied()).as("acknowledged when stopped").isEqualTo(1);
        assertThat(cacheEmpty()).isTrue();
    }

    private List<RecoveryPointManifest> points(RecoveryStore recovery) {
        try {
            return recovery.points().list(diskId);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private boolean cacheEmpty() {
        try {
            return new CacheStorage(cacheBlobs).list(diskId).isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
