package dev.secondsite.auth;

import dev.secondsite.io.AtomicFiles;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.store.Settings;
import org.jdbi.v3.core.Jdbi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The tenant and its service principals (client id + secret), as Entra ID would hold them.
 *
 * <p>Secrets are 256 random bits, so a salted SHA-256 is enough to store them: there is nothing
 * guessable to brute-force, and token requests stay cheap.
 */
public final class IdentityService {
    public static final String ADMIN_FILE = "admin.json";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Jdbi jdbi;
    private final String tenantId;

    public IdentityService(Jdbi jdbi, Settings settings) {
        this.jdbi = jdbi;
        this.tenantId = settings.getOrCreate("tenant.id", () -> UUID.randomUUID().toString());
    }

    public String tenantId() {
        return tenantId;
    }

    /** A new service principal; the secret is returned once and never stored in clear. */
    public record Created(String clientId, String objectId, String displayName, String secret) {}

    public record Summary(String clientId, String objectId, String displayName, long createdAt) {}

    public Created create(String displayName) {
        String clientId = UUID.randomUUID().toString();
        String objectId = UUID.randomUUID().toString();
        byte[] secretBytes = new byte[32];
        RANDOM.nextBytes(secretBytes);
        String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO principals (client_id, object_id, display_name, secret_hash, "
                        + "created_at) VALUES (:c, :o, :d, :s, :t)")
                .bind("c", clientId).bind("o", objectId).bind("d", displayName).bind("s", hash(secret))
                .bind("t", System.currentTimeMillis()).execute());
        return new Created(clientId, objectId, displayName, secret);
    }

    /** The principal whose credentials these are, or empty when the id or the secret is wrong. */
    public Optional<Principal> verify(String clientId, String secret) {
        if (clientId == null || secret == null) {
            return Optional.empty();
        }
        Optional<Map<String, Object>> row = jdbi.withHandle(h -> h.createQuery(
                        "SELECT object_id, secret_hash FROM principals WHERE client_id = :c")
                .bind("c", clientId).mapToMap().findOne());
        return row.filter(r -> matches(secret, (String) r.get("secret_hash")))
                .map(r -> new Principal((String) r.get("object_id"), clientId, tenantId));
    }

    public boolean exists(String clientId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM principals WHERE client_id = :c")
                .bind("c", clientId).mapTo(Integer.class).one()) > 0;
    }

    public boolean objectExists(String objectId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM principals WHERE object_id = :o")
                .bind("o", objectId).mapTo(Integer.class).one()) > 0;
    }

    public Optional<Summary> findByName(String displayName) {
        return list().stream().filter(s -> s.displayName().equalsIgnoreCase(displayName)).findFirst();
    }

    public List<Summary> list() {
        return jdbi.withHandle(h -> h.createQuery(
                        "SELECT client_id, object_id, display_name, created_at FROM principals ORDER BY created_at")
                .map((rs, ctx) -> new Summary(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4)))
                .list());
    }

    public boolean delete(String clientId) {
        return jdbi.withHandle(h -> h.createUpdate("DELETE FROM principals WHERE client_id = :c")
                .bind("c", clientId).execute()) > 0;
    }

    /**
     * Makes sure {@code <dataDir>/admin.json} holds working admin credentials, creating the admin
     * principal on first start (or when the file no longer matches the store). Returns the admin.
     */
    public Principal ensureAdmin(Path dataDir) {
        Path file = dataDir.resolve(ADMIN_FILE);
        if (Files.exists(file)) {
            try {
                JsonNode admin = Json.MAPPER.readTree(file.toFile());
                Optional<Principal> existing = verify(admin.path("clientId").asText(null),
                        admin.path("clientSecret").asText(null));
                if (existing.isPresent() && tenantId.equals(admin.path("tenantId").asText())) {
                    return existing.get();
                }
            } catch (IOException e) {
                // Unreadable file: replace it below with fresh credentials.
            }
        }
        Created admin = create("secondsite-admin");
        ObjectNode body = Json.object();
        body.put("tenantId", tenantId);
        body.put("clientId", admin.clientId());
        body.put("clientSecret", admin.secret());
        body.put("objectId", admin.objectId());
        writePrivate(file, Json.write(body) + "\n");
        return new Principal(admin.objectId(), admin.clientId(), tenantId);
    }

    /** Writes a file readable by its owner only, atomically (no window where it is world-readable). */
    static void writePrivate(Path file, String content) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            AtomicFiles.write(file, content.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + " failed", e);
        }
    }

    private static String hash(String secret) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return HexFormat.of().formatHex(salt) + ":" + HexFormat.of().formatHex(sha256(salt, secret));
    }

    private static boolean matches(String secret, String stored) {
        int colon = stored.indexOf(':');
        byte[] salt = HexFormat.of().parseHex(stored.substring(0, colon));
        byte[] expected = HexFormat.of().parseHex(stored.substring(colon + 1));
        return MessageDigest.isEqual(expected, sha256(salt, secret));
    }

    private static byte[] sha256(byte[] salt, String secret) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(salt);
            return digest.digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
