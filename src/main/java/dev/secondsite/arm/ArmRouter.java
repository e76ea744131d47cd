package dev.secondsite.arm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.auth.Principal;
import dev.secondsite.auth.Rbac;
import dev.secondsite.auth.TokenService;
import io.javalin.http.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The request pipeline of every ARM call, in order: authenticate the bearer token, parse the path,
 * check the api-version, find the route, authorize the caller on the resource's scope, read the
 * body, run the handler. Every failure leaves as an ARM error body; never a stack trace.
 */
public final class ArmRouter {
    private static final Logger LOG = LoggerFactory.getLogger(ArmRouter.class);
    /** Largest request body we read; ARM's own limit is 4 MiB. */
    private static final int BODY_BYTES_MAX = 4 * 1024 * 1024;

    private final ArmRoutes routes;
    private final TokenService tokens;
    private final Rbac rbac;

    public ArmRouter(ArmRoutes routes, TokenService tokens, Rbac rbac) {
        this.routes = routes;
        this.tokens = tokens;
        this.rbac = rbac;
    }

    public void handle(Context ctx) {
        String requestId = UUID.randomUUID().toString();
        ctx.header("x-ms-request-id", requestId);
        ctx.header("x-ms-correlation-request-id",
                ctx.header("x-ms-client-request-id") != null ? ctx.header("x-ms-client-request-id") : requestId);
        try {
            ArmResponse response = dispatch(ctx);
            response.headers().forEach(ctx::header);
            ctx.status(response.status());
            if (response.body() != null) {
                ctx.contentType("application/json; charset=utf-8").result(Json.write(response.body()));
            }
        } catch (ArmException e) {
            if (e.status() == 401) {
                ctx.header("WWW-Authenticate", "Bearer authorization_uri=\"" + tokens.issuerBase(baseUrl(ctx))
                        + "\", error=\"invalid_token\"");
            }
            writeError(ctx, e);
        } catch (RuntimeException e) {
            LOG.error("request {} {} failed (request id {})", ctx.method(), ctx.path(), requestId, e);
            writeError(ctx, new ArmException(500, "InternalServerError",
                    "The server could not complete the request; see the server log for request id " + requestId + "."));
        }
    }

    private ArmResponse dispatch(Context ctx) {
        Principal principal = tokens.authenticate(ctx.header("Authorization"), baseUrl(ctx));
        Map<String, String> query = new HashMap<>();
        ctx.queryParamMap().forEach((k, v) -> query.put(k, v.isEmpty() ? "" : v.get(0)));
        return call(ctx.method().name(), ctx.path(), query, principal, () -> readBody(ctx), baseUrl(ctx));
    }

    /**
     * One ARM call made inside the server (a failover creating its VM, as ASR calls ARM on the user's behalf):
     * the same pipeline as an HTTP call after authentication — parse, api-version, route, RBAC as
     * {@code principal}, handler — so every rule and quota of the target resource applies.
     */
    public ArmResponse call(String method, String path, Map<String, String> query, Principal principal, JsonNode body,
                            String baseUrl) {
        return call(method, path, query, principal, () -> body, baseUrl);
    }

    private ArmResponse call(String method, String rawPath, Map<String, String> query, Principal principal,
                             java.util.function.Supplier<JsonNode> body, String baseUrl) {
        ArmPath path = ArmPath.parse(method, rawPath);
        String apiVersion = query.get("api-version");
        ApiVersions.check(path.namespace(), apiVersion);
        ArmHandler handler = routes.find(method, path);
        String scope = path.kind() == ArmPath.Kind.COLLECTION ? path.parentId() : path.resourceId();
        rbac.authorize(principal, scope, ArmRoutes.permission(method, path));
        return handler.handle(new ArmRequest(method, path, apiVersion, principal, body.get(), query, baseUrl));
    }

    private static JsonNode readBody(Context ctx) {
        byte[] bytes = ctx.bodyAsBytes();
        if (bytes.length > BODY_BYTES_MAX) {
            throw new ArmException(413, "RequestEntityTooLarge",
                    "The request body is " + bytes.length + " bytes; the limit is " + BODY_BYTES_MAX + ".");
        }
        if (bytes.length == 0) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new ArmException(400, "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new ArmException(400, "InvalidRequestContent", "The request content could not be read.");
        }
    }

    /** The scheme and authority the client used, so links we return work through the same door. */
    public static String baseUrl(Context ctx) {
        String host = ctx.header("Host");
        return ctx.scheme() + "://" + (host != null ? host : ctx.host());
    }

    public static void writeError(Context ctx, ArmException e) {
        ctx.status(e.status()).contentType("application/json; charset=utf-8").result(Json.write(errorBody(e)));
    }

    public static ObjectNode errorBody(ArmException e) {
        ObjectNode root = Json.object();
        root.set("error", errorNode(e));
        return root;
    }

    public static ObjectNode errorNode(ArmException e) {
        ObjectNode error = Json.object();
        error.put("code", e.code());
        error.put("message", e.getMessage());
        if (e.target() != null) {
            error.put("target", e.target());
        }
        ArrayNode details = error.putArray("details");
        for (ArmException d : e.details()) {
            details.add(errorNode(d));
        }
        return error;
    }
}
