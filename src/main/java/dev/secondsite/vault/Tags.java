package dev.secondsite.vault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;

import java.util.Iterator;
import java.util.Map;

/** ARM tags: at most 50 pairs, names up to 512 characters, values up to 256, all strings. */
final class Tags {
    static final int TAGS_MAX = 50;

    private Tags() {}

    static ObjectNode read(Fields body) {
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
}
