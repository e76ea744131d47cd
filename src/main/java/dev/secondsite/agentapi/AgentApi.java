package dev.secondsite.agentapi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRouter;
import dev.secondsite.arm.Json;
import dev.secondsite.protection.AgentStore;
import dev.secondsite.protection.ProtectionModule;
import dev.secondsite.protection.ReplicaDigestQuery;
import dev.secondsite.protection.SegmentIntake;
import io.javalin.Javalin;
import io.javalin.http.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.UUID;

/**
 * The agent endpoints of docs/agent-protocol.md, under {@code /agent/v1}: register (authenticated by the
 * registration key in its body), heartbeat, segment upload and replica digests (authenticated by
 * {@code Authorization: Agent <agentId>:<agentSecret>}). Not ARM: no api-version, no bearer tokens; errors
 * are ARM error bodies all the same, never a stack trace.
 */
public final class AgentApi {
    private static final Logger LOG = LoggerFactory.getLogger(AgentApi.class);
    public static final String PREFIX = "/agent/v1";
    /** Largest JSON body of register and heartbeat. */
    private static final int JSON_BYTES_MAX = 1 << 20;

    private final ProtectionModule protection;
    private final ReplicaDigestQuery digests;

    public AgentApi(ProtectionModule protection) {
        this.protection = protection;
        this.digests = new ReplicaDigestQuery(protection.engine());
    }

    /** Adds the routes to the server. */
    public void register(Javalin app) {
        app.post(PREFIX + "/register", ctx -> handle(ctx, () -> {
            send(ctx, 200, protection.registrations().register(json(ctx)));
        }));
        app.post(PREFIX + "/heartbeat", ctx -> handle(ctx, () -> {
            AgentStore.Agent agent = authenticate(ctx);
            send(ctx, 200, protection.registrations().heartbeat(agent, json(ctx)));
        }));
        app.put(PREFIX + "/disks/{diskId}/segments/{sequence}", ctx -> handle(ctx, () -> {
            AgentStore.Agent agent = authenticate(ctx);
            SegmentIntake.Outcome outcome;
            try (InputStream body = ctx.req().getInputStream()) {
                outcome = protection.intake().receive(agent.id(), ctx.pathParam("diskId"), ctx.pathParam("sequence"),
                        ctx.req().getContentLengthLong(), body);
            }
            send(ctx, outcome.status(), outcome.body());
        }));
        app.get(PREFIX + "/disks/{diskId}/digests", ctx -> handle(ctx, () -> {
            AgentStore.Agent agent = authenticate(ctx);
            byte[] page = digests.answer(agent.id(), ctx.pathParam("diskId"), ctx.queryParam("first"),
                    ctx.queryParam("count"));
            ctx.status(200).contentType("application/octet-stream").result(page);
        }));
        registerFailback(app);
    }

    /** The failback reads of agent-protocol "Failback": a point's digests and its chunks. */
    private void registerFailback(Javalin app) {
        String base = PREFIX + "/failback/{requestId}/disks/{diskId}";
        app.get(base + "/digests", ctx -> handle(ctx, () -> send(ctx, 200, protection.failbackSource().digests(
                authenticate(ctx), ctx.pathParam("requestId"), ctx.pathParam("diskId"), ctx.queryParam("from"),
                ctx.queryParam("count")))));
        app.get(base + "/chunks/{index}", ctx -> handle(ctx, () -> {
            byte[] chunk = protection.failbackSource().chunk(authenticate(ctx), ctx.pathParam("requestId"),
                    ctx.pathParam("diskId"), ctx.pathParam("index"));
            ctx.status(200).contentType("application/octet-stream").result(chunk);
        }));
    }

    private static void send(Context ctx, int status, JsonNode body) {
        ctx.status(status).contentType("application/json; charset=utf-8").result(Json.write(body));
    }

    private interface Work {
        void run() throws IOException;
    }

    private static void handle(Context ctx, Work work) {
        String requestId = UUID.randomUUID().toString();
        ctx.header("x-ms-request-id", requestId);
        try {
            work.run();
        } catch (ArmException e) {
            if (e.status() == 401) {
                ctx.header("WWW-Authenticate", "Agent realm=\"secondsite\"");
            }
            if (e.status() == 503) {
                ctx.header("Retry-After", "5");
            }
            ArmRouter.writeError(ctx, e);
        } catch (IOException | RuntimeException e) {
            LOG.error("agent request {} {} failed (request id {})", ctx.method(), ctx.path(), requestId, e);
            ArmRouter.writeError(ctx, new ArmException(500, "InternalServerError",
                    "The server could not complete the request; see the server log for request id " + requestId + "."));
        }
    }

    /** The agent named by "Authorization: Agent id:secret"; 401 InvalidAgentCredentials otherwise. */
    private AgentStore.Agent authenticate(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Agent ", 0, 6)) {
            throw invalidCredentials("the 'Authorization: Agent <agentId>:<agentSecret>' header is missing");
        }
        String value = header.substring(6).strip();
        int colon = value.indexOf(':');
        if (colon <= 0) {
            throw invalidCredentials("the header must be 'Agent <agentId>:<agentSecret>'");
        }
        return protection.agents().find(value.substring(0, colon))
                .filter(a -> AgentStore.matches(a, value.substring(colon + 1)))
                .orElseThrow(() -> invalidCredentials("the agent id or secret is wrong, or the agent was unregistered"));
    }

    private static ArmException invalidCredentials(String why) {
        return new ArmException(401, "InvalidAgentCredentials", "Agent authentication failed: " + why
                + ". Register the agent again with a new registration key.");
    }

    private static JsonNode json(Context ctx) throws IOException {
        byte[] bytes;
        try (InputStream in = ctx.req().getInputStream()) {
            bytes = in.readNBytes(JSON_BYTES_MAX + 1);
        }
        if (bytes.length > JSON_BYTES_MAX) {
            throw new ArmException(413, "RequestEntityTooLarge", "The request body is larger than " + JSON_BYTES_MAX
                    + " bytes.");
        }
        if (bytes.length == 0) {
            return Json.object();
        }
        try {
            JsonNode node = Json.MAPPER.readTree(bytes);
            if (!node.isObject()) {
                throw new ArmException(400, "InvalidRequestContent", "The request body must be a JSON object.");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new ArmException(400, "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized: " + e.getOriginalMessage());
        }
    }
}
