package dev.secondsite.cloud.privatelink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.auth.Rbac;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;
import dev.secondsite.cloud.network.ArmResources;
import dev.secondsite.cloud.network.Ipv4;
import dev.secondsite.cloud.network.NetworkInterfaces;
import dev.secondsite.cloud.network.NetworkTypes;
import dev.secondsite.cloud.network.Subnets;
import dev.secondsite.cloud.network.Transactions;
import dev.secondsite.cloud.storage.StorageAccounts;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.Operation;
import dev.secondsite.rules.PrivateEndpointFacts;
import dev.secondsite.rules.RuleCatalogue;
import dev.secondsite.rules.SubnetFacts;
import dev.secondsite.rules.VaultFacts;
import dev.secondsite.vault.VaultScope;
import org.jdbi.v3.core.Jdbi;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Private endpoints (Microsoft.Network/privateEndpoints): a subnet, one connection to a vault (AzureSiteRecovery)
 * or a storage account (blob), and one private IP per member of the target, allocated from the subnet like a
 * NIC's (ip_allocations, under the network's lock). A create is judged by the seed-003 rules of the catalogue at
 * {@link Operation#CREATE_PRIVATE_ENDPOINT} on facts read from the vault, the storage account and the subnet.
 *
 * <p>Approval (seed 003): a privateLinkServiceConnections entry is approved at once when the caller may approve
 * connections on the target ({type}/privateEndpointConnectionsApproval/action: Owner, Contributor); otherwise,
 * and always for manualPrivateLinkServiceConnections, the connection waits as Pending for the target's owner.
 *
 * <p>The addresses belong to the endpoint's network interface ({@link EndpointNics}), which Azure creates with
 * it and lists in {@code properties.networkInterfaces}; {@code customDnsConfigs} lists each FQDN with its address.
 *
 * <p>Once created, an endpoint's subnet and target do not change (Azure refuses too); a PUT of an existing one
 * updates its tags. Deleting it deletes its NIC (freeing its addresses by cascade), its connection and its DNS
 * records.
 */
public final class PrivateEndpoints {
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9_])?$");
    private static final String NAME_RULE = "use 1-80 letters, digits, '.', '-' or '_', starting with a letter or "
            + "digit and ending with a letter, digit or '_'.";
    private static final String AUTO = "privateLinkServiceConnections";
    private static final String MANUAL = "manualPrivateLinkServiceConnections";

    private final ResourceStore resources;
    private final Jdbi jdbi;
    private final VaultScope scope;
    private final Rbac rbac;
    private final Subnets subnets;
    private final PrivateLinkTargets targets;
    private final PrivateEndpointConnections connections;
    private final EndpointNics nics;

    public PrivateEndpoints(ResourceStore resources, Jdbi jdbi, VaultScope scope, Rbac rbac, Subnets subnets,
                            PrivateLinkTargets targets, PrivateEndpointConnections connections) {
        this.resources = resources;
        this.jdbi = jdbi;
        this.scope = scope;
        this.rbac = rbac;
        this.subnets = subnets;
        this.targets = targets;
        this.connections = connections;
        this.nics = new EndpointNics(resources, subnets);
    }

    /** The one connection of a request, validated. */
    private record Connection(String name, String serviceId, String groupId, String requestMessage, boolean manual,
                              String field) {}

    public ArmResponse put(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name();
        ArmResources.checkName(name, NAME, "private endpoint", NAME_RULE);
        Fields body = Fields.of(request.bodyObject(), "");
        Region region = ArmResources.location(body);
        ObjectNode tags = ArmResources.tags(body);
        Fields props = body.object("properties");
        if (!props.object("subnet").has("id")) {
            throw ArmException.missingField("properties.subnet.id");
        }
        String subnetId = props.object("subnet").requiredString("id");
        String vnetId = NetworkTypes.vnetOfSubnet(subnetId);
        if (vnetId == null) {
            throw ArmException.invalidField("properties.subnet.id", "'" + subnetId + "' is not a subnet id such as "
                    + "/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Network/virtualNetworks/{v}/subnets/{n}.");
        }
        Connection connection = connection(props);
        PrivateLinkTargets.Target target = targets.resolve(connection.serviceId(), connection.groupId(),
                connection.field());
        Map<String, Long> addresses = requestedAddresses(props, target);
        boolean staticIps = addresses.values().stream().anyMatch(a -> a != null);
        rbac.authorize(request.principal(), subnetId, NetworkInterfaces.JOIN_ACTION);
        boolean approved = !connection.manual() && rbac.allows(request.principal(), target.resource().id(),
                target.type() + PrivateLinkTypes.APPROVAL_ACTION);

        String id = group.id() + "/providers/" + PrivateLinkTypes.PRIVATE_ENDPOINT + "/" + name;
        return Transactions.run(jdbi, h -> {
            Transactions.lock(h, vnetId);
            StoredResource subnet = subnets.find(subnetId).orElseThrow(() -> new ArmException(400,
                    "InvalidResourceReference", "Resource " + subnetId + " referenced by resource " + id
                    + " was not found. Please make sure that the referenced resource exists.", "properties.subnet.id",
                    List.of()));
            Region subnetRegion = Regions.require(resources.find(vnetId).orElseThrow().body().path("location").asText(),
                    "location");
            if (!subnetRegion.equals(region)) {
                throw new ArmException(400, "InvalidResourceReference", "Subnet " + subnet.id() + " is in region '"
                        + subnetRegion.name() + "', but the private endpoint is in '" + region.name() + "'. Both "
                        + "resources must be in the same region.", "properties.subnet.id", List.of());
            }
            Optional<StoredResource> existing = resources.find(id);
            if (existing.isPresent()) {
                return ArmResponse.ok(render(retag(existing.get(), subnet, connection, tags)));
            }
            SubnetFacts subnetFacts = subnets.facts(subnet.id()).orElseThrow();
            RuleCatalogue.enforce(Operation.CREATE_PRIVATE_ENDPOINT, facts(target, subnetFacts, subnetRegion,
                    staticIps, false));

            String guid = UUID.randomUUID().toString();
            String connectionId = PrivateEndpointConnections.connectionId(target.resource().id(), name, guid);
            String nicId = EndpointNics.newNicId(group.id(), name);
            ObjectNode pe = newEndpoint(id, name, region, tags, guid, subnet.id(), nicId, connection);
            StoredResource skeleton = resources.put(id, group.id(), PrivateLinkTypes.PRIVATE_ENDPOINT, name,
                    group.id().split("/")[2], pe);
            Map<String, Long> allocated = nics.create(h, skeleton, nicId, subnet, target.groupId(), target.members(),
                    addresses);
            appendMembers((ObjectNode) pe.path("properties"), target.groupId(), target.members(), allocated, addresses);
            StoredResource stored = resources.put(id, group.id(), PrivateLinkTypes.PRIVATE_ENDPOINT, name,
                    group.id().split("/")[2], pe);
            connections.create(target, connectionId, id, approved ? PrivateLinkTypes.APPROVED : PrivateLinkTypes.PENDING,
                    approved ? "Auto-approved: the requester may approve connections on the resource."
                            : Optional.ofNullable(connection.requestMessage()).orElse("Awaiting approval by the owner."));
            return ArmResponse.created(render(stored));
        });
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(render(require(request)));
    }

    public ArmResponse list(ArmRequest request) {
        return ArmResponse.ok(ArmResources.collection(scope.listInScope(request.path(), PrivateLinkTypes.PRIVATE_ENDPOINT)
                .stream().map(this::render).toList()));
    }

    public ArmResponse delete(ArmRequest request) {
        scope.requireGroup(request.path());
        Optional<StoredResource> pe = resources.find(request.path().resourceId());
        if (pe.isEmpty()) {
            return ArmResponse.noContent();
        }
        return Transactions.run(jdbi, h -> {
            Transactions.lock(h, NetworkTypes.vnetOfSubnet(subnetOf(pe.get())));
            for (StoredResource zoneGroup : resources.children(pe.get().id(), PrivateLinkTypes.ZONE_GROUP)) {
                DnsZoneGroups.deleteRecords(resources, zoneGroup);
            }
            connections.remove(connectionId(pe.get()));
            // Its addresses go with its NIC's row (ip_allocations.owner_key cascades), or with its own row for an
            // endpoint created before endpoints had NICs.
            nics.delete(pe.get());
            resources.delete(pe.get().id());
            return ArmResponse.ok(null);
        });
    }

    /**
     * The rule facts of an endpoint about to be created (or, for {@link Operation#LINK_PRIVATE_DNS_ZONE}, of an
     * existing one). The endpoint's subnet is the recovery subnet when its network is in the vault's region (seed
     * 004 puts the vault in the target region), else the source subnet. A cache-storage endpoint in the same
     * subnet can't be known ahead, so the extra address it needs is not counted.
     */
    PrivateEndpointFacts facts(PrivateLinkTargets.Target target, SubnetFacts subnet, Region subnetRegion,
                               boolean staticIps, boolean zoneUsedByVault) {
        PrivateEndpointFacts facts;
        if (target.kind() == PrivateEndpointFacts.Target.VAULT) {
            VaultFacts vault = VaultLinks.facts(resources, target.resource());
            boolean recovery = vault.region().equals(subnetRegion);
            facts = PrivateEndpointFacts.forVault(vault, recovery ? null : subnet, recovery ? subnet : null, false);
        } else {
            facts = PrivateEndpointFacts.forStorage(null, StorageAccounts.facts(target.resource().body(), Set.of()), subnet);
        }
        return facts.withIpAllocation(staticIps ? PrivateEndpointFacts.IpAllocation.STATIC
                : PrivateEndpointFacts.IpAllocation.DYNAMIC).withDnsZoneUsedByVaultEndpoint(zoneUsedByVault);
    }

    /** The facts of an existing endpoint, its subnet's free addresses as they are now. */
    PrivateEndpointFacts facts(StoredResource pe, boolean zoneUsedByVault) {
        PrivateLinkTargets.Target target = targetOf(pe);
        boolean staticIps = false;
        for (JsonNode cfg : pe.properties().path("ipConfigurations")) {
            staticIps |= "Static".equals(cfg.at("/properties/privateIPAllocationMethod").asText());
        }
        String vnetId = NetworkTypes.vnetOfSubnet(subnetOf(pe));
        Region region = Regions.require(resources.find(vnetId).orElseThrow().body().path("location").asText(), "location");
        return facts(target, subnets.facts(subnetOf(pe)).orElseThrow(), region, staticIps, zoneUsedByVault);
    }

    /** The target an existing endpoint connects to (400 PrivateLinkServiceNotFound once it is gone). */
    PrivateLinkTargets.Target targetOf(StoredResource pe) {
        JsonNode c = connectionOf(pe);
        return targets.resolve(c.at("/properties/privateLinkServiceId").asText(), c.at("/properties/groupIds/0").asText(),
                "properties");
    }

    StoredResource require(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name(0);
        return resources.require(group.id() + "/providers/" + PrivateLinkTypes.PRIVATE_ENDPOINT + "/" + name);
    }

    /** The endpoint's one connection entry (automatic or manual). */
    static JsonNode connectionOf(StoredResource pe) {
        JsonNode auto = pe.properties().path(AUTO);
        return auto.isEmpty() ? pe.properties().path(MANUAL).path(0) : auto.path(0);
    }

    static String connectionId(StoredResource pe) {
        return PrivateEndpointConnections.connectionId(connectionOf(pe).at("/properties/privateLinkServiceId").asText(),
                pe.name(), pe.properties().path("resourceGuid").asText());
    }

    private static String subnetOf(StoredResource pe) {
        return pe.properties().path("subnet").path("id").asText();
    }

    /** The connection state lives with the target ({@link PrivateEndpointConnections}); it is read, not copied. */
    ObjectNode render(StoredResource pe) {
        ObjectNode body = pe.bodyCopy();
        body.put("etag", ArmResources.etag(pe.etag()));
        ObjectNode state = connections.stateOf(connectionId(pe));
        for (String kind : List.of(AUTO, MANUAL)) {
            for (JsonNode c : body.path("properties").path(kind)) {
                ((ObjectNode) c.path("properties")).set("privateLinkServiceConnectionState", state.deepCopy());
            }
        }
        return body;
    }

    private static Connection connection(Fields props) {
        ArrayNode auto = ArmResources.array(props, AUTO);
        ArrayNode manual = ArmResources.array(props, MANUAL);
        if (auto.size() + manual.size() != 1) {
            throw ArmException.invalidField("properties." + AUTO, "a private endpoint needs exactly one connection in "
                    + AUTO + " or " + MANUAL + "; " + (auto.size() + manual.size()) + " are given.");
        }
        boolean isManual = auto.isEmpty();
        String field = "properties." + (isManual ? MANUAL : AUTO) + "[0]";
        Fields c = Fields.of(isManual ? manual.get(0) : auto.get(0), field);
        String name = c.string("name").orElseThrow(() -> ArmException.missingField(field + ".name"));
        ArmResources.checkName(name, NAME, "private link service connection", NAME_RULE);
        Fields p = c.object("properties");
        String serviceId = p.string("privateLinkServiceId")
                .orElseThrow(() -> ArmException.missingField(field + ".properties.privateLinkServiceId"));
        ArrayNode groups = ArmResources.array(p, "groupIds");
        if (groups.size() != 1 || !groups.get(0).isTextual()) {
            throw ArmException.invalidField(field + ".properties.groupIds", "give exactly one group id (the target "
                    + "sub-resource, e.g. AzureSiteRecovery or blob).");
        }
        return new Connection(name, serviceId, groups.get(0).asText(), p.string("requestMessage").orElse(null), isManual,
                field + ".properties");
    }

    /** Member name to the static address asked for in properties.ipConfigurations (null: dynamic), target order. */
    private static Map<String, Long> requestedAddresses(Fields props, PrivateLinkTargets.Target target) {
        Map<String, Long> byMember = new LinkedHashMap<>();
        target.members().forEach(m -> byMember.put(m.name(), null));
        ArrayNode raw = ArmResources.array(props, "ipConfigurations");
        for (int i = 0; i < raw.size(); i++) {
            Fields p = Fields.of(raw.get(i), "properties.ipConfigurations[" + i + "]").object("properties");
            String member = p.string("memberName").orElse(target.members().getFirst().name());
            String key = target.members().stream().map(PrivateLinkTargets.Member::name)
                    .filter(n -> n.equalsIgnoreCase(member)).findFirst()
                    .orElseThrow(() -> ArmException.invalidField(p.path("memberName"), "'" + member + "' is not a "
                            + "member of " + target.groupId() + "; members: " + byMember.keySet() + "."));
            String text = p.requiredString("privateIPAddress");
            byMember.put(key, Ipv4.parse(text).orElseThrow(() -> new ArmException(400, "InvalidPrivateIPAddressFormat",
                    "'" + text + "' is not an IPv4 address.", p.path("privateIPAddress"), List.of())));
        }
        return byMember;
    }

    /**
     * Appends to customDnsConfigs and ipConfigurations one FQDN and one address per member (all of a new endpoint's
     * target, or the links enable replication adds).
     */
    static void appendMembers(ObjectNode p, String groupId, List<PrivateLinkTargets.Member> members,
                              Map<String, Long> allocated, Map<String, Long> requested) {
        ArrayNode dns = p.path("customDnsConfigs").isArray() ? (ArrayNode) p.get("customDnsConfigs")
                : p.putArray("customDnsConfigs");
        ArrayNode configs = p.path("ipConfigurations").isArray() ? (ArrayNode) p.get("ipConfigurations")
                : p.putArray("ipConfigurations");
        for (PrivateLinkTargets.Member m : members) {
            String ip = Ipv4.format(allocated.get(m.name()));
            ObjectNode d = dns.addObject();
            d.put("fqdn", m.fqdn());
            d.putArray("ipAddresses").add(ip);
            ObjectNode cfg = configs.addObject();
            cfg.put("name", m.name());
            cfg.put("type", PrivateLinkTypes.PRIVATE_ENDPOINT + "/ipConfigurations");
            ObjectNode cp = cfg.putObject("properties");
            cp.put("groupId", groupId);
            cp.put("memberName", m.name());
            cp.put("privateIPAddress", ip);
            cp.put("privateIPAllocationMethod", requested.get(m.name()) != null ? "Static" : "Dynamic");
        }
    }

    private ObjectNode newEndpoint(String id, String name, Region region, ObjectNode tags, String guid, String subnetId,
                                   String nicId, Connection connection) {
        ObjectNode pe = Json.object();
        pe.put("id", id);
        pe.put("name", name);
        pe.put("type", PrivateLinkTypes.PRIVATE_ENDPOINT);
        pe.put("location", region.name());
        pe.set("tags", tags);
        ObjectNode p = pe.putObject("properties");
        p.put("provisioningState", "Succeeded");
        p.put("resourceGuid", guid);
        p.putObject("subnet").put("id", subnetId);
        p.putArray("networkInterfaces").addObject().put("id", nicId);
        p.putArray("applicationSecurityGroups");
        ObjectNode c = p.putArray(connection.manual() ? MANUAL : AUTO).addObject();
        p.putArray(connection.manual() ? AUTO : MANUAL);
        c.put("name", connection.name());
        c.put("id", id + "/" + (connection.manual() ? MANUAL : AUTO) + "/" + connection.name());
        c.put("type", PrivateLinkTypes.PRIVATE_ENDPOINT + "/" + (connection.manual() ? MANUAL : AUTO));
        ObjectNode cp = c.putObject("properties");
        cp.put("provisioningState", "Succeeded");
        cp.put("privateLinkServiceId", resources.find(connection.serviceId()).orElseThrow().id());
        cp.putArray("groupIds").add(connection.groupId());
        if (connection.requestMessage() != null) {
            cp.put("requestMessage", connection.requestMessage());
        }
        return pe;
    }

    /** A PUT of an existing endpoint: the same subnet and target, new tags. */
    private StoredResource retag(StoredResource pe, StoredResource subnet, Connection connection, ObjectNode tags) {
        JsonNode current = connectionOf(pe);
        boolean sameTarget = current.at("/properties/privateLinkServiceId").asText().equalsIgnoreCase(connection.serviceId())
                && current.at("/properties/groupIds/0").asText().equalsIgnoreCase(connection.groupId());
        if (!subnetOf(pe).equalsIgnoreCase(subnet.id()) || !sameTarget) {
            throw new ArmException(400, "PrivateEndpointPropertyCannotBeUpdated", "The subnet and the private link "
                    + "service connection of private endpoint '" + pe.name() + "' cannot be changed; delete it and "
                    + "create a new one.", "properties", List.of());
        }
        ObjectNode body = pe.bodyCopy();
        body.set("tags", tags);
        String groupId = pe.id().substring(0, pe.id().toLowerCase(Locale.ROOT).indexOf("/providers/"));
        return resources.put(pe.id(), groupId, PrivateLinkTypes.PRIVATE_ENDPOINT, pe.name(), pe.id().split("/")[2], body);
    }
}
