package dev.secondsite.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.vault.VaultScope;

import java.util.List;
import java.util.Optional;

/**
 * Jobs as the API shows them ({@code replicationJobs}), and the polling URLs of long-running
 * operations: {@code replicationOperationStatus/{id}} (Azure-AsyncOperation) and
 * {@code replicationOperationResults/{id}} (Location). An operation's id is its job's id.
 */
public final class JobsApi {
    /** Seconds clients are told to wait between polls; ASR says 30, our operations are quicker. */
    private static final String RETRY_AFTER_SECONDS = "1";

    private final JobStore store;
    private final JobEngine engine;
    private final ResourceStore resources;
    private final VaultScope vaults;

    public JobsApi(JobStore store, JobEngine engine, ResourceStore resources, VaultScope vaults) {
        this.store = store;
        this.engine = engine;
        this.resources = resources;
        this.vaults = vaults;
    }

    /** Queues a job and answers 202 Accepted with both polling headers, as ASR does. */
    public ArmResponse accept(ArmRequest request, JobStore.NewJob newJob) {
        Job job = store.submit(newJob);
        engine.signal();
        return new ArmResponse(202, null, java.util.Map.of())
                .withHeader("Azure-AsyncOperation", request.url(job.vaultId() + "/replicationOperationStatus/" + job.id()))
                .withHeader("Location", request.url(job.vaultId() + "/replicationOperationResults/" + job.id()))
                .withHeader("Retry-After", RETRY_AFTER_SECONDS);
    }

    public ArmResponse list(ArmRequest request) {
        String vaultId = vaults.requireVault(request).id();
        ArrayNode value = Json.MAPPER.createArrayNode();
        String stateFilter = filterValue(request.query().get("$filter"), "jobStatus");
        for (Job job : store.list(vaultId)) {
            if (stateFilter == null || job.state().name().equalsIgnoreCase(stateFilter)) {
                value.add(body(job));
            }
        }
        ObjectNode list = Json.object();
        list.set("value", value);
        return ArmResponse.ok(list);
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(body(require(request, request.path().name())));
    }

    public ArmResponse cancel(ArmRequest request) {
        Job job = require(request, request.path().name());
        // Refused too when the job ended meanwhile, or has failed and only its rollback still runs (RollingBack).
        if (job.state().terminal() || !store.requestCancel(job.id())) {
            throw ArmException.conflict("JobNotCancellable", "Job '" + job.id() + "' is "
                    + (job.state().terminal() ? job.state() : "ending (" + job.stateDescription() + ")")
                    + "; only a job that has not finished can be cancelled.");
        }
        return ArmResponse.ok(body(store.find(job.id()).orElseThrow()));
    }

    public ArmResponse restart(ArmRequest request) {
        Job job = require(request, request.path().name());
        // A job whose rollback undid its work starts over; others resume at the task that did not succeed.
        boolean fromStart = engine.workflow(job.scenario()).rollback() != null;
        if (!store.restart(job.id(), fromStart)) {
            throw ArmException.conflict("JobNotRestartable", "Job '" + job.id() + "' is " + job.state()
                    + "; only a failed or cancelled job can be restarted.");
        }
        engine.signal();
        return ArmResponse.ok(body(store.find(job.id()).orElseThrow()));
    }

    /** GET V/replicationOperationStatus/{id}: the ARM async-operation document. */
    public ArmResponse operationStatus(ArmRequest request) {
        Job job = require(request, request.path().name());
        ObjectNode body = Json.object();
        body.put("id", job.vaultId() + "/replicationOperationStatus/" + job.id());
        body.put("name", job.id());
        body.put("status", job.state().operationStatus());
        if (job.startTime() != null) {
            body.put("startTime", Json.time(job.startTime()));
        }
        if (job.endTime() != null) {
            body.put("endTime", Json.time(job.endTime()));
        }
        firstError(job).ifPresent(e -> body.set("error", e));
        if (!job.state().terminal()) {
            return ArmResponse.ok(body).withHeader("Retry-After", RETRY_AFTER_SECONDS);
        }
        return ArmResponse.ok(body);
    }

