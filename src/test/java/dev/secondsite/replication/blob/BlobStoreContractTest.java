package dev.secondsite.replication.blob;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.segment.Segment;
import dev.secondsite.replication.segment.SegmentFormatException;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentName;
import dev.secondsite.replication.segment.SegmentReader;
import dev.secondsite.replication.segment.SegmentRecord;
import dev.secondsite.replication.segment.SegmentWriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@link BlobStore} contract, run against every implementation by a subclass per store. Each test gets
 * a fresh, empty store from {@link #newStore()}. Store-specific behaviour (files on disk, Azure containers,
 * outages) stays in the subclasses.
 */
abstract class BlobStoreContractTest {
    /** A new, empty store. */
    protected abstract BlobStore newStore() throws IOException;

    @Test
    void putGetListDelete() throws IOException {
        BlobStore store = newStore();
        store.put("b/two", bytes("2"));
        store.put("a/one", bytes("1"));
        store.put("a/sub/three", bytes("333"));
        store.put("ab", bytes("x"));

        assertThat(store.get("a/one")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("1")));
        assertThat(store.get("a/none")).isEmpty();
        assertThat(store.exists("b/two")).isTrue();
        assertThat(store.exists("b")).as("a name prefix (directory) is not a blob").isFalse();
        assertThat(store.exists("b/two/three")).isFalse();
        assertThat(store.list("")).containsExactly("a/one", "a/sub/three", "ab", "b/two");
        assertThat(store.list("a/")).containsExactly("a/one", "a/sub/three");
        assertThat(store.list("a")).containsExactly("a/one", "a/sub/three", "ab");
        assertThat(store.list("a/s")).containsExactly("a/sub/three");
        assertThat(store.list("a/one")).containsExactly("a/one");
        assertThat(store.list("zzz/")).isEmpty();
        assertThat(store.usedBytes()).isEqualTo(6);

        assertThat(store.delete("a/one")).isTrue();
        assertThat(store.delete("a/one")).isFalse();
        assertThat(store.delete("never/there")).isFalse();
        assertThat(store.get("a/one")).isEmpty();
        assertThat(store.exists("a/one")).isFalse();
        assertThat(store.list("a/")).containsExactly("a/sub/three");

