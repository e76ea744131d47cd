package dev.secondsite.vault;

/** ARM type names of the Site Recovery resources under a vault. */
public final class ReplicationTypes {
    public static final String POLICY = "Microsoft.RecoveryServices/vaults/replicationPolicies";
    public static final String FABRIC = "Microsoft.RecoveryServices/vaults/replicationFabrics";
    public static final String CONTAINER = FABRIC + "/replicationProtectionContainers";
    public static final String MAPPING = CONTAINER + "/replicationProtectionContainerMappings";
    public static final String PROTECTED_ITEM = CONTAINER + "/replicationProtectedItems";
    public static final String JOB = "Microsoft.RecoveryServices/vaults/replicationJobs";
    /** A registered server or mobility agent (ASR: recovery services provider) of a fabric. */
    public static final String PROVIDER = FABRIC + "/replicationRecoveryServicesProviders";
    /** A machine a container can protect (discovered by a registered agent). */
    public static final String PROTECTABLE_ITEM = CONTAINER + "/replicationProtectableItems";
    public static final String RECOVERY_POINT = PROTECTED_ITEM + "/recoveryPoints";
    /** The recovery side of Hyper-V/VMware/physical to Azure, as ASR names it in container ids. */
    public static final String MICROSOFT_AZURE = "Microsoft Azure";

    private ReplicationTypes() {}
}
