package dev.secondsite.replication.chunk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.secondsite.replication.CrashingBlobStore;
import dev.secondsite.replication.ForwardingBlobStore;
import dev.secondsite.replication.ManualClock;
import dev.secondsite.replication.MemoryBlobStore;
import dev.secondsite.replication.blob.BlobStore;
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
        ChunkDigest pendingAgain = store.insert(content.clone());
        assertThat(blobs.list("")).as("nothing is written before the flush").isEmpty();
        assertThat(store.read(first)).as("pending content reads back").isEqualTo(content);
        store.flush();
        long used = blobs.usedBytes();
        ChunkDigest storedAgain = store.insert(content.clone());
        store.flush();

        assertThat(List.of(pendingAgain, storedAgain)).containsOnly(first);
        assertThat(first).isEqualTo(ChunkDigest.of(content));
        assertThat(store.packNames()).singleElement().satisfies(pack ->
                assertThat(pack).matches("packs/[0-9a-f]{2}/[0-9a-f]{32}\\.pack"));
        assertThat(blobs.usedBytes()).isEqualTo(used);
        assertThat(store.writtenCount()).isEqualTo(1);
        assertThat(store.deduplicatedCount()).isEqualTo(2);
        assertThat(store.packsWrittenCount()).isEqualTo(1);
        assertThat(store.read(first)).isEqualTo(content);
        assertThat(new ChunkStore(blobs).read(first)).as("another instance finds it").isEqualTo(content);
        assertThat(ChunkStore.digestOf(ChunkStore.blobName(first))).contains(first);
        assertThat(ChunkStore.digestOf("chunks/00/00/nothex")).isEmpty();
    }

    @Test
    void manyChunksCostOnePutAndFullPacksAreWrittenOnTheirOwn() throws IOException {
        CrashingBlobStore counting = new CrashingBlobStore(new MemoryBlobStore(), Long.MAX_VALUE);
        ChunkStore store = new ChunkStore(counting);
        List<ChunkDigest> digests = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            digests.add(store.insert(random(100 + i, 4096)));
        }
        store.flush();
        assertThat(counting.writes()).isEqualTo(1);

        MemoryBlobStore small = new MemoryBlobStore();
        ChunkStore bounded = new ChunkStore(small, java.time.Clock.systemUTC(), 10 * 4096);
        for (int i = 0; i < 100; i++) {
            bounded.insert(random(100 + i, 4096));
        }
        // Raw 4 KiB chunk files are 4120 bytes: every tenth insert fills a pack, which is written at once.
        assertThat(bounded.packNames()).as("packs written without a flush once full").hasSize(10);
        bounded.flush();
        for (ChunkDigest digest : digests) {
            assertThat(bounded.read(digest)).isEqualTo(store.read(digest));
        }
    }

    @Test
    void theZeroChunkIsNeverStored() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        assertThat(store.insert(new byte[64 << 10])).isEqualTo(ChunkDigest.ZERO);
        assertThat(store.insert(new byte[4096])).isEqualTo(ChunkDigest.ZERO);
        store.flush();
        assertThat(blobs.list("")).isEmpty();
        assertThat(store.contains(ChunkDigest.ZERO)).isTrue();
        assertThatThrownBy(() -> store.read(ChunkDigest.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void compressibleContentIsCompressedAndRandomContentStoredRaw() throws IOException {
        ChunkStore store = new ChunkStore(new MemoryBlobStore());
        byte[] text = new byte[64 << 10];
        Arrays.fill(text, (byte) 'z');
        ChunkDigest compressible = store.insert(text);
        ChunkDigest noise = store.insert(random(2, 64 << 10));
        store.flush();
        assertThat(store.location(compressible).orElseThrow().length()).isLessThan(1024);
        assertThat(store.location(noise).orElseThrow().length()).isEqualTo(ChunkFile.HEADER_BYTES + 16 * 32 + (64 << 10)); // header, block digests, content
        assertThat(store.read(compressible)).isEqualTo(text);
    }

    @Test
    void aDamagedPackEntryIsQuarantinedAndTheRestOfItsPackSurvives() throws IOException {
        FileBlobStore blobs = new FileBlobStore(root);
        ChunkStore store = new ChunkStore(blobs);
        byte[] a = random(3, 16 << 10);
        byte[] b = random(4, 16 << 10);
        byte[] c = random(5, 16 << 10);
        ChunkDigest da = store.insert(a);
        ChunkDigest db = store.insert(b);
        ChunkDigest dc = store.insert(c);
        store.flush();
        ChunkStore.Location victim = store.location(db).orElseThrow();
        Path file = root.resolve(victim.pack());
        byte[] pack = Files.readAllBytes(file);
        pack[(int) victim.offset() + victim.length() / 2] ^= 0x10;
        Files.write(file, pack);

        CorruptChunkException e = catchThrowableOfType(CorruptChunkException.class, () -> store.read(db));

        assertThat(e).isNotNull();
        assertThat(e.digest()).isEqualTo(db);
        assertThat(e.quarantined()).isTrue();
        assertThat(e.getMessage()).startsWith("read on chunk store on file blob store " + root.toAbsolutePath()
                + " failed for " + db + ": content CRC32C mismatch; quarantined as quarantine/" + db.hex() + ".");
        assertThat(store.quarantinedCount()).isEqualTo(1);
        assertThat(blobs.list("quarantine/")).singleElement().satisfies(name -> assertThat(blobs.get(name).orElseThrow())
                .isEqualTo(Arrays.copyOfRange(pack, (int) victim.offset(), (int) victim.offset() + victim.length())));
        assertThat(file).as("the damaged pack is replaced").doesNotExist();
        ChunkStore reopened = new ChunkStore(blobs);
        assertThat(reopened.contains(db)).as("forgotten persistently").isFalse();
        assertThat(reopened.read(da)).isEqualTo(a);
        assertThat(reopened.read(dc)).isEqualTo(c);

        // A later insert of the same content (a resync) heals the store.
        assertThat(reopened.insert(b)).isEqualTo(db);
        reopened.flush();
        assertThat(new ChunkStore(blobs).read(db)).isEqualTo(b);
    }

    @Test
    void contentThatDoesNotHashToItsNameIsQuarantined() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        byte[] a = random(4, 4096);
        byte[] b = random(5, 4096);
        // A well-formed pack (valid CRCs) whose index names b's chunk file as a.
        blobs.put("packs/00/" + "0".repeat(32) + ".pack", PackFile.encode(List.of(ChunkDigest.of(a)),
                List.of(ChunkFiles.encode(b))));

        assertThatThrownBy(() -> store.read(ChunkDigest.of(a))).isInstanceOf(CorruptChunkException.class)
                .hasMessageContaining("content hashes to " + ChunkDigest.of(b) + ", not to its name");
        assertThat(store.contains(ChunkDigest.of(a))).isFalse();
        assertThat(store.quarantinedCount()).isEqualTo(1);
    }

    /**
     * Edit reads a full chunk only as far as its block digests and checks them against the name: digests that
     * do not name it fall back to a whole, verified read (which quarantines damage, in the digests too). The trade-off, stated:
     * damage in the payload alone is found when the chunk is read (restore, export, a delta over it), not here.
     */
    @Test
    void editChecksBlockDigestsAgainstTheNameAndLeavesThePayloadToReads() throws IOException {
        FileBlobStore blobs = new FileBlobStore(root);
        ChunkStore store = new ChunkStore(blobs);
        byte[] a = random(6, 16 << 10);
        byte[] b = random(7, 16 << 10);
        ChunkDigest da = store.insert(a);
        ChunkDigest db = store.insert(b);
        store.flush();
        EditableChunk edit = store.edit(da, a.length);
        assertThat(edit.isComplete()).as("content not read").isFalse();
        assertThat(edit.base()).isEqualTo(da);

        flip(store.location(db).orElseThrow(), ChunkFile.HEADER_BYTES + 5); // in b's block digests
        CorruptChunkException digests = catchThrowableOfType(CorruptChunkException.class, () -> store.edit(db, b.length));
        assertThat(digests.quarantined()).as("read whole, verified and quarantined").isTrue();
        assertThat(digests.getMessage()).contains("the block digests stored with it do not match its content");

        ChunkStore.Location location = store.location(da).orElseThrow();
        flip(location, location.length() - 3); // in a's payload
        assertThat(store.edit(da, a.length).isComplete()).isFalse();
        CorruptChunkException e = catchThrowableOfType(CorruptChunkException.class, () -> store.read(da));
        assertThat(e.quarantined()).isTrue();
        assertThat(e.getMessage()).contains("CRC32C mismatch");

        // A well-formed entry filed under another name: its digests do not name it, and the verified read refuses.
        MemoryBlobStore memory = new MemoryBlobStore();
        byte[] c = random(8, 4096);
        byte[] d = random(9, 4096);
        memory.put("packs/00/" + "0".repeat(32) + ".pack", PackFile.encode(List.of(ChunkDigest.of(c)),
                List.of(ChunkFiles.encode(d))));
        assertThatThrownBy(() -> new ChunkStore(memory).edit(ChunkDigest.of(c), 4096))
                .isInstanceOf(CorruptChunkException.class).hasMessageContaining("not to its name");
    }

    private void flip(ChunkStore.Location location, int at) throws IOException {
        Path file = root.resolve(location.pack());
        byte[] pack = Files.readAllBytes(file);
        pack[(int) location.offset() + at] ^= 0x01;
        Files.write(file, pack);
    }

    /** A pack cut short by a crash (its trailer is gone or garbage) is quarantined whole; a re-insert heals. */
    @Test
    void aTruncatedPackIsQuarantinedWholeAndADamagedIndexToo() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        ChunkStore store = new ChunkStore(blobs);
        ChunkDigest a = store.insert(random(6, 4096));
        ChunkDigest b = store.insert(random(7, 4096));
        store.flush();
        String pack = store.packNames().getFirst();
        byte[] bytes = blobs.get(pack).orElseThrow();
        blobs.put(pack, Arrays.copyOf(bytes, bytes.length - 1));
        ChunkStore reopened = new ChunkStore(blobs);
        assertThat(reopened.contains(a)).isFalse(); // not trusted for dedup
        assertThatThrownBy(() -> reopened.read(a)).hasMessageEndingWith("chunk is missing");
        assertThat(blobs.exists(pack)).isFalse();
        assertThat(reopened.insert(random(6, 4096))).isEqualTo(a);
        reopened.flush();
        assertThat(new ChunkStore(blobs).read(a)).isEqualTo(random(6, 4096));

        byte[] garbled = bytes.clone(); // full length, garbage tail
        Arrays.fill(garbled, garbled.length - 100, garbled.length, (byte) 0);
        blobs.put(pack, garbled);
        assertThat(new ChunkStore(blobs).contains(b)).isFalse();

        ChunkDigest c = reopened.insert(random(8, 4096));
        reopened.flush();
        String packOfC = reopened.location(c).orElseThrow().pack();
        blobs.corrupt(packOfC, PackFile.HEADER_BYTES + 3, 0x01); // inside the index
        ChunkStore third = new ChunkStore(blobs);
        assertThatThrownBy(() -> third.read(c)).isInstanceOf(CorruptChunkException.class)
                .hasMessageEndingWith("chunk is missing");
        assertThat(blobs.list("quarantine/")).anySatisfy(name -> assertThat(name).contains(packOfC.substring(9)));
        assertThat(blobs.exists(packOfC)).isFalse();
    }

    /** Version 1 packs (before trailers) are still read; a truncated one loses only its tail. */
    @Test
    void versionOnePacksWithoutTrailerAreStillRead() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        byte[] a = random(6, 4096);
        byte[] b = random(7, 4096);
        byte[] v1 = packWithoutBases(PackFile.FORMAT_VERSION_NO_TRAILER, a, b);
        String pack = "packs/00/" + "0".repeat(32) + ".pack";
        blobs.put(pack, v1);
        ChunkStore store = new ChunkStore(blobs);
        assertThat(store.read(ChunkFiles.legacyName(a))).isEqualTo(a);
        assertThat(store.read(ChunkFiles.legacyName(b))).isEqualTo(b);

        blobs.put(pack, Arrays.copyOf(v1, v1.length - 1));
        ChunkStore reopened = new ChunkStore(blobs);
        assertThatThrownBy(() -> reopened.read(ChunkFiles.legacyName(b))).hasMessageContaining("truncated payload");
        assertThat(reopened.read(ChunkFiles.legacyName(a))).isEqualTo(a);
    }

    /** Version 2 packs (a trailer, no delta bases in the index) are still read and checked for tears. */
    @Test
    void versionTwoPacksWithoutBasesAreStillRead() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        byte[] a = random(8, 4096);
        byte[] b = random(9, 4096);
        byte[] v2 = packWithoutBases(PackFile.FORMAT_VERSION_NO_BASES, a, b);
        String pack = "packs/00/" + "0".repeat(32) + ".pack";
        blobs.put(pack, v2);
        ChunkStore store = new ChunkStore(blobs);
        assertThat(store.read(ChunkFiles.legacyName(b))).isEqualTo(b);
        assertThat(store.location(ChunkFiles.legacyName(a)).orElseThrow().base()).isNull();

        blobs.put(pack, Arrays.copyOf(v2, v2.length - 1));
        assertThat(new ChunkStore(blobs).contains(ChunkFiles.legacyName(a))).as("torn: quarantined whole").isFalse();
    }

    /**
     * A pack as versions 1 and 2 wrote it: 44-byte index entries (no base), a trailer from version 2; its chunk
     * files as they were then (format 1, named by their plain SHA-256).
     */
    private static byte[] packWithoutBases(int version, byte[] a, byte[] b) {
        List<byte[]> files = List.of(ChunkFiles.legacy(a), ChunkFiles.legacy(b));
        int indexBytes = PackFile.indexBytes(version, 2);
        boolean trailer = version != PackFile.FORMAT_VERSION_NO_TRAILER;
        java.nio.ByteBuffer pack = java.nio.ByteBuffer.allocate(indexBytes + files.get(0).length + files.get(1).length
                + (trailer ? PackFile.TRAILER_BYTES : 0)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        pack.putInt(PackFile.MAGIC).put((byte) version).put((byte) 0).putShort((short) 0).putInt(2);
        pack.put(ChunkFiles.legacyName(a).toBytes()).putLong(indexBytes).putInt(files.get(0).length);
        pack.put(ChunkFiles.legacyName(b).toBytes()).putLong(indexBytes + files.get(0).length).putInt(files.get(1).length);
        int crc = dev.secondsite.replication.Crc32c.of(pack.array(), 0, pack.position());
        pack.putInt(crc).put(files.get(0)).put(files.get(1));
        if (trailer) {
            pack.putInt(PackFile.TRAILER_MAGIC).putInt(crc);
        }
        return pack.array();
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

    /**
     * Stores written before packs hold one blob per chunk, in format 1 (named by plain SHA-256): still read,
     * edited and quarantined; their content is stored again, under its block-digest name, when sent again.
     */
    @Test
    void legacyPerChunkBlobsStayReadable() throws IOException {
        MemoryBlobStore blobs = new MemoryBlobStore();
        byte[] content = random(10, 4096);
        ChunkDigest digest = ChunkFiles.legacyName(content);
        blobs.put(ChunkStore.blobName(digest), ChunkFiles.legacy(content));
        ChunkStore store = new ChunkStore(blobs);

        assertThat(store.read(digest)).isEqualTo(content);
        assertThat(store.edit(digest, content.length).content()).as("edited whole: no block digests").isEqualTo(content);
        assertThat(store.listShard(Integer.parseInt(digest.hex().substring(0, 2), 16))).containsExactly(digest);

        byte[] damaged = random(11, 4096);
        ChunkDigest damagedDigest = ChunkFiles.legacyName(damaged);
        byte[] file = ChunkFiles.legacy(damaged);
        blobs.put(ChunkStore.blobName(damagedDigest), Arrays.copyOf(file, file.length + 1));
        ChunkStore reopened = new ChunkStore(blobs);
        assertThatThrownBy(() -> reopened.read(damagedDigest)).hasMessageContaining("bytes follow the payload");
        assertThat(blobs.exists(ChunkStore.blobName(damagedDigest))).isFalse();
        assertThat(reopened.quarantinedCount()).isEqualTo(1);
        ChunkDigest healed = reopened.insert(damaged);
        reopened.flush();
        assertThat(healed).as("content is stored again under its block-digest name").isEqualTo(ChunkDigest.of(damaged));
        assertThat(new ChunkStore(blobs).read(healed)).isEqualTo(damaged);
    }

    /** Dedup touches the blob it relies on, but one store touches a blob at most every TOUCH_EVERY. */
    @Test
    void oneStoreTouchesABlobAtMostEveryTenMinutes() throws IOException {
        ManualClock clock = new ManualClock(Instant.parse("2026-12-07T00:00:00Z"));
        AtomicInteger touches = new AtomicInteger();
        BlobStore counting = new ForwardingBlobStore(new MemoryBlobStore(clock)) {
            @Override
            public boolean touch(String name) throws IOException {
                touches.incrementAndGet();
                return super.touch(name);
            }
        };
        ChunkStore store = new ChunkStore(counting, clock);
        byte[] content = random(41, 64 << 10);
        store.insert(content);
        store.flush();

        store.insert(content);
        store.insert(content);
        clock.advance(ChunkStore.TOUCH_EVERY.minusSeconds(1));
        store.insert(content);
        assertThat(touches).hasValue(1);
        clock.advance(Duration.ofSeconds(1));
        store.insert(content);
        assertThat(touches).as("due again after TOUCH_EVERY").hasValue(2);
        assertThat(store.deduplicatedCount()).isEqualTo(4);
    }

    private static byte[] random(long seed, int length) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