        assertThat(store.deleteWithoutSync("a/sub/three")).isTrue();
        assertThat(store.deleteWithoutSync("a/sub/three")).isFalse();
        assertThat(store.exists("a/sub/three")).isFalse();
        assertThat(store.list("a")).containsExactly("ab");
    }

    @Test
    void aPutOfPartsStoresThemOneAfterTheOther() throws IOException {
        BlobStore store = newStore();
        Random random = new Random(11);
        // Empty parts, many small ones, one across the file store's 1 MiB write buffer, one larger than it.
        List<byte[]> parts = new ArrayList<>(List.of(new byte[0], new byte[700_000], new byte[0], new byte[2_500_001]));
        for (int i = 0; i < 300; i++) {
            parts.add(new byte[random.nextInt(5000)]);
        }
        parts.forEach(random::nextBytes);
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        parts.forEach(whole::writeBytes);

        List<ByteBuffer> buffers = new ArrayList<>(parts.stream().map(ByteBuffer::wrap).toList());
        // Only a buffer's remaining bytes count: a body read into a longer array, a part with its position moved.
        buffers.add(ByteBuffer.wrap(bytes("-tail-and-old-bytes"), 0, 5));
        buffers.add(ByteBuffer.wrap(bytes("skipped:end")).position(8));
        whole.writeBytes(bytes("-tailend"));

        store.put("packs/parts", buffers);
        store.put("packs/nothing", List.of(ByteBuffer.allocate(0)));

        assertThat(store.get("packs/parts")).hasValueSatisfying(data -> assertThat(data).isEqualTo(whole.toByteArray()));
        assertThat(buffers.get(buffers.size() - 1).position()).as("positions are left as they were").isEqualTo(8);
        assertThat(store.get("packs/nothing")).hasValueSatisfying(data -> assertThat(data).isEmpty());
        store.put("packs/parts", List.of(ByteBuffer.wrap(bytes("re")), ByteBuffer.wrap(bytes("placed"))));
        assertThat(store.get("packs/parts")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("replaced")));
    }

    @Test
    void readRangeReturnsThePartAskedForAndLessAtTheEnd() throws IOException {
        BlobStore store = newStore();
        byte[] data = new byte[10_000];
        new Random(5).nextBytes(data);
        store.put("packs/p", data);

        assertThat(store.readRange("packs/p", 0, 12)).hasValueSatisfying(part -> assertThat(part)
                .isEqualTo(Arrays.copyOfRange(data, 0, 12)));
        assertThat(store.readRange("packs/p", 4321, 1000)).hasValueSatisfying(part -> assertThat(part)
                .isEqualTo(Arrays.copyOfRange(data, 4321, 5321)));
        assertThat(store.readRange("packs/p", 9990, 100)).hasValueSatisfying(part -> assertThat(part)
                .isEqualTo(Arrays.copyOfRange(data, 9990, 10_000)));
        assertThat(store.readRange("packs/p", 10_000, 10)).hasValueSatisfying(part -> assertThat(part).isEmpty());
        assertThat(store.readRange("packs/none", 0, 10)).isEmpty();
    }

    @Test
    void listIsSortedInStringOrder() throws IOException {
        BlobStore store = newStore();
        List<String> names = new ArrayList<>(List.of("a-b", "a.b", "a/b", "a0", "aB", "a_b", "ab", "A", "Z/z", "0",
                "seg/00000000000000000010.seg", "seg/00000000000000000002.seg", "seg/00000000000000000009.seg"));
        Collections.shuffle(names, new Random(7));
        for (String name : names) {
            store.put(name, bytes(name));
        }
        List<String> sorted = new ArrayList<>(names);
        Collections.sort(sorted);
        assertThat(store.list("")).containsExactlyElementsOf(sorted);
        assertThat(store.list("a")).containsExactly("a-b", "a.b", "a/b", "a0", "aB", "a_b", "ab");
        assertThat(store.list("seg/")).containsExactly("seg/00000000000000000002.seg", "seg/00000000000000000009.seg",
                "seg/00000000000000000010.seg");
    }

    @Test
    void overwriteReplacesTheWholeBlob() throws IOException {
        BlobStore store = newStore();
        store.put("x/y", bytes("old content"));
        store.put("x/y", bytes("new"));
        assertThat(store.get("x/y")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("new")));
        assertThat(store.stat("x/y")).hasValueSatisfying(info -> assertThat(info.sizeBytes()).isEqualTo(3));
        store.put("x/y", new ByteArrayInputStream(bytes("streamed again")), 14);
        assertThat(store.get("x/y")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("streamed again")));
        assertThat(store.list("")).containsExactly("x/y");
        assertThat(store.usedBytes()).isEqualTo(14);
    }

    @Test
    void emptyBlobsAreBlobs() throws IOException {
        BlobStore store = newStore();
        store.put("empty/bytes", new byte[0]);
        store.put("empty/stream", new ByteArrayInputStream(new byte[0]), 0);
        assertThat(store.get("empty/bytes")).hasValueSatisfying(data -> assertThat(data).isEmpty());
        assertThat(store.get("empty/stream")).hasValueSatisfying(data -> assertThat(data).isEmpty());
        assertThat(store.stat("empty/stream")).hasValueSatisfying(info -> assertThat(info.sizeBytes()).isZero());
        assertThat(store.exists("empty/bytes")).isTrue();
        assertThat(store.list("empty/")).containsExactly("empty/bytes", "empty/stream");
        assertThat(store.usedBytes()).isZero();
    }

    @Test
    void streamPutCopiesExactlyTheLengthAndFailsOnShortStreams() throws IOException {
        BlobStore store = newStore();
        InputStream source = new ByteArrayInputStream(bytes("0123456789"));
        store.put("s", source, 4);
        assertThat(store.get("s")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("0123")));
        assertThat(source.read()).as("the stream is not read past the length").isEqualTo('4');

        assertThatThrownBy(() -> store.put("short", new ByteArrayInputStream(bytes("abc")), 10))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("put on " + store + " failed for short: ")
                .hasMessageContaining("stream ended after 3 of 10 bytes");
        assertThat(store.exists("short")).isFalse();

        store.put("kept", bytes("previous"));
        assertThatThrownBy(() -> store.put("kept", new ByteArrayInputStream(bytes("new but cut")), 100))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("stream ended after 11 of 100 bytes");
        assertThat(store.get("kept")).as("a failed put leaves the previous blob")
                .hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("previous")));

        assertThat(store.list("")).containsExactly("kept", "s");
        try (InputStream in = store.open("s").orElseThrow()) {
            assertThat(in.readAllBytes()).isEqualTo(bytes("0123"));
        }
        assertThat(store.open("missing")).isEmpty();
        assertThatThrownBy(() -> store.put("neg", new ByteArrayInputStream(bytes("x")), -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative length -1");
    }

    @Test
    void statReportsSizeAndTimeAndTouchOnlyExistingBlobs() throws IOException {
        BlobStore store = newStore();
        Instant before = Instant.now().minusSeconds(60);
        store.put("c/d", bytes("12345"));
        BlobInfo info = store.stat("c/d").orElseThrow();
        assertThat(info.name()).isEqualTo("c/d");
        assertThat(info.sizeBytes()).isEqualTo(5);
        assertThat(info.lastModified()).isBetween(before, Instant.now().plusSeconds(60));

        assertThat(store.touch("c/d")).isTrue();
        assertThat(store.stat("c/d").orElseThrow().lastModified()).isAfterOrEqualTo(info.lastModified());
        assertThat(store.get("c/d")).as("touch keeps the content")
                .hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("12345")));
        assertThat(store.touch("c/none")).isFalse();
        assertThat(store.exists("c/none")).as("touch does not create").isFalse();
        assertThat(store.stat("c/none")).isEmpty();
        assertThat(store.stat("c")).isEmpty();
    }

    @Test
    void usedBytesCountsContentOnly() throws IOException {
        BlobStore store = newStore();
        assertThat(store.usedBytes()).isZero();
        store.put("u/1", new byte[1000]);
        store.put("u/2", new ByteArrayInputStream(new byte[234]), 234);
        store.put("v", new byte[66]);
        assertThat(store.usedBytes()).isEqualTo(1300);
        store.delete("u/1");
        assertThat(store.usedBytes()).isEqualTo(300);
    }

    @Test
    void largeBlobsRoundTrip() throws IOException {
        BlobStore store = newStore();
        int size = 20 << 20;
        byte[] data = new byte[size];
        new Random(42).nextBytes(data);

        store.put("large/bytes", data);
        assertThat(store.stat("large/bytes")).hasValueSatisfying(info -> assertThat(info.sizeBytes()).isEqualTo(size));
        assertThat(Arrays.equals(store.get("large/bytes").orElseThrow(), data)).as("byte[] round trip").isTrue();

        store.put("large/stream", new ByteArrayInputStream(data), size);
        try (InputStream in = store.open("large/stream").orElseThrow()) {
            assertThat(Arrays.equals(in.readAllBytes(), data)).as("stream round trip").isTrue();
        }
        assertThat(store.usedBytes()).isEqualTo(2L * size);
    }

    @Test
    void segmentWrittenBySegmentWriterReadsBackValid() throws IOException {
        BlobStore store = newStore();
        UUID disk = UUID.fromString("5a1d7c2e-3b4f-4e6a-9c8d-0e1f2a3b4c5d");
        long diskBytes = 1L << 30;
        Instant t0 = Instant.parse("2025-11-23T10:00:00.123Z");
        Random random = new Random(11);
        byte[] compressible = new byte[300 << 10];
        Arrays.fill(compressible, (byte) 'z');
        byte[] noise = new byte[200 << 10];
        random.nextBytes(noise);
        List<SegmentRecord> records = List.of(
                new SegmentRecord.Data(0, compressible),
                new SegmentRecord.Zero(1 << 20, 4 << 20),
                new SegmentRecord.Data(64 << 20, noise),
                new SegmentRecord.Marker(ConsistencyType.CRASH_CONSISTENT, t0.plusSeconds(1), ""),
                new SegmentRecord.Data(512, bytes("tail write")),
                new SegmentRecord.Marker(ConsistencyType.APP_CONSISTENT, t0.plusSeconds(2), "vss-1"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SegmentWriter writer = SegmentWriter.start(out, new SegmentHeader(disk, 42, t0), SegmentWriter.Compression.LZ4,
                diskBytes);
        for (SegmentRecord record : records) {
            writer.write(record);
        }
        writer.seal();
        byte[] segment = out.toByteArray();
        String name = SegmentName.of(disk, 42);

        store.put(name, new ByteArrayInputStream(segment), segment.length);

        assertThat(store.list(SegmentName.prefix(disk))).containsExactly(name);
        Segment read;
        try (InputStream in = store.open(name).orElseThrow()) {
            read = SegmentReader.readFully(name, in, diskBytes);
        }
        assertThat(read.header()).isEqualTo(new SegmentHeader(disk, 42, t0));
        assertThat(read.records()).isEqualTo(records);
        assertThat(SegmentReader.readFully(name, store.get(name).orElseThrow(), diskBytes).records()).isEqualTo(records);

        // A segment stored under another sequence's name is rejected by the reader, not silently applied.
        String wrongName = SegmentName.of(disk, 43);
        store.put(wrongName, segment);
        assertThatThrownBy(() -> SegmentReader.readFully(wrongName, store.get(wrongName).orElseThrow(), diskBytes))
                .isInstanceOf(SegmentFormatException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/abs", "a/../b", "..", "a/..", "./a", "a//b", "a/", "a b", "a\\b", "ä", "a/.hidden",
            ".tmp", "a:b", "a\nb", "a?b", "a#b", "a%20b"})
    void invalidNamesAreRejected(String name) throws IOException {
        BlobStore store = newStore();
        assertThatThrownBy(() -> store.put(name, bytes("x"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid blob name");
        assertThatThrownBy(() -> store.put(name, new ByteArrayInputStream(bytes("x")), 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.get(name)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.open(name)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.stat(name)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.exists(name)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.touch(name)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.delete(name)).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.list("")).isEmpty();
    }

    @Test
    void nameLengthIsLimited() throws IOException {
        BlobStore store = newStore();
        String longest = "n/".repeat(156) + "x".repeat(BlobNames.SEGMENT_CHARS_MAX);
        assertThat(longest).hasSize(BlobNames.NAME_CHARS_MAX);
        store.put(longest, bytes("ok"));
        assertThat(store.get(longest)).isPresent();
        assertThat(store.list("n/")).containsExactly(longest);
        assertThatThrownBy(() -> store.put("n/" + longest, bytes("no"))).hasMessageContaining("longer than 512");
        assertThatThrownBy(() -> store.put("x".repeat(BlobNames.SEGMENT_CHARS_MAX + 1), bytes("no")))
                .hasMessageContaining("path segment longer than 200");
        assertThat(BlobNames.validate("chunks/ab/cd/abcd-._ABC09")).isEqualTo("chunks/ab/cd/abcd-._ABC09");
        assertThatThrownBy(() -> store.list("../")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.list("/etc/")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.list(null)).isInstanceOf(IllegalArgumentException.class);
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
