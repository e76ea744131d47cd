package dev.secondsite.arm;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.Map;

/** What a handler answers: a status, an optional JSON body and extra headers. */
public record ArmResponse(int status, JsonNode body, Map<String, String> headers) {

    public static ArmResponse ok(JsonNode body) {
        return new ArmResponse(200, body, Map.of());
    }

    public static ArmResponse created(JsonNode body) {
        return new ArmResponse(201, body, Map.of());
    }

    public static ArmResponse noContent() {
        return new ArmResponse(204, null, Map.of());
    }

    public ArmResponse withHeader(String name, String value) {
        Map<String, String> copy = new LinkedHashMap<>(headers);
        copy.put(name, value);
        return new ArmResponse(status, body, copy);
    }
}
