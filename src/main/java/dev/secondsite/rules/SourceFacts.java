package dev.secondsite.rules;

import dev.secondsite.cloud.Region;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The source side of a replication.
 *
 * @param region                        the Azure region the machine runs in; null for an on-premises machine
 * @param vmmManaged                    Hyper-V: the host is managed by System Center VMM
 * @param providerVersion               Hyper-V: the Site Recovery provider version on the host/VMM server
 * @param configurationServerRegistered physical/VMware: a configuration server is registered in the vault
 * @param installAccount                physical/VMware: the account for Mobility service push install; null
 *                                      when the service is installed by hand
 * @param outboundConnectivity          A2A: the VM may reach the Site Recovery URLs / IP ranges outbound
 * @param cacheStorage                  A2A: the cache storage account in the source region; null when Site
 *                                      Recovery creates it
 * @param storageAccounts               the storage accounts holding the VM's unmanaged disks (empty for
 *                                      managed disks)
 */
public record SourceFacts(Region region, boolean vmmManaged, String providerVersion,
                          boolean configurationServerRegistered, InstallAccount installAccount,
                          boolean outboundConnectivity, StorageAccountFacts cacheStorage,
                          List<StorageAccountFacts> storageAccounts) {

    public SourceFacts {
        storageAccounts = List.copyOf(storageAccounts);
    }

    /** An Azure VM in region (A2A, or the Government/public move of seed 001). */
    public static SourceFacts azure(Region region) {
        return new SourceFacts(region, false, null, false, null, false, null, List.of());
    }

    /** An on-premises machine. */
    public static SourceFacts onPremises() {
        return azure(null);
    }

    public SourceFacts with(Consumer<Builder> change) {
        Builder b = new Builder(this);
        change.accept(b);
        return b.build();
    }

    public static final class Builder {
        private Region region;
        private boolean vmmManaged;
        private String providerVersion;
        private boolean configurationServerRegistered;
        private InstallAccount installAccount;
        private boolean outboundConnectivity;
        private StorageAccountFacts cacheStorage;
        private List<StorageAccountFacts> storageAccounts;

        private Builder(SourceFacts s) {
            region = s.region; vmmManaged = s.vmmManaged; providerVersion = s.providerVersion;
            configurationServerRegistered = s.configurationServerRegistered; installAccount = s.installAccount;
            outboundConnectivity = s.outboundConnectivity; cacheStorage = s.cacheStorage;
            storageAccounts = new ArrayList<>(s.storageAccounts);
        }

        public Builder region(Region v) { region = v; return this; }
        public Builder vmmManaged(boolean v) { vmmManaged = v; return this; }
        public Builder providerVersion(String v) { providerVersion = v; return this; }
        public Builder configurationServerRegistered(boolean v) { configurationServerRegistered = v; return this; }
        public Builder installAccount(InstallAccount v) { installAccount = v; return this; }
        public Builder outboundConnectivity(boolean v) { outboundConnectivity = v; return this; }
        public Builder cacheStorage(StorageAccountFacts v) { cacheStorage = v; return this; }
        public Builder storageAccounts(List<StorageAccountFacts> v) { storageAccounts = new ArrayList<>(v); return this; }

        public SourceFacts build() {
            return new SourceFacts(region, vmmManaged, providerVersion, configurationServerRegistered, installAccount,
                    outboundConnectivity, cacheStorage, storageAccounts);
        }
    }
}
