package dev.secondsite.vault;

import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmPath;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;

/** Finds the resource group and vault a request is addressed to, with ARM's not-found errors. */
public final class VaultScope {
    public static final String VAULT_TYPE = "Microsoft.RecoveryServices/vaults";
    public static final String GROUP_TYPE = "Microsoft.Resources/subscriptions/resourceGroups";

    private final ResourceStore resources;

    public VaultScope(ResourceStore resources) {
        this.resources = resources;
    }

    /** The resource group named in the request's scope. */
    public StoredResource requireGroup(ArmPath path) {
        String subscription = path.subscriptionId();
        String group = path.resourceGroup();
        if (subscription == null || group == null) {
            throw ArmException.badRequest("InvalidScope", "The path must name a subscription and a resource group.");
        }
        return resources.find(groupId(subscription, group)).orElseThrow(() -> new ArmException(404,
                "ResourceGroupNotFound", "Resource group '" + group + "' could not be found."));
    }

    /**
     * Resources of one type for a list call: those of the path's resource group when it names one
     * (404 if the group is missing), else every one of the subscription.
     */
    public java.util.List<StoredResource> listInScope(ArmPath path, String type) {
        if (path.resourceGroup() != null) {
            return resources.children(requireGroup(path).id(), type);
        }
        String subscription = path.subscriptionId();
        ResourceGroups.checkSubscription(subscription);
        return resources.bySubscription(subscription, type);
    }

    /** The vault a vault-scoped request is under (the first name after the namespace). */
    public StoredResource requireVault(ArmRequest request) {
        StoredResource group = requireGroup(request.path());
        String vaultName = request.path().name(0);
        return resources.require(group.id() + "/providers/" + VAULT_TYPE + "/" + vaultName);
    }

    /** The vault a Site Recovery resource (fabric, container, protected item…) belongs to: its id up to the fabric. */
    public static String vaultIdOf(String resourceId) {
        return resourceId.substring(0, ResourceStore.key(resourceId).indexOf("/replicationfabrics/"));
    }

    public static String groupId(String subscription, String group) {
        return "/subscriptions/" + subscription + "/resourceGroups/" + group;
    }
}
