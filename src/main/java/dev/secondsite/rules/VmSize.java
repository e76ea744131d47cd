package dev.secondsite.rules;

import java.util.Objects;

/**
 * A VM size: its name (null for an on-premises machine, which has no Azure size), vCPU count and memory.
 */
public record VmSize(String name, int cores, long memoryMb) {
    public VmSize {
        if (cores < 1) throw new IllegalArgumentException("cores must be at least 1: " + cores);
        if (memoryMb < 1) throw new IllegalArgumentException("memoryMb must be at least 1: " + memoryMb);
    }

    /** A size known only by its shape (an on-premises machine). */
    public static VmSize of(int cores, long memoryMb) {
        return new VmSize(null, cores, memoryMb);
    }

    boolean sameNameAs(VmSize other) {
        return name != null && other.name != null && name.equalsIgnoreCase(other.name);
    }

    boolean fits(VmSize source) {
        return cores >= source.cores && memoryMb >= source.memoryMb;
    }

    @Override
    public String toString() {
        return Objects.requireNonNullElse(name, "") + "(" + cores + " vCPU, " + memoryMb + " MB)";
    }
}
