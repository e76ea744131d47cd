package dev.secondsite;

import java.util.Optional;
import java.util.function.Predicate;

/** Looks through an exception and its causes: libraries wrap the failure that decides what to tell the user. */
public final class Causes {
    private Causes() {}

    /** The first of {@code e} and its causes that is a {@code type}. */
    public static <T extends Throwable> Optional<T> find(Throwable e, Class<T> type) {
        return find(e, type, t -> true);
    }

    /** The first of {@code e} and its causes that is a {@code type} and passes {@code test}. */
    public static <T extends Throwable> Optional<T> find(Throwable e, Class<T> type, Predicate<? super T> test) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t) && test.test(type.cast(t))) {
                return Optional.of(type.cast(t));
            }
        }
        return Optional.empty();
    }
}
