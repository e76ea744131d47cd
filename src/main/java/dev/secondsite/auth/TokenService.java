package dev.secondsite.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.secondsite.arm.ArmException;
import dev.secondsite.store.Settings;

import java.text.ParseException;
import java.time.Clock;
import java.util.Date;
import java.util.Map;
import java.util.UUID;

/**
 * Issues and checks bearer tokens: RS256 JWTs shaped like Entra ID v2 access tokens (tid, oid, appid).
 * The signing key lives in the store, so every API node over one database accepts every node's tokens.
 */
public final class TokenService {
    /** Lifetime of an access token, as Entra ID's default. */
    public static final long TOKEN_SECONDS = 3600;
    /** Accepted clock skew between the issuing and the checking node. */
    private static final long SKEW_SECONDS = 120;

    private final RSAKey signingKey;
    private final String tenantId;
    private final IdentityService identities;
    private final Clock clock;

    public TokenService(Settings settings, IdentityService identities, Clock clock) {
        this.identities = identities;
        this.tenantId = identities.tenantId();
        this.clock = clock;
        String jwk = settings.getOrCreate("token.signing.jwk", TokenService::newKey);
        try {
            this.signingKey = RSAKey.parse(jwk);
        } catch (ParseException e) {
            throw new IllegalStateException("the stored token signing key is unreadable", e);
        }
    }

    private static String newKey() {
        try {
            return new RSAKeyGenerator(2048).keyID(UUID.randomUUID().toString()).generate().toJSONString();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** "https://host:port/{tenant}" — the authority clients are told to ask for tokens. */
    public String issuerBase(String baseUrl) {
        return baseUrl + "/" + tenantId;
    }

    public String tenantId() {
        return tenantId;
    }

    /** A signed access token for a principal that proved its credentials. */
    public String issue(Principal principal, String audience, String baseUrl) {
        long now = clock.millis();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(issuerBase(baseUrl) + "/v2.0")
                .subject(principal.objectId())
                .audience(audience)
                .issueTime(new Date(now))
                .notBeforeTime(new Date(now))
                .expirationTime(new Date(now + TOKEN_SECONDS * 1000))
                .jwtID(UUID.randomUUID().toString())
                .claim("tid", principal.tenantId())
                .claim("oid", principal.objectId())
                .claim("appid", principal.clientId())
                .claim("azp", principal.clientId())
                .claim("ver", "2.0")
                .build();
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(signingKey.getKeyID()).build(),
                    claims);
            jwt.sign(new RSASSASigner(signingKey));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Audiences of the resource manager API. A token asked for another resource (e.g. storage) must not
     * open the management API; the server's own URL also counts, since SDKs pointed at us ask for it.
     */
    private static final java.util.Set<String> MANAGEMENT_AUDIENCES = java.util.Set.of(
            "https://management.azure.com", "https://management.core.windows.net",
            "https://management.usgovcloudapi.net", "https://management.core.usgovcloudapi.net");

    /**
     * The caller named by an "Authorization: Bearer ..." header, for a request that reached us at
     * {@code baseUrl}; 401 ARM errors otherwise.
     */
    public Principal authenticate(String authorizationHeader, String baseUrl) {
        if (authorizationHeader == null || authorizationHeader.isBlank()) {
            throw new ArmException(401, "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.");
        }
        if (!authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ArmException(401, "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header must be 'Bearer <token>'.");
        }
        JWTClaimsSet claims;
        try {
            SignedJWT jwt = SignedJWT.parse(authorizationHeader.substring(7).trim());
            if (!jwt.verify(new RSASSAVerifier(signingKey.toRSAPublicKey()))) {
                throw invalid("its signature does not verify");
            }
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException | JOSEException e) {
            throw invalid("it is not a well-formed signed JWT");
        }
        long now = clock.millis();
        Date exp = claims.getExpirationTime();
        if (exp == null || exp.getTime() + SKEW_SECONDS * 1000 < now) {
            throw new ArmException(401, "ExpiredAuthenticationToken",
                    "The access token expired" + (exp == null ? "" : " at " + exp.toInstant()) + ". Get a new token.");
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nbf.getTime() - SKEW_SECONDS * 1000 > now) {
            throw invalid("it is not valid yet");
        }
        Object tid = claims.getClaim("tid");
        Object oid = claims.getClaim("oid");
        Object appid = claims.getClaim("appid");
        if (!tenantId.equals(tid) || !(oid instanceof String o) || !(appid instanceof String a)) {
            throw invalid("it was not issued for tenant " + tenantId);
        }
        if (claims.getAudience().stream().map(aud -> aud.replaceAll("/+$", ""))
                .noneMatch(aud -> MANAGEMENT_AUDIENCES.contains(aud) || aud.equalsIgnoreCase(baseUrl))) {
            throw invalid("its audience " + claims.getAudience() + " is not the resource manager API");
        }
        if (!identities.exists(a)) {
            throw invalid("its service principal has been deleted");
        }
        return new Principal(o, a, tenantId);
    }

    private static ArmException invalid(String why) {
        return new ArmException(401, "InvalidAuthenticationToken", "The access token is invalid: " + why + ".");
    }

    /** The public keys, as the OpenID jwks_uri serves them. */
    public Map<String, Object> jwks() {
        return new JWKSet(signingKey.toPublicJWK()).toJSONObject();
    }
}
