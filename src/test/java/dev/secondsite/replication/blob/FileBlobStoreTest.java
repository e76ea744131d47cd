package dev.secondsite.replication.blob;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileBlobStoreTest {
    @TempDir
    Path root;

    @Test
    void putGetListDelete() throws IOException {
        FileBlobStore store = new FileBlobStore(root);
        store.put("b/two", bytes("2"));
        store.put("a/one", bytes("1"));
        store.put("a/sub/three", bytes("333"));
        store.put("ab", bytes("x"));

        assertThat(store.get("a/one")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("1")));
        assertThat(store.get("a/none")).isEmpty();
        assertThat(store.exists("b/two")).isTrue();
        assertThat(store.exists("b")).as("a directory is not a blob").isFalse();
        assertThat(store.list("")).containsExactly("a/one", "a/sub/three", "ab", "b/two");
        assertThat(store.list("a/")).containsExactly("a/one", "a/sub/three");
        assertThat(store.list("a")).containsExactly("a/one", "a/sub/three", "ab");
        assertThat(store.list("a/s")).containsExactly("a/sub/three");
        assertThat(store.list("zzz/")).isEmpty();
        assertThat(store.usedBytes()).isEqualTo(6);
        assertThat(Files.readString(root.resolve("a/sub/three"))).isEqualTo("333");

        assertThat(store.delete("a/one")).isTrue();
        assertThat(store.delete("a/one")).isFalse();
        assertThat(store.get("a/one")).isEmpty();
        assertThat(store.list("a/")).containsExactly("a/sub/three");
    }

    @Test
    void putReplacesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        FileBlobStore store = new FileBlobStore(root);
        store.put("x/y", bytes("old content"));
        store.put("x/y", bytes("new"));
        assertThat(store.get("x/y")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("new")));
        try (Stream<Path> files = Files.list(root.resolve("x"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("y");
        }
    }

    @Test
    void streamPutCopiesExactlyTheLengthAndFailsOnShortStreams() throws IOException {
        FileBlobStore store = new FileBlobStore(root);
        InputStream source = new ByteArrayInputStream(bytes("0123456789"));
        store.put("s", source, 4);
        assertThat(store.get("s")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("0123")));
        assertThat(source.read()).as("the stream is not read past the length").isEqualTo('4');

        assertThatThrownBy(() -> store.put("short", new ByteArrayInputStream(bytes("abc")), 10))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("put on file blob store " + root.toAbsolutePath() + " failed for short: ")
                .hasMessageContaining("stream ended after 3 of 10 bytes");
        assertThat(store.exists("short")).isFalse();
        try (Stream<Path> files = Files.list(root)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("s");
        }
        try (InputStream in = store.open("s").orElseThrow()) {
            assertThat(in.readAllBytes()).isEqualTo(bytes("0123"));
        }
        assertThat(store.open("missing")).isEmpty();
    }

    @Test
    void statAndTouchReportAndRefreshTheModificationTime() throws IOException {
        FileBlobStore store = new FileBlobStore(root);
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
        FileBlobStore store = new FileBlobStore(root);
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

    @ParameterizedTest
    @ValueSource(strings = {"", "/abs", "a/../b", "..", "a/..", "./a", "a//b", "a/", "a b", "a\\b", "ä", "a/.hidden",
            ".tmp", "a:b", "a\nb"})
    void invalidNamesAreRejected(String name) throws IOException {
        FileBlobStore store = new FileBlobStore(root);
        assertThatThrownBy(() -> store.put(name, bytes("x"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid blob name");
        assertThatThrownBy(() -> store.get(name)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.delete(name)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nameLengthIsLimited() throws IOException {
        FileBlobStore store = new FileBlobStore(root);
        String longest = "n/".repeat(156) + "x".repeat(BlobNames.SEGMENT_CHARS_MAX);
        assertThat(longest).hasSize(BlobNames.NAME_CHARS_MAX);
        store.put(longest, bytes("ok"));
        assertThat(store.get(longest)).isPresent();
        assertThatThrownBy(() -> store.put("n/" + longest, bytes("no"))).hasMessageContaining("longer than 512");
        assertThatThrownBy(() -> store.put("x".repeat(BlobNames.SEGMENT_CHARS_MAX + 1), bytes("no")))
                .hasMessageContaining("path segment longer than 200");
        assertThat(BlobNames.validate("chunks/ab/cd/abcd-._ABC09")).isEqualTo("chunks/ab/cd/abcd-._ABC09");
        assertThatThrownBy(() -> store.list("../")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.list("/etc/")).isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
