package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskLedgerTest {
    static final int CHUNK = 64 << 10;

    @TempDir
    Path dir;
    final UUID diskId = UUID.randomUUID();

    @Test
    void acknowledgementsSurviveAReopen() throws Exception {
        try (DiskLedger ledger = DiskLedger.create(dir, diskId, 100L * CHUNK, CHUNK, 0, DiskLedger.ZERO)) {
            ledger.markInFlight(1, List.of(range(3, 1, 7), range(10, 5, 0)));
            ledger.acknowledge(1, List.of(range(3, 1, 7), new DiskLedger.Range(10, 5, DiskLedger.ZERO)));
            ledger.markInFlight(2, List.of(range(50, 1, 9)));       // never acknowledged
        }
        try (DiskLedger ledger = DiskLedger.open(dir, diskId).orElseThrow()) {
            assertThat(ledger.lastAckedSequence()).isEqualTo(1);
            assertThat(ledger.digest(3)).isEqualTo(digest(7));
            assertThat(ledger.digest(12)).isEqualTo(DiskLedger.ZERO);
            assertThat(ledger.digest(50)).isEqualTo(DiskLedger.UNKNOWN);
            assertThat(ledger.digest(51)).isEqualTo(DiskLedger.ZERO);
        }
    }

    @Test
    void aTornJournalTailIsIgnoredAndCutOff() throws Exception {
        long goodBytes;
        try (DiskLedger ledger = DiskLedger.create(dir, diskId, 10L * CHUNK, CHUNK, 0, DiskLedger.ZERO)) {
            ledger.acknowledge(1, List.of(range(1, 1, 1)));
            goodBytes = ledger.journalBytes();
            ledger.acknowledge(2, List.of(range(2, 1, 2)));
        }
        Path journal = dir.resolve(DiskLedger.JOURNAL_FILE);
        try (FileChannel channel = FileChannel.open(journal, StandardOpenOption.WRITE)) {
            channel.truncate(Files.size(journal) - 5);             // the second batch is torn
        }
        try (DiskLedger ledger = DiskLedger.open(dir, diskId).orElseThrow()) {
            assertThat(ledger.lastAckedSequence()).isEqualTo(1);
            assertThat(ledger.digest(1)).isEqualTo(digest(1));
            assertThat(ledger.digest(2)).isEqualTo(DiskLedger.ZERO);
            assertThat(Files.size(journal)).isEqualTo(goodBytes);
            ledger.acknowledge(3, List.of(range(4, 1, 4)));        // appends after the good prefix
        }
        try (DiskLedger ledger = DiskLedger.open(dir, diskId).orElseThrow()) {
            assertThat(ledger.lastAckedSequence()).isEqualTo(3);
            assertThat(ledger.digest(4)).isEqualTo(digest(4));
        }
    }

    @Test
    void aCorruptBatchStopsTheReplay() throws Exception {
        try (DiskLedger ledger = DiskLedger.create(dir, diskId, 10L * CHUNK, CHUNK, 0, DiskLedger.ZERO)) {
            ledger.acknowledge(1, List.of(range(1, 1, 1)));
        }
        Path journal = dir.resolve(DiskLedger.JOURNAL_FILE);
        byte[] bytes = Files.readAllBytes(journal);
        bytes[30] ^= 1;
        Files.write(journal, bytes);
        try (DiskLedger ledger = DiskLedger.open(dir, diskId).orElseThrow()) {
            assertThat(ledger.lastAckedSequence()).isZero();
            assertThat(ledger.digest(1)).isEqualTo(DiskLedger.ZERO);
        }
    }

    @Test
    void theJournalIsFoldedIntoANewSnapshotGeneration() throws Exception {
        int chunks = 4096;
        try (DiskLedger ledger = DiskLedger.create(dir, diskId, (long) chunks * CHUNK, CHUNK, 0, DiskLedger.ZERO)) {
            int generation = ledger.generation();
            List<DiskLedger.Range> many = new ArrayList<>();
            for (int i = 0; i < chunks; i++) {
                many.add(range(i, 1, i % 250 + 1));
            }
            long sequence = 0;
            while (ledger.generation() == generation) {          // > 8 MiB of journal forces a fold
                ledger.acknowledge(++sequence, many);
            }
            assertThat(ledger.journalBytes()).isZero();
            ledger.acknowledge(++sequence, List.of(range(0, 1, 99)));
        }
        try (DiskLedger ledger = DiskLedger.open(dir, diskId).orElseThrow()) {
            assertThat(ledger.digest(0)).isEqualTo(digest(99));
            assertThat(ledger.digest(4095)).isEqualTo(digest(4095 % 250 + 1));
        }
    }

    @Test
    void batchesOfAnOlderGenerationAreIgnored() throws Exception {
        try (DiskLedger ledger = DiskLedger.create(dir, diskId, 10L * CHUNK, CHUNK, 0, DiskLedger.ZERO)) {
            ledger.acknowledge(1, List.of(range(1, 1, 1)));
        }
        byte[] oldJournal = Files.readAllBytes(dir.resolve(DiskLedger.JOURNAL_FILE));
        try (DiskLedger ledger = DiskLedger.open(dir, diskId).orElseThrow()) {
            ledger.reset(DiskLedger.UNKNOWN, 0);
        }
        // A crash after the new snapshot but before the journal was emptied leaves the old batches behind.
        Files.write(dir.resolve(DiskLedger.JOURNAL_FILE), oldJournal);
        try (DiskLedger ledger = DiskLedger.open(dir, diskId).orElseThrow()) {
            assertThat(ledger.digest(1)).isEqualTo(DiskLedger.UNKNOWN);
            assertThat(ledger.lastAckedSequence()).isZero();
        }
    }

    @Test
    void anUnreadableSnapshotMeansNoState() throws Exception {
        DiskLedger.create(dir, diskId, 10L * CHUNK, CHUNK, 0, DiskLedger.ZERO).close();
        Path snapshot = dir.resolve(DiskLedger.SNAPSHOT_FILE);
        byte[] bytes = Files.readAllBytes(snapshot);
        bytes[100] ^= 1;
        Files.write(snapshot, bytes);
        assertThat(DiskLedger.open(dir, diskId)).isEmpty();
        assertThat(DiskLedger.open(dir.resolve("nothing-here"), diskId)).isEmpty();
    }

    @Test
    void stateFilesAreOwnerOnly() throws Exception {
        try (DiskLedger ledger = DiskLedger.create(dir, diskId, 10L * CHUNK, CHUNK, 0, DiskLedger.ZERO)) {
            ledger.acknowledge(1, List.of(range(1, 1, 1)));
        }
        for (String file : List.of(DiskLedger.SNAPSHOT_FILE, DiskLedger.JOURNAL_FILE)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(file))))
                    .as(file).isEqualTo("rw-------");
        }
    }

    private static DiskLedger.Range range(long first, long count, int value) {
        return new DiskLedger.Range(first, count, digest(value));
    }

    private static byte[] digest(int value) {
        byte[] digest = new byte[32];
        Arrays.fill(digest, (byte) value);
        return digest;
    }
}
