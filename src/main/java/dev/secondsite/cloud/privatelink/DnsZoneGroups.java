package dev.secondsite.cloud.privatelink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.network.ArmResources;
import dev.secondsite.cloud.network.NetworkTypes;
import dev.secondsite.cloud.network.Transactions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.Operation;
import dev.secondsite.rules.PrivateEndpointFacts;
import dev.secondsite.rules.RuleCatalogue;
import org.jdbi.v3.core.Jdbi;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * DNS zone groups of a private endpoint (privateEndpoints/{pe}/privateDnsZoneGroups/{name}): the portal's
 * "integrate with private DNS zone". A group holds one to five privateDnsZoneConfigs (Azure's limit), each naming a
 * zone; writing the group puts an A record for every endpoint FQDN under each zone's name into that zone (name: the
 * FQDN less the zone, TTL 10 like Azure's) and lists them under that config's recordSets. Two configs may name zones
 * of the same name in different resource groups (hub and spoke): each gets its own records. Deleting the group (or
 * the endpoint) deletes those records; FQDNs the endpoint gains later (enable replication's pairing links) are added
 * to every config whose zone they fall under ({@link #addRecords}).
 *
 * <p>Seed 003: each private endpoint of a vault needs its own zone, as a shared zone's records would be
 * overwritten. That is judged here, at {@link Operation#LINK_PRIVATE_DNS_ZONE}, where zones are chosen: a zone is
 * "used by the vault" when a zone group of another endpoint of the same vault names it.
 */
public final class DnsZoneGroups {
    /** The TTL Azure gives records of private endpoint DNS integration. */
    static final int RECORD_TTL = 10;
    /** "A private DNS zone group supports up to five DNS zones." */
    static final int MAX_ZONE_CONFIGS = 5;

    private final ResourceStore resources;
    private final Jdbi jdbi;
    private final PrivateEndpoints endpoints;

    public DnsZoneGroups(ResourceStore resources, Jdbi jdbi, PrivateEndpoints endpoints) {
        this.resources = resources;
        this.jdbi = jdbi;
        this.endpoints = endpoints;
    }

    /** One privateDnsZoneConfigs entry of a request, validated for shape. */
    private record ConfigRequest(String name, String zoneId, String field) {}

    public ArmResponse put(ArmRequest request) {
        StoredResource found = endpoints.require(request);
        String name = request.path().name();
        List<ConfigRequest> configs = configs(Fields.of(request.bodyObject(), "").object("properties"));
        for (StoredResource other : resources.children(found.id(), PrivateLinkTypes.ZONE_GROUP)) {
            if (!other.name().equalsIgnoreCase(name)) {
                throw ArmException.conflict("PrivateDnsZoneGroupExists", "Private endpoint '" + found.name()
                        + "' already has DNS zone group '" + other.name() + "'; an endpoint has one.");
            }
        }
        return Transactions.run(jdbi, h -> {
            // The endpoint's network lock, then its FQDNs: links added at enable replication take the same lock, so
            // they are either read here or see this group and add their records to it.
            Transactions.lock(h, NetworkTypes.vnetOfSubnet(found.properties().path("subnet").path("id").asText()));
            StoredResource pe = resources.require(found.id());
            List<StoredResource> zones = new ArrayList<>();
            for (ConfigRequest c : configs) {
                zones.add(resources.find(c.zoneId()).filter(z -> z.typeKey().equalsIgnoreCase(PrivateLinkTypes.DNS_ZONE))
                        .orElseThrow(() -> new ArmException(400, "InvalidResourceReference", "Private DNS zone '"
                                + c.zoneId() + "' was not found.", c.field() + ".properties.privateDnsZoneId", List.of())));
            }
            // Two endpoints of one vault must not both find a zone unused; zones are locked in one order.
            zones.stream().map(StoredResource::id).map(ResourceStore::key).sorted().forEach(z -> Transactions.lock(h, z));
            PrivateLinkTargets.Target target = endpoints.targetOf(pe);
            List<JsonNode> fqdns = List.copyOf(Json.MAPPER.convertValue(pe.properties().path("customDnsConfigs"),
                    Json.MAPPER.getTypeFactory().constructCollectionType(List.class, JsonNode.class)));
            for (int i = 0; i < configs.size(); i++) {
                StoredResource zone = zones.get(i);
                if (under(zone, fqdns).isEmpty()) {
                    throw new ArmException(400, "PrivateDnsZoneDoesNotMatch", "Private endpoint '" + pe.name() + "' to "
                            + target.groupId() + " resolves in zone '" + target.dnsZone() + "', not '" + zone.name()
                            + "'.", configs.get(i).field() + ".properties.privateDnsZoneId", List.of());
                }
                RuleCatalogue.enforce(Operation.LINK_PRIVATE_DNS_ZONE, endpoints.facts(pe,
                        usedByAnotherEndpoint(pe, target, zone)));
            }

            String id = pe.id() + "/privateDnsZoneGroups/" + name;
            resources.find(id).ifPresent(old -> deleteRecords(resources, old));
            ObjectNode group = Json.object();
            group.put("id", id);
            group.put("name", name);
            group.put("type", PrivateLinkTypes.ZONE_GROUP);
            ObjectNode p = group.putObject("properties");
            p.put("provisioningState", "Succeeded");
            ArrayNode out = p.putArray("privateDnsZoneConfigs");
            for (int i = 0; i < configs.size(); i++) {
                ObjectNode c = out.addObject();
                c.put("name", configs.get(i).name());
                ObjectNode cp = c.putObject("properties");
                cp.put("privateDnsZoneId", zones.get(i).id());
                ArrayNode sets = cp.putArray("recordSets");
                writeRecords(resources, zones.get(i), under(zones.get(i), fqdns), sets);
            }
            boolean created = resources.find(id).isEmpty();
            StoredResource stored = resources.put(id, pe.id(), PrivateLinkTypes.ZONE_GROUP, name, pe.id().split("/")[2],
                    group);
            return created ? ArmResponse.created(withEtag(stored)) : ArmResponse.ok(withEtag(stored));
        });
    }

    /**
     * Puts new FQDNs of an endpoint (customDnsConfigs entries) into the zones of its zone group, each into the
     * configs whose zone it falls under, and lists them there. An endpoint without a zone group gets no records:
     * with manually created zones the user adds them (seed 003). Runs in the caller's transaction.
     */
    static void addRecords(ResourceStore resources, StoredResource pe, List<JsonNode> newDnsConfigs) {
        for (StoredResource group : resources.children(pe.id(), PrivateLinkTypes.ZONE_GROUP)) {
            ObjectNode body = group.bodyCopy();
            for (JsonNode config : body.path("properties").path("privateDnsZoneConfigs")) {
                ObjectNode cp = (ObjectNode) config.path("properties");
                Optional<StoredResource> zone = resources.find(cp.path("privateDnsZoneId").asText());
                if (zone.isPresent()) { // a zone deleted since has nothing to receive them
                    ArrayNode sets = cp.path("recordSets").isArray() ? (ArrayNode) cp.get("recordSets")
                            : cp.putArray("recordSets");
                    writeRecords(resources, zone.get(), under(zone.get(), newDnsConfigs), sets);
                }
            }
            resources.put(group.id(), pe.id(), PrivateLinkTypes.ZONE_GROUP, group.name(), group.id().split("/")[2], body);
        }
    }

    /** The customDnsConfigs entries whose FQDN is in the zone. */
    private static List<JsonNode> under(StoredResource zone, List<JsonNode> dnsConfigs) {
        String suffix = "." + zone.name().toLowerCase(Locale.ROOT);
        return dnsConfigs.stream().filter(d -> d.path("fqdn").asText().toLowerCase(Locale.ROOT).endsWith(suffix)).toList();
    }

    /** One A record per entry in the zone, each listed in {@code sets}. */
    private static void writeRecords(ResourceStore resources, StoredResource zone, List<JsonNode> dnsConfigs,
                                     ArrayNode sets) {
        String suffix = "." + zone.name().toLowerCase(Locale.ROOT);
        for (JsonNode dns : dnsConfigs) {
            String fqdn = dns.path("fqdn").asText().toLowerCase(Locale.ROOT);
            String relative = fqdn.substring(0, fqdn.length() - suffix.length());
            List<String> ips = Json.MAPPER.convertValue(dns.path("ipAddresses"),
                    Json.MAPPER.getTypeFactory().constructCollectionType(List.class, String.class));
            PrivateDnsZones.writeRecord(resources, zone, relative, RECORD_TTL, ips, Json.object());
            ObjectNode set = sets.addObject();
            set.put("recordType", "A");
            set.put("recordSetName", relative);
            set.put("fqdn", fqdn);
            set.put("ttl", RECORD_TTL);
            set.set("ipAddresses", dns.path("ipAddresses").deepCopy());
            set.put("provisioningState", "Succeeded");
        }
    }

    /** 1-5 configs, names unique (default config1, config2, ...), zone ids given and not repeated. */
    private static List<ConfigRequest> configs(Fields props) {
        ArrayNode raw = ArmResources.array(props, "privateDnsZoneConfigs");
        if (raw.isEmpty() || raw.size() > MAX_ZONE_CONFIGS) {
            throw ArmException.invalidField("properties.privateDnsZoneConfigs", "give 1 to " + MAX_ZONE_CONFIGS
                    + " zone configs; " + raw.size() + " are given.");
        }
        List<ConfigRequest> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> zoneIds = new HashSet<>();
        for (int i = 0; i < raw.size(); i++) {
            String field = "properties.privateDnsZoneConfigs[" + i + "]";
            Fields config = Fields.of(raw.get(i), field);
            String configName = config.string("name").orElse("config" + (i + 1));
            String zoneId = config.object("properties").string("privateDnsZoneId")
                    .orElseThrow(() -> ArmException.missingField(field + ".properties.privateDnsZoneId"));
            if (!names.add(configName.toLowerCase(Locale.ROOT))) {
                throw new ArmException(400, "DuplicateResourceName", "Zone config '" + configName + "' is defined more "
                        + "than once.", field + ".name", List.of());
            }
            if (!zoneIds.add(ResourceStore.key(zoneId))) {
                throw new ArmException(400, "DuplicatePrivateDnsZoneIds", "Private DNS zone '" + zoneId + "' is named "
                        + "by more than one zone config; name each zone once.", field + ".properties.privateDnsZoneId",
                        List.of());
            }
            out.add(new ConfigRequest(configName, zoneId, field));
        }
        return out;
    }

    public ArmResponse get(ArmRequest request) {
        endpoints.require(request);
        return ArmResponse.ok(withEtag(resources.find(request.path().resourceId()).orElseThrow(() -> new ArmException(404,
                "NotFound", "DNS zone group '" + request.path().name() + "' was not found."))));
    }

    public ArmResponse list(ArmRequest request) {
        StoredResource pe = endpoints.require(request);
        return ArmResponse.ok(ArmResources.collection(resources.children(pe.id(), PrivateLinkTypes.ZONE_GROUP).stream()
                .map(DnsZoneGroups::withEtag).toList()));
    }

    public ArmResponse delete(ArmRequest request) {
        endpoints.require(request);
        return Transactions.run(jdbi, h -> {
            Optional<StoredResource> group = resources.find(request.path().resourceId());
            if (group.isEmpty()) {
                return ArmResponse.noContent();
            }
            deleteRecords(resources, group.get());
            resources.delete(group.get().id());
            return ArmResponse.ok(null);
        });
    }

    /** Deletes the A records a zone group wrote (when the group or its endpoint goes). */
    static void deleteRecords(ResourceStore resources, StoredResource group) {
        for (JsonNode config : group.properties().path("privateDnsZoneConfigs")) {
            String zoneId = config.at("/properties/privateDnsZoneId").asText();
            for (JsonNode set : config.at("/properties/recordSets")) {
                resources.delete(zoneId + "/A/" + set.path("recordSetName").asText());
            }
        }
    }

    /** Whether a zone group of another endpoint connected to the same vault already names this zone. */
    private boolean usedByAnotherEndpoint(StoredResource pe, PrivateLinkTargets.Target target, StoredResource zone) {
        if (target.kind() != PrivateEndpointFacts.Target.VAULT) {
            return false;
        }
        for (StoredResource group : resources.allOfType(PrivateLinkTypes.ZONE_GROUP)) {
            String owner = PrivateEndpointConnections.parentOf(group.id());
            boolean sameZone = false;
            for (JsonNode config : group.properties().path("privateDnsZoneConfigs")) {
                sameZone |= config.at("/properties/privateDnsZoneId").asText().equalsIgnoreCase(zone.id());
            }
            if (!sameZone || owner.equalsIgnoreCase(pe.id())) {
                continue;
            }
            Optional<StoredResource> other = resources.find(owner);
            if (other.isPresent() && PrivateEndpoints.connectionOf(other.get()).at("/properties/privateLinkServiceId")
                    .asText().equalsIgnoreCase(target.resource().id())) {
                return true;
            }
        }
        return false;
    }

    private static ObjectNode withEtag(StoredResource r) {
        ObjectNode body = r.bodyCopy();
        body.put("etag", ArmResources.etag(r.etag()));
        return body;
    }
}
