package dev.secondsite.replication.chunk;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.secondsite.replication.chunk.ChunkStore.Location;

import static org.assertj.core.api.Assertions.assertThat;

class ChunkIndexTest {
    private static final Location LEGACY = new Location(null, 0, 0, null);

    @Test
    void entriesReadBackWithTheirPackOffsetLengthAndBase() {
        ChunkIndex index = new ChunkIndex();
        ChunkDigest full = digest(1);
        ChunkDigest delta = digest(2);
        ChunkDigest legacy = digest(3);
        Location fullAt = new Location("packs/aa/a.pack", 5L << 32, 65_536, null); // offsets past 4 GiB are kept
        Location deltaAt = new Location("packs/bb/b.pack", 77, 900, full);

        index.put(full, fullAt);
        index.put(delta, deltaAt);
        index.putIfAbsent(legacy, LEGACY);
        index.putIfAbsent(full, LEGACY);

        assertThat(index.get(full)).isEqualTo(fullAt);
        assertThat(index.get(delta)).isEqualTo(deltaAt);
        assertThat(index.get(legacy)).isEqualTo(LEGACY);
        assertThat(index.get(digest(4))).isNull();
        assertThat(index.containsKey(digest(4))).isFalse();
        assertThat(index.size()).isEqualTo(3);
    }

    @Test
    void aDeltaKeepsNamingItsBaseWhileTheBaseIsGoneAndAfterItIsStoredAgain() {
        ChunkIndex index = new ChunkIndex();
        ChunkDigest base = digest(10);
        ChunkDigest delta = digest(11);
        Location baseAt = new Location("packs/aa/base.pack", 0, 65_536, null);
        index.put(delta, new Location("packs/bb/delta.pack", 0, 500, base)); // indexed before its base's pack

        assertThat(index.containsKey(base)).as("a base named only by a delta is not stored").isFalse();
        index.put(base, baseAt);
        assertThat(index.remove(base, new Location("packs/aa/other.pack", 0, 65_536, null))).isFalse();
        assertThat(index.remove(base, baseAt)).isTrue();
        assertThat(index.containsKey(base)).isFalse();
        fill(index, 5000, 1000); // rehashes several times
        assertThat(index.get(delta).base()).as("through rehashes").isEqualTo(base);
        index.put(base, baseAt);
        assertThat(index.containsKey(base)).isTrue();
        assertThat(index.get(delta).base()).isEqualTo(base);
    }

    @Test
    void removingAPackForgetsItsEntriesOnlyAndFreesItsName() {
        ChunkIndex index = new ChunkIndex();
        for (int i = 0; i < 100; i++) {
            index.put(digest(i), new Location(i % 2 == 0 ? "packs/even.pack" : "packs/odd.pack", i, 10, null));
        }
        index.put(digest(0), new Location("packs/newer.pack", 0, 10, null)); // same content, a newer pack

        index.removeIfIn(digest(0), "packs/even.pack");
        index.removePack("packs/even.pack");

        assertThat(index.get(digest(0)).pack()).isEqualTo("packs/newer.pack");
        assertThat(index.size()).isEqualTo(51);
        for (int i = 1; i < 100; i++) {
            assertThat(index.containsKey(digest(i))).isEqualTo(i % 2 == 1);
        }
        index.put(digest(200), new Location("packs/third.pack", 0, 10, null)); // takes the freed id
        assertThat(index.get(digest(200)).pack()).isEqualTo("packs/third.pack");
        assertThat(index.get(digest(1)).pack()).isEqualTo("packs/odd.pack");
    }

