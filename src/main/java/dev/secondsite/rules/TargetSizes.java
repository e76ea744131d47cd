package dev.secondsite.rules;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Seed 004: "By default, when set up replication, Site Recovery picks the same size for the target VM, or the
 * closest possible size." (Seed 001 says the same.)
 *
 * <p>"Closest" is read as: the same size name if the target region offers it; else a size with exactly the
 * source's vCPUs and memory; else the smallest size that has at least the source's vCPUs and memory (fewest
 * vCPUs, then least memory, then name). A smaller size is never picked: the workload might not fit.
 */
public final class TargetSizes {
    private TargetSizes() {}

    private static final Comparator<VmSize> SMALLEST_FIRST = Comparator.comparingInt(VmSize::cores)
            .thenComparingLong(VmSize::memoryMb)
            .thenComparing(s -> s.name() == null ? "" : s.name());

    public static Optional<VmSize> pick(VmSize source, List<VmSize> available) {
        Optional<VmSize> same = available.stream().filter(s -> s.sameNameAs(source)).findFirst();
        if (same.isPresent()) return same;
        Optional<VmSize> sameShape = available.stream()
                .filter(s -> s.cores() == source.cores() && s.memoryMb() == source.memoryMb())
                .min(SMALLEST_FIRST);
        if (sameShape.isPresent()) return sameShape;
        return available.stream().filter(s -> s.fits(source)).min(SMALLEST_FIRST);
    }
}
