package dev.secondsite.rules;

/** The replication scenario an operation belongs to. Seed rules are often scoped to one scenario. */
public enum Scenario {
    /** Azure VM to another Azure region (seeds 000, 003, 004). */
    A2A("A2A", "Azure to Azure"),
    /** On-premises Hyper-V VM to Azure, with or without VMM (seed 002). */
    HYPERV_TO_AZURE("HyperVReplicaAzure", "Hyper-V to Azure"),
    /**
     * A physical server (or an Azure VM treated as one, the Government/public move of seed 001) to Azure,
     * through a configuration server.
     */
    PHYSICAL_TO_AZURE("InMageAzureV2", "Physical server to Azure"),
    /** VMware VM to Azure; shares the configuration server stack and policy type with the physical scenario. */
    VMWARE_TO_AZURE("InMageAzureV2", "VMware to Azure");

    private final String instanceType;
    private final String displayName;

    Scenario(String instanceType, String displayName) {
        this.instanceType = instanceType;
        this.displayName = displayName;
    }

    /** The ASR provider-specific instanceType this scenario uses in policies and protected items. */
    public String instanceType() { return instanceType; }

    public String displayName() { return displayName; }
}
