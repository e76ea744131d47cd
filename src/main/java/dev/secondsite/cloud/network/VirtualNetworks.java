package dev.secondsite.cloud.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmPath;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.NetworkFacts;
import dev.secondsite.vault.VaultScope;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Virtual networks (Microsoft.Network/virtualNetworks): address space, DHCP options and subnets. A PUT
 * defines the whole network, subnets included, as in Azure: subnets left out of the body are deleted
 * (refused while in use). Subnets are stored as child rows ({@link Subnets}) and composed into the body on
 * every read. Also {@code GET …/CheckIPAddressAvailability?ipAddress=}.
 */
public final class VirtualNetworks {
    /** 2-64 characters: letters, digits, '.', '-', '_'; starts with a letter or digit; ends with one or '_'. */
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}[A-Za-z0-9_]$");
    /** Ranges Azure refuses in an address space: "this" network, loopback, link-local, the host node, multicast+. */
    private static final List<Cidr> RESERVED = List.of(Cidr.of("0.0.0.0/8"), Cidr.of("127.0.0.0/8"),
            Cidr.of("169.254.0.0/16"), Cidr.of("168.63.129.16/32"), Cidr.of("224.0.0.0/3"));

    private final ResourceStore resources;
    private final Jdbi jdbi;
    private final VaultScope scope;
    private final IpAllocations allocations;
    private final Subnets subnets;

    public VirtualNetworks(ResourceStore resources, Jdbi jdbi, VaultScope scope, IpAllocations allocations) {
        this.resources = resources;
        this.jdbi = jdbi;
        this.scope = scope;
        this.allocations = allocations;
        this.subnets = new Subnets(resources, jdbi, allocations, this);
    }

    public Subnets subnets() {
        return subnets;
    }

    public ArmResponse put(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name();
        ArmResources.checkName(name, NAME, "virtual network", "use 2-64 letters, digits, '.', '-' or '_', starting "
                + "with a letter or digit and ending with a letter, digit or '_'.");
        Fields body = Fields.of(request.bodyObject(), "");
        Region region = ArmResources.location(body);
        ObjectNode tags = ArmResources.tags(body);
        Fields props = body.object("properties");
        List<Cidr> space = addressSpace(props);
        ObjectNode dhcp = dhcpOptions(props);
        List<SubnetSpec> specs = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        ArrayNode rawSubnets = ArmResources.array(props, "subnets");
        Set<String> names = new HashSet<>();
        for (int i = 0; i < rawSubnets.size(); i++) {
            Fields subnet = Fields.of(rawSubnets.get(i), "properties.subnets[" + i + "]");
            String subnetName = subnet.string("name").orElse(null);
            SubnetSpec spec = SubnetSpec.parse(subnetName, subnet.object("properties"), subnet.path("properties"));
            if (!names.add(spec.nameKey())) {
                throw new ArmException(400, "DuplicateResourceName", "Virtual network '" + name
                        + "' defines subnet '" + subnetName + "' more than once.", subnet.path("name"), List.of());
            }
            specs.add(spec);
            fields.add(subnet.path("properties") + (spec.properties().has("addressPrefix") ? ".addressPrefix"
                    : ".addressPrefixes"));
        }
        checkLayout(name, space, specs, fields);
        boolean enableDdos = ArmResources.bool(props, "enableDdosProtection").orElse(false);

        return Transactions.run(jdbi, h -> {
            String id = group.id() + "/providers/" + NetworkTypes.VNET + "/" + name;
            Transactions.lock(h, id);
            Optional<StoredResource> existing = resources.find(id);
            if (existing.isPresent() && !existing.get().body().path("location").asText().equals(region.name())) {
                throw new ArmException(409, "InvalidResourceLocation", "The resource '" + name
                        + "' already exists in location '" + existing.get().body().path("location").asText()
                        + "' in resource group '" + group.name() + "'. A resource with the same name cannot be created "
                        + "in location '" + region.name() + "'.");
            }
            ObjectNode vnet = existing.map(StoredResource::bodyCopy).orElseGet(() -> {
                ObjectNode fresh = Json.object();
                fresh.put("id", id);
                fresh.put("name", name);
                fresh.put("type", NetworkTypes.VNET);
                fresh.put("location", region.name());
                fresh.putObject("properties").put("resourceGuid", UUID.randomUUID().toString());
                return fresh;
            });
            vnet.set("tags", tags);
            ObjectNode p = (ObjectNode) vnet.path("properties");
            p.put("provisioningState", "Succeeded");
            ArrayNode prefixes = p.putObject("addressSpace").putArray("addressPrefixes");
            space.forEach(c -> prefixes.add(c.toString()));
            p.set("dhcpOptions", dhcp);
            p.put("enableDdosProtection", enableDdos);
            p.putArray("virtualNetworkPeerings");
            StoredResource stored = resources.put(vnet.path("id").asText(), group.id(), NetworkTypes.VNET,
                    vnet.path("name").asText(), group.id().split("/")[2], vnet);
            reconcileSubnets(stored, specs);
            ObjectNode out = render(stored);
            return existing.isPresent() ? ArmResponse.ok(out) : ArmResponse.created(out);
        });
    }

    /** Subnets of the body replace the stored ones: new ones added, changed ones updated, missing ones deleted. */
    private void reconcileSubnets(StoredResource vnet, List<SubnetSpec> specs) {
        Map<String, SubnetSpec> wanted = new HashMap<>();
        specs.forEach(s -> wanted.put(s.nameKey(), s));
        for (StoredResource current : resources.children(vnet.id(), NetworkTypes.SUBNET)) {
            SubnetSpec spec = wanted.get(current.name().toLowerCase(Locale.ROOT));
            if (spec == null) {
                subnets.checkNotInUse(current);
                resources.delete(current.id());
            } else {
                subnets.checkUpdatable(current, spec);
            }
        }
        for (SubnetSpec spec : specs) {
            subnets.save(vnet, resources.find(vnet.id() + "/subnets/" + spec.name()), spec);
        }
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(render(require(request.path())));
    }

    public ArmResponse list(ArmRequest request) {
        List<StoredResource> found = scope.listInScope(request.path(), NetworkTypes.VNET);
        return ArmResponse.ok(ArmResources.collection(found.stream().map(this::render).toList()));
    }

    public ArmResponse delete(ArmRequest request) {
        scope.requireGroup(request.path());
        return Transactions.run(jdbi, h -> {
            Optional<StoredResource> vnet = resources.find(request.path().resourceId());
            if (vnet.isEmpty()) {
                return ArmResponse.noContent();
            }
            Transactions.lock(h, vnet.get().id());
            for (StoredResource subnet : resources.children(vnet.get().id(), NetworkTypes.SUBNET)) {
                subnets.checkNotInUse(subnet);
            }
            resources.delete(vnet.get().id());
            return ArmResponse.ok(null);
        });
    }

    /**
     * {@code GET …/virtualNetworks/{v}/CheckIPAddressAvailability?ipAddress=x}: whether the address can be
     * given to a new IP configuration, and if not, up to five free addresses of the same subnet.
     */
    public ArmResponse checkIpAddressAvailability(ArmRequest request) {
        StoredResource vnet = require(request.path());
        String text = request.query().get("ipAddress");
        if (text == null || text.isBlank()) {
            throw new ArmException(400, "MissingRequiredParameter", "The query parameter 'ipAddress' is required.",
                    "ipAddress", List.of());
        }
        long address = Ipv4.parse(text).orElseThrow(() -> new ArmException(400, "InvalidPrivateIPAddressFormat",
                "'" + text + "' is not an IPv4 address.", "ipAddress", List.of()));
        for (StoredResource subnet : resources.children(vnet.id(), NetworkTypes.SUBNET)) {
            List<Cidr> prefixes = SubnetSpec.prefixesOf(subnet.properties());
            if (!SubnetSpec.contains(prefixes, address)) {
                continue;
            }
            TreeSet<Long> taken = new TreeSet<>();
            allocations.inSubnet(subnet.id()).forEach(a -> taken.add(a.address()));
            ObjectNode result = Json.object();
            boolean available = !SubnetSpec.isReserved(prefixes, address) && !taken.contains(address);
            result.put("available", available);
            if (!available) {
                ArrayNode free = result.putArray("availableIPAddresses");
                SubnetSpec.freeAfter(prefixes, taken, address, 5).forEach(a -> free.add(Ipv4.format(a)));
            }
            return ArmResponse.ok(result);
        }
        throw new ArmException(400, "PrivateIPAddressNotInAnySubnet", "The address " + text
                + " does not belong to any subnet of virtual network '" + vnet.name() + "'.", "ipAddress", List.of());
    }

    /** The network as the rules see it. */
    public Optional<NetworkFacts> facts(String vnetId) {
        return resources.find(vnetId).filter(r -> r.typeKey().equalsIgnoreCase(NetworkTypes.VNET))
                .map(r -> new NetworkFacts(r.id(), Regions.require(r.body().path("location").asText(), "location")));
    }

    /** The network the path names (its first name after the namespace); 404 when it does not exist. */
    StoredResource require(ArmPath path) {
        StoredResource group = scope.requireGroup(path);
        String name = path.name(0);
        return resources.require(group.id() + "/providers/" + NetworkTypes.VNET + "/" + name);
    }

    /** Like {@link #require}, and locks the network's row for the rest of the transaction. */
    StoredResource requireLocked(Handle h, ArmPath path) {
        StoredResource group = scope.requireGroup(path);
        String id = group.id() + "/providers/" + NetworkTypes.VNET + "/" + path.name(0);
        if (!Transactions.lock(h, id)) {
            throw ArmException.notFound(id);
        }
        return resources.require(id);
    }

    ObjectNode render(StoredResource vnet) {
        ObjectNode body = vnet.bodyCopy();
        body.put("etag", ArmResources.etag(vnet.etag()));
        ArrayNode list = ((ObjectNode) body.path("properties")).putArray("subnets");
        subnets.renderAll(vnet).forEach(list::add);
        return body;
    }

    static List<Cidr> prefixesOf(JsonNode vnetBody) {
        List<Cidr> prefixes = new ArrayList<>();
        for (JsonNode p : vnetBody.path("properties").path("addressSpace").path("addressPrefixes")) {
            prefixes.add(Cidr.of(p.asText()));
        }
        return prefixes;
    }

    private static List<Cidr> addressSpace(Fields props) {
        Fields space = props.object("addressSpace");
        if (!space.has("addressPrefixes")) {
            throw ArmException.missingField("properties.addressSpace.addressPrefixes");
        }
        ArrayNode raw = ArmResources.array(space, "addressPrefixes");
        if (raw.isEmpty()) {
            throw ArmException.invalidField(space.path("addressPrefixes"), "must hold at least one address prefix.");
        }
        List<Cidr> prefixes = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            String field = space.path("addressPrefixes") + "[" + i + "]";
            if (!raw.get(i).isTextual()) {
                throw ArmException.invalidField(field, "must be a string such as 10.0.0.0/16.");
            }
            Cidr cidr = Cidr.parse(raw.get(i).asText(), field, SubnetSpec.PREFIX_MIN, SubnetSpec.PREFIX_MAX);
            for (Cidr reserved : RESERVED) {
                if (reserved.overlaps(cidr)) {
                    throw Cidr.error(400, "InvalidAddressPrefix", field, "Address prefix " + cidr
                            + " overlaps the reserved range " + reserved + ", which a virtual network cannot use.");
                }
            }
            for (int j = 0; j < prefixes.size(); j++) {
                if (prefixes.get(j).overlaps(cidr)) {
                    throw Cidr.error(400, "VnetAddressSpacesOverlap", field, "Address prefix " + cidr
                            + " overlaps address prefix " + prefixes.get(j) + " (properties.addressSpace.addressPrefixes["
                            + j + "]) of the same virtual network.");
                }
            }
            prefixes.add(cidr);
        }
        return prefixes;
    }

    private static ObjectNode dhcpOptions(Fields props) {
        ObjectNode dhcp = Json.object();
        ArrayNode servers = dhcp.putArray("dnsServers");
        Fields options = props.object("dhcpOptions");
        ArrayNode raw = ArmResources.array(options, "dnsServers");
        for (int i = 0; i < raw.size(); i++) {
            String field = options.path("dnsServers") + "[" + i + "]";
            String text = raw.get(i).isTextual() ? raw.get(i).asText() : raw.get(i).toString();
            long address = Ipv4.parse(text).orElseThrow(() -> ArmException.invalidField(field,
                    "'" + text + "' is not an IPv4 address."));
            servers.add(Ipv4.format(address));
        }
        return dhcp;
    }

    /**
     * Every subnet lies inside the network's address space and no two subnets overlap. {@code fields} names each
     * spec's prefix field for errors (null for stored subnets, which were valid when written).
     */
    static void checkLayout(String vnetName, List<Cidr> space, List<SubnetSpec> specs, List<String> fields) {
        for (int i = 0; i < specs.size(); i++) {
            SubnetSpec spec = specs.get(i);
            String field = fields.get(i) != null ? fields.get(i) : "properties.addressSpace.addressPrefixes";
            for (Cidr prefix : spec.prefixes()) {
                if (space.stream().noneMatch(s -> s.contains(prefix))) {
                    throw Cidr.error(400, "NetcfgSubnetRangeOutsideVnet", field, "Subnet '" + spec.name()
                            + "' is not valid because its IP address range " + prefix + " is outside the IP address "
                            + "range " + space + " of virtual network '" + vnetName + "'.");
                }
            }
            for (int j = 0; j < i; j++) {
                for (Cidr a : specs.get(j).prefixes()) {
                    for (Cidr b : spec.prefixes()) {
                        if (a.overlaps(b)) {
                            throw Cidr.error(400, "NetcfgSubnetRangesOverlap", field, "Subnet '" + spec.name()
                                    + "' is not valid because its IP address range " + b + " overlaps with that of "
                                    + "subnet '" + specs.get(j).name() + "' (" + a + ") in virtual network '"
                                    + vnetName + "'.");
                        }
                    }
                }
            }
        }
    }
}
