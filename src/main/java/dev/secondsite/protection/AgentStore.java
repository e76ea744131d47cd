package dev.secondsite.protection;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.ResourceStore;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The {@code agents} table: registered mobility agents, their secrets (hashed) and what they last reported. */
public final class AgentStore {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String COLUMNS = "id, secret_hash, vault_id, fabric_id, container_id, machine_name, os_type, "
            + "agent_version, disks, registered_at, last_heartbeat, last_agent_time, azure_region";
    private static final RowMapper<Agent> ROW = (rs, ctx) -> new Agent(rs.getString("id"), rs.getString("secret_hash"),
            rs.getString("vault_id"), rs.getString("fabric_id"), rs.getString("container_id"),
            rs.getString("machine_name"), rs.getString("os_type"), rs.getString("agent_version"),
            (ArrayNode) Json.parse(rs.getString("disks")), rs.getLong("registered_at"),
            rs.getObject("last_heartbeat", Long.class), rs.getObject("last_agent_time", Long.class),
            rs.getString("azure_region"));

    /**
     * One registered agent. {@code disks} is the disk list it last reported, as it reported it;
     * {@code azureRegion} the Azure region of a machine that is an Azure VM (null otherwise).
     */
    public record Agent(String id, String secretHash, String vaultId, String fabricId, String containerId,
                        String machineName, String osType, String agentVersion, ArrayNode disks, long registeredAt,
                        Long lastHeartbeat, Long lastAgentTime, String azureRegion) {

        /** When the server last heard from the agent (registration counts). */
        public long lastContact() {
            return lastHeartbeat != null ? Math.max(lastHeartbeat, registeredAt) : registeredAt;
        }
    }

    private final Jdbi jdbi;

