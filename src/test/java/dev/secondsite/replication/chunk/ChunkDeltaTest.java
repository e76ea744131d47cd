package dev.secondsite.replication.chunk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.secondsite.replication.MemoryBlobStore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Chunks changed in part are stored as deltas over their previous version, in chains of at most
 * {@link ChunkStore#CHAIN_FILES_MAX} files (ADR 0007, "Deltas", "Delta chains"), changed from their block digests
 * without reading what a write does not need ("Block digests").
 */
class ChunkDeltaTest {
    private static final int CHUNK = 64 << 10;

    private final MemoryBlobStore blobs = new MemoryBlobStore();
    private final ChunkStore store = new ChunkStore(blobs);

    @Test
    void aSmallChangeIsStoredAsADeltaOverTheFullChunkAndReadsBackVerified() throws IOException {
        byte[] original = random(1, CHUNK);
        ChunkDigest base = store.insert(original);
        store.flush();

        byte[] expected = original.clone();
        EditableChunk edit = store.edit(base, CHUNK);
        edit.write(8 << 10, random(2, 4096), 0, 4096);
        ChunkDigest changed = store.insert(store.prepare(edit));
        store.flush();
        System.arraycopy(random(2, 4096), 0, expected, 8 << 10, 4096);
        assertThat(changed).as("named by content alone").isEqualTo(ChunkDigest.of(expected));
        assertThat(edit.isComplete()).as("a whole-block write needs neither the chunk nor its base").isFalse();

        ChunkStore.Location location = store.location(changed).orElseThrow();
        assertThat(location.base()).isEqualTo(base);
        assertThat(location.length()).as("a 4 KiB change costs about 4 KiB, not 64").isLessThan(4096 + 128 + 16 * 32);
        assertThat(store.read(changed)).isEqualTo(expected);
        ChunkStore reopened = new ChunkStore(blobs);
        assertThat(reopened.location(changed).orElseThrow().base()).as("the pack index records the base").isEqualTo(base);
        assertThat(reopened.read(changed)).isEqualTo(expected);

        EditableChunk again = store.edit(changed, CHUNK);
        assertThat(again.isComplete()).as("a delta is edited from its block digests alone").isFalse();
        assertThat(again.base()).as("the next delta is made over this version").isEqualTo(changed);
        assertThat(again.changedBlocks().isEmpty()).isTrue();

        // Changed again, in part of a block: the chain (delta, then its base) is read for the rest of that block.
        // A delta over the delta, holding only the block this change wrote.
        ChunkDigest twice = change(changed, (40 << 10) + 100, random(3, 1000), expected);
        ChunkStore.Location second = store.location(twice).orElseThrow();
        assertThat(second.base()).isEqualTo(changed);
        assertThat(second.length()).as("only the new block, not the first change's too").isLessThan(4096 + 128 + 16 * 32);
        assertThat(new ChunkStore(blobs).read(twice)).isEqualTo(expected);
    }

    @Test
    void aChangeOfMoreThanThreeQuartersOfTheChunkIsStoredWhole() throws IOException {
        byte[] original = random(4, CHUNK);
        ChunkDigest base = store.insert(original);
        byte[] expected = original.clone();

        ChunkDigest changed = change(base, 0, random(5, CHUNK * 3 / 4 + 4096), expected);

        assertThat(store.location(changed).orElseThrow().base()).isNull();
        assertThat(store.location(changed).orElseThrow().length()).isGreaterThan(CHUNK);
        assertThat(store.edit(changed, CHUNK).base()).isEqualTo(changed);
        assertThat(store.edit(changed, CHUNK).changedBlocks().isEmpty()).isTrue();
        assertThat(store.read(changed)).isEqualTo(expected);
    }

    @Test
    void aSmallWriteIntoZerosIsStoredAsItsBytesAlone() throws IOException {
        EditableChunk zeros = EditableChunk.zeros(CHUNK);
        byte[] data = random(6, 4096);
        zeros.write(12 << 10, data, 0, data.length);

        ChunkDigest digest = store.insert(store.prepare(zeros));
        store.flush();

        assertThat(store.location(digest).orElseThrow().base()).as("zeros need no base to be kept").isNull();
        assertThat(store.location(digest).orElseThrow().length()).isLessThan(4096 + 128 + 16 * 32);
        assertThat(new ChunkStore(blobs).read(digest)).isEqualTo(zeros.content());
        assertThat(digest).isEqualTo(ChunkDigest.of(zeros.content()));
        EditableChunk again = new ChunkStore(blobs).edit(digest, CHUNK);
        assertThat(again.isComplete()).as("edited from its block digests, not read whole").isFalse();
        assertThat(again.base()).isEqualTo(digest);
        again.write(0, random(11, 4096), 0, 4096);
        ChunkStore reopened = new ChunkStore(blobs);
        ChunkDigest twice = reopened.insert(reopened.prepare(again));
        reopened.flush();
        byte[] expected = zeros.content().clone();
        System.arraycopy(random(11, 4096), 0, expected, 0, 4096);
        assertThat(reopened.location(twice).orElseThrow().base()).as("a delta over the delta over zeros")
                .isEqualTo(digest);
        assertThat(new ChunkStore(blobs).read(twice)).isEqualTo(expected);
    }

    @Test
    void aChunkWrittenInSmallPiecesChainsDeltasUpToTheLimitThenIsStoredWhole() throws IOException {
        byte[] expected = random(12, CHUNK);
        List<ChunkDigest> versions = new ArrayList<>(List.of(store.insert(expected)));
        List<byte[]> contents = new ArrayList<>(List.of(expected.clone()));
        store.flush();
        for (int i = 1; i <= ChunkStore.CHAIN_FILES_MAX; i++) { // each version in its own pack (change flushes)
            versions.add(change(versions.getLast(), (i % 16) * 4096, random(100 + i, 4096), expected));
            contents.add(expected.clone());
        }
        for (int i = 1; i < ChunkStore.CHAIN_FILES_MAX; i++) {
            ChunkStore.Location location = store.location(versions.get(i)).orElseThrow();
            assertThat(location.base()).as("version %d is a delta over version %d", i, i - 1).isEqualTo(versions.get(i - 1));
            assertThat(location.length()).isLessThan(4096 + 128 + 16 * 32);
        }
        assertThat(store.location(versions.getLast()).orElseThrow().base())
                .as("a ninth file in the chain would be too many: stored whole").isNull();
        ChunkStore reopened = new ChunkStore(blobs);
        for (int i = 0; i < versions.size(); i++) {
            assertThat(reopened.read(versions.get(i))).as("version %d", i).isEqualTo(contents.get(i));
        }

        // A live delta keeps its whole chain alive; a missing link breaks everything above it, nothing below.
        ChunkDigest longest = versions.get(ChunkStore.CHAIN_FILES_MAX - 1);
        Set<ChunkDigest> live = new HashSet<>(Set.of(longest));
        assertThat(reopened.addDeltaBases(live)).isEqualTo(ChunkStore.CHAIN_FILES_MAX - 1);
        assertThat(live).containsExactlyInAnyOrderElementsOf(versions.subList(0, ChunkStore.CHAIN_FILES_MAX));
        blobs.delete(store.location(versions.get(3)).orElseThrow().pack());
        ChunkStore broken = new ChunkStore(blobs);
        assertThat(broken.contains(versions.get(2))).isTrue();
        assertThat(broken.contains(versions.get(4))).isFalse();
        assertThat(broken.contains(longest)).isFalse();
        CorruptChunkException e = catchThrowableOfType(CorruptChunkException.class, () -> broken.read(longest));
        assertThat(e.quarantined()).as("the delta itself is not damaged").isFalse();
        assertThat(e.getMessage()).contains("chunk is missing");
        assertThat(broken.insert(contents.get(ChunkStore.CHAIN_FILES_MAX - 1))).isEqualTo(longest);
        broken.flush();
        assertThat(broken.location(longest).orElseThrow().base()).as("sent again: stored whole").isNull();
        assertThat(new ChunkStore(blobs).read(longest)).isEqualTo(contents.get(ChunkStore.CHAIN_FILES_MAX - 1));
    }

    @Test
    void aDeltaWhoseBaseIsGoneCountsAsMissingAndIsStoredWholeWhenSentAgain() throws IOException {
        byte[] original = random(7, CHUNK);
        ChunkDigest base = store.insert(original);
        store.flush();
        byte[] expected = original.clone();
        ChunkDigest changed = change(base, 0, random(8, 512), expected);
        blobs.delete(store.location(base).orElseThrow().pack());

        ChunkStore reopened = new ChunkStore(blobs);
        assertThat(reopened.contains(changed)).as("resync digests must call it unknown").isFalse();
        CorruptChunkException e = catchThrowableOfType(CorruptChunkException.class, () -> reopened.read(changed));
        assertThat(e.quarantined()).as("the delta itself is not damaged").isFalse();
        assertThat(e.getMessage()).contains("its delta base cannot be read").contains("chunk is missing");

        assertThat(reopened.insert(expected)).isEqualTo(changed);
        reopened.flush();
        assertThat(reopened.location(changed).orElseThrow().base()).isNull();
        assertThat(reopened.contains(changed)).isTrue();
        assertThat(new ChunkStore(blobs).read(changed)).isEqualTo(expected);
    }

    @Test
    void aDamagedDeltaIsQuarantinedAndItsBaseIsNot() throws IOException {
        byte[] original = random(9, CHUNK);
        ChunkDigest base = store.insert(original);
        store.flush();
        ChunkDigest changed = change(base, 4096, random(10, 4096), original.clone());
        ChunkStore.Location location = store.location(changed).orElseThrow();
        blobs.corrupt(location.pack(), (int) (location.offset() + location.length() - 100), 0x40); // the delta's data

        ChunkStore reopened = new ChunkStore(blobs);
        CorruptChunkException e = catchThrowableOfType(CorruptChunkException.class, () -> reopened.read(changed));
        assertThat(e.quarantined()).isTrue();
        assertThat(e.getMessage()).contains("delta data CRC32C mismatch");
        assertThat(reopened.contains(changed)).isFalse();
        assertThat(reopened.read(base)).isEqualTo(original);
    }

    @Test
    void malformedDeltaFilesAreRefusedWithTheReason() {
        byte[] content = random(11, CHUNK);
        BitSet changed = new BitSet();
        changed.set(2, 4);
        changed.set(10);
        byte[] file = ChunkFile.encodeDelta(content, ChunkDigest.of(random(12, CHUNK)), changed,
                ChunkDigest.blockDigests(content, 0, CHUNK));
        String[] problem = new String[1];
        assertThat(ChunkFile.decode(file, problem).delta().offsets()).containsExactly(8192, 40960);

        int count = ChunkFile.HEADER_BYTES + ChunkFile.digestBytes(CHUNK) + ChunkDigest.BYTES;
        int ranges = count + 4;
        assertThat(problemOf(withInt(file, count, 0))).contains("delta range count 0 is out of range");
        assertThat(problemOf(withInt(file, count, 1 << 20))).contains("is out of range");
        assertThat(problemOf(withInt(file, ranges + 8, 8192))).as("overlapping ranges").contains("out of order");
        assertThat(problemOf(withInt(file, ranges + 8, 16384))).as("touching ranges").contains("out of order");
        assertThat(problemOf(withInt(file, ranges + 12, CHUNK))).as("past the chunk").contains("out of bounds");
        assertThat(problemOf(withInt(file, ranges + 4, 0))).as("empty range").contains("out of order, out of bounds");
        assertThat(problemOf(withInt(file, ranges + 8, 40960 + 512))).as("within a block").contains("not block-aligned");
        byte[] data = file.clone();
        data[data.length - 1] ^= 1;
        assertThat(problemOf(data)).contains("delta data CRC32C mismatch");
        byte[] truncated = Arrays.copyOf(file, file.length - 1);
        assertThat(problemOf(truncated)).contains("truncated payload");
    }

    /** Changes {@code digest}'s chunk at {@code at} through edit + prepare, as apply does; mirrors it in expected. */
    private ChunkDigest change(ChunkDigest digest, int at, byte[] data, byte[] expected) throws IOException {
        EditableChunk edit = store.edit(digest, CHUNK);
        edit.write(at, data, 0, data.length);
        System.arraycopy(data, 0, expected, at, data.length);
        ChunkStore.Prepared prepared = store.prepare(edit);
        ChunkDigest changed = store.insert(prepared);
        store.flush();
        assertThat(changed).isEqualTo(ChunkDigest.of(expected));
        return changed;
    }

    /** A copy of a chunk file with a little-endian int replaced in its payload (the header CRC does not cover it). */
    private static byte[] withInt(byte[] file, int at, int value) {
        byte[] copy = file.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(at, value);
        return copy;
    }

    private static String problemOf(byte[] file) {
        String[] problem = new String[1];
        assertThat(ChunkFile.decode(file, problem)).isNull();
        return problem[0];
    }

    private static byte[] random(long seed, int length) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
