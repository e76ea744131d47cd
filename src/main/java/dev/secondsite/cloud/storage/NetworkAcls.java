package dev.secondsite.cloud.storage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.network.ArmResources;
import dev.secondsite.cloud.network.Cidr;
import dev.secondsite.cloud.network.Ipv4;
import dev.secondsite.cloud.network.NetworkTypes;
import dev.secondsite.resource.StoredResource;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The storage account firewall ({@code properties.networkAcls}): the default action, the exceptions
 * ({@code bypass}: "AzureServices" is the portal's "Allow trusted Microsoft services to access this storage
 * account", seed 003), and the IP and virtual network rules that are let through when the default is Deny.
 */
final class NetworkAcls {
    static final String FIELD = "properties.networkAcls";
    private static final List<String> BYPASS = List.of("None", "Logging", "Metrics", "AzureServices");
    private static final String FAILURE = "NetworkAclsValidationFailure";

    private NetworkAcls() {}

    /** What a new account gets when the request has no networkAcls: everything allowed, trusted services too. */
    static ObjectNode defaults() {
        ObjectNode acls = Json.object();
        acls.put("bypass", "AzureServices");
        acls.putArray("virtualNetworkRules");
        acls.putArray("ipRules");
        acls.put("defaultAction", "Allow");
        return acls;
    }

    /**
     * Reads a networkAcls object. {@code subnets} finds a subnet by id: a virtual network rule must name an
     * existing subnet with the Microsoft.Storage service endpoint (unless ignoreMissingVnetServiceEndpoint).
     */
    static ObjectNode read(Fields acls, Function<String, Optional<StoredResource>> subnets) {
        ObjectNode out = Json.object();
        out.put("bypass", bypass(acls.string("bypass").orElse("AzureServices")));
        ArrayNode vnetRules = out.putArray("virtualNetworkRules");
        ArrayNode rawVnetRules = ArmResources.array(acls, "virtualNetworkRules");
        for (int i = 0; i < rawVnetRules.size(); i++) {
            Fields rule = Fields.of(rawVnetRules.get(i), acls.path("virtualNetworkRules") + "[" + i + "]");
            vnetRules.add(vnetRule(rule, subnets));
        }
        ArrayNode ipRules = out.putArray("ipRules");
        ArrayNode rawIpRules = ArmResources.array(acls, "ipRules");
        for (int i = 0; i < rawIpRules.size(); i++) {
            Fields rule = Fields.of(rawIpRules.get(i), acls.path("ipRules") + "[" + i + "]");
            ipRules.add(ipRule(rule));
        }
        JsonNode access = acls.raw("resourceAccessRules");
        if (access.isArray()) {
            out.set("resourceAccessRules", access.deepCopy());
        }
        String defaultAction = acls.oneOf("defaultAction", List.of("Allow", "Deny"))
                .orElseThrow(() -> ArmException.missingField(acls.path("defaultAction")));
        out.put("defaultAction", defaultAction);
        return out;
    }

    /** "AzureServices, Logging" style: a comma-separated set; None stands alone. */
    private static String bypass(String raw) {
        Set<String> values = new LinkedHashSet<>();
        for (String part : raw.split(",")) {
            String v = part.strip();
            String canonical = BYPASS.stream().filter(b -> b.equalsIgnoreCase(v)).findFirst().orElseThrow(() ->
                    new ArmException(400, FAILURE, "Field '" + FIELD + ".bypass': '" + v + "' is not one of "
                            + String.join(", ", BYPASS) + " (combine them with commas).", FIELD + ".bypass", List.of()));
            values.add(canonical);
        }
        if (values.contains("None") && values.size() > 1) {
            throw new ArmException(400, FAILURE, "Field '" + FIELD + ".bypass': None cannot be combined with "
                    + "other exceptions.", FIELD + ".bypass", List.of());
        }
        return String.join(", ", values);
    }

    private static ObjectNode vnetRule(Fields rule, Function<String, Optional<StoredResource>> subnets) {
        String field = rule.path("id");
        String id = rule.string("id").orElseThrow(() -> ArmException.missingField(field));
        rule.oneOf("action", List.of("Allow")).ifPresent(a -> { });
        if (NetworkTypes.vnetOfSubnet(id) == null) {
            throw failure(field, "'" + id + "' is not a subnet id (…/virtualNetworks/{v}/subnets/{s}).");
        }
        StoredResource subnet = subnets.apply(id).orElseThrow(() -> failure(field,
                "subnet " + id + " does not exist (SubnetsNotProvisioned)."));
        boolean ignoreMissing = ArmResources.bool(rule, "ignoreMissingVnetServiceEndpoint").orElse(false);
        boolean hasEndpoint = false;
        for (JsonNode endpoint : subnet.properties().path("serviceEndpoints")) {
            String service = endpoint.path("service").asText().toLowerCase(Locale.ROOT);
            hasEndpoint |= service.equals("microsoft.storage") || service.equals("microsoft.storage.global");
        }
        if (!hasEndpoint && !ignoreMissing) {
            throw failure(field, "subnet " + id + " has no Microsoft.Storage service endpoint "
                    + "(SubnetsHaveNoServiceEndpointsConfigured). Add the service endpoint to the subnet, or set "
                    + "ignoreMissingVnetServiceEndpoint.");
        }
        ObjectNode out = Json.object();
        out.put("id", subnet.id());
        out.put("action", "Allow");
        out.put("state", "Succeeded");
        if (ignoreMissing) {
            out.put("ignoreMissingVnetServiceEndpoint", true);
        }
        return out;
    }

    /** A public IPv4 address or range; private ranges and /31, /32 (use the address) are refused, as in Azure. */
    private static ObjectNode ipRule(Fields rule) {
        String field = rule.path("value");
        String value = rule.string("value").orElseThrow(() -> ArmException.missingField(field));
        rule.oneOf("action", List.of("Allow")).ifPresent(a -> { });
        List<Long> starts = new ArrayList<>();
        String canonical;
        if (value.contains("/")) {
            Cidr cidr;
            try {
                cidr = Cidr.parse(value, field, 0, 30);
            } catch (ArmException e) {
                throw failure(field, "'" + value + "' is not a valid address range: " + e.getMessage()
                        + " Ranges must be /30 or larger; give single addresses without a prefix.");
            }
            starts.add(cidr.base());
            starts.add(cidr.last());
            canonical = cidr.toString();
        } else {
            long address = Ipv4.parse(value).orElseThrow(() -> failure(field,
                    "'" + value + "' is not an IPv4 address or CIDR range."));
            starts.add(address);
            canonical = Ipv4.format(address);
        }
        for (long a : starts) {
            if (Ipv4.isPrivate(a)) {
                throw failure(field, "'" + value + "' is in a private address range (10.0.0.0/8, 172.16.0.0/12, "
                        + "192.168.0.0/16); IP rules only take public addresses. Use virtual network rules for private "
                        + "networks.");
            }
        }
        ObjectNode out = Json.object();
        out.put("value", canonical);
        out.put("action", "Allow");
        return out;
    }

    private static ArmException failure(String field, String message) {
        return new ArmException(400, FAILURE, "Validation of network acls failure: field '" + field + "': " + message,
                field, List.of());
    }
}
