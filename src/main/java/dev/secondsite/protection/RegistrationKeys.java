package dev.secondsite.protection;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.secondsite.arm.ArmException;
import dev.secondsite.rules.Limits;
import dev.secondsite.store.Settings;

import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;

/**
 * Vault registration keys: RS256 JWTs signed with the server's token signing key (the one
 * {@code TokenService} keeps in the store, so every API node accepts every node's keys), naming the vault,
 * the fabric and the issue time. A key is valid {@link Limits#REGISTRATION_KEY_VALIDITY} (5 days, seed 001);
 * that rule is judged by the rule catalogue at registration, so this class only proves where a key came from.
 *
 * <p>A key can never open the management API: its type header, audience and missing tid/oid/appid claims
 * are all refused by bearer authentication.
 */
public final class RegistrationKeys {
    /** The JWT "typ" header and audience of registration keys. */
    static final String TYPE = "secondsite-registration+jwt";
    static final String AUDIENCE = "urn:secondsite:agent-registration";
    /** Where TokenService keeps its signing key (store setting name). */
    private static final String SIGNING_KEY_SETTING = "token.signing.jwk";

    /** A verified key's content. */
    public record Key(String vaultId, String fabricId, Instant issuedAt, String keyId) {}

    private final RSAKey signingKey;
    private final Clock clock;

    public RegistrationKeys(Settings settings, Clock clock) {
        this.clock = clock;
        String jwk = settings.get(SIGNING_KEY_SETTING).orElseThrow(() ->
                new IllegalStateException("the token signing key is not in the store yet (create TokenService first)"));
        try {
            this.signingKey = RSAKey.parse(jwk);
        } catch (ParseException e) {
            throw new IllegalStateException("the stored token signing key is unreadable", e);
        }
    }

    /** A new key for a fabric, issued now. */
    public String generate(String vaultId, String fabricId) {
        return issue(vaultId, fabricId, clock.instant());
    }

    /** When a key issued now stops being valid. */
    public Instant expiresAt(Instant issuedAt) {
        return issuedAt.plus(Limits.REGISTRATION_KEY_VALIDITY);
    }

    /** A key with an explicit issue time: tests make expired keys with it. */
    String issue(String vaultId, String fabricId, Instant issuedAt) {
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer("secondsite")
                .audience(AUDIENCE)
                .subject(fabricId)
                .issueTime(Date.from(issuedAt))
                .expirationTime(Date.from(expiresAt(issuedAt)))
                .jwtID(UUID.randomUUID().toString())
                .claim("vault", vaultId)
                .claim("fabric", fabricId)
                .build();
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(signingKey.getKeyID())
                    .type(new JOSEObjectType(TYPE)).build(), claims);
            jwt.sign(new RSASSASigner(signingKey));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Checks that a key was signed by this server and is a registration key; 401 InvalidRegistrationKey
     * otherwise. Expiry is not checked here (the rule catalogue's RegistrationKeyExpired does it).
     */
    public Key verify(String key) {
        if (key == null || key.isBlank()) {
            throw invalid("it is missing");
        }
        try {
            SignedJWT jwt = SignedJWT.parse(key.strip());
            if (!JWSAlgorithm.RS256.equals(jwt.getHeader().getAlgorithm())
                    || jwt.getHeader().getType() == null || !TYPE.equals(jwt.getHeader().getType().getType())) {
                throw invalid("it is not a SecondSite registration key");
            }
            if (!jwt.verify(new RSASSAVerifier(signingKey.toRSAPublicKey()))) {
                throw invalid("it was not issued by this server");
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            if (!claims.getAudience().contains(AUDIENCE) || !(claims.getClaim("vault") instanceof String vault)
                    || !(claims.getClaim("fabric") instanceof String fabric) || claims.getIssueTime() == null) {
                throw invalid("it is not a SecondSite registration key");
            }
            return new Key(vault, fabric, claims.getIssueTime().toInstant(), claims.getJWTID());
        } catch (ParseException | JOSEException e) {
            throw invalid("it is not a well-formed registration key");
        }
    }

    private static ArmException invalid(String why) {
        return new ArmException(401, "InvalidRegistrationKey", "The registration key is invalid: " + why
                + ". Generate a new key for the fabric (POST …/replicationFabrics/{fabric}/generateRegistrationKey) "
                + "and register again with it.");
    }
}
