package dev.secondsite.cloud.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.NavigableSet;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * A subnet as a request defines it (inline in a virtual network or on its own): its name, one or more
 * address prefixes and the settings we keep as given. Also the address arithmetic of a subnet: which
 * addresses are usable (Azure reserves the first four and the last of each prefix) and which is next free.
 *
 * @param properties the stored "properties" object (address prefixes and settings, no computed fields)
 */
public record SubnetSpec(String name, List<Cidr> prefixes, ObjectNode properties) {
    /** 1-80 characters: letters, digits, '.', '-', '_'; starts with a letter or digit; ends with one or '_'. */
    static final Pattern NAME = Pattern.compile("^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9_])?$");
    static final String NAME_RULE = "use 1-80 letters, digits, '.', '-' or '_', starting with a letter or digit and "
            + "ending with a letter, digit or '_'.";
    /** Azure's IPv4 subnet sizes: from /2 to /29 (a /29 has 3 usable addresses). */
    static final int PREFIX_MIN = 2;
    static final int PREFIX_MAX = 29;
    private static final List<String> NETWORK_POLICIES = List.of("Enabled", "Disabled", "NetworkSecurityGroupEnabled",
            "RouteTableEnabled");

    /**
     * Reads a subnet's properties. {@code path} is the field path of the properties object, e.g.
     * "properties.subnets[0].properties" or "properties".
     */
    static SubnetSpec parse(String name, Fields props, String path) {
        if (!NAME.matcher(name == null ? "" : name).matches()) {
            String field = path.endsWith("].properties") ? path.substring(0, path.length() - ".properties".length()) + ".name"
                    : "name";
            throw new ArmException(400, "InvalidResourceName", "Subnet name '" + name + "' is invalid: " + NAME_RULE,
                    field, List.of());
        }
        if (!props.present()) {
            throw ArmException.missingField(path + ".addressPrefix");
        }
        ObjectNode stored = Json.object();
        List<Cidr> prefixes = new ArrayList<>();
        if (props.has("addressPrefix")) {
            String field = props.path("addressPrefix");
            Cidr cidr = Cidr.parse(props.requiredString("addressPrefix"), field, PREFIX_MIN, PREFIX_MAX);
            prefixes.add(cidr);
            stored.put("addressPrefix", cidr.toString());
        } else if (props.has("addressPrefixes")) {
            ArrayNode raw = ArmResources.array(props, "addressPrefixes");
            if (raw.isEmpty()) {
                throw ArmException.invalidField(props.path("addressPrefixes"), "must hold at least one address prefix.");
            }
            ArrayNode out = stored.putArray("addressPrefixes");
            for (int i = 0; i < raw.size(); i++) {
                String field = props.path("addressPrefixes") + "[" + i + "]";
                if (!raw.get(i).isTextual()) {
                    throw ArmException.invalidField(field, "must be a string.");
                }
                Cidr cidr = Cidr.parse(raw.get(i).asText(), field, PREFIX_MIN, PREFIX_MAX);
                for (int j = 0; j < prefixes.size(); j++) {
                    if (prefixes.get(j).overlaps(cidr)) {
                        throw Cidr.error(400, "NetcfgSubnetRangesOverlap", field, "Subnet '" + name + "' is not valid "
                                + "because its address prefix " + cidr + " overlaps with its own prefix " + prefixes.get(j) + ".");
                    }
                }
                prefixes.add(cidr);
                out.add(cidr.toString());
            }
        } else {
            throw ArmException.missingField(path + ".addressPrefix");
        }
        ArrayNode endpoints = ArmResources.array(props, "serviceEndpoints");
        ArrayNode storedEndpoints = stored.putArray("serviceEndpoints");
        for (int i = 0; i < endpoints.size(); i++) {
            Fields endpoint = Fields.of(endpoints.get(i), props.path("serviceEndpoints") + "[" + i + "]");
            String service = endpoint.requiredString("service");
            if (!service.matches("^Microsoft\\.[A-Za-z.]+$")) {
                throw ArmException.invalidField(endpoint.path("service"), "'" + service
                        + "' is not a service endpoint name such as Microsoft.Storage.");
            }
            ObjectNode e = storedEndpoints.addObject();
            e.put("service", service);
            ArrayNode locations = e.putArray("locations");
            ArmResources.array(endpoint, "locations").forEach(l -> locations.add(l.asText()));
            if (locations.isEmpty()) {
                locations.add("*");
            }
            e.put("provisioningState", "Succeeded");
        }
        stored.put("privateEndpointNetworkPolicies",
                props.oneOf("privateEndpointNetworkPolicies", NETWORK_POLICIES).orElse("Disabled"));
        stored.put("privateLinkServiceNetworkPolicies",
                props.oneOf("privateLinkServiceNetworkPolicies", List.of("Enabled", "Disabled")).orElse("Enabled"));
        ArmResources.bool(props, "defaultOutboundAccess").ifPresent(v -> stored.put("defaultOutboundAccess", v));
        for (String passThrough : List.of("networkSecurityGroup", "routeTable", "natGateway")) {
            props.objectNode(passThrough).ifPresent(v -> stored.set(passThrough, v));
        }
        JsonNode delegations = ArmResources.array(props, "delegations");
        stored.set("delegations", delegations.deepCopy());
        return new SubnetSpec(name, List.copyOf(prefixes), stored);
    }

