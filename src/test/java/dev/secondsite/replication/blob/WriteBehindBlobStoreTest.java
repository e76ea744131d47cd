package dev.secondsite.replication.blob;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.secondsite.replication.ForwardingBlobStore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The shared contract ({@link BlobStoreContractTest}) over a file store, plus what write-behind promises: puts
 * return before they are written, are written in order, are readable meanwhile, and a failing put holds back
 * every later one until it succeeds.
 */
class WriteBehindBlobStoreTest extends BlobStoreContractTest {
    @TempDir
    Path root;

    private final List<WriteBehindBlobStore> opened = new ArrayList<>();

    @Override
    protected BlobStore newStore() throws IOException {
        return open(new FileBlobStore(root), WriteBehindBlobStore.PENDING_BYTES_DEFAULT);
    }

    private WriteBehindBlobStore open(BlobStore target, long pendingBytesMax) {
        WriteBehindBlobStore store = new WriteBehindBlobStore(target, pendingBytesMax, 200);
        opened.add(store);
        return store;
    }

    @AfterEach
    void closeStores() {
        opened.forEach(WriteBehindBlobStore::close);
    }

    @Test
    void putsReturnBeforeTheyAreWrittenAndAreReadableMeanwhile() throws IOException {
        GatedStore target = new GatedStore(new FileBlobStore(root));
        WriteBehindBlobStore store = open(target, 1 << 20);
        store.put("packs/one", bytes("first"));
        store.put("packs/two", List.of(ByteBuffer.wrap(bytes("sec")), ByteBuffer.wrap(bytes("ond"))));
        store.put("packs/one", bytes("first, again"));
        long mark = store.mark();

        assertThat(store.isWritten(mark)).isFalse();
        assertThat(target.delegate().list("")).as("nothing written while the writer is held").isEmpty();
        assertThat(store.get("packs/one")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("first, again")));
        assertThat(store.readRange("packs/two", 2, 3)).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("con")));
        assertThat(store.readRange("packs/two", 4, 100)).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("nd")));
        try (InputStream in = store.open("packs/two").orElseThrow()) {
            assertThat(in.readAllBytes()).isEqualTo(bytes("second"));
        }
        assertThat(store.stat("packs/two")).hasValueSatisfying(info -> assertThat(info.sizeBytes()).isEqualTo(6));
        assertThat(store.exists("packs/one")).isTrue();
        assertThat(store.touch("packs/one")).isTrue();
        assertThat(store.list("packs/")).containsExactly("packs/one", "packs/two");
        assertThat(store.awaitWritten(mark, 50)).as("still held").isFalse();

        target.permits.release(3);
        assertThat(store.awaitWritten(mark, 10_000)).isTrue();
        assertThat(target.puts).containsExactly("packs/one", "packs/two", "packs/one");
        assertThat(target.delegate().get("packs/one")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("first, again")));
        assertThat(target.delegate().get("packs/two")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("second")));
    }

    @Test
    void aDeleteWaitsForEveryQueuedPut() throws Exception {
        GatedStore target = new GatedStore(new FileBlobStore(root));
        WriteBehindBlobStore store = open(target, 1 << 20);
        store.put("a", bytes("1"));
        store.put("b", bytes("2"));
        CompletableFuture<Boolean> deleted = CompletableFuture.supplyAsync(() -> {
            try {
                return store.delete("a");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        assertThat(deleted).as("the delete waits behind the puts").isNotDone();
        target.permits.release(2);
        assertThat(deleted.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(target.delegate().list("")).containsExactly("b");
        assertThat(store.list("")).containsExactly("b");
    }

    @Test
    void aFailingPutIsRetriedInOrderAndHoldsBackTheLaterOnes() throws Exception {
        GatedStore target = new GatedStore(new FileBlobStore(root));
        target.permits.release(1_000_000);
        target.failures.set(Integer.MAX_VALUE); // "No space left on device" until the test frees it
        WriteBehindBlobStore store = open(target, 16);
        store.put("packs/p", bytes("chunks"));
        store.put("disks/d.state", bytes("root"));
        long mark = store.mark();

        assertThatThrownBy(() -> store.awaitWritten(mark, 10_000)).isInstanceOf(IOException.class)
                .hasMessageContaining("writing packs/p keeps failing (retried in the background)")
                .hasMessageContaining("No space left on device");
        assertThatThrownBy(store::drain).isInstanceOf(IOException.class).hasMessageContaining("No space left");
        assertThatThrownBy(() -> store.delete("packs/p")).isInstanceOf(IOException.class);
        // Past the memory bound, a put fails after the fail-fast wait instead of waiting for ever.
        assertThatThrownBy(() -> store.put("more", bytes("0123456789"))).isInstanceOf(IOException.class)
                .hasMessageStartingWith("put on gated " + target.delegate() + " failed for more: ")
                .hasMessageContaining("No space left on device");
        assertThat(store.failure()).isPresent();
        assertThat(target.delegate().list("")).as("nothing is written past the failing put").isEmpty();
        assertThat(store.get("disks/d.state")).as("still readable").isPresent();

        target.failures.set(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!store.isWritten(mark) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(store.isWritten(mark)).as("written once the store works again").isTrue();
        assertThat(store.failure()).isEmpty();
        assertThat(target.puts).hasSizeGreaterThan(2).endsWith("packs/p", "disks/d.state")
                .containsOnlyOnce("disks/d.state");
        assertThat(target.delegate().get("disks/d.state")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("root")));
        assertThat(store.list("")).containsExactly("disks/d.state", "packs/p");
    }

    @Test
    void aPutWaitsForRoomPastTheMemoryBound() throws Exception {
        GatedStore target = new GatedStore(new FileBlobStore(root));
        WriteBehindBlobStore store = open(target, 10);
        store.put("big", new byte[25]); // larger than the bound, taken because nothing else is queued
        CompletableFuture<Void> second = CompletableFuture.runAsync(() -> {
            try {
                store.put("small", new byte[5]);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        assertThat(second).as("waits until the first is written").isNotDone();
        target.permits.release(2);
        second.get(10, TimeUnit.SECONDS);
        store.drain();
        assertThat(target.puts).containsExactly("big", "small");
    }

    @Test
    void invalidNamesAreRefusedWhenPutNotWhenWritten() throws IOException {
        WriteBehindBlobStore store = open(new GatedStore(new FileBlobStore(root)), 1 << 20);
        assertThatThrownBy(() -> store.put("../escape", bytes("x"))).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.mark()).isZero();
    }

    @Test
    void closeWritesWhatIsQueued() throws IOException {
        FileBlobStore files = new FileBlobStore(root);
        WriteBehindBlobStore store = new WriteBehindBlobStore(files, 1 << 20, 200);
        for (int i = 0; i < 50; i++) {
            store.put("n/" + i, bytes("v" + i));
        }
        store.close();
        assertThat(files.list("n/")).hasSize(50);
        assertThat(files.get("n/49")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("v49")));
        assertThatThrownBy(() -> store.put("late", bytes("x"))).isInstanceOf(IOException.class)
                .hasMessageContaining("the store is closed");
    }

    @Test
    void usedBytesCountsAQueuedPutOnceWhileTheWriterFinishesIt() throws Exception {
        GatedStore target = new GatedStore(new FileBlobStore(root));
        WriteBehindBlobStore store = open(target, 1 << 20);
        store.put("a", new byte[100]); // the writer waits at the gate
        // While the target is counted, the writer is let through and given the time to finish "a": counted twice
        // (queued, and in the target) unless usedBytes keeps the writer from finishing a put meanwhile.
        target.beforeUsedBytes = () -> {
            target.permits.release();
            for (long end = System.nanoTime() + 2_000_000_000L; System.nanoTime() < end; ) {
                try {
                    if (target.delegate().exists("a")) {
                        return;
                    }
                    Thread.sleep(10);
                } catch (IOException | InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        };
        CompletableFuture<Long> used = CompletableFuture.supplyAsync(() -> {
            try {
                return store.usedBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Thread.sleep(300);
        target.permits.release(); // lets the put through if usedBytes waits for it instead
        assertThat(used.get(10, TimeUnit.SECONDS)).isEqualTo(100);
        store.close();
    }

    /** Delegates, but each put waits for a permit, is recorded, and fails while {@code failures} is positive. */
    private static final class GatedStore extends ForwardingBlobStore {
        final Semaphore permits = new Semaphore(0);
        final AtomicInteger failures = new AtomicInteger();
        final List<String> puts = Collections.synchronizedList(new ArrayList<>());
        volatile Runnable beforeUsedBytes = () -> { };

        GatedStore(FileBlobStore delegate) {
            super(delegate);
        }

        @Override
        public void put(String name, List<ByteBuffer> parts) throws IOException {
            permits.acquireUninterruptibly();
            puts.add(name);
            if (failures.getAndDecrement() > 0) {
                throw new IOException("put on " + this + " failed for " + name + ": No space left on device");
            }
            delegate().put(name, parts);
        }

        @Override
        public void put(String name, byte[] data) throws IOException {
            put(name, List.of(ByteBuffer.wrap(data)));
        }

        @Override
        public Optional<byte[]> readRange(String name, long offset, int length) throws IOException {
            return delegate().readRange(name, offset, length);
        }

        @Override
        public long usedBytes() throws IOException {
            beforeUsedBytes.run();
            return super.usedBytes();
        }

        @Override
        public String toString() {
            return "gated " + delegate();
        }
    }
}
