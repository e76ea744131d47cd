package dev.secondsite.bench.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

import dev.secondsite.replication.PointReader;
import dev.secondsite.replication.RecoveryStore;
import dev.secondsite.replication.blob.FileBlobStore;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.ChunkStore;
import dev.secondsite.replication.chunk.DiskTree;
import dev.secondsite.replication.point.RecoveryPointManifest;

/**
 * Verified reads of a real recovery store's newest point with the page cache dropped before each run: what a
 * failover's restore pays when the store is larger than memory, as after long churn (the e2e bench's
 * {@code --keep} leaves one in {@code secondsite-e2e-*}/server/recovery). Prints how many files each chunk of the
 * point is read from (its delta chain, ADR 0007) and their bytes, then per reader count each run's MB/s of disk and
 * what the store's device read meanwhile.
 *
 * <p>Arguments: {@code --store DIR [--runs N] [--readers 2,8] [--warm]}. Dropping the page cache needs root
 * ({@code /proc/sys/vm/drop_caches}); without it, or with {@code --warm}, the runs read what the page cache
 * holds, and the output says so. Reads only.
 */
public final class ColdRestore {
    private ColdRestore() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = null;
        int runs = 3;
        boolean warm = false;
        List<Integer> readerCounts = List.of(Runtime.getRuntime().availableProcessors());
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--store" -> dir = Path.of(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--warm" -> warm = true;
                case "--readers" -> {
                    List<Integer> parsed = new ArrayList<>();
                    for (String n : args[++i].split(",")) {
                        parsed.add(Integer.parseInt(n.trim()));
                    }
                    readerCounts = List.copyOf(parsed);
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; usage: bench/run restore-cold --store DIR [--runs N] [--readers 2,8] [--warm]");
            }
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--store DIR: a recovery store directory (e2e: <work>/server/recovery)");
        }
        RecoveryStore store = new RecoveryStore(new FileBlobStore(dir));
        RecoveryPointManifest point = newestPoint(store);
        DiskTree tree = new DiskTree(store.chunks(), point.geometry(), point.root());
        long[] storedBytes = new long[1];
        System.out.printf(Locale.ROOT, "point %s: %d chunks; files per chunk: %s; %.1f MB of chunk files to read%n",
                point.blobName(), point.geometry().chunkCount(), chainLengths(store.chunks(), tree, storedBytes),
                storedBytes[0] / 1e6);
        DeviceIo device = DeviceIo.of(dir);
        for (int readers : readerCounts) {
            for (int run = 1; run <= runs; run++) {
                boolean cold = !warm && dropPageCache();
                long readBefore = device == null ? -1 : device.readBytes().orElse(-1);
                long start = System.nanoTime();
                PointReader.Result result = PointReader.read(tree, "restore-cold", point.blobName(),
                        (index, content, length) -> { }, readers);
                double seconds = (System.nanoTime() - start) / 1e9;
                long readAfter = device == null ? -1 : device.readBytes().orElse(-1);
                System.out.printf(Locale.ROOT, "readers %d, run %d (%s): %.2f s, %.1f MB/s of disk (%d chunks read); %s%n",
                        readers, run, cold ? "page cache dropped" : warm ? "warm" : "WARM: could not drop the page cache",
                        seconds, point.geometry().virtualBytes() / 1e6 / seconds, result.chunks(),
                        readBefore < 0 || readAfter < 0 ? "device reads n/a" : String.format(Locale.ROOT,
                                "the device read %.1f MB", (readAfter - readBefore) / 1e6));
            }
        }
    }

    private static RecoveryPointManifest newestPoint(RecoveryStore store) throws IOException {
        RecoveryPointManifest newest = null;
        for (UUID disk : store.states().diskIds()) {
            Optional<RecoveryPointManifest> latest = store.points().latest(disk);
            if (latest.isPresent() && (newest == null || latest.get().createdAt().isAfter(newest.createdAt()))) {
                newest = latest.get();
            }
        }
        if (newest == null) {
            throw new IllegalArgumentException("no recovery point in the store");
        }
        return newest;
    }

    /**
     * Files per chunk (1: whole, n: a delta chain of n) -> how many chunks of the tree; adds the bytes of every
     * link's file to {@code storedBytes[0]} (what a restore must read, tree nodes aside).
     */
    private static TreeMap<Integer, Long> chainLengths(ChunkStore chunks, DiskTree tree, long[] storedBytes)
            throws IOException {
        TreeMap<Integer, Long> counts = new TreeMap<>();
        tree.walk((index, digest) -> {
            int files = 0;
            for (ChunkDigest link = digest; link != null && !link.isZero(); files++) {
                Optional<ChunkStore.Location> location = chunks.location(link);
                storedBytes[0] += location.map(ChunkStore.Location::length).orElse(0);
                link = location.map(ChunkStore.Location::base).orElse(null);
            }
            counts.merge(files, 1L, Long::sum);
        });
        return counts;
    }

    /** sync, then drop clean pages; false where that is not allowed (not root). */
    private static boolean dropPageCache() throws IOException, InterruptedException {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
        try {
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
