package dev.secondsite.cloud.privatelink;

import dev.secondsite.auth.Rbac;
import dev.secondsite.cloud.network.Subnets;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.vault.VaultScope;
import org.jdbi.v3.core.Jdbi;

/** The private link handlers, built together because they share the target and connection views. */
public record PrivateLinkApi(PrivateEndpoints endpoints, PrivateEndpointConnections connections,
                             PrivateLinkResources linkResources, PrivateDnsZones zones, DnsZoneGroups zoneGroups,
                             ReplicationLinks replicationLinks) {

    public static PrivateLinkApi create(ResourceStore resources, Jdbi jdbi, VaultScope scope, Rbac rbac, Subnets subnets) {
        PrivateEndpointConnections connections = new PrivateEndpointConnections(resources, jdbi);
        PrivateEndpoints endpoints = new PrivateEndpoints(resources, jdbi, scope, rbac, subnets,
                new PrivateLinkTargets(resources), connections);
        return new PrivateLinkApi(endpoints, connections, new PrivateLinkResources(scope),
                new PrivateDnsZones(resources, scope), new DnsZoneGroups(resources, jdbi, endpoints),
                new ReplicationLinks(resources, jdbi, subnets));
    }
}