    /** A random walk of every operation, against a map with the semantics the chunk store had before. */
    @Test
    void behavesLikeAMapKeyedByDigestThroughGrowthAndRemovals() {
        Random random = new Random(20261207);
        ChunkIndex index = new ChunkIndex();
        Map<ChunkDigest, Location> model = new HashMap<>();
        List<ChunkDigest> digests = new ArrayList<>();
        for (int i = 0; i < 30_000; i++) {
            digests.add(digest(1_000_000 + i));
        }
        List<String> packs = List.of("p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7");
        for (int step = 0; step < 300_000; step++) {
            ChunkDigest digest = digests.get(random.nextInt(digests.size()));
            String pack = packs.get(random.nextInt(packs.size()));
            int op = random.nextInt(100);
            if (op < 45) {
                ChunkDigest base = random.nextInt(3) == 0 ? digests.get(random.nextInt(digests.size())) : null;
                Location location = random.nextInt(20) == 0 ? LEGACY
                        : new Location(pack, random.nextInt(1 << 25), 1 + random.nextInt(1 << 16), base);
                index.put(digest, location);
                model.put(digest, location);
            } else if (op < 60) {
                Location current = model.get(digest);
                Location expected = current != null && random.nextBoolean() ? current : LEGACY;
                assertThat(index.remove(digest, expected)).isEqualTo(model.remove(digest, expected));
            } else if (op < 70) {
                index.removeIfIn(digest, pack);
                model.computeIfPresent(digest, (d, at) -> pack.equals(at.pack()) ? null : at);
            } else if (op < 71) {
                index.removePack(pack);
                model.values().removeIf(at -> pack.equals(at.pack()));
            } else {
                assertThat(index.get(digest)).isEqualTo(model.get(digest));
                assertThat(index.containsKey(digest)).isEqualTo(model.containsKey(digest));
            }
            assertThat(index.size()).isEqualTo(model.size());
        }
        for (ChunkDigest digest : digests) {
            assertThat(index.get(digest)).isEqualTo(model.get(digest));
        }
        assertThat(index.tableCapacity()).isLessThanOrEqualTo(65_536);
    }

    @Test
    void removedEntriesAreDroppedAndTheirRoomIsReused() {
        ChunkIndex index = new ChunkIndex();
        for (int round = 0; round < 4; round++) {
            fill(index, 50_000, round * 50_000);
            assertThat(index.size()).isZero();
            assertThat(index.tableCapacity()).as("round %d", round).isLessThanOrEqualTo(8192);
            assertThat(index.entryCount()).as("round %d reuses dropped entries", round).isLessThanOrEqualTo(60_000);
        }
        index.put(digest(1), new Location("packs/p.pack", 1, 2, null));
        assertThat(index.get(digest(1))).isEqualTo(new Location("packs/p.pack", 1, 2, null));
        assertThat(index.get(digest(2))).isNull();
    }

    @Test
    void aFullIndexRefusesNewDigestsWithAClearErrorAndKeepsWhatItHolds() {
        ChunkIndex index = new ChunkIndex(1 << 11); // 2048 slots, at most 1536 entries
        int stored = 0;
        IllegalStateException full = null;
        while (full == null && stored < 10_000) {
            try {
                index.put(digest(stored), new Location("packs/a.pack", stored, 1, null));
                stored++;
            } catch (IllegalStateException e) {
                full = e;
            }
        }
        assertThat(full).isNotNull().hasMessageStartingWith("the chunk index is full: 1536 chunk versions");
        assertThat(stored).isEqualTo(1536);
        assertThat(index.size()).isEqualTo(stored);
        assertThat(index.tableCapacity()).isEqualTo(1 << 11);
        assertThat(index.entryCount()).as("the refused digest took no entry").isEqualTo(stored);
        for (int i = 0; i < stored; i++) {
            assertThat(index.get(digest(i))).isEqualTo(new Location("packs/a.pack", i, 1, null));
        }
        index.put(digest(7), new Location("packs/b.pack", 1, 2, null)); // a digest it holds can still be replaced
        assertThat(index.get(digest(7))).isEqualTo(new Location("packs/b.pack", 1, 2, null));
    }

    private static void fill(ChunkIndex index, int count, int from) {
        for (int i = 0; i < count; i++) {
            index.put(digest(from + i), new Location("packs/fill.pack", i, 1, null));
        }
        for (int i = 0; i < count; i++) {
            assertThat(index.remove(digest(from + i), new Location("packs/fill.pack", i, 1, null))).isTrue();
        }
    }

    private static ChunkDigest digest(int n) {
        return ChunkDigest.of(Integer.toString(n).getBytes());
    }
}
