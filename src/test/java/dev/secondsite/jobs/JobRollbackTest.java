package dev.secondsite.jobs;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Json;
import dev.secondsite.store.Database;

import static org.assertj.core.api.Assertions.assertThat;

/** A failed job ends only once its rollback has run: until then it reads as in progress and cannot be restarted. */
class JobRollbackTest {

    @Test
    void aFailedJobReadsAsInProgressUntilItsRollbackHasRun(@TempDir Path dir) throws Exception {
        CountDownLatch rollbackEntered = new CountDownLatch(1);
        CountDownLatch rollbackMayEnd = new CountDownLatch(1);
        Workflow workflow = new Workflow("Breaks", "Breaks", List.of(Workflow.task("break", "Break", ctx -> {
            throw new ArmException(409, "Broken", "the task failed");
        })), ctx -> {
            rollbackEntered.countDown();
            assertThat(rollbackMayEnd.await(30, TimeUnit.SECONDS)).isTrue();
        });
        try (Database db = Database.embedded(dir); JobEngine engine = new JobEngine(new JobStore(db.jdbi()), 1, 0)) {
            JobStore store = new JobStore(db.jdbi());
            engine.register(workflow);
            engine.start(true);
            Job submitted = store.submit(new JobStore.NewJob("/vault", workflow, "/target", "target", "type",
                    Json.object(), "test"));
            engine.signal();

            assertThat(rollbackEntered.await(30, TimeUnit.SECONDS)).isTrue();
            Job rollingBack = store.find(submitted.id()).orElseThrow();
            assertThat(rollingBack.state()).isEqualTo(JobState.InProgress);
            assertThat(rollingBack.stateDescription()).isEqualTo(JobStore.ROLLING_BACK);
            assertThat(rollingBack.endTime()).isNull();
            assertThat(rollingBack.errors().get(0).path("serviceErrorDetails").path("code").asText())
                    .isEqualTo("Broken");
            assertThat(store.restart(submitted.id(), true)).as("restart while rolling back").isFalse();
            assertThat(store.requestCancel(submitted.id())).as("cancel while rolling back").isFalse();

            rollbackMayEnd.countDown();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            Job ended = store.find(submitted.id()).orElseThrow();
            while (ended.state() != JobState.Failed && System.nanoTime() < deadline) {
                Thread.sleep(20);
                ended = store.find(submitted.id()).orElseThrow();
            }
            assertThat(ended.state()).isEqualTo(JobState.Failed);
            assertThat(ended.endTime()).isNotNull();
            assertThat(store.restart(submitted.id(), true)).as("restart once rolled back").isTrue();
        }
    }
}
