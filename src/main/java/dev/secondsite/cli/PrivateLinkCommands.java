package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code secondsite network private-endpoint|private-dns ...} and {@code secondsite vault
 * private-endpoint-connection ...}: seed 003's private endpoints, their DNS, and their approval on the vault.
 */
final class PrivateLinkCommands {
    private PrivateLinkCommands() {}

    static final String DNS_API_VERSION = "2020-06-01";

    /** The connection entry of an endpoint, automatic or manual. */
    static JsonNode connection(JsonNode pe) {
        JsonNode auto = pe.at("/properties/privateLinkServiceConnections");
        return auto.isEmpty() ? pe.at("/properties/manualPrivateLinkServiceConnections/0") : auto.get(0);
    }

    static final List<Output.Column> ENDPOINT_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("RESOURCE GROUP", Output::resourceGroup),
            Output.Column.at("LOCATION", "/location"),
            new Output.Column("TARGET", pe -> NetworkCommands.last(connection(pe).at("/properties/privateLinkServiceId").asText(""))),
            new Output.Column("GROUP", pe -> connection(pe).at("/properties/groupIds/0").asText("")),
            new Output.Column("STATUS", pe -> connection(pe).at("/properties/privateLinkServiceConnectionState/status").asText("")),
            new Output.Column("PRIVATE IPS", pe -> {
                List<String> ips = new ArrayList<>();
                pe.at("/properties/customDnsConfigs").forEach(d -> ips.add(d.at("/ipAddresses/0").asText()));
                return String.join(",", ips);
            }),
            Output.Column.at("STATE", "/properties/provisioningState"));
    /** One row per FQDN of an endpoint: what a hand-made private DNS zone needs as A records. */
    static final List<Output.Column> DNS_CONFIG_TABLE = List.of(
            Output.Column.at("FQDN", "/fqdn"),
            Output.Column.at("IP ADDRESS", "/ipAddresses/0"),
            new Output.Column("RECORD", d -> {
                // The A record's name in the privatelink zone: the FQDN less ".privatelink.{rest}".
                String fqdn = d.path("fqdn").asText("");
                int at = fqdn.indexOf(".privatelink.");
                return at < 0 ? "" : fqdn.substring(0, at);
            }));
    static final List<Output.Column> ZONE_GROUP_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("ZONES", g -> {
                List<String> zones = new ArrayList<>();
                for (JsonNode c : g.at("/properties/privateDnsZoneConfigs")) {
                    String[] id = c.at("/properties/privateDnsZoneId").asText("").split("/");
                    zones.add(id.length > 8 ? id[4] + "/" + id[8] : String.join("/", id)); // {group}/{zone}
                }
                return String.join(",", zones);
            }),
            new Output.Column("RECORDS", g -> {
                int n = 0;
                for (JsonNode c : g.at("/properties/privateDnsZoneConfigs")) {
                    n += c.at("/properties/recordSets").size();
                }
                return String.valueOf(n);
            }),
            Output.Column.at("STATE", "/properties/provisioningState"));
    static final List<Output.Column> ZONE_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("RESOURCE GROUP", Output::resourceGroup),
            Output.Column.at("RECORD SETS", "/properties/numberOfRecordSets"),
            Output.Column.at("VNET LINKS", "/properties/numberOfVirtualNetworkLinks"),
            Output.Column.at("STATE", "/properties/provisioningState"));
    static final List<Output.Column> LINK_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("VIRTUAL NETWORK", l -> NetworkCommands.last(l.at("/properties/virtualNetwork/id").asText(""))),
            Output.Column.at("REGISTRATION", "/properties/registrationEnabled"),
            Output.Column.at("LINK STATE", "/properties/virtualNetworkLinkState"));
    static final List<Output.Column> RECORD_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("TTL", "/properties/ttl"),
            new Output.Column("ADDRESSES", r -> {
                List<String> ips = new ArrayList<>();
                r.at("/properties/aRecords").forEach(a -> ips.add(a.path("ipv4Address").asText()));
                return String.join(",", ips);
            }),
            Output.Column.at("FQDN", "/properties/fqdn"));
    static final List<Output.Column> CONNECTION_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("PRIVATE ENDPOINT", c -> NetworkCommands.last(c.at("/properties/privateEndpoint/id").asText(""))),
            Output.Column.at("GROUP", "/properties/groupIds/0"),
            Output.Column.at("STATUS", "/properties/privateLinkServiceConnectionState/status"),
            Output.Column.at("DESCRIPTION", "/properties/privateLinkServiceConnectionState/description"));

    // ---- private endpoints ----

    @Command(name = "private-endpoint", description = "Private endpoints to Recovery Services vaults and storage "
            + "accounts (seed 003).", subcommands = {EndpointCreate.class, EndpointShow.class, EndpointList.class,
            EndpointDelete.class, EndpointDnsConfigs.class, ZoneGroup.class})
    static final class Endpoint {
        @Mixin Options.Help help;
    }

    static String endpointPath(ApiClient api, NetworkCommands.Group group, String name) {
        return ApiCommand.versioned(group.path(api) + "/privateEndpoints/" + ApiClient.seg(name),
                NetworkCommands.API_VERSION);
    }

    @Command(name = "create", description = "Create a private endpoint in a subnet to a vault (group "
            + "AzureSiteRecovery: five addresses and FQDNs) or a storage account (group blob); optionally integrate "
            + "it with a private DNS zone.")
    static final class EndpointCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the private endpoint.") String name;
        @Mixin NetworkCommands.Group group;
        @Option(names = "--subnet-id", required = true, paramLabel = "ID", description = "The subnet's ARM id.")
        String subnetId;
        @Option(names = "--target-id", required = true, paramLabel = "ID",
                description = "The vault's or storage account's ARM id.")
        String targetId;
        @Option(names = "--group-id", paramLabel = "GROUP",
                description = "Target sub-resource (default: AzureSiteRecovery for a vault, blob for storage).")
        String groupId;
        @Option(names = "--manual", description = "Request manual approval from the target's owner.") boolean manual;
        @Option(names = "--request-message", paramLabel = "TEXT", description = "A message for the approver.")
        String requestMessage;
        @Option(names = "--private-dns-zone-id", paramLabel = "ID", description = "Write the endpoint's A records "
                + "into this private DNS zone (a DNS zone group; repeatable, up to five zones).")
        List<String> zoneIds;
        @Option(names = {"-l", "--location"}, paramLabel = "LOCATION",
                description = "Region (default: the virtual network's).")
        String location;
        @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A tag (repeatable).") List<String> tags;
        @Mixin Options.Format output;

        @Override
        void run() {
            int at = subnetId.toLowerCase(Locale.ROOT).indexOf("/subnets/");
            if (!subnetId.startsWith("/subscriptions/") || at < 0) {
                throw CliException.usage("invalid --subnet-id '" + subnetId + "': use /subscriptions/{s}/resourceGroups/"
                        + "{g}/providers/Microsoft.Network/virtualNetworks/{v}/subnets/{name}");
            }
            String group = groupId != null ? groupId
                    : targetId.toLowerCase(Locale.ROOT).contains("/microsoft.recoveryservices/vaults/") ? "AzureSiteRecovery"
                    : "blob";
            String region = location != null ? location
                    : api.get(versioned(subnetId.substring(0, at), NetworkCommands.API_VERSION)).path("location").asText();
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", region);
            body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            ObjectNode props = body.putObject("properties");
            props.putObject("subnet").put("id", subnetId);
            ObjectNode c = props.putArray(manual ? "manualPrivateLinkServiceConnections" : "privateLinkServiceConnections")
                    .addObject();
            c.put("name", name);
            ObjectNode cp = c.putObject("properties");
            cp.put("privateLinkServiceId", targetId);
            cp.putArray("groupIds").add(group);
            if (requestMessage != null) {
                cp.put("requestMessage", requestMessage);
            }
            String path = endpointPath(api, this.group, name);
            JsonNode created = api.send("PUT", path, body).body();
            if (zoneIds != null && !zoneIds.isEmpty()) {
                api.send("PUT", zoneGroupPath(api, this.group, name, "default"), zoneGroupBody(zoneIds));
            }
            print(output, created, ENDPOINT_TABLE);
        }
    }

    @Command(name = "show", description = "Show a private endpoint: its connection status, addresses and FQDNs.")
    static final class EndpointShow extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the private endpoint.") String name;
        @Mixin NetworkCommands.Group group;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(endpointPath(api, group, name)), ENDPOINT_TABLE);
        }
    }

    @Command(name = "list", description = "List private endpoints.")
    static final class EndpointList extends ApiCommand {
        @Mixin NetworkCommands.Scope scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(scope.path(api) + "/privateEndpoints", NetworkCommands.API_VERSION)),
                    ENDPOINT_TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a private endpoint: frees its addresses, removes its connection "
            + "and its DNS records.")
    static final class EndpointDelete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the private endpoint.") String name;
        @Mixin NetworkCommands.Group group;

        @Override
        void run() {
            api.send("DELETE", endpointPath(api, group, name), null);
            out().println("Deleted private endpoint '" + name + "'.");
        }
    }

    @Command(name = "dns-configs", description = "List an endpoint's FQDNs and addresses (five per vault endpoint, "
            + "two more per region pairing once replication is enabled): the A records a hand-made private DNS zone "
            + "needs. An endpoint with a DNS zone group gets them written automatically.")
    static final class EndpointDnsConfigs extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the private endpoint.") String name;
        @Mixin NetworkCommands.Group group;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(endpointPath(api, group, name)).at("/properties/customDnsConfigs"), DNS_CONFIG_TABLE);
        }
    }

    static String zoneGroupPath(ApiClient api, NetworkCommands.Group group, String endpoint, String name) {
        return ApiCommand.versioned(group.path(api) + "/privateEndpoints/" + ApiClient.seg(endpoint)
                + "/privateDnsZoneGroups/" + ApiClient.seg(name), NetworkCommands.API_VERSION);
    }

    /** One privateDnsZoneConfigs entry per zone, named after the zone's resource group and name. */
    static ObjectNode zoneGroupBody(List<String> zoneIds) {
        ObjectNode body = ApiClient.JSON.createObjectNode();
        var configs = body.putObject("properties").putArray("privateDnsZoneConfigs");
        for (int i = 0; i < zoneIds.size(); i++) {
            ObjectNode config = configs.addObject();
            config.put("name", "config" + (i + 1));
            config.putObject("properties").put("privateDnsZoneId", zoneIds.get(i));
        }
        return body;
    }

    @Command(name = "dns-zone-group", description = "An endpoint's DNS zone group: the zones its A records are "
            + "written into (DNS integration).", subcommands = {ZoneGroupSet.class, ZoneGroupShow.class,
            ZoneGroupDelete.class})
    static final class ZoneGroup {
        @Mixin Options.Help help;
    }

    /** The endpoint a zone group belongs to, and the group's name. */
    static final class OfEndpoint {
        @Option(names = "--endpoint", required = true, paramLabel = "NAME", description = "Private endpoint name.")
        String endpoint;
        @Option(names = "--name", defaultValue = "default", paramLabel = "NAME", description = "Zone group name "
                + "(default: default).")
        String name;
        @Mixin NetworkCommands.Group group;

        String path(ApiClient api) {
            return zoneGroupPath(api, group, endpoint, name);
        }
    }

    @Command(name = "set", description = "Create or replace the zone group: one config per --zone-id, each zone "
            + "getting the records of the endpoint's FQDNs under its name.")
    static final class ZoneGroupSet extends ApiCommand {
        @Mixin OfEndpoint of;
        @Option(names = "--zone-id", required = true, paramLabel = "ID",
                description = "A private DNS zone's ARM id (repeatable, up to five).") List<String> zoneIds;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.send("PUT", of.path(api), zoneGroupBody(zoneIds)).body(), ZONE_GROUP_TABLE);
        }
    }

    @Command(name = "show", description = "Show the zone group and the records it wrote.")
    static final class ZoneGroupShow extends ApiCommand {
        @Mixin OfEndpoint of;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(of.path(api)), ZONE_GROUP_TABLE);
        }
    }

    @Command(name = "delete", description = "Delete the zone group and the records it wrote.")
    static final class ZoneGroupDelete extends ApiCommand {
        @Mixin OfEndpoint of;

        @Override
        void run() {
            api.send("DELETE", of.path(api), null);
            out().println("Deleted DNS zone group '" + of.name + "' of private endpoint '" + of.endpoint + "'.");
        }
    }

    // ---- private DNS ----

    @Command(name = "private-dns", description = "Private DNS zones, their virtual network links and A records.",
            subcommands = {Zone.class, Link.class, Record.class})
    static final class PrivateDns {
        @Mixin Options.Help help;
    }

    /** A zone's path, for zone subcommands and zone children. */
    static final class InZone {
        @Option(names = "--zone", required = true, paramLabel = "ZONE", description = "Private DNS zone name.")
        String zone;
        @Mixin NetworkCommands.Group group;

        String path(ApiClient api) {
            return group.path(api) + "/privateDnsZones/" + ApiClient.seg(zone);
        }
    }

    @Command(name = "zone", description = "Private DNS zones, e.g. privatelink.siterecovery.windowsazure.com.",
            subcommands = {ZoneCreate.class, ZoneShow.class, ZoneList.class, ZoneDelete.class})
    static final class Zone {
        @Mixin Options.Help help;
    }

    static String zonePath(ApiClient api, NetworkCommands.Group group, String name) {
        return ApiCommand.versioned(group.path(api) + "/privateDnsZones/" + ApiClient.seg(name), DNS_API_VERSION);
    }

    @Command(name = "create", description = "Create (or update the tags of) a private DNS zone.")
    static final class ZoneCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME",
                description = "Name of the private DNS zone, e.g. privatelink.blob.core.windows.net.") String name;
        @Mixin NetworkCommands.Group group;
        @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A tag (repeatable).") List<String> tags;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", "global");
            body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            print(output, api.send("PUT", zonePath(api, group, name), body).body(), ZONE_TABLE);
        }
    }

    @Command(name = "show", description = "Show a private DNS zone.")
    static final class ZoneShow extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the private DNS zone.") String name;
        @Mixin NetworkCommands.Group group;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(zonePath(api, group, name)), ZONE_TABLE);
        }
    }

    @Command(name = "list", description = "List private DNS zones.")
    static final class ZoneList extends ApiCommand {
        @Mixin NetworkCommands.Scope scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(scope.path(api) + "/privateDnsZones", DNS_API_VERSION)), ZONE_TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a private DNS zone and its records (refused while it has "
            + "virtual network links).")
    static final class ZoneDelete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the private DNS zone.") String name;
        @Mixin NetworkCommands.Group group;

        @Override
        void run() {
            api.send("DELETE", zonePath(api, group, name), null);
            out().println("Deleted private DNS zone '" + name + "'.");
        }
    }

    @Command(name = "link", description = "Links of a zone to virtual networks.",
            subcommands = {LinkCreate.class, LinkList.class, LinkDelete.class})
    static final class Link {
        @Mixin Options.Help help;
    }

    @Command(name = "create", description = "Link a zone to a virtual network.")
    static final class LinkCreate extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the virtual network link.") String name;
        @Mixin InZone in;
        @Option(names = "--vnet-id", required = true, paramLabel = "ID", description = "The virtual network's ARM id.")
        String vnetId;
        @Option(names = "--registration", description = "Auto-register VM records.") boolean registration;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", "global");
            ObjectNode p = body.putObject("properties");
            p.putObject("virtualNetwork").put("id", vnetId);
            p.put("registrationEnabled", registration);
            String path = versioned(in.path(api) + "/virtualNetworkLinks/" + ApiClient.seg(name), DNS_API_VERSION);
            print(output, api.send("PUT", path, body).body(), LINK_TABLE);
        }
    }

    @Command(name = "list", description = "List a zone's virtual network links.")
    static final class LinkList extends ApiCommand {
        @Mixin InZone in;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(in.path(api) + "/virtualNetworkLinks", DNS_API_VERSION)), LINK_TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a virtual network link.")
    static final class LinkDelete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the virtual network link.") String name;
        @Mixin InZone in;

        @Override
        void run() {
            api.send("DELETE", versioned(in.path(api) + "/virtualNetworkLinks/" + ApiClient.seg(name), DNS_API_VERSION),
                    null);
            out().println("Deleted virtual network link '" + name + "'.");
        }
    }

    @Command(name = "record", description = "A record sets of a zone.",
            subcommands = {RecordSet.class, RecordList.class, RecordDelete.class})
    static final class Record {
        @Mixin Options.Help help;
    }

    @Command(name = "set", description = "Create or replace an A record set (the name relative to the zone).")
    static final class RecordSet extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the record set, relative to the zone.") String name;
        @Mixin InZone in;
        @Option(names = "--ip", required = true, paramLabel = "IP", description = "An IPv4 address (repeatable).")
        List<String> ips;
        @Option(names = "--ttl", defaultValue = "3600", paramLabel = "SECONDS",
                description = "Time to live of the records, in seconds (default: ${DEFAULT-VALUE}).") long ttl;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode p = body.putObject("properties");
            p.put("ttl", ttl);
            var records = p.putArray("aRecords");
            ips.forEach(ip -> records.addObject().put("ipv4Address", ip));
            String path = versioned(in.path(api) + "/A/" + ApiClient.seg(name), DNS_API_VERSION);
            print(output, api.send("PUT", path, body).body(), RECORD_TABLE);
        }
    }

    @Command(name = "list", description = "List a zone's A record sets.")
    static final class RecordList extends ApiCommand {
        @Mixin InZone in;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(in.path(api) + "/A", DNS_API_VERSION)), RECORD_TABLE);
        }
    }

    @Command(name = "delete", description = "Delete an A record set.")
    static final class RecordDelete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the record set, relative to the zone.") String name;
        @Mixin InZone in;

        @Override
        void run() {
            api.send("DELETE", versioned(in.path(api) + "/A/" + ApiClient.seg(name), DNS_API_VERSION), null);
            out().println("Deleted record set '" + name + "'.");
        }
    }

    // ---- the vault side ----

    @Command(name = "private-endpoint-connection", description = "Private endpoint connections of a vault: approve "
            + "or reject requests, list, delete.", subcommands = {ConnectionList.class, ConnectionApprove.class,
            ConnectionReject.class, ConnectionDelete.class})
    static final class VaultConnection {
        @Mixin Options.Help help;
    }

    static String connectionPath(ApiClient api, Options.Vault vault, String name) {
        return ApiCommand.versioned(vault.path(api) + "/privateEndpointConnections"
                + (name == null ? "" : "/" + ApiClient.seg(name)), VaultCommands.API_VERSION);
    }

    @Command(name = "list", description = "List the vault's private endpoint connections.")
    static final class ConnectionList extends ApiCommand {
        @Mixin Options.Vault vault;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(connectionPath(api, vault, null)), CONNECTION_TABLE);
        }
    }

    /** Approve and reject: one PUT of the connection state. */
    abstract static class Decide extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Connection name ({endpoint}.{guid}, see list).") String name;
        @Mixin Options.Vault vault;
        @Option(names = "--description", paramLabel = "TEXT",
                description = "Why: kept as the connection state's description.") String description;
        @Mixin Options.Format output;

        void decide(String status) {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode state = body.putObject("properties").putObject("privateLinkServiceConnectionState");
            state.put("status", status);
            if (description != null) {
                state.put("description", description);
            }
            print(output, api.send("PUT", connectionPath(api, vault, name), body).body(), CONNECTION_TABLE);
        }
    }

    @Command(name = "approve", description = "Approve a pending private endpoint connection.")
    static final class ConnectionApprove extends Decide {
        @Override
        void run() {
            decide("Approved");
        }
    }

    @Command(name = "reject", description = "Reject a private endpoint connection (it can't be approved afterwards).")
    static final class ConnectionReject extends Decide {
        @Override
        void run() {
            decide("Rejected");
        }
    }

    @Command(name = "delete", description = "Delete a connection; its endpoint shows Disconnected.")
    static final class ConnectionDelete extends ApiCommand {
        @Parameters(paramLabel = "NAME", description = "Name of the private endpoint connection.") String name;
        @Mixin Options.Vault vault;

        @Override
        void run() {
            api.send("DELETE", connectionPath(api, vault, name), null);
            out().println("Deleted private endpoint connection '" + name + "'.");
        }
    }
}
