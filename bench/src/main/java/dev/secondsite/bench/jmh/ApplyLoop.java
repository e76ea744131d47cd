package dev.secondsite.bench.jmh;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@link ApplyBench}'s CDP case (random 4–64 KiB writes into a full replica on the file store) in a plain loop:
 * rounds of {@code segments} segments of {@code segmentMib} MiB, each round on a fresh store. A round's segments
 * are built first, then applied back to back and timed until everything is written (with {@code --write-behind},
 * until the writer drained), so an apply that leaves its writes to another thread is not timed short. Steadier
 * than the JMH run for segments that take a large part of a second (docs/benchmarks.md, 2026-12-07); the first
 * round warms the JIT up.
 *
 * <p>Arguments: {@code [--segments N] [--rounds N] [--segment-mib N] [--write-behind]} (defaults 24, 5, 32; the
 * file store, or the file store behind a {@code WriteBehindBlobStore} as the server runs it).
 */
public final class ApplyLoop {
    private ApplyLoop() {
    }

    public static void main(String[] args) throws Exception {
        int segments = 24;
        int rounds = 5;
        int segmentMib = 32;
        String store = "file";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--segments" -> segments = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--segment-mib" -> segmentMib = Integer.parseInt(args[++i]);
                case "--write-behind" -> store = "file-write-behind";
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; usage: bench/run apply-loop [--segments N] [--rounds N] [--segment-mib N] [--write-behind]");
            }
        }
        for (int round = 1; round <= rounds; round++) {
            ApplyBench bench = new ApplyBench();
            bench.store = store;
            bench.writes = "partial";
            bench.segmentMib = segmentMib;
            bench.open();
            List<String> names = new ArrayList<>();
            List<byte[]> built = new ArrayList<>();
            for (int i = 0; i < segments; i++) {
                bench.nextSegment();
                names.add(bench.segmentName());
                built.add(bench.segmentBytes());
            }
            long start = System.nanoTime();
            for (int i = 0; i < segments; i++) {
                bench.apply(names.get(i), built.get(i));
                built.set(i, null);
            }
            bench.drain();
            long nanos = System.nanoTime() - start;
            bench.close();
            double bytes = (double) segments * ApplyBench.bytes(segmentMib);
            System.out.printf(Locale.ROOT, "round %d%s: %d segments of %d MiB applied in %.2f s: %.1f MB/s%n", round,
                    round == 1 ? " (warm-up)" : "", segments, segmentMib, nanos / 1e9, bytes / 1e6 / (nanos / 1e9));
        }
    }
}
