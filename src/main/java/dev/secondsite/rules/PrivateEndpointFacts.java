package dev.secondsite.rules;

import java.util.Objects;

/**
 * A private endpoint about to be created for Site Recovery (seed 003).
 *
 * @param target                       what the endpoint connects to
 * @param vault                        the vault, for a VAULT endpoint; for a STORAGE endpoint the vault it serves
 *                                     when known, else null (an Azure storage endpoint names no vault)
 * @param storage                      the storage account, for a STORAGE endpoint; null for a VAULT endpoint
 * @param sourceSubnet                 the subnet of the source machines; null when not known yet
 * @param recoverySubnet               the subnet of the recovery machines; null when not known yet (hub and
 *                                     spoke: one endpoint serves both)
 * @param cacheStoragePrivateEndpoint  a private endpoint to the cache storage account is (or will be) used
 * @param ipAllocation                 how the endpoint's IP addresses are assigned
 * @param dnsZoneUsedByVaultEndpoint   the chosen private DNS zone already holds records of another private
 *                                     endpoint of the same vault (known once a zone is chosen: at creation when
 *                                     the caller names one, else when the endpoint's DNS zone group is written,
 *                                     {@link Operation#LINK_PRIVATE_DNS_ZONE})
 */
public record PrivateEndpointFacts(Target target, VaultFacts vault, StorageAccountFacts storage,
                                   SubnetFacts sourceSubnet, SubnetFacts recoverySubnet,
                                   boolean cacheStoragePrivateEndpoint, IpAllocation ipAllocation,
                                   boolean dnsZoneUsedByVaultEndpoint) implements Facts {

    public enum Target {
        /** Microsoft.RecoveryServices/vaults, sub-resource AzureSiteRecovery. */
        VAULT,
        /** A storage account (cache, source or target), sub-resource blob. */
        STORAGE
    }

    public enum IpAllocation { DYNAMIC, STATIC }

    public PrivateEndpointFacts {
        Objects.requireNonNull(target, "target");
        if (target == Target.VAULT) Objects.requireNonNull(vault, "vault");
        Objects.requireNonNull(ipAllocation, "ipAllocation");
        if (target == Target.STORAGE && storage == null) throw new IllegalArgumentException("a STORAGE endpoint needs its storage account");
    }

    /** A vault endpoint with dynamic IPs and a DNS zone of its own. */
    public static PrivateEndpointFacts forVault(VaultFacts vault, SubnetFacts sourceSubnet, SubnetFacts recoverySubnet,
                                                boolean cacheStoragePrivateEndpoint) {
        return new PrivateEndpointFacts(Target.VAULT, vault, null, sourceSubnet, recoverySubnet,
                cacheStoragePrivateEndpoint, IpAllocation.DYNAMIC, false);
    }

    /** A storage endpoint with dynamic IPs and a DNS zone of its own. */
    public static PrivateEndpointFacts forStorage(VaultFacts vault, StorageAccountFacts storage, SubnetFacts subnet) {
        return new PrivateEndpointFacts(Target.STORAGE, vault, storage, subnet, null, true, IpAllocation.DYNAMIC, false);
    }

    public PrivateEndpointFacts withVault(VaultFacts v) { return new PrivateEndpointFacts(target, v, storage, sourceSubnet, recoverySubnet, cacheStoragePrivateEndpoint, ipAllocation, dnsZoneUsedByVaultEndpoint); }
    public PrivateEndpointFacts withStorage(StorageAccountFacts v) { return new PrivateEndpointFacts(target, vault, v, sourceSubnet, recoverySubnet, cacheStoragePrivateEndpoint, ipAllocation, dnsZoneUsedByVaultEndpoint); }
    public PrivateEndpointFacts withSubnets(SubnetFacts source, SubnetFacts recovery) { return new PrivateEndpointFacts(target, vault, storage, source, recovery, cacheStoragePrivateEndpoint, ipAllocation, dnsZoneUsedByVaultEndpoint); }
    public PrivateEndpointFacts withCacheStoragePrivateEndpoint(boolean v) { return new PrivateEndpointFacts(target, vault, storage, sourceSubnet, recoverySubnet, v, ipAllocation, dnsZoneUsedByVaultEndpoint); }
    public PrivateEndpointFacts withIpAllocation(IpAllocation v) { return new PrivateEndpointFacts(target, vault, storage, sourceSubnet, recoverySubnet, cacheStoragePrivateEndpoint, v, dnsZoneUsedByVaultEndpoint); }
    public PrivateEndpointFacts withDnsZoneUsedByVaultEndpoint(boolean v) { return new PrivateEndpointFacts(target, vault, storage, sourceSubnet, recoverySubnet, cacheStoragePrivateEndpoint, ipAllocation, v); }
}
