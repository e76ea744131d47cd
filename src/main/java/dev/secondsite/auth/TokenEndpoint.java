package dev.secondsite.auth;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmRouter;
import dev.secondsite.arm.Json;
import io.javalin.http.Context;

import java.util.Map;

/**
 * The Entra ID-compatible pieces clients need to get a token: the client-credentials token endpoint
 * ({@code POST /{tenant}/oauth2/v2.0/token}, also the v1 {@code /oauth2/token} form) and the OpenID
 * discovery document, so Azure Identity's ClientSecretCredential works with the authority host set to us.
 */
public final class TokenEndpoint {
    private final IdentityService identities;
    private final TokenService tokens;

    public TokenEndpoint(IdentityService identities, TokenService tokens) {
        this.identities = identities;
        this.tokens = tokens;
    }

    public void token(Context ctx) {
        // Entra echoes the client's correlation id; MSAL checks it.
        if (ctx.header("client-request-id") != null) {
            ctx.header("client-request-id", ctx.header("client-request-id"));
        }
        String tenant = ctx.pathParam("tenant");
        if (!tenant.equalsIgnoreCase(identities.tenantId()) && !tenant.equalsIgnoreCase("organizations")) {
            oauthError(ctx, 400, "invalid_request", 90002, "Tenant '" + tenant + "' not found. This server's tenant is "
                    + identities.tenantId() + " (see admin.json).");
            return;
        }
        String grantType = ctx.formParam("grant_type");
        if (grantType == null) {
            oauthError(ctx, 400, "invalid_request", 900144, "The request body must contain the parameter 'grant_type'.");
            return;
        }
        if (!grantType.equals("client_credentials")) {
            oauthError(ctx, 400, "unsupported_grant_type", 70003, "The grant type '" + grantType
                    + "' is not supported; use client_credentials.");
            return;
        }
        String clientId = ctx.formParam("client_id");
        String secret = ctx.formParam("client_secret");
        String basic = ctx.header("Authorization");
        if ((clientId == null || secret == null) && basic != null && basic.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String[] pair = new String(java.util.Base64.getDecoder().decode(basic.substring(6).trim())).split(":", 2);
                if (pair.length == 2) {
                    clientId = java.net.URLDecoder.decode(pair[0], java.nio.charset.StandardCharsets.UTF_8);
                    secret = java.net.URLDecoder.decode(pair[1], java.nio.charset.StandardCharsets.UTF_8);
                }
            } catch (IllegalArgumentException e) {
                // Not base64, or a bad %-escape: an OAuth error rather than a bare 500.
                oauthError(ctx, 401, "invalid_client", 7000215, "The Basic authorization header is malformed.");
                return;
            }
        }
        if (clientId == null) {
            oauthError(ctx, 400, "invalid_request", 900144, "The request body must contain the parameter 'client_id'.");
            return;
        }
        var principal = identities.verify(clientId, secret);
        if (principal.isEmpty()) {
            oauthError(ctx, 401, "invalid_client", 7000215,
                    "Invalid client secret provided, or no service principal has client id '" + clientId + "'.");
            return;
        }
        String scope = ctx.formParam("scope");
        String resource = ctx.formParam("resource");
        // MSAL adds the OpenID scopes (openid, profile, offline_access); the resource is the other one.
        String audience = scope == null ? (resource != null ? resource : "https://management.azure.com")
                : java.util.Arrays.stream(scope.split(" "))
                        .filter(sc -> !java.util.Set.of("openid", "profile", "offline_access", "email", "").contains(sc))
                        .findFirst().orElse("https://management.azure.com").replaceAll("/\\.default$", "");
        ObjectNode body = Json.object();
        body.put("token_type", "Bearer");
        body.put("expires_in", TokenService.TOKEN_SECONDS);
        body.put("ext_expires_in", TokenService.TOKEN_SECONDS);
        body.put("expires_on", System.currentTimeMillis() / 1000 + TokenService.TOKEN_SECONDS);
        body.put("resource", audience);
        body.put("access_token", tokens.issue(principal.get(), audience, ArmRouter.baseUrl(ctx)));
        ctx.header("Cache-Control", "no-store");
        ctx.contentType("application/json").result(Json.write(body));
    }

    public void openIdConfiguration(Context ctx) {
        String base = tokens.issuerBase(ArmRouter.baseUrl(ctx));
        ObjectNode body = Json.object();
        body.put("issuer", base + "/v2.0");
        body.put("token_endpoint", base + "/oauth2/v2.0/token");
        body.put("authorization_endpoint", base + "/oauth2/v2.0/authorize");
        body.put("jwks_uri", base + "/discovery/v2.0/keys");
        body.put("tenant_region_scope", "WW");
        ArrayNode grants = body.putArray("grant_types_supported");
        grants.add("client_credentials");
        body.putArray("token_endpoint_auth_methods_supported").add("client_secret_post").add("client_secret_basic");
        body.putArray("response_types_supported").add("token");
        body.putArray("subject_types_supported").add("pairwise");
        body.putArray("id_token_signing_alg_values_supported").add("RS256");
        body.putArray("scopes_supported").add("openid");
        ctx.contentType("application/json").result(Json.write(body));
    }

    public void keys(Context ctx) {
        Map<String, Object> jwks = tokens.jwks();
        ctx.contentType("application/json").result(Json.write(jwks));
    }

    private static void oauthError(Context ctx, int status, String error, int code, String description) {
        ObjectNode body = Json.object();
        body.put("error", error);
        body.put("error_description", "AADSTS" + code + ": " + description);
        body.putArray("error_codes").add(code);
        body.put("timestamp", Json.time(System.currentTimeMillis()));
        ctx.status(status).contentType("application/json").result(Json.write(body));
    }
}
