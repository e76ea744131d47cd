package dev.secondsite.server;

import dev.secondsite.arm.ArmRoutes;
import dev.secondsite.auth.Rbac;
import dev.secondsite.auth.ServicePrincipals;
import dev.secondsite.cloud.LocationsApi;
import dev.secondsite.cloud.compute.Compute;
import dev.secondsite.cloud.network.NetworkInterfaces;
import dev.secondsite.cloud.network.VirtualNetworks;
import dev.secondsite.cloud.privatelink.PrivateLinkApi;
import dev.secondsite.cloud.storage.StorageAccounts;
import dev.secondsite.cloud.identity.UserAssignedIdentities;
import dev.secondsite.failover.Failovers;
import dev.secondsite.failover.RecoveryPlans;
import dev.secondsite.jobs.JobsApi;
import dev.secondsite.monitoring.ReplicationEvents;
import dev.secondsite.protection.ProtectionModule;
import dev.secondsite.vault.ContainerMappings;
import dev.secondsite.vault.Containers;
import dev.secondsite.vault.Fabrics;
import dev.secondsite.vault.Policies;
import dev.secondsite.vault.ResourceGroups;
import dev.secondsite.vault.Vaults;

/** Every ARM route of the server, in one place. */
final class ApiRoutes {
    private static final String VAULT = "Microsoft.RecoveryServices/vaults";
    private static final String FABRIC = VAULT + "/replicationFabrics";
    private static final String CONTAINER = FABRIC + "/replicationProtectionContainers";

    private ApiRoutes() {}

    static ArmRoutes build(ResourceGroups groups, Vaults vaults, Policies policies, Fabrics fabrics,
                           Containers containers, ContainerMappings mappings, JobsApi jobs, Rbac rbac,
                           ServicePrincipals principals, LocationsApi locations) {
        ArmRoutes r = new ArmRoutes();
        r.type("Microsoft.Resources/subscriptions").list(groups::listSubscriptions).get(groups::getSubscription);
        r.type("Microsoft.Resources/subscriptions/locations").list(locations::list);
        r.type("Microsoft.Resources/subscriptions/resourceGroups")
                .put(groups::put).get(groups::get).delete(groups::delete).list(groups::list);

        r.type(VAULT).put(vaults::put).patch(vaults::patch).get(vaults::get).delete(vaults::delete).list(vaults::list);
        r.type(VAULT + "/replicationPolicies")
                .put(policies::put).patch(policies::patch).get(policies::get).delete(policies::delete)
                .list(policies::list);
        r.type(FABRIC).put(fabrics::put).get(fabrics::get).delete(fabrics::purge).list(fabrics::list)
                .action("remove", fabrics::remove);
        r.type(CONTAINER).put(containers::put).get(containers::get).list(containers::listByFabric)
                .action("remove", containers::remove);
        r.type(VAULT + "/replicationProtectionContainers").list(containers::listByVault);
        r.type(CONTAINER + "/replicationProtectionContainerMappings")
                .put(mappings::put).patch(mappings::patch).get(mappings::get).delete(mappings::remove)
                .list(mappings::listByContainer).action("remove", mappings::remove);
        r.type(VAULT + "/replicationProtectionContainerMappings").list(mappings::listByVault);

        r.type(VAULT + "/replicationJobs").list(jobs::list).get(jobs::get)
                .action("cancel", jobs::cancel).action("restart", jobs::restart);
        r.type(VAULT + "/replicationOperationStatus").get(jobs::operationStatus);
        r.type(VAULT + "/replicationOperationResults").get(jobs::operationResult);
        r.type(VAULT + "/operationStatus").get(jobs::operationStatus);
        r.type(VAULT + "/operationResults").get(jobs::operationResult);

        r.type("Microsoft.Authorization/roleAssignments").put(rbac::putAssignment).get(rbac::getAssignment)
                .delete(rbac::deleteAssignment).list(rbac::listAssignments);
        r.type("Microsoft.Authorization/roleDefinitions").get(rbac::getRoleDefinition).list(rbac::listRoleDefinitions);
        r.type("SecondSite.Identity/servicePrincipals").put(principals::put).get(principals::get)
                .delete(principals::delete).list(principals::list);
        return r;
    }

