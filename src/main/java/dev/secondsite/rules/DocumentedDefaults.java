package dev.secondsite.rules;

import java.util.List;

/**
 * Behaviour the seeds document that is not a rule: nothing is refused, but the service must behave this way
 * and users may ask why. Each is a constant for the code that implements it, plus an entry in {@link #all()}
 * for listing ("validate" output, docs).
 */
public final class DocumentedDefaults {
    private DocumentedDefaults() {}

    /** A documented default or behaviour: a key, its seed, its value, and what it means for the user. */
    public record DocumentedDefault(String key, String seed, String value, String description) {}

    /** Seed 000: replica and target disks are created with public network access enabled. */
    public static final String REPLICA_DISK_PUBLIC_NETWORK_ACCESS = "Enabled";
    /** Seed 000: boot integrity monitoring state is not replicated; enable it on the failed-over VM. */
    public static final boolean BOOT_INTEGRITY_MONITORING_REPLICATED = false;
    /** Seed 001: a matching failback policy "{policy}-failback" is created with each replication policy. */
    public static final String FAILBACK_POLICY_SUFFIX = "-failback";
    /** Seed 001: with "shut down machine before beginning failover", failover continues even if shutdown fails. */
    public static final boolean FAILOVER_CONTINUES_IF_SHUTDOWN_FAILS = true;
    /** Seed 002: VHDX is converted to VHD on failover to Azure; failback to on-premises keeps VHDX. */
    public static final DiskFacts.Format FAILOVER_DISK_FORMAT = DiskFacts.Format.VHD;
    /** Seed 002: a migrated EFI/UEFI (generation 2) VM becomes a BIOS boot VM in Azure. */
    public static final String FAILED_OVER_GEN2_FIRMWARE = "BIOS";
    /** Seed 002: a Linux guest's static IP is not reused; the Azure NIC gets a new IP from the selected network. */
    public static final boolean LINUX_STATIC_IP_PRESERVED = false;

    public static List<DocumentedDefault> all() {
        return List.of(
                new DocumentedDefault("ReplicaDiskPublicNetworkAccess", "000", REPLICA_DISK_PUBLIC_NETWORK_ACCESS,
                        "Site Recovery creates replica and target disks with public network access enabled. "
                                + "Disable it on the disks afterwards if you need to."),
                new DocumentedDefault("BootIntegrityMonitoringReplicated", "000", Boolean.toString(BOOT_INTEGRITY_MONITORING_REPLICATED),
                        "Boot integrity monitoring state is not replicated for trusted launch VMs; enable it "
                                + "explicitly on the failed-over VM."),
                new DocumentedDefault("TargetVmSize", "004", "same or closest",
                        "The target VM gets the source's size, or the closest size the target region offers "
                                + "(see TargetSizes)."),
                new DocumentedDefault("DefaultTargetStorage", "004", "created in the vault's region",
                        "With default settings Site Recovery creates the target storage accounts from the source "
                                + "configuration, in the vault's region."),
                new DocumentedDefault("FailbackPolicySuffix", "001", FAILBACK_POLICY_SUFFIX,
                        "Creating a replication policy for the configuration-server scenario also creates "
                                + "'{policy}" + FAILBACK_POLICY_SUFFIX + "', used only for failback from Azure."),
                new DocumentedDefault("FailoverContinuesIfShutdownFails", "001", Boolean.toString(FAILOVER_CONTINUES_IF_SHUTDOWN_FAILS),
                        "Failover tries to shut down the source machine first and continues if that fails."),
                new DocumentedDefault("FailoverDiskFormat", "002", FAILOVER_DISK_FORMAT.name(),
                        "VHDX disks are converted to VHD on failover to Azure; after failback they stay VHDX."),
                new DocumentedDefault("FailedOverGen2Firmware", "002", FAILED_OVER_GEN2_FIRMWARE,
                        "A migrated EFI/UEFI (generation 2) VM is converted to a BIOS boot VM in Azure."),
                new DocumentedDefault("LinuxStaticIpPreserved", "002", Boolean.toString(LINUX_STATIC_IP_PRESERVED),
                        "A Linux guest's static IP is not used in Azure; the NIC gets a new IP from the "
                                + "selected virtual network."),
                new DocumentedDefault("PrivateEndpointFqdns", "003",
                        PrivateLink.FQDNS_AT_CREATION + "+" + PrivateLink.FQDNS_ADDED_AT_ENABLE_REPLICATION,
                        "A vault private endpoint gets five FQDNs when created and two more when replication is "
                                + "enabled; add DNS records for all of them if the DNS zone is managed by hand."),
                new DocumentedDefault("PrivateDnsZone", "003", PrivateLink.DNS_ZONE,
                        "The private DNS zone Site Recovery private endpoints resolve in."),
                new DocumentedDefault("VaultLockedDownByPrivateEndpoint", "003", "true",
                        "Once a vault has a private endpoint it is reachable only from networks with private "
                                + "endpoints to it."),
                new DocumentedDefault("PrivateEndpointApproval", "003", "automatic for the vault owner",
                        "A private endpoint created by the vault's owner is approved automatically; otherwise "
                                + "the owner approves or rejects it under Private endpoint connections."));
    }
}
