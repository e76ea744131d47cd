package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code secondsite network vnet|subnet|nic ...}: virtual networks, subnets and network interfaces; private
 * endpoints and private DNS are in {@link PrivateLinkCommands}.
 */
@Command(name = "network", description = "Manage virtual networks, subnets, network interfaces, private endpoints "
        + "and private DNS zones of the local cloud.",
        subcommands = {NetworkCommands.Vnet.class, NetworkCommands.Subnet.class, NetworkCommands.Nic.class,
                PrivateLinkCommands.Endpoint.class, PrivateLinkCommands.PrivateDns.class})
final class NetworkCommands {
    @Mixin Options.Help help;

    static final String API_VERSION = "2024-05-01";

    static final List<Output.Column> VNET_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("RESOURCE GROUP", Output::resourceGroup),
            Output.Column.at("LOCATION", "/location"),
            Output.Column.at("ADDRESS SPACE", "/properties/addressSpace/addressPrefixes"),
            new Output.Column("SUBNETS", v -> {
                List<String> names = new ArrayList<>();
                v.path("properties").path("subnets").forEach(s -> names.add(s.path("name").asText()));
                return String.join(",", names);
            }),
            Output.Column.at("STATE", "/properties/provisioningState"));
    static final List<Output.Column> SUBNET_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("ADDRESS PREFIX", s -> s.path("properties").has("addressPrefix")
                    ? Output.text(s.at("/properties/addressPrefix")) : Output.text(s.at("/properties/addressPrefixes"))),
            Output.Column.at("FREE IPS", "/properties/freeIpAddressCount"),
            new Output.Column("IP CONFIGURATIONS", s -> Integer.toString(s.path("properties").path("ipConfigurations").size())),
            Output.Column.at("STATE", "/properties/provisioningState"));
    static final List<Output.Column> NIC_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("RESOURCE GROUP", Output::resourceGroup),
            Output.Column.at("LOCATION", "/location"),
            Output.Column.at("PRIVATE IP", "/properties/ipConfigurations/0/properties/privateIPAddress"),
            Output.Column.at("ALLOCATION", "/properties/ipConfigurations/0/properties/privateIPAllocationMethod"),
            new Output.Column("SUBNET", n -> last(n.at("/properties/ipConfigurations/0/properties/subnet/id").asText(""))),
            new Output.Column("VM", n -> last(n.at("/properties/virtualMachine/id").asText(""))),
            Output.Column.at("STATE", "/properties/provisioningState"));

    static String last(String id) {
        return id.isEmpty() ? "" : id.substring(id.lastIndexOf('/') + 1);
    }

    /** Resource group and subscription of a network resource. */
    static final class Group {
        @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG", description = "Resource group.")
        String group;
        @Mixin Options.Subscription subscription;

        String path(ApiClient api) {
            return subscription.path(api) + "/resourceGroups/" + ApiClient.seg(group) + "/providers/Microsoft.Network";
        }
    }

    /** A resource group filter for lists: the group's resources, or the whole subscription's. */
    static final class Scope extends Options.ListScope {
        @Override
        String path(ApiClient api) {
            return super.path(api) + "/providers/Microsoft.Network";
        }
    }

    // ---- virtual networks ----

    @Command(name = "vnet", description = "Virtual networks.",
            subcommands = {VnetCreate.class, VnetShow.class, VnetList.class, VnetDelete.class, VnetCheckIp.class})
    static final class Vnet {
        @Mixin Options.Help help;
    }

    static String vnetPath(ApiClient api, Group group, String name) {
        return ApiCommand.versioned(group.path(api) + "/virtualNetworks/" + ApiClient.seg(name), API_VERSION);
    }

    @Command(name = "create", description = "Create (or replace) a virtual network: its address space and its "
            + "subnets (subnets not given are deleted, as with any PUT of a network).")
    static final class VnetCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the virtual network.") String name;
        @Mixin Group group;
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION",
                description = "Region of the network.") String location;
        @Option(names = "--address-prefix", required = true, paramLabel = "CIDR",
                description = "An address space prefix, e.g. 10.0.0.0/16 (repeatable).")
        List<String> prefixes;
        @Option(names = "--subnet", paramLabel = "NAME=CIDR", description = "A subnet, e.g. default=10.0.0.0/24 (repeatable).")
        List<String> subnets;
        @Option(names = "--dns-server", paramLabel = "IP", description = "A DNS server for the network (repeatable).")
        List<String> dnsServers;
        @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A tag (repeatable).") List<String> tags;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", location);
            body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            ObjectNode properties = body.putObject("properties");
            ArrayNode space = properties.putObject("addressSpace").putArray("addressPrefixes");
            prefixes.forEach(space::add);
            if (dnsServers != null) {
                ArrayNode dns = properties.putObject("dhcpOptions").putArray("dnsServers");
                dnsServers.forEach(dns::add);
            }
            ArrayNode list = properties.putArray("subnets");
            for (String subnet : subnets == null ? List.<String>of() : subnets) {
                int eq = subnet.indexOf('=');
                if (eq <= 0) {
                    throw CliException.usage("invalid --subnet '" + subnet + "': use NAME=CIDR, e.g. default=10.0.0.0/24");
                }
                ObjectNode s = list.addObject();
                s.put("name", subnet.substring(0, eq));
                s.putObject("properties").put("addressPrefix", subnet.substring(eq + 1));
            }
            print(output, api.send("PUT", vnetPath(api, group, name), body).body(), VNET_TABLE);
        }
    }

    @Command(name = "show", description = "Show a virtual network with its subnets.")
    static final class VnetShow extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the virtual network.") String name;
        @Mixin Group group;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(vnetPath(api, group, name)), VNET_TABLE);
        }
    }

    @Command(name = "list", description = "List virtual networks.")
    static final class VnetList extends ApiCommand {
        @Mixin Scope scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(scope.path(api) + "/virtualNetworks", API_VERSION)), VNET_TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a virtual network (refused while a subnet is in use).")
    static final class VnetDelete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the virtual network.") String name;
        @Mixin Group group;

        @Override
        void run() {
            api.send("DELETE", vnetPath(api, group, name), null);
            out().println("Deleted virtual network '" + name + "'.");
        }
    }

    @Command(name = "check-ip", description = "Whether a private IP address is free in a virtual network; if not, "
            + "some free ones.")
    static final class VnetCheckIp extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the virtual network.") String name;
        @Mixin Group group;
        @Option(names = "--ip", required = true, paramLabel = "IP",
                description = "The private IP address to check.") String ip;
        @Mixin Options.Format output;

        @Override
        void run() {
            String path = group.path(api) + "/virtualNetworks/" + ApiClient.seg(name) + "/CheckIPAddressAvailability";
            JsonNode result = api.get(versioned(path, API_VERSION) + "&ipAddress=" + ApiClient.enc(ip));
            print(output, result, List.of(Output.Column.at("AVAILABLE", "/available"),
                    Output.Column.at("FREE ADDRESSES", "/availableIPAddresses")));
        }
    }

    // ---- subnets ----

    @Command(name = "subnet", description = "Subnets of a virtual network.",
            subcommands = {SubnetCreate.class, SubnetShow.class, SubnetList.class, SubnetDelete.class})
    static final class Subnet {
        @Mixin Options.Help help;
    }

    /** The virtual network a subnet command works in. */
    static final class InVnet {
        @Option(names = "--vnet", required = true, paramLabel = "VNET", description = "Virtual network.") String vnet;
        @Mixin Group group;

        String subnets(ApiClient api) {
            return group.path(api) + "/virtualNetworks/" + ApiClient.seg(vnet) + "/subnets";
        }
    }

    @Command(name = "create", description = "Create (or update) a subnet.")
    static final class SubnetCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the subnet.") String name;
        @Mixin InVnet in;
        @Option(names = "--address-prefix", required = true, paramLabel = "CIDR",
                description = "Address range of the subnet, e.g. 10.0.1.0/24.") String prefix;
        @Option(names = "--service-endpoint", paramLabel = "SERVICE",
                description = "A service endpoint, e.g. Microsoft.Storage (repeatable).")
        List<String> endpoints;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode properties = body.putObject("properties");
            properties.put("addressPrefix", prefix);
            if (endpoints != null) {
                ArrayNode list = properties.putArray("serviceEndpoints");
                endpoints.forEach(e -> list.addObject().put("service", e));
            }
            String path = versioned(in.subnets(api) + "/" + ApiClient.seg(name), API_VERSION);
            print(output, api.send("PUT", path, body).body(), SUBNET_TABLE);
        }
    }

    @Command(name = "show", description = "Show a subnet, with its free address count.")
    static final class SubnetShow extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the subnet.") String name;
        @Mixin InVnet in;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(versioned(in.subnets(api) + "/" + ApiClient.seg(name), API_VERSION)), SUBNET_TABLE);
        }
    }

    @Command(name = "list", description = "List the subnets of a virtual network.")
    static final class SubnetList extends ApiCommand {
        @Mixin InVnet in;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(in.subnets(api), API_VERSION)), SUBNET_TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a subnet (refused while network interfaces use it).")
    static final class SubnetDelete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the subnet.") String name;
        @Mixin InVnet in;

        @Override
        void run() {
            api.send("DELETE", versioned(in.subnets(api) + "/" + ApiClient.seg(name), API_VERSION), null);
            out().println("Deleted subnet '" + name + "'.");
        }
    }

    // ---- network interfaces ----

    @Command(name = "nic", description = "Network interfaces and their private IP addresses.",
            subcommands = {NicCreate.class, NicShow.class, NicList.class, NicDelete.class})
    static final class Nic {
        @Mixin Options.Help help;
    }

    static String nicPath(ApiClient api, Group group, String name) {
        return ApiCommand.versioned(group.path(api) + "/networkInterfaces/" + ApiClient.seg(name), API_VERSION);
    }

    @Command(name = "create", description = "Create (or update) a network interface in a subnet: the next free "
            + "address, or --private-ip.")
    static final class NicCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the network interface.") String name;
        @Mixin Group group;
        @Option(names = "--subnet-id", required = true, paramLabel = "ID", description = "The subnet's ARM id.")
        String subnetId;
        @Option(names = "--private-ip", paramLabel = "IP", description = "A static private address (default: the "
                + "next free one, dynamically).")
        String privateIp;
        @Option(names = {"-l", "--location"}, paramLabel = "LOCATION",
                description = "Region (default: the virtual network's).")
        String location;
        @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A tag (repeatable).") List<String> tags;
        @Mixin Options.Format output;

        @Override
        void run() {
            int at = subnetId.toLowerCase(java.util.Locale.ROOT).indexOf("/subnets/");
            if (!subnetId.startsWith("/subscriptions/") || at < 0) {
                throw CliException.usage("invalid --subnet-id '" + subnetId + "': use /subscriptions/{s}/resourceGroups/"
                        + "{g}/providers/Microsoft.Network/virtualNetworks/{v}/subnets/{name}");
            }
            String region = location != null ? location
                    : api.get(versioned(subnetId.substring(0, at), API_VERSION)).path("location").asText();
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", region);
            body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            ObjectNode cfg = body.putObject("properties").putArray("ipConfigurations").addObject();
            cfg.put("name", "ipconfig1");
            ObjectNode p = cfg.putObject("properties");
            p.putObject("subnet").put("id", subnetId);
            p.put("primary", true);
            if (privateIp != null) {
                p.put("privateIPAllocationMethod", "Static");
                p.put("privateIPAddress", privateIp);
            } else {
                p.put("privateIPAllocationMethod", "Dynamic");
            }
            print(output, api.send("PUT", nicPath(api, group, name), body).body(), NIC_TABLE);
        }
    }

    @Command(name = "show", description = "Show a network interface.")
    static final class NicShow extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the network interface.") String name;
        @Mixin Group group;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(nicPath(api, group, name)), NIC_TABLE);
        }
    }

    @Command(name = "list", description = "List network interfaces.")
    static final class NicList extends ApiCommand {
        @Mixin Scope scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(scope.path(api) + "/networkInterfaces", API_VERSION)), NIC_TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a network interface and free its addresses (refused while a VM "
            + "uses it, and for a private endpoint's NIC, which goes with its endpoint).")
    static final class NicDelete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the network interface.") String name;
        @Mixin Group group;

        @Override
        void run() {
            api.send("DELETE", nicPath(api, group, name), null);
            out().println("Deleted network interface '" + name + "'.");
        }
    }
}
