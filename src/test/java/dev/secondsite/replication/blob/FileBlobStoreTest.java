package dev.secondsite.replication.blob;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
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
