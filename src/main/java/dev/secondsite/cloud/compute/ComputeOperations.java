package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.ResourceStore;
import org.jdbi.v3.core.Jdbi;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Long-running compute operations (VM power actions, beginGetAccess, endAccess), answered the Azure
 * Compute way: {@code 202 Accepted} with {@code Azure-AsyncOperation} (status document:
 * {@code {name, status, startTime, endTime, properties.output}}) and {@code Location} (the final result,
 * e.g. {@code {accessSAS}} for beginGetAccess). Our operations finish before the 202 is sent, so the first
 * poll already says Succeeded; the records outlive a restart and are pruned after a day.
 *
 * <p>The polling URLs sit under the resource ({@code {resourceId}/operations/{id}},
 * {@code {resourceId}/operationResults/{id}}) rather than Azure's {@code locations/{loc}/operations/{id}},
 * so a caller whose role is scoped to a resource group can poll what it started.
 */
public final class ComputeOperations {
    private static final Duration KEEP = Duration.ofDays(1);

    private final Jdbi jdbi;

    public ComputeOperations(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** Records a finished operation on a resource and answers 202 with both polling headers. */
    public ArmResponse accepted(ArmRequest request, String resourceId, JsonNode output) {
        String id = UUID.randomUUID().toString();
        long now = System.currentTimeMillis();
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO compute_operations (id, resource_key, status, output, "
                        + "start_time, end_time) VALUES (:id, :r, 'Succeeded', :o, :t, :t)")
                .bind("id", id).bind("r", ResourceStore.key(resourceId))
                .bind("o", output == null ? null : Json.write(output)).bind("t", now).execute());
        return new ArmResponse(202, null, Map.of())
                .withHeader("Azure-AsyncOperation", request.url(resourceId + "/operations/" + id))
                .withHeader("Location", request.url(resourceId + "/operationResults/" + id))
                .withHeader("Retry-After", "0");
    }

    /** GET {resource}/operations/{id}: the status document. */
    public ArmResponse status(ArmRequest request) {
        Operation op = require(request);
        ObjectNode body = Json.object();
        body.put("name", op.id());
        body.put("status", op.status());
        body.put("startTime", Json.time(op.startTime()));
        if (op.endTime() != null) {
            body.put("endTime", Json.time(op.endTime()));
        }
        if (op.output() != null) {
            body.putObject("properties").set("output", Json.parse(op.output()));
        }
        return ArmResponse.ok(body);
    }

    /** GET {resource}/operationResults/{id}: the operation's result (200 with its output, or 200 empty). */
    public ArmResponse result(ArmRequest request) {
        Operation op = require(request);
        return ArmResponse.ok(op.output() == null ? null : Json.parse(op.output()));
    }

    /** Drops records older than a day. */
    public void prune() {
        long before = System.currentTimeMillis() - KEEP.toMillis();
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM compute_operations WHERE start_time < :t")
                .bind("t", before).execute());
    }

    private Operation require(ArmRequest request) {
        String id = request.path().name();
        String resourceKey = ResourceStore.key(request.path().parentId());
        Optional<Operation> op = jdbi.withHandle(h -> h.createQuery("SELECT id, resource_key, status, output, "
                        + "start_time, end_time FROM compute_operations WHERE id = :id")
                .bind("id", id)
                .map((rs, ctx) -> new Operation(rs.getString("id"), rs.getString("resource_key"), rs.getString("status"),
                        rs.getString("output"), rs.getLong("start_time"), (Long) rs.getObject("end_time", Long.class)))
                .findOne());
        return op.filter(o -> o.resourceKey().equals(resourceKey)).orElseThrow(() -> new ArmException(404,
                "OperationNotFound", "The operation '" + id + "' was not found under '" + request.path().parentId() + "'."));
    }

    private record Operation(String id, String resourceKey, String status, String output, long startTime, Long endTime) {}
}