    /** GET V/replicationOperationResults/{id}: 202 while running, then the resulting resource (or 204). */
    public ArmResponse operationResult(ArmRequest request) {
        Job job = require(request, request.path().name());
        if (!job.state().terminal()) {
            return new ArmResponse(202, null, java.util.Map.of())
                    .withHeader("Location", request.url(request.path().resourceId()))
                    .withHeader("Retry-After", RETRY_AFTER_SECONDS);
        }
        if (job.state() != JobState.Succeeded) {
            JsonNode error = firstError(job).orElse(null);
            int status = error == null ? 409 : error.path("httpStatus").asInt(409);
            throw new ArmException(status >= 400 ? status : 409,
                    error == null ? "OperationCancelled" : error.path("code").asText(),
                    error == null ? "The operation was cancelled." : error.path("message").asText());
        }
        if (job.resultId() != null) {
            Optional<ObjectNode> resource = resources.find(job.resultId()).map(r -> r.bodyCopy());
            if (resource.isPresent()) {
                return ArmResponse.ok(resource.get());
            }
        }
        return ArmResponse.noContent();
    }

    private Optional<JsonNode> firstError(Job job) {
        if (job.state() == JobState.Cancelled) {
            ObjectNode e = Json.object();
            e.put("code", "OperationCancelled");
            e.put("message", "The job was cancelled.");
            return Optional.of(e);
        }
        for (JsonNode error : job.errors()) {
            JsonNode service = error.path("serviceErrorDetails");
            ObjectNode e = Json.object();
            e.put("code", service.path("code").asText());
            e.put("message", service.path("message").asText());
            e.put("httpStatus", service.path("httpStatus").asInt(500));
            return Optional.of(e);
        }
        return Optional.empty();
    }

    private Job require(ArmRequest request, String jobName) {
        String vaultId = vaults.requireVault(request).id();
        return store.find(vaultId, jobName).orElseThrow(() -> new ArmException(404, "JobNotFound",
                "Job '" + jobName + "' was not found in vault '" + request.path().name(0) + "'."));
    }

    /** The ASR Job body. */
    public static ObjectNode body(Job job) {
        ObjectNode body = Json.object();
        body.put("id", job.armId());
        body.put("name", job.id());
        body.put("type", "Microsoft.RecoveryServices/vaults/replicationJobs");
        ObjectNode p = body.putObject("properties");
        p.put("activityId", job.id() + " ActivityId: " + job.id());
        p.put("scenarioName", job.scenario());
        p.put("friendlyName", job.friendlyName());
        p.put("state", job.state().name());
        p.put("stateDescription", job.stateDescription());
        p.set("tasks", job.tasks());
        p.set("errors", job.errors());
        if (job.startTime() != null) {
            p.put("startTime", Json.time(job.startTime()));
        }
        if (job.endTime() != null) {
            p.put("endTime", Json.time(job.endTime()));
        }
        ArrayNode allowed = p.putArray("allowedActions");
        List<String> actions = switch (job.state()) {
            case NotStarted, InProgress -> List.of("Cancel");
            case Failed, Cancelled -> List.of("Restart");
            case Succeeded -> List.of();
        };
        actions.forEach(allowed::add);
        p.put("targetObjectId", job.targetId());
        p.put("targetObjectName", job.targetName());
        p.put("targetInstanceType", job.targetType());
        ObjectNode custom = p.putObject("customDetails");
        custom.put("instanceType", "AsrJobDetails");
        custom.putObject("affectedObjectDetails");
        if (job.input().path("customDetails").isObject()) {
            // Scenario details a workflow chose to show (a test failover cleanup's notes, for one).
            custom.setAll((ObjectNode) job.input().path("customDetails"));
        }
        return body;
    }

    /** Reads "jobStatus eq 'Failed'" style clauses of a $filter. */
    private static String filterValue(String filter, String field) {
        if (filter == null) {
            return null;
        }
        var m = java.util.regex.Pattern.compile(field + "\\s+eq\\s+'([^']*)'", java.util.regex.Pattern.CASE_INSENSITIVE)
                .matcher(filter);
        return m.find() ? m.group(1) : null;
    }
}
