package dev.secondsite.cloud.compute;

import dev.secondsite.resource.ResourceStore;
import dev.secondsite.store.Settings;
import org.jdbi.v3.core.Jdbi;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Access grants of disks and snapshots (beginGetAccess / endAccess) and the SAS URLs that carry them:
 * {@code https://host:port/sas/disks/{grantId}?sv=2018-03-28&sr=b&sp=r|rw&se={expiry}&sig={signature}}.
 * The signature is an HMAC-SHA256, with a key kept in the store (shared by every API node), over the grant
 * id, the permission and the expiry; the grant row names the disk. A URL is honoured while its signature
 * matches, it has not expired and its grant still exists: endAccess deletes the disk's grants, which revokes
 * every URL handed out for it.
 */
final class DiskAccess {
    static final String READ = "Read";
    static final String WRITE = "Write";
    static final String SAS_VERSION = "2018-03-28";
    private static final String KEY_SETTING = "compute.sasSigningKey";

    private final Jdbi jdbi;
    private final byte[] key;

    /** One grant: which disk (resource key), Read or Write, until when (epoch seconds). */
    record Grant(String accessId, String resourceKey, String access, long expiresAt) {
        boolean write() {
            return WRITE.equals(access);
        }
    }

    /** Why a SAS URL is refused: the Blob service's 403 code and message. */
    static final class Refused extends RuntimeException {
        final String code;

        Refused(String code, String message) {
            super(message);
            this.code = code;
        }
    }

    DiskAccess(Jdbi jdbi, Settings settings) {
        this.jdbi = jdbi;
        this.key = Base64.getDecoder().decode(settings.getOrCreate(KEY_SETTING, () -> {
            byte[] k = new byte[32];
            new SecureRandom().nextBytes(k);
            return Base64.getEncoder().encodeToString(k);
        }));
    }

    /** Records a grant and returns its SAS URL on baseUrl. */
    String grant(String resourceId, String access, long expiresAtSeconds, String baseUrl) {
        String accessId = UUID.randomUUID().toString();
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO compute_disk_access (access_id, resource_key, access, "
                        + "expires_at, created_at) VALUES (:a, :r, :x, :e, :t)")
                .bind("a", accessId).bind("r", ResourceStore.key(resourceId)).bind("x", access)
                .bind("e", expiresAtSeconds).bind("t", System.currentTimeMillis()).execute());
        String permission = WRITE.equals(access) ? "rw" : "r";
        String expiry = Instant.ofEpochSecond(expiresAtSeconds).toString();
        return baseUrl + "/sas/disks/" + accessId + "?sv=" + SAS_VERSION + "&sr=b&sp=" + permission
                + "&se=" + enc(expiry) + "&sig=" + enc(sign(accessId, permission, expiry));
    }

    /** Unexpired grants of a resource. */
    List<Grant> live(String resourceId) {
        long now = Instant.now().getEpochSecond();
        return jdbi.withHandle(h -> h.createQuery("SELECT access_id, resource_key, access, expires_at FROM "
                        + "compute_disk_access WHERE resource_key = :r AND expires_at > :now")
                .bind("r", ResourceStore.key(resourceId)).bind("now", now)
                .map((rs, ctx) -> new Grant(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4))).list());
    }

    /** endAccess: every URL of the resource stops working. */
    void revokeAll(String resourceId) {
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM compute_disk_access WHERE resource_key = :r")
                .bind("r", ResourceStore.key(resourceId)).execute());
    }

    /** Forgets grants that expired more than a day ago. */
    void prune() {
        long before = Instant.now().getEpochSecond() - 86_400;
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM compute_disk_access WHERE expires_at < :t").bind("t", before).execute());
    }

    /**
     * The grant a SAS URL carries, or {@link Refused} (403 AuthenticationFailed) when its signature does not
     * match, it has expired, or it was revoked.
     */
    Grant verify(String accessId, Map<String, String> query) {
        String permission = query.get("sp");
        String expiry = query.get("se");
        String signature = query.get("sig");
        if (permission == null || expiry == null || signature == null) {
            throw new Refused("AuthenticationFailed", "Server failed to authenticate the request. The SAS is missing "
                    + "one of sp, se or sig.");
        }
        byte[] expected = sign(accessId, permission, expiry).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII))) {
            throw new Refused("AuthenticationFailed", "Server failed to authenticate the request. Make sure the value "
                    + "of Authorization header is formed correctly including the signature. Signature did not match.");
        }
        Instant expires;
        try {
            expires = Instant.parse(expiry);
        } catch (DateTimeParseException e) {
            throw new Refused("AuthenticationFailed", "Server failed to authenticate the request: se is not a time.");
        }
        Instant now = Instant.now();
        if (!now.isBefore(expires)) {
            throw new Refused("AuthenticationFailed", "Server failed to authenticate the request. Signature not valid "
                    + "in the specified time frame: Expiry [" + expires + "] - Current [" + now + "].");
        }
        Optional<Grant> grant = jdbi.withHandle(h -> h.createQuery("SELECT access_id, resource_key, access, expires_at "
                        + "FROM compute_disk_access WHERE access_id = :a")
                .bind("a", accessId)
                .map((rs, ctx) -> new Grant(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4))).findOne());
        Grant g = grant.orElseThrow(() -> new Refused("AuthenticationFailed", "Server failed to authenticate the "
                + "request. The access to this disk was revoked (endAccess) or the disk was deleted."));
        if (g.expiresAt() != expires.getEpochSecond() || !permission.equals(g.write() ? "rw" : "r")) {
            throw new Refused("AuthenticationFailed", "Server failed to authenticate the request. The SAS does not "
                    + "match its grant.");
        }
        return g;
    }

    private String sign(String accessId, String permission, String expiry) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] sig = mac.doFinal(("secondsite-disk-sas-v1\n" + accessId + "\n" + permission + "\n" + expiry)
                    .getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
