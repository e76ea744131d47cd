package dev.secondsite.rules;

/**
 * The points where seed rules are checked. Each operation is judged on one kind of {@link Facts}; a rule
 * declared for an operation reads that kind (the catalogue verifies this when it loads).
 */
public enum Operation {
    ENABLE_REPLICATION(ReplicationFacts.class, "Enable replication (create a protected item)"),
    /** Changing a protected item: recovery VM name, size, network, storage, policy; or a source change the provider reports. */
    UPDATE_PROTECTED_ITEM(ReplicationFacts.class, "Update a protected item"),
    TEST_FAILOVER(ReplicationFacts.class, "Test failover"),
    /** Planned and unplanned failover. */
    FAILOVER(ReplicationFacts.class, "Failover"),
    REPROTECT(ReplicationFacts.class, "Reprotect (replicate back after failover)"),
    /** A change to a VM in the local cloud, such as its security type. */
    UPDATE_VM(VmUpdateFacts.class, "Update a virtual machine"),
    CREATE_POLICY(PolicyFacts.class, "Create a replication policy"),
    UPDATE_POLICY(PolicyFacts.class, "Update a replication policy"),
    CREATE_PRIVATE_ENDPOINT(PrivateEndpointFacts.class, "Create a private endpoint (vault or storage)"),
    /**
     * Choosing the private DNS zone of a private endpoint (its privateDnsZoneGroups): Azure takes the zone in a
     * separate call after the endpoint exists, so the zone rules are checked then as well.
     */
    LINK_PRIVATE_DNS_ZONE(PrivateEndpointFacts.class, "Link a private endpoint to a private DNS zone"),
    /**
     * Enabling replication in a vault with approved private endpoints, which adds the region pairing's two private
     * links (addresses and FQDNs) to each endpoint. Judged apart from ENABLE_REPLICATION because it reads the
     * endpoints' subnets, which the replication facts don't carry.
     */
    ADD_REPLICATION_PRIVATE_LINKS(ReplicationLinkFacts.class, "Add the private links of a replication's region pairing"),
    /** A configuration server, process server, Hyper-V host or VMM server registering with a vault. */
    REGISTER_SERVER(ServerRegistrationFacts.class, "Register a server with a vault"),
    /** Moving a vault, storage account, network or VM to another resource group or subscription. */
    MOVE_RESOURCE(MoveFacts.class, "Move a resource across resource groups or subscriptions");

    private final Class<? extends Facts> factsType;
    private final String description;

    Operation(Class<? extends Facts> factsType, String description) {
        this.factsType = factsType;
        this.description = description;
    }

    /** The kind of facts this operation is judged on. */
    public Class<? extends Facts> factsType() { return factsType; }

    public String description() { return description; }
}
