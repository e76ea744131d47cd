package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/** ASR HealthError objects (reference §4.6) and the health they add up to. */
final class HealthErrors {
    static final String ERROR = "Error";
    static final String WARNING = "Warning";

    private HealthErrors() {}

    static ObjectNode error(String code, String level, String summary, String message, String causes, String action,
                            String entityId, long at) {
        ObjectNode e = Json.object();
        e.putArray("innerHealthErrors");
        e.put("errorSource", "SecondSite");
        e.put("errorType", "Replication");
        e.put("errorLevel", level);
        e.put("errorCategory", "Replication");
        e.put("errorCode", code);
        e.put("summaryMessage", summary);
        e.put("errorMessage", message);
        e.put("possibleCauses", causes);
        e.put("recommendedAction", action);
        e.put("creationTimeUtc", Json.time(at));
        e.put("recoveryProviderErrorMessage", (String) null);
        e.put("entityId", entityId);
        // Stable per (code, entity): the same condition seen twice is the same error.
        e.put("errorId", UUID.nameUUIDFromBytes((code + "/" + entityId).getBytes(StandardCharsets.UTF_8)).toString());
        e.put("customerResolvability", "Allowed");
        return e;
    }

    /** ASR's replicationHealth from a list of health errors: Critical for any error, Warning for warnings. */
    static String health(Iterable<JsonNode> errors) {
        String health = "Normal";
        for (JsonNode e : errors) {
            if (ERROR.equals(e.path("errorLevel").asText())) {
                return "Critical";
            }
            health = "Warning";
        }
        return health;
    }
}
