package dev.secondsite.rules;

import java.time.Duration;
import java.util.Objects;

/**
 * A replication policy, judged on its own (CREATE_POLICY, UPDATE_POLICY) or as the policy an item uses.
 * A policy update also re-checks every item it is associated with as UPDATE_PROTECTED_ITEM with the new policy.
 *
 * @param retention               how long recovery points are kept
 * @param appConsistentFrequency  how often app-consistent snapshots are taken; zero turns them off
 */
public record PolicyFacts(Scenario scenario, String name, Duration retention, Duration appConsistentFrequency)
        implements Facts {
    public PolicyFacts {
        Objects.requireNonNull(scenario, "scenario");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(retention, "retention");
        Objects.requireNonNull(appConsistentFrequency, "appConsistentFrequency");
        if (retention.isNegative() || appConsistentFrequency.isNegative()) throw new IllegalArgumentException("durations must not be negative");
    }

    public boolean appConsistent() {
        return !appConsistentFrequency.isZero();
    }

    public PolicyFacts withRetention(Duration v) { return new PolicyFacts(scenario, name, v, appConsistentFrequency); }
    public PolicyFacts withAppConsistentFrequency(Duration v) { return new PolicyFacts(scenario, name, retention, v); }
}
