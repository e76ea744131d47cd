package dev.secondsite.rules;

/**
 * What the rules look at: plain, immutable snapshots that callers fill from real resources (vaults, VMs,
 * disks, storage accounts, networks, servers) before an operation. Rules never read resources directly,
 * so they can be tested and listed ("validate") without a running cloud.
 */
public sealed interface Facts
        permits ReplicationFacts, PolicyFacts, VmUpdateFacts, PrivateEndpointFacts, ReplicationLinkFacts,
        ServerRegistrationFacts, MoveFacts {

    /** The replication scenario these facts are about, or null when the operation has none. */
    default Scenario scenario() {
        return null;
    }
}
