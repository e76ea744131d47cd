package dev.secondsite.rules;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * A resource about to move to another resource group or subscription.
 *
 * @param replicationScenarios the replication scenarios the resource takes part in (a vault: those it has
 *                             set up; storage, network, VM: those that use it as source or target)
 */
public record MoveFacts(Kind kind, String id, Set<Scenario> replicationScenarios) implements Facts {

    public enum Kind { VAULT, STORAGE_ACCOUNT, NETWORK, VIRTUAL_MACHINE }

    public MoveFacts {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(id, "id");
        replicationScenarios = replicationScenarios.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(replicationScenarios));
    }

    public boolean usedBy(Scenario scenario) {
        return replicationScenarios.contains(scenario);
    }
}
