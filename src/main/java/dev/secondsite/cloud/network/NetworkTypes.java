package dev.secondsite.cloud.network;

import java.util.List;

/** The Microsoft.Network resource types of the local cloud, and how their ids relate. */
public final class NetworkTypes {
    public static final String VNET = "Microsoft.Network/virtualNetworks";
    public static final String SUBNET = VNET + "/subnets";
    public static final String NIC = "Microsoft.Network/networkInterfaces";
    public static final String IP_CONFIGURATION = NIC + "/ipConfigurations";

    private NetworkTypes() {}

    /**
     * The virtual network id of a subnet id ({vnet}/subnets/{name}), or null when the id is not shaped like
     * a subnet id.
     */
    public static String vnetOfSubnet(String subnetId) {
        if (subnetId == null) {
            return null;
        }
        String[] parts = subnetId.replaceAll("/+$", "").split("/");
        // "", subscriptions, s, resourceGroups, g, providers, Microsoft.Network, virtualNetworks, v, subnets, n
        if (parts.length != 11 || !parts[1].equalsIgnoreCase("subscriptions")
                || !parts[3].equalsIgnoreCase("resourceGroups") || !parts[5].equalsIgnoreCase("providers")
                || !parts[6].equalsIgnoreCase("Microsoft.Network") || !parts[7].equalsIgnoreCase("virtualNetworks")
                || !parts[9].equalsIgnoreCase("subnets")) {
            return null;
        }
        return String.join("/", List.of(parts).subList(0, 9));
    }
}
