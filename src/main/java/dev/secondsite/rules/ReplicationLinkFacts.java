package dev.secondsite.rules;

import dev.secondsite.cloud.Region;

import java.util.List;
import java.util.Objects;

/**
 * Replication is being enabled in a vault with approved private endpoints (seed 003): "when you enable the
 * replication, it adds two additional private links for the source and target region pairing" to each of them.
 *
 * @param vaultName the vault
 * @param source    the source region of the pairing
 * @param target    the target region of the pairing
 * @param subnets   each subnet holding such an endpoint, with the addresses its endpoints still need (the links
 *                  an endpoint already has are not counted, so a second item of the same pairing needs none)
 */
public record ReplicationLinkFacts(String vaultName, Region source, Region target, List<SubnetNeed> subnets)
        implements Facts {

    /** A subnet, its free addresses, and the endpoints in it that need {@code addresses} more between them. */
    public record SubnetNeed(SubnetFacts subnet, List<String> endpoints, int addresses) {
        public SubnetNeed {
            Objects.requireNonNull(subnet, "subnet");
            endpoints = List.copyOf(endpoints);
            if (addresses < 0) throw new IllegalArgumentException("addresses must not be negative");
        }
    }

    public ReplicationLinkFacts {
        Objects.requireNonNull(vaultName, "vaultName");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        subnets = List.copyOf(subnets);
    }
}
