package dev.secondsite.server;

import dev.secondsite.arm.ArmRoutes;
import dev.secondsite.auth.Rbac;
import dev.secondsite.auth.ServicePrincipals;
import dev.secondsite.cloud.LocationsApi;
import dev.secondsite.jobs.JobsApi;
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
}
