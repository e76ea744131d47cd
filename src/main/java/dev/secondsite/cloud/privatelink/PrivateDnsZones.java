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
import dev.secondsite.cloud.network.Ipv4;
import dev.secondsite.cloud.network.NetworkTypes;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.VaultScope;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Private DNS zones (Microsoft.Network/privateDnsZones, location "global") with their virtual network links and
 * A record sets, as the privatedns API and SDK drive them: enough for seed 003's
 * privatelink.siterecovery.windowsazure.com zone, linked to the source and recovery networks, holding one A
 * record per private endpoint FQDN (written by hand or by an endpoint's DNS zone group, {@link DnsZoneGroups}).
 * Records and links are rows under the zone, so deleting the zone deletes them; a zone that still has links
 * can't be deleted (Azure refuses too).
 */
public final class PrivateDnsZones {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");
    private static final Pattern LINK_NAME = Pattern.compile("^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9_])?$");
    private static final String GLOBAL = "global";
    private static final int DEFAULT_TTL = 3600;
    private static final long TTL_MAX = 2_147_483_647L;
    /** Azure's published limits per zone. */
    private static final int RECORD_SETS_MAX = 25_000;
    private static final int LINKS_MAX = 1_000;
    private static final int REGISTRATION_LINKS_MAX = 100;

    private final ResourceStore resources;
    private final VaultScope scope;

    public PrivateDnsZones(ResourceStore resources, VaultScope scope) {
        this.resources = resources;
        this.scope = scope;
    }

    // ---- zones ----

    public ArmResponse putZone(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name().toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
        checkZoneName(name);
        Fields body = Fields.of(request.bodyObject(), "");
        checkGlobal(body);
        ObjectNode tags = ArmResources.tags(body);
        String id = group.id() + "/providers/" + PrivateLinkTypes.DNS_ZONE + "/" + name;
        Optional<StoredResource> existing = resources.find(id);
        ObjectNode zone = existing.map(StoredResource::bodyCopy).orElseGet(() -> {
            ObjectNode z = Json.object();
            z.put("id", id);
            z.put("name", name);
            z.put("type", PrivateLinkTypes.DNS_ZONE);
            z.put("location", GLOBAL);
            ObjectNode p = z.putObject("properties");
            p.put("provisioningState", "Succeeded");
            p.put("internalId", UUID.randomUUID().toString());
            p.put("maxNumberOfRecordSets", RECORD_SETS_MAX);
            p.put("maxNumberOfVirtualNetworkLinks", LINKS_MAX);
            p.put("maxNumberOfVirtualNetworkLinksWithRegistration", REGISTRATION_LINKS_MAX);
            return z;
        });
        zone.set("tags", tags);
        StoredResource stored = resources.put(id, group.id(), PrivateLinkTypes.DNS_ZONE, name, group.id().split("/")[2],
                zone);
        return existing.isPresent() ? ArmResponse.ok(renderZone(stored)) : ArmResponse.created(renderZone(stored));
    }

    public ArmResponse getZone(ArmRequest request) {
        return ArmResponse.ok(renderZone(requireZone(request)));
    }

    public ArmResponse listZones(ArmRequest request) {
        return ArmResponse.ok(ArmResources.collection(scope.listInScope(request.path(), PrivateLinkTypes.DNS_ZONE)
                .stream().map(this::renderZone).toList()));
    }

    public ArmResponse deleteZone(ArmRequest request) {
        scope.requireGroup(request.path());
        Optional<StoredResource> zone = resources.find(request.path().resourceId());
        if (zone.isEmpty()) {
            return ArmResponse.noContent();
        }
        int links = resources.children(zone.get().id(), PrivateLinkTypes.VNET_LINK).size();
        if (links > 0) {
            throw ArmException.conflict("PrivateDnsZoneHasVirtualNetworkLinks", "Private DNS zone '" + zone.get().name()
                    + "' has " + links + " virtual network link(s); delete them before deleting the zone.");
        }
        resources.delete(zone.get().id());
        return ArmResponse.ok(null);
    }

    /** The counts the zone reports are read from its rows; the SOA record Azure creates counts as one. */
    private ObjectNode renderZone(StoredResource zone) {
        ObjectNode body = zone.bodyCopy();
        body.put("etag", zone.etag());
        ObjectNode p = (ObjectNode) body.path("properties");
        List<StoredResource> links = resources.children(zone.id(), PrivateLinkTypes.VNET_LINK);
        p.put("numberOfRecordSets", 1 + resources.children(zone.id(), PrivateLinkTypes.A_RECORD).size());
        p.put("numberOfVirtualNetworkLinks", links.size());
        p.put("numberOfVirtualNetworkLinksWithRegistration", links.stream()
                .filter(l -> l.properties().path("registrationEnabled").asBoolean()).count());
        return body;
    }

    // ---- virtual network links ----

    public ArmResponse putLink(ArmRequest request) {
        StoredResource zone = requireZone(request);
        String name = request.path().name();
        ArmResources.checkName(name, LINK_NAME, "virtual network link", "use 1-80 letters, digits, '.', '-' or '_'.");
        Fields body = Fields.of(request.bodyObject(), "");
        checkGlobal(body);
        ObjectNode tags = ArmResources.tags(body);
        Fields props = body.object("properties");
        if (!props.object("virtualNetwork").has("id")) {
            throw ArmException.missingField("properties.virtualNetwork.id");
        }
        String vnetId = props.object("virtualNetwork").requiredString("id");
        StoredResource vnet = resources.find(vnetId).filter(r -> r.typeKey().equalsIgnoreCase(NetworkTypes.VNET))
                .orElseThrow(() -> new ArmException(400, "InvalidResourceReference", "Virtual network '" + vnetId
                        + "' was not found.", "properties.virtualNetwork.id", List.of()));
        boolean registration = ArmResources.bool(props, "registrationEnabled").orElse(false);
        String id = zone.id() + "/virtualNetworkLinks/" + name;
        for (StoredResource other : resources.children(zone.id(), PrivateLinkTypes.VNET_LINK)) {
            if (!other.id().equalsIgnoreCase(id)
                    && other.properties().at("/virtualNetwork/id").asText().equalsIgnoreCase(vnet.id())) {
                throw ArmException.conflict("VirtualNetworkAlreadyLinked", "Virtual network '" + vnet.id()
                        + "' is already linked to private DNS zone '" + zone.name() + "' by link '" + other.name() + "'.");
            }
        }
        Optional<StoredResource> existing = resources.find(id);
        ObjectNode link = Json.object();
        link.put("id", existing.map(StoredResource::id).orElse(id));
        link.put("name", existing.map(StoredResource::name).orElse(name));
        link.put("type", PrivateLinkTypes.VNET_LINK);
        link.put("location", GLOBAL);
        link.set("tags", tags);
        ObjectNode p = link.putObject("properties");
        p.putObject("virtualNetwork").put("id", vnet.id());
        p.put("registrationEnabled", registration);
        p.put("virtualNetworkLinkState", "Completed");
        p.put("provisioningState", "Succeeded");
        StoredResource stored = resources.put(link.path("id").asText(), zone.id(), PrivateLinkTypes.VNET_LINK,
                link.path("name").asText(), zone.id().split("/")[2], link);
        return existing.isPresent() ? ArmResponse.ok(withEtag(stored)) : ArmResponse.created(withEtag(stored));
    }

    public ArmResponse getLink(ArmRequest request) {
        return ArmResponse.ok(withEtag(requireChild(request, "Virtual network link")));
    }

    public ArmResponse listLinks(ArmRequest request) {
        return ArmResponse.ok(ArmResources.collection(resources.children(requireZone(request).id(),
                PrivateLinkTypes.VNET_LINK).stream().map(PrivateDnsZones::withEtag).toList()));
    }

    public ArmResponse deleteLink(ArmRequest request) {
        return deleteChild(request);
    }

    // ---- A record sets ----

    public ArmResponse putRecord(ArmRequest request) {
        StoredResource zone = requireZone(request);
        String name = request.path().name().toLowerCase(Locale.ROOT);
        if (!name.equals("@")) {
            for (String label : name.split("\\.", -1)) {
                if (!LABEL.matcher(label).matches()) {
                    throw ArmException.badRequest("InvalidRecordSetName", "Record set name '" + name + "' is invalid: "
                            + "use '@' or dot-separated labels of 1-63 letters, digits, '-' or '_'.");
                }
            }
        }
        Fields props = Fields.of(request.bodyObject(), "").object("properties");
        long ttl = props.raw("ttl").isMissingNode() ? DEFAULT_TTL : props.raw("ttl").asLong(-1);
        if (ttl < 0 || ttl > TTL_MAX) {
            throw ArmException.invalidField("properties.ttl", "must be a number of seconds from 0 to " + TTL_MAX + ".");
        }
        ArrayNode raw = ArmResources.array(props, "aRecords");
        if (raw.isEmpty()) {
            throw ArmException.invalidField("properties.aRecords", "give at least one A record ({\"ipv4Address\": …}).");
        }
        List<String> addresses = new java.util.ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            Fields r = Fields.of(raw.get(i), "properties.aRecords[" + i + "]");
            String text = r.requiredString("ipv4Address");
            addresses.add(Ipv4.format(Ipv4.parse(text).orElseThrow(() -> ArmException.invalidField(
                    r.path("ipv4Address"), "'" + text + "' is not an IPv4 address."))));
        }
        JsonNode metadata = props.raw("metadata");
        boolean created = resources.find(zone.id() + "/A/" + name).isEmpty();
        StoredResource stored = writeRecord(resources, zone, name, ttl, addresses,
                metadata.isObject() ? (ObjectNode) metadata : Json.object());
        return created ? ArmResponse.created(withEtag(stored)) : ArmResponse.ok(withEtag(stored));
    }

    public ArmResponse getRecord(ArmRequest request) {
        return ArmResponse.ok(withEtag(requireChild(request, "Record set")));
    }

    public ArmResponse listRecords(ArmRequest request) {
        return ArmResponse.ok(ArmResources.collection(resources.children(requireZone(request).id(),
                PrivateLinkTypes.A_RECORD).stream().map(PrivateDnsZones::withEtag).toList()));
    }

    public ArmResponse deleteRecord(ArmRequest request) {
        return deleteChild(request);
    }

    /** Creates or replaces an A record set (also used by DNS zone groups, inside their transaction). */
    static StoredResource writeRecord(ResourceStore resources, StoredResource zone, String name, long ttl,
                                      List<String> addresses, ObjectNode metadata) {
        String id = zone.id() + "/A/" + name;
        ObjectNode r = Json.object();
        r.put("id", id);
        r.put("name", name);
        r.put("type", PrivateLinkTypes.A_RECORD);
        ObjectNode p = r.putObject("properties");
        p.set("metadata", metadata);
        p.put("ttl", ttl);
        p.put("fqdn", (name.equals("@") ? "" : name + ".") + zone.name() + ".");
        p.put("isAutoRegistered", false);
        ArrayNode a = p.putArray("aRecords");
        addresses.forEach(ip -> a.addObject().put("ipv4Address", ip));
        return resources.put(id, zone.id(), PrivateLinkTypes.A_RECORD, name, zone.id().split("/")[2], r);
    }

    StoredResource requireZone(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name(0);
        return resources.find(group.id() + "/providers/" + PrivateLinkTypes.DNS_ZONE + "/" + name)
                .orElseThrow(() -> new ArmException(404, "ParentResourceNotFound", "Private DNS zone '" + name
                        + "' under resource group '" + group.name() + "' was not found."));
    }

    private StoredResource requireChild(ArmRequest request, String what) {
        requireZone(request);
        return resources.find(request.path().resourceId()).orElseThrow(() -> new ArmException(404, "NotFound",
                what + " '" + request.path().name() + "' was not found."));
    }

    private ArmResponse deleteChild(ArmRequest request) {
        requireZone(request);
        return resources.delete(request.path().resourceId()) ? ArmResponse.ok(null) : ArmResponse.noContent();
    }

    private static ObjectNode withEtag(StoredResource r) {
        ObjectNode body = r.bodyCopy();
        body.put("etag", r.etag());
        return body;
    }

    private static void checkGlobal(Fields body) {
        body.string("location").filter(l -> !l.equalsIgnoreCase(GLOBAL)).ifPresent(l -> {
            throw ArmException.invalidField("location", "private DNS resources are global; use \"global\", not '"
                    + l + "'.");
        });
    }

    private static void checkZoneName(String name) {
        String[] labels = name.split("\\.", -1);
        boolean ok = labels.length >= 2 && name.length() <= 253;
        for (String label : labels) {
            ok &= LABEL.matcher(label).matches();
        }
        if (!ok) {
            throw ArmException.badRequest("InvalidResourceName", "Private DNS zone name '" + name + "' is invalid: use "
                    + "at least two dot-separated labels of 1-63 letters, digits, '-' or '_', at most 253 characters.");
        }
    }
}
