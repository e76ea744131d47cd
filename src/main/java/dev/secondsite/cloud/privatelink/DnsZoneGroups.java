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
import dev.secondsite.cloud.network.Transactions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.Operation;
import dev.secondsite.rules.PrivateEndpointFacts;
import dev.secondsite.rules.RuleCatalogue;
import org.jdbi.v3.core.Jdbi;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * DNS zone groups of a private endpoint (privateEndpoints/{pe}/privateDnsZoneGroups/{name}): the portal's
 * "integrate with private DNS zone". Writing one puts an A record per endpoint FQDN into the chosen zone (name:
 * the FQDN less the zone, TTL 10 like Azure's) and lists them under privateDnsZoneConfigs[].properties.recordSets;
 * deleting the group (or the endpoint) deletes those records.
 *
 * <p>Seed 003: each private endpoint of a vault needs its own zone, as a shared zone's records would be
 * overwritten. That is judged here, at {@link Operation#LINK_PRIVATE_DNS_ZONE}, where the zone is chosen: the
 * zone is "used by the vault" when a zone group of another endpoint of the same vault names it.
 */
public final class DnsZoneGroups {
    /** The TTL Azure gives records of private endpoint DNS integration. */
    static final int RECORD_TTL = 10;

    private final ResourceStore resources;
    private final Jdbi jdbi;
    private final PrivateEndpoints endpoints;

    public DnsZoneGroups(ResourceStore resources, Jdbi jdbi, PrivateEndpoints endpoints) {
        this.resources = resources;
        this.jdbi = jdbi;
        this.endpoints = endpoints;
    }

    public ArmResponse put(ArmRequest request) {
        StoredResource pe = endpoints.require(request);
        String name = request.path().name();
        ArrayNode raw = ArmResources.array(Fields.of(request.bodyObject(), "").object("properties"), "privateDnsZoneConfigs");
        if (raw.size() != 1) {
            // Azure takes up to five zones, one per sub-resource FQDN family; our targets have one family each.
            throw ArmException.invalidField("properties.privateDnsZoneConfigs", "give exactly one zone config; "
                    + raw.size() + " are given.");
        }
        String field = "properties.privateDnsZoneConfigs[0]";
        Fields config = Fields.of(raw.get(0), field);
        String configName = config.string("name").orElse("config1");
        String zoneId = config.object("properties").string("privateDnsZoneId")
                .orElseThrow(() -> ArmException.missingField(field + ".properties.privateDnsZoneId"));
        for (StoredResource other : resources.children(pe.id(), PrivateLinkTypes.ZONE_GROUP)) {
            if (!other.name().equalsIgnoreCase(name)) {
                throw ArmException.conflict("PrivateDnsZoneGroupExists", "Private endpoint '" + pe.name()
                        + "' already has DNS zone group '" + other.name() + "'; an endpoint has one.");
            }
        }
        return Transactions.run(jdbi, h -> {
            StoredResource zone = resources.find(zoneId).filter(z -> z.typeKey().equalsIgnoreCase(PrivateLinkTypes.DNS_ZONE))
                    .orElseThrow(() -> new ArmException(400, "InvalidResourceReference", "Private DNS zone '" + zoneId
                            + "' was not found.", field + ".properties.privateDnsZoneId", List.of()));
            Transactions.lock(h, zone.id()); // two endpoints of one vault must not both find the zone unused
            PrivateLinkTargets.Target target = endpoints.targetOf(pe);
            if (!zone.name().equalsIgnoreCase(target.dnsZone())) {
                throw new ArmException(400, "PrivateDnsZoneDoesNotMatch", "Private endpoint '" + pe.name() + "' to "
                        + target.groupId() + " resolves in zone '" + target.dnsZone() + "', not '" + zone.name() + "'.",
                        field + ".properties.privateDnsZoneId", List.of());
            }
            PrivateEndpointFacts facts = endpoints.facts(pe, usedByAnotherEndpoint(pe, target, zone));
            RuleCatalogue.enforce(Operation.LINK_PRIVATE_DNS_ZONE, facts);

            String id = pe.id() + "/privateDnsZoneGroups/" + name;
            resources.find(id).ifPresent(old -> deleteRecords(resources, old));
            ObjectNode group = Json.object();
            group.put("id", id);
            group.put("name", name);
            group.put("type", PrivateLinkTypes.ZONE_GROUP);
            ObjectNode p = group.putObject("properties");
            p.put("provisioningState", "Succeeded");
            ObjectNode c = p.putArray("privateDnsZoneConfigs").addObject();
            c.put("name", configName);
            ObjectNode cp = c.putObject("properties");
            cp.put("privateDnsZoneId", zone.id());
            ArrayNode sets = cp.putArray("recordSets");
            String suffix = "." + zone.name().toLowerCase(Locale.ROOT);
            for (JsonNode dns : pe.properties().path("customDnsConfigs")) {
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
            boolean created = resources.find(id).isEmpty();
            StoredResource stored = resources.put(id, pe.id(), PrivateLinkTypes.ZONE_GROUP, name, pe.id().split("/")[2],
                    group);
            return created ? ArmResponse.created(withEtag(stored)) : ArmResponse.ok(withEtag(stored));
        });
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
            boolean sameZone = group.properties().at("/privateDnsZoneConfigs/0/properties/privateDnsZoneId").asText()
                    .equalsIgnoreCase(zone.id());
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
