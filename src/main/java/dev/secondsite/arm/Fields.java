package dev.secondsite.arm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Optional;

/**
 * Reads fields of a request body with exact errors: each failure names the field by its full path
 * (e.g. "properties.providerSpecificInput.recoveryPointHistory") so the user knows what to fix.
 */
public final class Fields {
    private final JsonNode node;
    private final String path;

    private Fields(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    public static Fields of(JsonNode node, String path) {
        if (node != null && !node.isMissingNode() && !node.isNull() && !node.isObject()) {
            throw ArmException.invalidField(path, "must be a JSON object.");
        }
        return new Fields(node == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : node, path);
    }

    public boolean present() {
        return !node.isMissingNode() && !node.isNull();
    }

    public boolean has(String field) {
        JsonNode v = node.path(field);
        return !v.isMissingNode() && !v.isNull();
    }

    public String path(String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    public Fields object(String field) {
        return of(node.path(field), path(field));
    }

    public Optional<ObjectNode> objectNode(String field) {
        return has(field) ? Optional.of((ObjectNode) object(field).node) : Optional.empty();
    }

    public JsonNode raw(String field) {
        return node.path(field);
    }

    public Optional<String> string(String field) {
        JsonNode v = node.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return Optional.empty();
        }
        if (!v.isTextual()) {
            throw ArmException.invalidField(path(field), "must be a string, got " + v.getNodeType().name().toLowerCase() + ".");
        }
        return Optional.of(v.asText());
    }

    public String requiredString(String field) {
        String value = string(field).orElseThrow(() -> ArmException.missingField(path(field)));
        if (value.isBlank()) {
            throw ArmException.invalidField(path(field), "must not be empty.");
        }
        return value;
    }

    /** One of the allowed values, compared without case; returns the allowed spelling. */
    public Optional<String> oneOf(String field, List<String> allowed) {
        return string(field).map(v -> allowed.stream().filter(a -> a.equalsIgnoreCase(v)).findFirst()
                .orElseThrow(() -> ArmException.invalidField(path(field),
                        "'" + v + "' is not one of " + String.join(", ", allowed) + ".")));
    }

    /** A whole number within [min, max]; strings holding digits are accepted, as ARM's deserializer does. */
    public Optional<Integer> integer(String field, int min, int max) {
        JsonNode v = node.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return Optional.empty();
        }
        long value;
        if (v.isIntegralNumber() && !v.canConvertToLong()) {
            // asLong() would keep only the low 64 bits: 2^64 + 1440 must not read as 1440.
            throw ArmException.invalidField(path(field), "must be between " + min + " and " + max + ", got " + v + ".");
        }
        if (v.isIntegralNumber()) {
            value = v.asLong();
        } else if (v.isTextual() && v.asText().matches("-?\\d{1,10}")) {
            value = Long.parseLong(v.asText());
        } else {
            throw ArmException.invalidField(path(field), "must be a whole number, got " + v + ".");
        }
        if (value < min || value > max) {
            throw ArmException.invalidField(path(field), "must be between " + min + " and " + max + ", got " + value + ".");
        }
        return Optional.of((int) value);
    }

    /** A string-valued boolean ("true"/"false"), as many ASR inputs model booleans. */
    public Optional<String> booleanString(String field) {
        JsonNode v = node.path(field);
        if (v.isBoolean()) {
            return Optional.of(Boolean.toString(v.asBoolean()));
        }
        return oneOf(field, List.of("true", "false"));
    }
}
