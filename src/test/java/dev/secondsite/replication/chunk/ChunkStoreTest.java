package dev.secondsite.replication.chunk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.secondsite.replication.MemoryBlobStore;
import dev.secondsite.replication.blob.FileBlobStore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ChunkStoreTest {
    @TempDir
    Path root;

    @Test
    void insertIsContentAddressedAndStoresEachContentOnce() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        byte[] content = random(1, 64 << 10);

        ChunkDigest first = store.insert(content);
        long used = blobs.usedBytes();
        ChunkDigest second = store.insert(content.clone());

        assertThat(second).isEqualTo(first).isEqualTo(ChunkDigest.of(content));
        assertThat(blobs.list("chunks/")).containsExactly(ChunkStore.blobName(first));
        assertThat(ChunkStore.blobName(first)).isEqualTo("chunks/" + first.hex().substring(0, 2) + "/"
                + first.hex().substring(2, 4) + "/" + first.hex());
        assertThat(blobs.usedBytes()).isEqualTo(used);
        assertThat(store.writtenCount()).isEqualTo(1);
        assertThat(store.deduplicatedCount()).isEqualTo(1);
        assertThat(store.read(first)).isEqualTo(content);
        assertThat(ChunkStore.digestOf(ChunkStore.blobName(first))).contains(first);
        assertThat(ChunkStore.digestOf("chunks/00/00/nothex")).isEmpty();
    }

    @Test
    void theZeroChunkIsNeverStored() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        assertThat(store.insert(new byte[64 << 10])).isEqualTo(ChunkDigest.ZERO);
        assertThat(store.insert(new byte[4096])).isEqualTo(ChunkDigest.ZERO);
        assertThat(blobs.list("")).isEmpty();
        assertThat(store.contains(ChunkDigest.ZERO)).isTrue();
        assertThatThrownBy(() -> store.read(ChunkDigest.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void compressibleContentIsCompressedAndRandomContentStoredRaw() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        byte[] text = new byte[64 << 10];
        Arrays.fill(text, (byte) 'z');
        ChunkDigest compressible = store.insert(text);
        ChunkDigest noise = store.insert(random(2, 64 << 10));
        assertThat(blobs.stat(ChunkStore.blobName(compressible)).orElseThrow().sizeBytes()).isLessThan(1024);
        assertThat(blobs.stat(ChunkStore.blobName(noise)).orElseThrow().sizeBytes())
                .isEqualTo(ChunkFile.HEADER_BYTES + (64 << 10));
        assertThat(store.read(compressible)).isEqualTo(text);
    }

    @Test
    void aDamagedChunkFileIsQuarantinedAndReported() throws IOException {
        FileBlobStore blobs = new FileBlobStore(root);
        ChunkStore store = new ChunkStore(blobs);
        byte[] content = random(3, 16 << 10);
        ChunkDigest digest = store.insert(content);
        Path file = root.resolve(ChunkStore.blobName(digest));
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(file, bytes);

        CorruptChunkException e = catchThrowableOfType(CorruptChunkException.class, () -> store.read(digest));

        assertThat(e).isNotNull();
        assertThat(e.digest()).isEqualTo(digest);
        assertThat(e.quarantined()).isTrue();
        assertThat(e.getMessage()).startsWith("read on chunk store on file blob store " + root.toAbsolutePath()
                + " failed for " + digest + ": content CRC32C mismatch; quarantined as quarantine/" + digest.hex() + ".");
        assertThat(file).doesNotExist();
        assertThat(store.quarantinedCount()).isEqualTo(1);
        assertThat(blobs.list("quarantine/")).singleElement().satisfies(name ->
                assertThat(blobs.get(name).orElseThrow()).isEqualTo(bytes));

        // A later insert of the same content (a resync) heals the store.
        assertThat(store.insert(content)).isEqualTo(digest);
        assertThat(store.read(digest)).isEqualTo(content);
    }

    @Test
    void contentThatDoesNotHashToItsNameIsQuarantined() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        ChunkDigest a = store.insert(random(4, 4096));
        ChunkDigest b = store.insert(random(5, 4096));
        // A well-formed chunk file (valid CRCs) under the wrong name.
        blobs.put(ChunkStore.blobName(a), blobs.get(ChunkStore.blobName(b)).orElseThrow());

        assertThatThrownBy(() -> store.read(a)).isInstanceOf(CorruptChunkException.class)
                .hasMessageContaining("content hashes to " + b + ", not to its name");
        assertThat(store.contains(a)).isFalse();
        assertThat(store.quarantinedCount()).isEqualTo(1);
    }

    @Test
    void truncatedAndOversizedFilesAreCorrupt() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        ChunkDigest a = store.insert(random(6, 4096));
        byte[] file = blobs.get(ChunkStore.blobName(a)).orElseThrow();
        blobs.put(ChunkStore.blobName(a), Arrays.copyOf(file, file.length - 1));
        assertThatThrownBy(() -> store.read(a)).hasMessageContaining("truncated payload");

        ChunkDigest b = store.insert(random(7, 4096));
        byte[] fileB = blobs.get(ChunkStore.blobName(b)).orElseThrow();
        blobs.put(ChunkStore.blobName(b), Arrays.copyOf(fileB, fileB.length + 1));
        assertThatThrownBy(() -> store.read(b)).hasMessageContaining("bytes follow the payload");

        ChunkDigest c = store.insert(random(8, 4096));
        blobs.put(ChunkStore.blobName(c), new byte[5]);
        assertThatThrownBy(() -> store.read(c)).hasMessageContaining("truncated header");
        assertThat(store.quarantinedCount()).isEqualTo(3);
    }

    @Test
    void aMissingChunkIsCorruptButNotQuarantined() throws IOException {
        ChunkStore store = new ChunkStore(new MemoryBlobStore());
        ChunkDigest digest = ChunkDigest.of(random(9, 100));
        CorruptChunkException e = catchThrowableOfType(CorruptChunkException.class, () -> store.read(digest));
        assertThat(e.quarantined()).isFalse();
        assertThat(e).hasMessageEndingWith("failed for " + digest + ": chunk is missing");
        assertThat(store.quarantinedCount()).isZero();
    }

    private static byte[] random(long seed, int length) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
