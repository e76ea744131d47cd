package dev.secondsite.replication;

import java.util.Arrays;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.DiskGeometry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The disk state's two slots: a torn write of one never loses the newest state in the other. */
class DiskStatesTest {
    private static final UUID DISK = UUID.fromString("3f2c0000-0000-4000-8000-000000000001");
    private static final DiskGeometry GEOMETRY = new DiskGeometry(1 << 20, 4096);

    private static DiskState state(long sequence) {
        return new DiskState(DISK, GEOMETRY, ChunkDigest.of(new byte[] {(byte) sequence, 1}), sequence);
    }

    @Test
    void writesAlternateSlotsAndReadTakesTheNewestValid() throws Exception {
        MemoryBlobStore blobs = new MemoryBlobStore();
        DiskStates states = new DiskStates(blobs, () -> { });
        String first = DiskState.blobName(DISK);
        String second = DiskStates.secondSlotName(DISK);
        states.write(state(0)); // creation: both slots
        assertThat(blobs.list("disks/")).containsExactly(first, second);
        states.write(state(1));
        assertThat(blobs.get(second)).hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(state(1).encode()));
        states.write(state(2));
        assertThat(blobs.get(first)).hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(state(2).encode()));
        assertThat(states.read(DISK)).contains(state(2));
        assertThat(states.diskIds()).containsExactly(DISK);

        // A torn write of sequence 3 (into the second slot) leaves 2 readable; the retry goes to the same slot.
        blobs.put(second, Arrays.copyOf(state(3).encode(), 40));
        assertThat(states.read(DISK)).contains(state(2));
        states.write(state(3));
        assertThat(states.read(DISK)).contains(state(3));
        blobs.put(first, new byte[DiskState.STATE_BYTES]); // a torn write of 4, zeros
        assertThat(states.read(DISK)).contains(state(3));

        assertThatThrownBy(() -> states.write(state(3))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("does not follow");
        assertThat(states.delete(DISK)).isTrue();
        assertThat(blobs.list("disks/")).isEmpty();
        assertThat(states.read(DISK)).isEmpty();
    }

    /** A crash that tears a disk's creation leaves no disk (create again) or a whole one, never a broken one. */
    @Test
    void aTornCreationLeavesNoDiskOrAWholeOne() throws Exception {
        for (long crashAt = 1; crashAt <= 2; crashAt++) {
            for (TearingBlobStore.Tear tear : TearingBlobStore.Tear.values()) {
                MemoryBlobStore blobs = new MemoryBlobStore();
                TearingBlobStore crashing = new TearingBlobStore(blobs, crashAt, 300 + crashAt, tear);
                assertThatThrownBy(() -> ReplicaDisk.create(new RecoveryStore(crashing), DISK, GEOMETRY))
                        .isInstanceOf(CrashingBlobStore.SimulatedCrash.class);
                try {
                    RecoveryStore recovered = new RecoveryStore(blobs);
                    if (recovered.states().read(DISK).isEmpty()) {
                        assertThat(recovered.states().diskIds()).isEmpty();
                        ReplicaDisk.create(recovered, DISK, GEOMETRY);
                    }
                    assertThat(ReplicaDisk.open(new RecoveryStore(blobs), DISK).lastSequence()).isZero();
                    assertThat(new RecoveryStore(blobs).states().diskIds()).containsExactly(DISK);
                } catch (AssertionError | Exception e) {
                    throw new AssertionError(crashing.describe() + ": " + e, e);
                }
            }
        }
    }

    @Test
    void aStoreFromBeforeSlotsReadsUnchangedAndNoValidSlotIsAClearError() throws Exception {
        MemoryBlobStore blobs = new MemoryBlobStore();
        blobs.put(DiskState.blobName(DISK), state(7).encode()); // one blob, as every earlier version wrote
        DiskStates states = new DiskStates(blobs, () -> { });
        assertThat(states.read(DISK)).contains(state(7));
        states.write(state(8));
        assertThat(blobs.get(DiskState.blobName(DISK))).hasValueSatisfying(bytes -> assertThat(bytes)
                .isEqualTo(state(7).encode()));
        assertThat(states.read(DISK)).contains(state(8));

        blobs.put(DiskState.blobName(DISK), new byte[5]);
        blobs.put(DiskStates.secondSlotName(DISK), new byte[DiskState.STATE_BYTES]);
        assertThatThrownBy(() -> states.read(DISK)).hasMessageContaining("no valid state")
                .hasMessageContaining("disk state is 5 bytes").hasMessageContaining("bad magic");
    }
}