    /** The local cloud's storage accounts and networks (Microsoft.Storage, Microsoft.Network). */
    static void cloud(ArmRoutes r, StorageAccounts storage, VirtualNetworks vnets, NetworkInterfaces nics) {
        r.type("Microsoft.Storage/storageAccounts").put(storage::put).patch(storage::patch).get(storage::get)
                .delete(storage::delete).list(storage::list)
                .action("listKeys", storage::listKeys).action("regenerateKey", storage::regenerateKey);
        r.type("Microsoft.Network/virtualNetworks").put(vnets::put).get(vnets::get).delete(vnets::delete)
                .list(vnets::list);
        r.type("Microsoft.Network/virtualNetworks/subnets").put(vnets.subnets()::put).get(vnets.subnets()::get)
                .delete(vnets.subnets()::delete).list(vnets.subnets()::list);
        r.type("Microsoft.Network/virtualNetworks/CheckIPAddressAvailability").list(vnets::checkIpAddressAvailability);
        r.type("Microsoft.Network/networkInterfaces").put(nics::put).get(nics::get).delete(nics::delete)
                .list(nics::list);
        r.type("Microsoft.Network/networkInterfaces/ipConfigurations").get(nics::getIpConfiguration)
                .list(nics::listIpConfigurations);
    }
    /**
     * Private endpoints and their DNS (Microsoft.Network), and the target side of their connections: vaults
     * (with their private link resources) and storage accounts (dev.secondsite.cloud.privatelink).
     */
    static void privateLink(ArmRoutes r, PrivateLinkApi p) {
        String pe = "Microsoft.Network/privateEndpoints";
        r.type(pe).put(p.endpoints()::put).get(p.endpoints()::get).delete(p.endpoints()::delete)
                .list(p.endpoints()::list);
        r.type(pe + "/privateDnsZoneGroups").put(p.zoneGroups()::put).get(p.zoneGroups()::get)
                .delete(p.zoneGroups()::delete).list(p.zoneGroups()::list);
        for (String target : new String[] {"Microsoft.RecoveryServices/vaults", "Microsoft.Storage/storageAccounts"}) {
            r.type(target + "/privateEndpointConnections").put(p.connections()::put).get(p.connections()::get)
                    .delete(p.connections()::delete).list(p.connections()::list);
        }
        r.type("Microsoft.RecoveryServices/vaults/privateLinkResources").get(p.linkResources()::get)
                .list(p.linkResources()::list);
        String zone = "Microsoft.Network/privateDnsZones";
        r.type(zone).put(p.zones()::putZone).get(p.zones()::getZone).delete(p.zones()::deleteZone)
                .list(p.zones()::listZones);
        r.type(zone + "/virtualNetworkLinks").put(p.zones()::putLink).get(p.zones()::getLink)
                .delete(p.zones()::deleteLink).list(p.zones()::listLinks);
        r.type(zone + "/A").put(p.zones()::putRecord).get(p.zones()::getRecord).delete(p.zones()::deleteRecord)
                .list(p.zones()::listRecords);
        // Only A record sets exist here, so "all record sets" lists those.
        r.type(zone + "/ALL").list(p.zones()::listRecords);
        r.type(zone + "/recordsets").list(p.zones()::listRecords);
    }

