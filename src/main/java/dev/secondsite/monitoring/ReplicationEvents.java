package dev.secondsite.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.vault.VaultScope;
import org.jdbi.v3.core.Jdbi;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Site Recovery events of a vault ({@code V/replicationEvents}, reference §4 Event): what the product tells the
 * user happened to a protected item without being asked — an RPO past the policy's threshold, and the all-clear.
 * Stored (table replication_events), newest first, filterable by {@code $filter} on severity, eventCode and
 * startTime.
 */
public final class ReplicationEvents {
    public static final String TYPE = "Microsoft.RecoveryServices/vaults/replicationEvents";
    private static final Pattern CLAUSE = Pattern.compile("(\\w+)\\s+(eq|ge)\\s+'([^']*)'", Pattern.CASE_INSENSITIVE);

    /** The latest event of a kind for an item, to know whether an alert is open. */
    public record Recorded(String code, String severity, long at) {}

    private final Jdbi jdbi;
    private final VaultScope scope;

    public ReplicationEvents(Jdbi jdbi, VaultScope scope) {
        this.jdbi = jdbi;
        this.scope = scope;
    }

    /** Records an event about a protected item ({@code eventType} VmHealth) and returns its body. */
    public ObjectNode record(String vaultId, String itemId, String itemName, String code, String severity,
                             String description, ArrayNode healthErrors) {
        String id = UUID.randomUUID().toString();
        long now = System.currentTimeMillis();
        ObjectNode body = Json.object();
        body.put("id", vaultId + "/replicationEvents/" + id);
        body.put("name", id);
        body.put("type", TYPE);
        ObjectNode p = body.putObject("properties");
        p.put("eventCode", code);
        p.put("description", description);
        p.put("eventType", "VmHealth");
        p.put("affectedObjectFriendlyName", itemName);
        p.put("affectedObjectCorrelationId", itemId);
        p.put("severity", severity);
        p.put("timeOfOccurrence", Json.time(now));
        p.put("fabricId", itemId.substring(0, ResourceStore.key(itemId).indexOf("/replicationprotectioncontainers/")));
        p.putObject("providerSpecificDetails").put("instanceType", "InMageAzureV2");
        p.putObject("eventSpecificDetails").put("instanceType", "EventSpecificDetails");
        p.set("healthErrors", healthErrors == null ? Json.MAPPER.createArrayNode() : healthErrors);
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO replication_events (id, vault_key, item_key, event_code, severity, "
                        + "created_at, body) VALUES (:id, :v, :i, :c, :s, :t, :b)")
                .bind("id", id).bind("v", ResourceStore.key(vaultId)).bind("i", ResourceStore.key(itemId)).bind("c", code)
                .bind("s", severity).bind("t", now).bind("b", Json.write(body)).execute());
        return body;
    }

    /** The newest of the item's events with one of {@code codes}. */
    public Optional<Recorded> latest(String itemId, List<String> codes) {
        return jdbi.withHandle(h -> h.createQuery("SELECT event_code, severity, created_at FROM replication_events "
                        + "WHERE item_key = :i AND event_code IN (<codes>) ORDER BY created_at DESC LIMIT 1")
                .bind("i", ResourceStore.key(itemId)).bindList("codes", codes)
                .map((rs, ctx) -> new Recorded(rs.getString(1), rs.getString(2), rs.getLong(3))).findOne());
    }

    /** GET V/replicationEvents[?$filter=severity eq 'Warning' and eventCode eq '…' and startTime ge '…']. */
    public ArmResponse list(ArmRequest request) {
        String vaultKey = ResourceStore.key(scope.requireVault(request).id());
        String severity = null;
        String code = null;
        long since = 0;
        String filter = request.query().get("$filter");
        if (filter != null) {
            Matcher m = CLAUSE.matcher(filter);
            while (m.find()) {
                switch (m.group(1).toLowerCase(java.util.Locale.ROOT)) {
                    case "severity" -> severity = m.group(3);
                    case "eventcode" -> code = m.group(3);
                    case "starttime" -> since = time(m.group(3));
                    default -> throw ArmException.badRequest("InvalidFilter", "'" + m.group(1) + "' can't be filtered "
                            + "on; use severity, eventCode or startTime.");
                }
            }
        }
        String sev = severity;
        String c = code;
        long from = since;
        List<String> bodies = jdbi.withHandle(h -> h.createQuery("SELECT body FROM replication_events WHERE vault_key = :v "
                        + "AND created_at >= :from AND (:s IS NULL OR severity = :s) AND (:c IS NULL OR event_code = :c) "
                        + "ORDER BY created_at DESC")
                .bind("v", vaultKey).bind("from", from).bind("s", sev).bind("c", c).mapTo(String.class).list());
        ObjectNode out = Json.object();
        ArrayNode value = out.putArray("value");
        bodies.forEach(b -> value.add(Json.parse(b)));
        return ArmResponse.ok(out);
    }

    public ArmResponse get(ArmRequest request) {
        String vaultKey = ResourceStore.key(scope.requireVault(request).id());
        String name = request.path().name();
        JsonNode body = jdbi.withHandle(h -> h.createQuery("SELECT body FROM replication_events WHERE vault_key = :v "
                        + "AND id = :id").bind("v", vaultKey).bind("id", name).mapTo(String.class).findOne())
                .map(Json::parse).orElseThrow(() -> ArmException.notFound(request.path().resourceId()));
        return ArmResponse.ok(body);
    }

    private static long time(String text) {
        try {
            return Instant.parse(text).toEpochMilli();
        } catch (java.time.format.DateTimeParseException e) {
            throw ArmException.badRequest("InvalidFilter", "startTime '" + text + "' is not an ISO-8601 UTC time.");
        }
    }
}
