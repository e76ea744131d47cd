package dev.secondsite.cloud.privatelink;

/** The resource types of private endpoints and private DNS, and the names they share. */
public final class PrivateLinkTypes {
    public static final String PRIVATE_ENDPOINT = "Microsoft.Network/privateEndpoints";
    public static final String ZONE_GROUP = PRIVATE_ENDPOINT + "/privateDnsZoneGroups";
    public static final String DNS_ZONE = "Microsoft.Network/privateDnsZones";
    public static final String VNET_LINK = DNS_ZONE + "/virtualNetworkLinks";
    public static final String A_RECORD = DNS_ZONE + "/A";
    /** Child type of a private link target (vault, storage account) holding its connections. */
    public static final String CONNECTIONS = "privateEndpointConnections";
    /** The connection's RBAC action Azure checks for auto-approval, appended to the target's type. */
    public static final String APPROVAL_ACTION = "/privateEndpointConnectionsApproval/action";

    public static final String APPROVED = "Approved";
    public static final String PENDING = "Pending";
    public static final String REJECTED = "Rejected";
    /** What the endpoint shows once the target side deleted its connection. */
    public static final String DISCONNECTED = "Disconnected";

    private PrivateLinkTypes() {}

    /** {type}/privateEndpointConnections for a target type. */
    public static String connectionType(String targetType) {
        return targetType + "/" + CONNECTIONS;
    }
}