    /** The address prefixes of a stored subnet's properties. */
    static List<Cidr> prefixesOf(JsonNode properties) {
        List<Cidr> prefixes = new ArrayList<>();
        if (properties.path("addressPrefix").isTextual()) {
            prefixes.add(Cidr.of(properties.path("addressPrefix").asText()));
        }
        for (JsonNode p : properties.path("addressPrefixes")) {
            prefixes.add(Cidr.of(p.asText()));
        }
        return prefixes;
    }

    public String nameKey() {
        return name.toLowerCase(Locale.ROOT);
    }

    /** Addresses a NIC can get: every prefix's size minus its five reserved addresses. */
    public static long usableCount(List<Cidr> prefixes) {
        return prefixes.stream().mapToLong(Cidr::usableCount).sum();
    }

    public static boolean contains(List<Cidr> prefixes, long address) {
        return Cidr.containing(prefixes, address) != null;
    }

    public static boolean isReserved(List<Cidr> prefixes, long address) {
        Cidr c = Cidr.containing(prefixes, address);
        return c != null && c.isReserved(address);
    }

    /** The lowest usable address not in {@code taken}, prefix by prefix; empty when the subnet is full. */
    public static OptionalLong nextFree(List<Cidr> prefixes, NavigableSet<Long> taken) {
        for (Cidr c : prefixes) {
            long candidate = c.firstUsable();
            for (long t : taken.subSet(c.firstUsable(), true, c.lastUsable(), true)) {
                if (t == candidate) {
                    candidate++;
                } else {
                    break;
                }
            }
            if (candidate <= c.lastUsable()) {
                return OptionalLong.of(candidate);
            }
        }
        return OptionalLong.empty();
    }

    /** Up to {@code count} free usable addresses after {@code from}, wrapping around to the subnet's start. */
    public static List<Long> freeAfter(List<Cidr> prefixes, NavigableSet<Long> taken, long from, int count) {
        List<Long> free = new ArrayList<>();
        List<long[]> ranges = new ArrayList<>();
        for (Cidr c : prefixes) {
            if (c.usableCount() > 0) {
                ranges.add(new long[] {c.firstUsable(), c.lastUsable()});
            }
        }
        // Two passes: addresses after `from`, then from the start of each range up to `from`.
        for (int pass = 0; pass < 2 && free.size() < count; pass++) {
            for (long[] r : ranges) {
                long start = pass == 0 ? Math.max(r[0], from + 1) : r[0];
                long end = pass == 0 ? r[1] : Math.min(r[1], from - 1);
                for (long a = start; a <= end && free.size() < count; a++) {
                    if (!taken.contains(a)) {
                        free.add(a);
                    }
                }
            }
        }
        return free;
    }
}
