package dev.secondsite.cloud.privatelink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.network.Ipv4;
import dev.secondsite.cloud.network.NetworkTypes;
import dev.secondsite.cloud.network.Subnets;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import org.jdbi.v3.core.Handle;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The network interface Azure creates for every private endpoint: {@code {endpoint}.nic.{guid}} in the endpoint's
 * resource group, named in the endpoint's {@code properties.networkInterfaces}, one IP configuration per member of
 * the target (the first is primary), each carrying the member's FQDN in {@code privateLinkConnectionProperties}.
 *
 * <p>It is an ordinary networkInterfaces row, so GET and list show it like any NIC, and it owns the endpoint's
 * addresses in ip_allocations: the subnet lists its IP configurations, and deleting it frees them by cascade.
 * {@code properties.privateEndpoint} marks it as the endpoint's; {@code NetworkInterfaces} reads that mark to
 * refuse a user's PUT or DELETE (Azure makes the NIC read-only for the endpoint's life). The endpoint deletes it.
 */
final class EndpointNics {
    private static final String IP_CONFIG_PREFIX = "privateEndpointIpConfig.";

    private final ResourceStore resources;
    private final Subnets subnets;

    EndpointNics(ResourceStore resources, Subnets subnets) {
        this.resources = resources;
        this.subnets = subnets;
    }

    /** The id a new endpoint's NIC gets. */
    static String newNicId(String groupId, String endpointName) {
        return groupId + "/providers/" + NetworkTypes.NIC + "/" + endpointName + ".nic." + UUID.randomUUID();
    }

    /** The endpoint's NIC id, or empty for an endpoint created before endpoints had NICs. */
    static Optional<String> nicIdOf(StoredResource pe) {
        String id = pe.properties().path("networkInterfaces").path(0).path("id").asText("");
        return id.isEmpty() ? Optional.empty() : Optional.of(id);
    }

    /**
     * Writes the NIC of a new endpoint (whose row exists) and gives it one address per member: the static one asked
     * for, or the lowest free. The caller holds the network's lock.
     *
     * @param requested member name to its static address, or to null for a dynamic one, in target order
     * @return member name to its address
     */
    Map<String, Long> create(Handle h, StoredResource pe, String nicId, StoredResource subnet, String groupId,
                             List<PrivateLinkTargets.Member> members, Map<String, Long> requested) {
        ObjectNode nic = Json.object();
        nic.put("id", nicId);
        nic.put("name", nicId.substring(nicId.lastIndexOf('/') + 1));
        nic.put("type", NetworkTypes.NIC);
        nic.put("location", pe.body().path("location").asText());
        ObjectNode p = nic.putObject("properties");
        p.put("provisioningState", "Succeeded");
        p.put("resourceGuid", UUID.randomUUID().toString());
        p.putArray("ipConfigurations");
        ObjectNode dns = p.putObject("dnsSettings");
        dns.putArray("dnsServers");
        dns.putArray("appliedDnsServers");
        p.put("macAddress", "");
        p.put("enableAcceleratedNetworking", false);
        p.put("enableIPForwarding", false);
        p.put("nicType", "Standard");
        p.put("vnetEncryptionSupported", false);
        p.putObject("privateEndpoint").put("id", pe.id());
        // The row first: its addresses reference it.
        StoredResource stored = save(nic);
        return add(h, stored, subnet, groupId, members, requested);
    }

    /**
     * Adds members (the region pairing's links) to an endpoint: new IP configurations on its NIC, or, for an
     * endpoint without one, addresses held by the endpoint itself. The caller holds the network's lock.
     */
    Map<String, Long> addTo(Handle h, StoredResource pe, StoredResource subnet, String groupId,
                            List<PrivateLinkTargets.Member> members) {
        Map<String, Long> dynamic = new LinkedHashMap<>();
        members.forEach(m -> dynamic.put(m.name(), null));
        Optional<StoredResource> nic = nicIdOf(pe).flatMap(resources::find);
        if (nic.isEmpty()) {
            return subnets.allocate(h, subnet, pe.id(), dynamic);
        }
        return add(h, nic.get(), subnet, groupId, members, dynamic);
    }

    private Map<String, Long> add(Handle h, StoredResource nic, StoredResource subnet, String groupId,
                                  List<PrivateLinkTargets.Member> members, Map<String, Long> requested) {
        Map<String, Long> byConfig = new LinkedHashMap<>();
        for (PrivateLinkTargets.Member m : members) {
            byConfig.put(ipConfigName(nic.id(), m.name()), requested.get(m.name()));
        }
        Map<String, Long> allocated = subnets.allocate(h, subnet, nic.id(), byConfig);
        ObjectNode body = nic.bodyCopy();
        ArrayNode configs = (ArrayNode) body.path("properties").path("ipConfigurations");
        Map<String, Long> byMember = new LinkedHashMap<>();
        for (PrivateLinkTargets.Member m : members) {
            String name = ipConfigName(nic.id(), m.name());
            long address = allocated.get(name);
            byMember.put(m.name(), address);
            ObjectNode cfg = configs.addObject();
            cfg.put("name", name);
            cfg.put("id", nic.id() + "/ipConfigurations/" + name);
            cfg.put("type", NetworkTypes.IP_CONFIGURATION);
            ObjectNode cp = cfg.putObject("properties");
            cp.put("provisioningState", "Succeeded");
            cp.put("privateIPAddress", Ipv4.format(address));
            cp.put("privateIPAllocationMethod", requested.get(m.name()) != null ? "Static" : "Dynamic");
            cp.putObject("subnet").put("id", subnet.id());
            cp.put("primary", configs.size() == 1);
            cp.put("privateIPAddressVersion", "IPv4");
            ObjectNode link = cp.putObject("privateLinkConnectionProperties");
            link.put("groupId", groupId);
            link.put("requiredMemberName", m.name());
            link.putArray("fqdns").add(m.fqdn());
        }
        save(body);
        return byMember;
    }

    /** Deletes the endpoint's NIC; its addresses go with its row. */
    void delete(StoredResource pe) {
        nicIdOf(pe).ifPresent(resources::delete);
    }

    /**
     * Azure names these privateEndpointIpConfig.{guid}; ours is derived from the NIC and the member, so a re-run
     * names the same configuration and the mapping back to the member needs no lookup table.
     */
    private static String ipConfigName(String nicId, String member) {
        return IP_CONFIG_PREFIX + UUID.nameUUIDFromBytes((ResourceStore.key(nicId) + "|" + member.toLowerCase(Locale.ROOT))
                .getBytes(StandardCharsets.UTF_8));
    }

    private StoredResource save(JsonNode nic) {
        String id = nic.path("id").asText();
        String group = id.substring(0, id.toLowerCase(Locale.ROOT).indexOf("/providers/"));
        return resources.put(id, group, NetworkTypes.NIC, nic.path("name").asText(), id.split("/")[2], (ObjectNode) nic);
    }
}
