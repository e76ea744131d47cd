package dev.secondsite.replication.blob;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The shared contract ({@link BlobStoreContractTest}) plus what is particular to files: layout, temporary files, mtimes. */
class FileBlobStoreTest extends BlobStoreContractTest {
    @TempDir
    Path root;

    @Override
    protected FileBlobStore newStore() throws IOException {
        return new FileBlobStore(root);
    }

    @Test
    void blobsAreFilesUnderTheRoot() throws IOException {
        FileBlobStore store = newStore();
        store.put("a/sub/three", bytes("333"));
        assertThat(Files.readString(root.resolve("a/sub/three"))).isEqualTo("333");
        assertThat(store.root()).isEqualTo(root.toAbsolutePath().normalize());
        assertThat(store).hasToString("file blob store " + root.toAbsolutePath());
    }

    @Test
    void putReplacesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        FileBlobStore store = newStore();
        store.put("x/y", bytes("old content"));
        store.put("x/y", bytes("new"));
        assertThat(store.get("x/y")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("new")));
        try (Stream<Path> files = Files.list(root.resolve("x"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("y");
        }
    }

    @Test
    void rangedReadsFollowTheFileAsItIsNowEvenWhenReplacedBehindTheStore() throws Exception {
        FileBlobStore store = newStore();
        store.put("packs/p", bytes("first version"));
        assertThat(store.readRange("packs/p", 0, 5)).hasValueSatisfying(b -> assertThat(b).isEqualTo(bytes("first")));
        // Replaced by a rename outside the store (another inode, same size), then grown: never the mapped bytes.
        Path outside = root.resolve("outside");
        Files.write(outside, bytes("FIRST VERSION"));
        Files.move(outside, root.resolve("packs/p"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        assertThat(store.readRange("packs/p", 0, 5)).hasValueSatisfying(b -> assertThat(b).isEqualTo(bytes("FIRST")));
        Files.write(root.resolve("packs/p"), bytes(" and more"), StandardOpenOption.APPEND);
        assertThat(store.readRange("packs/p", 13, 9)).hasValueSatisfying(b -> assertThat(b).isEqualTo(bytes(" and more")));
        // Deleted outside the store: absent, as an unmapped read would say.
        Files.delete(root.resolve("packs/p"));
        assertThat(store.readRange("packs/p", 0, 5)).isEmpty();
    }

    @Test
    void rangedReadsOfManyFilesFromManyThreadsWhileTheyAreDeletedAndPut() throws Exception {
        FileBlobStore store = newStore();
        int files = MappedRanges.MAPPINGS_MAX * 2; // more than stay mapped: evictions while others read
        for (int i = 0; i < files; i++) {
            store.put("packs/" + i, content(i));
        }
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                done.add(threads.submit(() -> {
                    Random random = new Random(seed);
                    for (int round = 0; round < 2000; round++) {
                        int i = random.nextInt(files);
                        if (seed == 0 && round % 10 == 0) {
                            store.delete("packs/" + i);
                            store.put("packs/" + i, content(i));
                            continue;
                        }
                        int offset = random.nextInt(4000);
                        Optional<byte[]> read = store.readRange("packs/" + i, offset, 96);
                        // Absent only in the instant between the writer's delete and put; else the stored bytes.
                        read.ifPresent(b -> assertThat(b).isEqualTo(Arrays.copyOfRange(content(i), offset, offset + 96)));
                    }
                    return null;
                }));
            }
            for (Future<?> future : done) {
                future.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(store.readRange("packs/7", 10, 5)).hasValueSatisfying(b ->
                assertThat(b).isEqualTo(Arrays.copyOfRange(content(7), 10, 15)));
    }

    private static byte[] content(int seed) {
        byte[] bytes = new byte[4096];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void shortStreamsLeaveNoTemporaryFiles() throws IOException {
        FileBlobStore store = newStore();
        store.put("s", new ByteArrayInputStream(bytes("0123")), 4);
        assertThatThrownBy(() -> store.put("short", new ByteArrayInputStream(bytes("abc")), 10))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("put on file blob store " + root.toAbsolutePath() + " failed for short: ")
                .hasMessageContaining("stream ended after 3 of 10 bytes");
        try (Stream<Path> files = Files.list(root)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("s");
        }
    }

    @Test
    void statAndTouchReportAndRefreshTheModificationTime() throws IOException {
        FileBlobStore store = newStore();
        store.put("c/d", bytes("12345"));
        Instant old = Instant.parse("2020-01-01T00:00:00Z");
        Files.setLastModifiedTime(root.resolve("c/d"), FileTime.from(old));
        assertThat(store.stat("c/d")).hasValueSatisfying(info -> {
            assertThat(info.sizeBytes()).isEqualTo(5);
            assertThat(info.lastModified()).isEqualTo(old);
        });
        assertThat(store.touch("c/d")).isTrue();
        assertThat(store.stat("c/d").orElseThrow().lastModified()).isAfter(Instant.now().minusSeconds(60));
        assertThat(store.touch("c/none")).isFalse();
        assertThat(store.stat("c/none")).isEmpty();
    }

    @Test
    void temporaryFilesAreInvisibleAndStaleOnesAreRemoved() throws IOException {
        FileBlobStore store = newStore();
        store.put("d/real", bytes("r"));
        Path stale = root.resolve("d/.real.0011223344556677.tmp");
        Files.writeString(stale, "torn write of a crashed writer");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        Path fresh = root.resolve("d/.other.8899aabbccddeeff.tmp");
        Files.writeString(fresh, "a put in progress");

        assertThat(store.list("")).containsExactly("d/real");
        assertThat(store.usedBytes()).isEqualTo(1);
        assertThat(store.removeStaleTempFiles(Duration.ofHours(1))).isEqualTo(1);
        assertThat(stale).doesNotExist();
        assertThat(fresh).exists();
    }

    @Test
    void listingWhileOthersPutAndDeleteNeverFailsOnAVanishingFile() throws Exception {
        FileBlobStore store = newStore();
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicReference<Throwable> writerFailure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread writer = Thread.ofPlatform().start(() -> {
            byte[] content = new byte[128];
            try {
                for (int i = 0; running.get(); i++) { // temp files appear and are renamed; blobs come and go
                    store.put("points/d/" + (i % 50), new java.io.ByteArrayInputStream(content), content.length);
                    store.delete("points/d/" + ((i + 25) % 50));
                }
            } catch (Throwable t) {
                writerFailure.set(t);
            }
        });
        try {
            for (int i = 0; i < 400; i++) {
                assertThat(store.list("points/")).allSatisfy(name -> assertThat(name).startsWith("points/d/"));
                assertThat(store.usedBytes()).isNotNegative();
            }
        } finally {
            running.set(false);
            writer.join();
        }
        assertThat(writerFailure.get()).isNull();
    }
}
