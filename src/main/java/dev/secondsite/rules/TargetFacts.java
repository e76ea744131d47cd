package dev.secondsite.rules;

import dev.secondsite.cloud.Region;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The recovery side of a replication.
 *
 * @param storageAccounts       target storage accounts chosen by the user (empty: Site Recovery creates them
 *                              in the vault's region from the source configuration, seed 004)
 * @param network               the recovery (production) network; null when Site Recovery creates it
 * @param testNetwork           the network for a test failover; null outside TEST_FAILOVER
 * @param managedDisks          fail over to managed disks (false: VHDs in target storage accounts)
 * @param diskEncryption        how the recovered disks are encrypted at rest
 * @param encryptionAtHost      the recovery VM asks for encryption at host
 * @param availabilityZone      the zone the recovery VM is pinned to; null for none
 * @param acceleratedNetworking the recovery VM's NICs ask for accelerated networking
 */
public record TargetFacts(Region region, List<StorageAccountFacts> storageAccounts, NetworkFacts network,
                          NetworkFacts testNetwork, boolean managedDisks, DiskEncryption diskEncryption,
                          boolean encryptionAtHost, String availabilityZone, boolean acceleratedNetworking,
                          TargetCapacity capacity) {

    /** Encryption at rest of the recovered disks. */
    public enum DiskEncryption {
        /** Server-side encryption with platform-managed keys (SSE). */
        PLATFORM_KEY,
        /** Customer-managed key (a disk encryption set). */
        CUSTOMER_KEY,
        /** Platform and customer-managed keys together. */
        DOUBLE
    }

    public TargetFacts {
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(diskEncryption, "diskEncryption");
        Objects.requireNonNull(capacity, "capacity");
        storageAccounts = List.copyOf(storageAccounts);
    }

    /** Managed disks, platform keys, no zone, no accelerated networking, no storage or network chosen. */
    public static TargetFacts in(Region region, TargetCapacity capacity) {
        return new TargetFacts(region, List.of(), null, null, true, DiskEncryption.PLATFORM_KEY, false, null, false, capacity);
    }

    /** The networks a recovered VM may land in. */
    public List<NetworkFacts> networks() {
        List<NetworkFacts> out = new ArrayList<>(2);
        if (network != null) out.add(network);
        if (testNetwork != null) out.add(testNetwork);
        return out;
    }

    public TargetFacts with(Consumer<Builder> change) {
        Builder b = new Builder(this);
        change.accept(b);
        return b.build();
    }

    public static final class Builder {
        private Region region;
        private List<StorageAccountFacts> storageAccounts;
        private NetworkFacts network;
        private NetworkFacts testNetwork;
        private boolean managedDisks;
        private DiskEncryption diskEncryption;
        private boolean encryptionAtHost;
        private String availabilityZone;
        private boolean acceleratedNetworking;
        private TargetCapacity capacity;

        private Builder(TargetFacts t) {
            region = t.region; storageAccounts = new ArrayList<>(t.storageAccounts); network = t.network;
            testNetwork = t.testNetwork; managedDisks = t.managedDisks; diskEncryption = t.diskEncryption;
            encryptionAtHost = t.encryptionAtHost; availabilityZone = t.availabilityZone;
            acceleratedNetworking = t.acceleratedNetworking; capacity = t.capacity;
        }

        public Builder region(Region v) { region = v; return this; }
        public Builder storageAccounts(List<StorageAccountFacts> v) { storageAccounts = new ArrayList<>(v); return this; }
        public Builder storageAccount(StorageAccountFacts v) { storageAccounts.add(v); return this; }
        public Builder network(NetworkFacts v) { network = v; return this; }
        public Builder testNetwork(NetworkFacts v) { testNetwork = v; return this; }
        public Builder managedDisks(boolean v) { managedDisks = v; return this; }
        public Builder diskEncryption(DiskEncryption v) { diskEncryption = v; return this; }
        public Builder encryptionAtHost(boolean v) { encryptionAtHost = v; return this; }
        public Builder availabilityZone(String v) { availabilityZone = v; return this; }
        public Builder acceleratedNetworking(boolean v) { acceleratedNetworking = v; return this; }
        public Builder capacity(TargetCapacity v) { capacity = v; return this; }

        public TargetFacts build() {
            return new TargetFacts(region, storageAccounts, network, testNetwork, managedDisks, diskEncryption,
                    encryptionAtHost, availabilityZone, acceleratedNetworking, capacity);
        }
    }
}
