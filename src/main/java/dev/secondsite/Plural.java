package dev.secondsite;

/** Counts in messages with the noun in the right number: "1 chunk", "0 chunks", "3 segments". */
public final class Plural {
    private Plural() {}

    /** {@code n} and the noun, with an "s" unless {@code n} is 1. */
    public static String of(long n, String singular) {
        return of(n, singular, singular + "s");
    }

    /** {@code n} and the noun, for nouns whose plural is not the singular plus "s". */
    public static String of(long n, String singular, String plural) {
        return n + " " + (n == 1 ? singular : plural);
    }
}
