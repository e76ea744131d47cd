package dev.secondsite.cloud.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Body pieces every local-cloud resource shares: location, tags, lists, names, booleans. */
public final class ArmResources {
    private static final int TAGS_MAX = 50;

    private ArmResources() {}

    /** The required top-level location, normalized ("West US" is westus); 400 LocationRequired when missing. */
    public static Region location(Fields body) {
        String location = body.string("location").orElseThrow(() -> new ArmException(400, "LocationRequired",
                "The location property is required for this definition.", "location", List.of()));
        return Regions.require(location, "location");
    }

    /** ARM tags: at most 50, names of 1-512 characters without {@code <>%&\?/}, string values up to 256. */
    public static ObjectNode tags(Fields body) {
        ObjectNode tags = Json.object();
        if (!body.has("tags")) {
            return tags;
        }
        JsonNode raw = body.raw("tags");
        if (!raw.isObject()) {
            throw ArmException.invalidField("tags", "must be an object of string values.");
        }
        if (raw.size() > TAGS_MAX) {
            throw ArmException.invalidField("tags", "has " + raw.size() + " tags; at most " + TAGS_MAX + " are allowed.");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = raw.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().isEmpty() || e.getKey().length() > 512 || e.getKey().matches(".*[<>%&\\\\?/].*")) {
                throw ArmException.invalidField("tags", "tag name '" + e.getKey()
                        + "' must be 1-512 characters without < > % & \\ ? /.");
            }
            if (!e.getValue().isTextual() || e.getValue().asText().length() > 256) {
                throw ArmException.invalidField("tags." + e.getKey(), "must be a string of at most 256 characters.");
            }
            tags.put(e.getKey(), e.getValue().asText());
        }
        return tags;
    }

    /** A JSON boolean (or "true"/"false"), with the field named when it is anything else. */
    public static Optional<Boolean> bool(Fields fields, String field) {
        JsonNode v = fields.raw(field);
        if (v.isMissingNode() || v.isNull()) {
            return Optional.empty();
        }
        if (v.isBoolean()) {
            return Optional.of(v.asBoolean());
        }
        if (v.isTextual() && (v.asText().equalsIgnoreCase("true") || v.asText().equalsIgnoreCase("false"))) {
            return Optional.of(Boolean.parseBoolean(v.asText()));
        }
        throw ArmException.invalidField(fields.path(field), "must be true or false, got " + v + ".");
    }

    /** The array at a field (empty when absent); 400 naming the field when it is not an array. */
    public static ArrayNode array(Fields fields, String field) {
        JsonNode v = fields.raw(field);
        if (v.isMissingNode() || v.isNull()) {
            return Json.MAPPER.createArrayNode();
        }
        if (!v.isArray()) {
            throw ArmException.invalidField(fields.path(field), "must be an array.");
        }
        return (ArrayNode) v;
    }

    /** {"value": [...]} */
    public static ObjectNode collection(List<ObjectNode> items) {
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        items.forEach(value::add);
        return list;
    }

    /** A resource name check with ARM's InvalidResourceName error. */
    public static void checkName(String name, Pattern pattern, String what, String rule) {
        if (name == null || !pattern.matcher(name).matches()) {
            throw new ArmException(400, "InvalidResourceName", "Resource name '" + name + "' is invalid for a " + what
                    + ": " + rule, "name", List.of());
        }
    }

    /** The weak etag network resources carry: W/"...". */
    public static String etag(String storedEtag) {
        return "W/\"" + storedEtag + "\"";
    }
}
