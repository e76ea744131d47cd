package dev.secondsite.store;

import org.jdbi.v3.core.Jdbi;

import java.util.Optional;
import java.util.function.Supplier;

/** Server-wide values every API node must agree on (tenant id, token signing key). */
public final class Settings {
    private final Jdbi jdbi;

    public Settings(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    public Optional<String> get(String name) {
        return jdbi.withHandle(h -> h.createQuery("SELECT setting_value FROM settings WHERE name = :name")
                .bind("name", name).mapTo(String.class).findOne());
    }

    /**
     * The stored value, or the created one if none was stored. Two nodes racing both see the value
     * that won the insert, so they never disagree.
     */
    public String getOrCreate(String name, Supplier<String> create) {
        Optional<String> existing = get(name);
        if (existing.isPresent()) {
            return existing.get();
        }
        String value = create.get();
        try {
            jdbi.useHandle(h -> h.createUpdate("INSERT INTO settings (name, setting_value) VALUES (:name, :value)")
                    .bind("name", name).bind("value", value).execute());
            return value;
        } catch (RuntimeException duplicate) {
            return get(name).orElseThrow(() -> duplicate);
        }
    }
}
