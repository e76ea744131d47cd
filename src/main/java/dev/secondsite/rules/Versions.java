package dev.secondsite.rules;

/** Dotted numeric versions ("2.0.9214.0", "4.6.2"): missing parts count as 0. */
final class Versions {
    private Versions() {}

    /** True when version is strictly after threshold; false when version is missing or not numeric. */
    static boolean isAfter(String version, String threshold) {
        Integer c = compare(version, threshold);
        return c != null && c > 0;
    }

    /** True when version is threshold or later; false when version is missing or not numeric. */
    static boolean isAtLeast(String version, String threshold) {
        Integer c = compare(version, threshold);
        return c != null && c >= 0;
    }

    /** Negative, zero or positive like Comparator, or null when either version is missing or not numeric. */
    static Integer compare(String a, String b) {
        long[] x = parse(a);
        long[] y = parse(b);
        if (x == null || y == null) return null;
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            long p = i < x.length ? x[i] : 0;
            long q = i < y.length ? y[i] : 0;
            if (p != q) return Long.compare(p, q);
        }
        return 0;
    }

    private static long[] parse(String version) {
        if (version == null || !version.strip().matches("\\d+(\\.\\d+)*")) return null;
        String[] parts = version.strip().split("\\.");
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Long.parseLong(parts[i]);
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return out;
    }
}