    public AgentStore(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    public Optional<Agent> find(String id) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM agents WHERE id = :id")
                .bind("id", id).map(ROW).findOne());
    }

    public Optional<Agent> findByMachine(String fabricId, String machineName) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS
                        + " FROM agents WHERE fabric_key = :f AND machine_key = :m")
                .bind("f", ResourceStore.key(fabricId)).bind("m", machineName.toLowerCase(Locale.ROOT))
                .map(ROW).findOne());
    }

    public List<Agent> byVault(String vaultId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM agents WHERE vault_key = :v ORDER BY registered_at")
                .bind("v", ResourceStore.key(vaultId)).map(ROW).list());
    }

    public List<Agent> all() {
        return jdbi.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM agents ORDER BY registered_at")
                .map(ROW).list());
    }

    /**
     * Creates the agent, or (same fabric and machine name) re-issues its secret and refreshes what it
     * reported. Returns the agent as stored.
     */
    public Agent register(String newId, String secret, String vaultId, String fabricId, String containerId,
                          String machineName, String osType, String agentVersion, ArrayNode disks, String azureRegion,
                          long now) {
        return jdbi.inTransaction(h -> {
            int updated = h.createUpdate("UPDATE agents SET secret_hash = :s, os_type = :o, agent_version = :v, "
                            + "disks = :d, registered_at = :t, last_heartbeat = :t, azure_region = :r "
                            + "WHERE fabric_key = :f AND machine_key = :m")
                    .bind("s", hash(secret)).bind("o", osType).bind("v", agentVersion).bind("d", Json.write(disks))
                    .bind("r", azureRegion)
                    .bind("t", now).bind("f", ResourceStore.key(fabricId))
                    .bind("m", machineName.toLowerCase(Locale.ROOT)).execute();
            if (updated == 0) {
                h.createUpdate("INSERT INTO agents (id, secret_hash, vault_key, vault_id, fabric_key, fabric_id, "
                                + "container_id, machine_key, machine_name, os_type, agent_version, disks, registered_at, "
                                + "last_heartbeat, azure_region) VALUES (:id, :s, :vk, :v, :fk, :f, :c, :mk, :m, :o, :av, :d, "
                                + ":t, :t, :r)")
                        .bind("id", newId).bind("s", hash(secret)).bind("vk", ResourceStore.key(vaultId))
                        .bind("v", vaultId).bind("fk", ResourceStore.key(fabricId)).bind("f", fabricId)
                        .bind("c", containerId).bind("mk", machineName.toLowerCase(Locale.ROOT)).bind("m", machineName)
                        .bind("o", osType).bind("av", agentVersion).bind("d", Json.write(disks)).bind("t", now)
                        .bind("r", azureRegion).execute();
            }
            return h.createQuery("SELECT " + COLUMNS + " FROM agents WHERE fabric_key = :f AND machine_key = :m")
                    .bind("f", ResourceStore.key(fabricId)).bind("m", machineName.toLowerCase(Locale.ROOT))
                    .map(ROW).one();
        });
    }

    /** Directive kinds: shut the machine down before a failover; write a recovery point back for failback. */
    public static final String SHUTDOWN = "shutdown";
    public static final String FAILBACK = "failback";

    /**
     * What the server asks of an agent beyond replicating, as the heartbeat answer carries it under {@code kind}
     * ({@code request} has at least {@code requestId}), and the agent's report (status null until it reports).
     */
    public record Directive(String kind, ObjectNode request, String status, String message) {
        public String requestId() {
            return request.path("requestId").asText();
        }
    }

    public Optional<Directive> directive(String agentId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT directive_kind, directive, directive_status, directive_message "
                        + "FROM agents WHERE id = :id AND directive IS NOT NULL").bind("id", agentId)
                .map((rs, ctx) -> new Directive(rs.getString(1), (ObjectNode) Json.parse(rs.getString(2)),
                        rs.getString(3), rs.getString(4))).findOne());
    }

    /** Issues a directive (idempotent for the same request id; replaces any other). */
    public void issue(String agentId, String kind, ObjectNode request) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE agents SET directive_kind = :k, directive = :d, directive_status = NULL, "
                        + "directive_message = NULL WHERE id = :id AND (directive IS NULL OR directive_kind <> :k "
                        + "OR directive NOT LIKE :like)")
                .bind("k", kind).bind("d", Json.write(request)).bind("id", agentId)
                .bind("like", "%\"requestId\":\"" + request.path("requestId").asText() + "\"%").execute());
    }

    /**
     * Waits (polling, at most {@code wait}) for the agent's report on directive {@code requestId}. Empty: the
     * directive was withdrawn meanwhile; a directive whose status is null: no report came in time; otherwise the
     * report.
     */
    public Optional<Directive> awaitReport(String agentId, String requestId, java.time.Duration wait,
                                           java.time.Clock clock) throws InterruptedException {
        long deadline = clock.millis() + wait.toMillis();
        while (true) {
            Optional<Directive> d = directive(agentId).filter(x -> x.requestId().equals(requestId));
            if (d.isEmpty() || d.get().status() != null || clock.millis() >= deadline) {
                return d;
            }
            Thread.sleep(500);
        }
    }

    /** Withdraws a directive (its operation ended or rolled back): the agent goes back to replicating. */
    public void withdraw(String agentId, String requestId) {
        directive(agentId).filter(d -> d.requestId().equals(requestId)).ifPresent(d -> jdbi.useHandle(h ->
                h.createUpdate("UPDATE agents SET directive_kind = NULL, directive = NULL, directive_status = NULL, "
                        + "directive_message = NULL WHERE id = :id").bind("id", agentId).execute()));
    }

    /** The agent's report on the directive it was given; reports on other requests are ignored. */
    public void report(String agentId, String kind, String requestId, String status, String message) {
        directive(agentId).filter(d -> d.kind().equals(kind) && d.requestId().equals(requestId)).ifPresent(d ->
                jdbi.useHandle(h -> h.createUpdate("UPDATE agents SET directive_status = :s, directive_message = :m "
                                + "WHERE id = :id AND directive_kind = :k")
                        .bind("s", status).bind("m", message == null ? null : message.substring(0, Math.min(1024,
                                message.length()))).bind("id", agentId).bind("k", kind).execute()));
    }

    /** Records a heartbeat; returns true when the reported disks differ from the stored ones. */
    public boolean heartbeat(String id, long now, long agentTime, ArrayNode disks) {
        return jdbi.inTransaction(h -> {
            String before = h.createQuery("SELECT disks FROM agents WHERE id = :id").bind("id", id)
                    .mapTo(String.class).findOne().orElse(null);
            String after = Json.write(disks);
            h.createUpdate("UPDATE agents SET last_heartbeat = :t, last_agent_time = :a, disks = :d WHERE id = :id")
                    .bind("t", now).bind("a", agentTime).bind("d", after).bind("id", id).execute();
            return before != null && !Json.parse(before).equals(disks);
        });
    }

    public boolean delete(String id) {
        return jdbi.withHandle(h -> h.createUpdate("DELETE FROM agents WHERE id = :id").bind("id", id).execute()) > 0;
    }

    /** Whether the secret is the agent's; constant-time comparison of the salted hashes. */
    public static boolean matches(Agent agent, String secret) {
        String stored = agent.secretHash();
        int colon = stored.indexOf(':');
        byte[] salt = HexFormat.of().parseHex(stored.substring(0, colon));
        byte[] expected = HexFormat.of().parseHex(stored.substring(colon + 1));
        return MessageDigest.isEqual(expected, sha256(salt, secret));
    }

    /** A new random agent secret (256 bits, URL-safe). */
    public static String newSecret() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String hash(String secret) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return HexFormat.of().formatHex(salt) + ":" + HexFormat.of().formatHex(sha256(salt, secret));
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
