package dev.secondsite.cloud.compute;

import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.ReplicationTypes;

import java.util.Locale;

/**
 * Whether Site Recovery protects a VM of the local cloud: a VM counts as protected while some replication
 * protected item (…/replicationProtectedItems/{item}, in any vault) mentions the VM's id anywhere in its body
 * (A2A items carry it as providerSpecificDetails.fabricObjectId / recoveryAzureVMId, failed-over items as
 * their recovery VM). The seed-000 rule that blocks converting a protected VM to trusted launch reads this.
 */
final class ProtectedVms {
    private final ResourceStore resources;

    ProtectedVms(ResourceStore resources) {
        this.resources = resources;
    }

    boolean isProtected(String vmId) {
        String needle = ResourceStore.key(vmId);
        for (StoredResource item : resources.allOfType(ReplicationTypes.PROTECTED_ITEM)) {
            if (item.body().toString().toLowerCase(Locale.ROOT).contains(needle)) {
                return true;
            }
        }
        return false;
    }
}
