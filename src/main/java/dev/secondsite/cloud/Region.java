package dev.secondsite.cloud;

/**
 * A region of the local cloud.
 *
 * @param geoCode                 the short code used in private-endpoint FQDNs
 *                                ({vault-id}-asr-pod01-{type}.{geo}.privatelink.siterecovery.windowsazure.com, seed 003)
 * @param premiumReplication      false where replication to premium storage is not offered (seed 004)
 */
public record Region(String name, String displayName, Cloud cloud, String geoCode, String geography,
                     boolean premiumReplication) {}
