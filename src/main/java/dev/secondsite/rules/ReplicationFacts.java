package dev.secondsite.rules;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Everything the rules read about one machine's replication: ENABLE_REPLICATION, UPDATE_PROTECTED_ITEM,
 * TEST_FAILOVER, FAILOVER and REPROTECT are all judged on these.
 *
 * @param recoveryVmName the name the VM gets after failover; null means the source VM's name
 * @param policy         the replication policy the item uses (or will use)
 * @param protectedItem  what was recorded when protection was enabled; null before that (ENABLE_REPLICATION)
 */
public record ReplicationFacts(Scenario scenario, VaultFacts vault, SourceFacts source, VmFacts vm,
                               String recoveryVmName, PolicyFacts policy, TargetFacts target,
                               ProtectedItemFacts protectedItem) implements Facts {

    public ReplicationFacts {
        Objects.requireNonNull(scenario, "scenario");
        Objects.requireNonNull(vault, "vault");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(target, "target");
        if (policy.scenario() != scenario) {
            throw new IllegalArgumentException("policy '" + policy.name() + "' is for " + policy.scenario() + ", not " + scenario);
        }
    }

    public static Builder builder(Scenario scenario) {
        return new Builder(scenario);
    }

    /** The recovery VM name, defaulting to the source VM's name. */
    public String effectiveRecoveryVmName() {
        return recoveryVmName != null ? recoveryVmName : vm.name();
    }

    public ReplicationFacts with(Consumer<Builder> change) {
        Builder b = new Builder(this);
        change.accept(b);
        return b.build();
    }

    public static final class Builder {
        private Scenario scenario;
        private VaultFacts vault;
        private SourceFacts source;
        private VmFacts vm;
        private String recoveryVmName;
        private PolicyFacts policy;
        private TargetFacts target;
        private ProtectedItemFacts protectedItem;

        private Builder(Scenario scenario) {
            this.scenario = scenario;
        }

        private Builder(ReplicationFacts r) {
            scenario = r.scenario; vault = r.vault; source = r.source; vm = r.vm; recoveryVmName = r.recoveryVmName;
            policy = r.policy; target = r.target; protectedItem = r.protectedItem;
        }

        public Builder scenario(Scenario v) { scenario = v; return this; }
        public Builder vault(VaultFacts v) { vault = v; return this; }
        public Builder source(SourceFacts v) { source = v; return this; }
        public Builder source(Consumer<SourceFacts.Builder> change) { source = source.with(change); return this; }
        public Builder vm(VmFacts v) { vm = v; return this; }
        public Builder vm(Consumer<VmFacts.Builder> change) { vm = vm.with(change); return this; }
        public Builder recoveryVmName(String v) { recoveryVmName = v; return this; }
        public Builder policy(PolicyFacts v) { policy = v; return this; }
        public Builder target(TargetFacts v) { target = v; return this; }
        public Builder target(Consumer<TargetFacts.Builder> change) { target = target.with(change); return this; }
        public Builder protectedItem(ProtectedItemFacts v) { protectedItem = v; return this; }

        public ReplicationFacts build() {
            return new ReplicationFacts(scenario, vault, source, vm, recoveryVmName, policy, target, protectedItem);
        }
    }
}