    /** The local cloud's compute (Microsoft.Compute) and compute quotas (Microsoft.Quota). */
    static void compute(ArmRoutes r, Compute c) {
        String vm = "Microsoft.Compute/virtualMachines";
        r.type(vm).put(c.vms::put).patch(c.vms::patch).get(c.vms::get).delete(c.vms::delete).list(c.vms::list)
                .action("start", c.vms::start).action("powerOff", c.vms::powerOff)
                .action("deallocate", c.vms::deallocate).action("restart", c.vms::restart);
        r.type(vm + "/instanceView").list(c.vms::instanceView);
        r.type(vm + "/vmSizes").list(c.vms::resizeOptions);
        r.type("Microsoft.Compute/disks").put(c.disks::put).patch(c.disks::patch).get(c.disks::get)
                .delete(c.disks::delete).list(c.disks::list)
                .action("beginGetAccess", c.disks::beginGetAccess).action("endAccess", c.disks::endAccess);
        r.type("Microsoft.Compute/snapshots").put(c.snapshots::put).patch(c.snapshots::patch).get(c.snapshots::get)
                .delete(c.snapshots::delete).list(c.snapshots::list)
                .action("beginGetAccess", c.snapshots::beginGetAccess).action("endAccess", c.snapshots::endAccess);
        for (String type : new String[] {vm, "Microsoft.Compute/disks", "Microsoft.Compute/snapshots"}) {
            r.type(type + "/operations").get(c.operations::status);
            r.type(type + "/operationResults").get(c.operations::result);
        }
        r.type("Microsoft.Compute/locations/vmSizes").list(c.sizes::listVmSizes);
        r.type("Microsoft.Compute/locations/usages").list(c.quotas::listUsages);
        r.type("Microsoft.Compute/skus").list(c.sizes::listSkus);
        r.type("Microsoft.Quota/quotas").put(c.quotas::putQuota).patch(c.quotas::putQuota).get(c.quotas::getQuota)
                .list(c.quotas::listQuotas);
    }

    /**
     * Replication of registered machines: registration keys, providers (registered agents), protectable items,
     * protected items and their recovery points (dev.secondsite.protection).
     */
    static void protection(ArmRoutes r, ProtectionModule p) {
        String fabric = "Microsoft.RecoveryServices/vaults/replicationFabrics";
        String container = fabric + "/replicationProtectionContainers";
        String item = container + "/replicationProtectedItems";
        r.type(fabric).action("generateRegistrationKey", p.registrations()::generateKey);
        r.type(fabric + "/replicationRecoveryServicesProviders").get(p.providers()::get)
                .list(p.providers()::listByFabric).delete(p.providers()::remove).action("remove", p.providers()::remove);
        r.type("Microsoft.RecoveryServices/vaults/replicationRecoveryServicesProviders").list(p.providers()::listByVault);
        r.type(container + "/replicationProtectableItems").get(p.providers()::getProtectable)
                .list(p.providers()::listProtectable);
        r.type(item).put(p.items()::put).get(p.items()::get).patch(p.items()::patch).delete(p.items()::purge)
                .list(p.items()::listByContainer).action("remove", p.items()::remove)
                .action("repairReplication", p.items()::repair).action("validate", p.items()::validate);
        r.type("Microsoft.RecoveryServices/vaults/replicationProtectedItems").list(p.items()::listByVault);
        r.type(item + "/recoveryPoints").get(p.points()::get).list(p.points()::list)
                .action("exportDisk", p.points()::exportDisk);
    }

    static void failover(ArmRoutes r, Failovers f) {
        String item = "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers"
                + "/replicationProtectedItems";
        r.type(item).action("testFailover", f::testFailover).action("testFailoverCleanup", f::testFailoverCleanup)
                .action("plannedFailover", f::plannedFailover).action("unplannedFailover", f::unplannedFailover)
                .action("failoverCommit", f::failoverCommit).action("reProtect", f::reprotect);
    }

    static void monitoring(ArmRoutes r, ReplicationEvents events) {
        r.type(ReplicationEvents.TYPE).get(events::get).list(events::list);
    }

    /** Recovery plans: the resource and its plan-wide failover operations (dev.secondsite.failover). */
    static void recoveryPlans(ArmRoutes r, RecoveryPlans plans) {
        r.type("Microsoft.RecoveryServices/vaults/replicationRecoveryPlans").put(plans::put).patch(plans::patch)
                .get(plans::get).delete(plans::delete).list(plans::list)
                .action("testFailover", plans::testFailover).action("testFailoverCleanup", plans::testFailoverCleanup)
                .action("plannedFailover", plans::plannedFailover).action("unplannedFailover", plans::unplannedFailover)
                .action("failoverCommit", plans::failoverCommit);
    }

    static void identities(ArmRoutes r, UserAssignedIdentities identities) {
        r.type(UserAssignedIdentities.TYPE).put(identities::put).patch(identities::patch).get(identities::get)
                .delete(identities::delete).list(identities::list);
    }
}
