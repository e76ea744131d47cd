package dev.secondsite.rules;

import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * One seed rule: a stable error code, the HTTP status it maps to (400 bad input, 409 state conflict), a
 * one-line summary, a message telling the user what to do, the seed(s) it comes from, the operations (and
 * scenarios) it applies to, and a check that reads {@link Facts} and describes what it found wrong.
 */
public final class Rule {
    private final String code;
    private final List<String> seeds;
    private final int status;
    private final String summary;
    private final String message;
    private final Set<Operation> operations;
    private final Set<Scenario> scenarios;
    private final Class<? extends Facts> factsType;
    private final Function<Facts, String> finding;

    private Rule(Builder b, Class<? extends Facts> factsType, Function<Facts, String> finding) {
        this.code = Objects.requireNonNull(b.code, "code");
        this.seeds = List.copyOf(b.seeds);
        this.status = b.status;
        this.summary = Objects.requireNonNull(b.summary, () -> code + ": summary");
        this.message = Objects.requireNonNull(b.message, () -> code + ": message");
        this.operations = Collections.unmodifiableSet(EnumSet.copyOf(b.operations));
        this.scenarios = Collections.unmodifiableSet(EnumSet.copyOf(b.scenarios));
        this.factsType = factsType;
        this.finding = finding;
    }

    /** The stable error code, PascalCase (e.g. TrustedLaunchCrossCloudNotSupported). */
    public String code() { return code; }

    /** The seed the rule comes from ("000" … "004"); the first of {@link #seeds()}. */
    public String seed() { return seeds.getFirst(); }

    /** Every seed that states the rule (some are in two). */
    public List<String> seeds() { return seeds; }

    /** 400 for bad input, 409 for a conflict with the current state. */
    public int status() { return status; }

    /** One line: what the rule requires. */
    public String summary() { return summary; }

    /** What the user should do when the rule is violated. */
    public String message() { return message; }

    /** The operations the rule is checked at, in declaration order. */
    public Set<Operation> operations() { return operations; }

    /** The scenarios the rule is limited to; empty means every scenario (or none, for scenario-less facts). */
    public Set<Scenario> scenarios() { return scenarios; }

    public Class<? extends Facts> factsType() { return factsType; }

    /** Whether the rule is checked for this operation on these facts. */
    public boolean appliesTo(Operation op, Facts facts) {
        return operations.contains(op) && (scenarios.isEmpty() || scenarios.contains(facts.scenario()));
    }

    /** The violation, if the rule applies and the facts break it. */
    public Optional<Violation> check(Operation op, Facts facts) {
        if (!appliesTo(op, facts)) return Optional.empty();
        String found = finding.apply(facts);
        return found == null ? Optional.empty() : Optional.of(new Violation(this, found + " " + message));
    }

    @Override
    public String toString() {
        return code + " (seed " + String.join("+", seeds) + ", " + status + "): " + summary;
    }

    static Builder define(String code, int status, String... seeds) {
        return new Builder(code, status, seeds);
    }

    /** Reads like a table row: define(code, status, seeds).on(ops).in(scenarios).summary(…).message(…).check(type, f -> …). */
    static final class Builder {
        private final String code;
        private final int status;
        private final List<String> seeds;
        private final EnumSet<Operation> operations = EnumSet.noneOf(Operation.class);
        private final EnumSet<Scenario> scenarios = EnumSet.noneOf(Scenario.class);
        private String summary;
        private String message;

        private Builder(String code, int status, String... seeds) {
            this.code = code;
            this.status = status;
            this.seeds = List.of(seeds);
        }

        Builder on(Operation... ops) { operations.addAll(List.of(ops)); return this; }
        Builder in(Scenario... s) { scenarios.addAll(List.of(s)); return this; }
        Builder in(Set<Scenario> s) { scenarios.addAll(s); return this; }
        Builder summary(String s) { summary = s; return this; }
        Builder message(String m) { message = m; return this; }

        /**
         * The check: returns what is wrong (a sentence naming the offending VM, disk, account…) or null when
         * the facts satisfy the rule.
         */
        <F extends Facts> Rule check(Class<F> type, Function<F, String> finding) {
            return new Rule(this, type, facts -> finding.apply(type.cast(facts)));
        }
    }
}
