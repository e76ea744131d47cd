package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.server.SecondSiteServer;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.TestDirs;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.protection.ProtectionClient.RS;
import static dev.secondsite.protection.ProtectionClient.expect;
import static dev.secondsite.protection.ProtectionClient.marker;
import static dev.secondsite.protection.ProtectionClient.segment;
import static dev.secondsite.protection.ProtectionClient.write;
import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The replication data plane through the public API, on both stores: registration keys (good, expired,
 * wrong, clock skew), heartbeats and "Last Contact At", enable protection, segment uploads (stored, replayed,
 * gap, malformed, unknown disk, too large), recovery points, export compared byte for byte with what was
 * sent, churn mode, resync, corruption found at apply time, metrics, and disable.
 */
class ReplicationScenarioTest {
    static final long DISK = 1 << 20;
    static final int CHUNK = 64 << 10;

    @Nested
    class Embedded extends Scenarios {
        Embedded() {
            super(TestServer.Store.EMBEDDED);
        }
    }

    @Nested
    class Postgres extends Scenarios {
        Postgres() {
            super(TestServer.Store.POSTGRES);
        }
    }

    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    abstract static class Scenarios {
        private final TestServer.Store store;
        private SecondSiteServer server;
        private Path dataDir;
        private String schema;
        private ProtectionClient c;

        Scenarios(TestServer.Store store) {
            this.store = store;
        }

        @BeforeAll
        void start() throws Exception {
            dataDir = Files.createTempDirectory("secondsite-protection");
            String db = "embedded";
            if (store == TestServer.Store.POSTGRES) {
                schema = "t_prot_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
                db = TestServer.postgresUrl(schema);
            }
            server = SecondSiteServer.start(new SecondSiteServer.Options(dataDir, db, "127.0.0.1", 0, 2, 0));
            c = new ProtectionClient("https://127.0.0.1:" + server.port(), dataDir);
        }

        @AfterAll
        void stop() throws Exception {
            if (server != null) {
                server.close();
            }
            TestDirs.deleteTree(dataDir);
            if (schema != null) {
                try (var conn = DriverManager.getConnection(TestServer.POSTGRES_URL, System.getProperty("user.name"), "")) {
                    conn.createStatement().execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                }
            }
        }

        @Test
        void registrationKeysAndHeartbeats() throws Exception {
            ProtectionClient.Site site = c.site("reg", 1440);
            HttpResponse<String> generated = expect(c.api.post(site.fabric() + "/generateRegistrationKey?" + RS, null), 200);
            JsonNode key = json(generated);
            Instant expires = Instant.parse(key.path("expiresAt").asText());
            assertThat(expires).isBetween(Instant.now().plus(Duration.ofDays(5)).minusSeconds(60),
                    Instant.now().plus(Duration.ofDays(5)).plusSeconds(60));
            assertThat(key.path("fabricId").asText()).isEqualTo(site.fabric());
            String good = key.path("registrationKey").asText();

            // Wrong keys: garbage, a tampered signature, a bearer token of the management API.
            assertError(c.register("not-a-key", "web01", DISK, Instant.now()), 401, "InvalidRegistrationKey");
            String tampered = good.substring(0, good.length() - 4) + (good.endsWith("AAAA") ? "BBBB" : "AAAA");
            assertError(c.register(tampered, "web01", DISK, Instant.now()), 401, "InvalidRegistrationKey");
            assertError(c.register(c.api.token(), "web01", DISK, Instant.now()), 401, "InvalidRegistrationKey");
            // And the other way round: a registration key opens no ARM call.
            assertError(c.api.call("GET", site.vault() + "?" + RS, good, null), 401, "InvalidAuthenticationToken");

            // Expired (issued 5 days and a minute ago, by this server's key) and clock skew (seed 001).
            String expired = server.protection().registrationKeys().issue(site.vault(), site.fabric(),
                    Instant.now().minus(Duration.ofDays(5)).minusSeconds(60));
            JsonNode error = assertError(c.register(expired, "web01", DISK, Instant.now()), 400, "RegistrationKeyExpired");
            assertThat(error.path("message").asText()).contains("new vault registration key");
            String nearlyExpired = server.protection().registrationKeys().issue(site.vault(), site.fabric(),
                    Instant.now().minus(Duration.ofDays(5)).plusSeconds(60));
            assertError(c.register(good, "web01", DISK, Instant.now().plus(Duration.ofMinutes(16))), 400,
                    "ServerClockSkewTooLarge");
            assertError(c.register(good, "web01", DISK, Instant.now().minus(Duration.ofMinutes(20))), 400,
                    "ServerClockSkewTooLarge");
            assertError(c.register(good, "bad name!", DISK, Instant.now()), 400, "InvalidRequestContent");

            Instant before = Instant.now().minusSeconds(1);
            HttpResponse<String> registered = expect(c.register(nearlyExpired, "web01", DISK,
                    Instant.now().plus(Duration.ofMinutes(14))), 200);
            JsonNode agent = json(registered);
            assertThat(agent.path("agentId").asText()).isNotBlank();
            assertThat(agent.path("vaultId").asText()).isEqualTo(site.vault());
            assertThat(agent.path("fabricId").asText()).isEqualTo(site.fabric());
            String auth = "Agent " + agent.path("agentId").asText() + ":" + agent.path("agentSecret").asText();

            // The machine is a provider with "Last Contact At", and a protectable item showing its disks.
            String provider = site.fabric() + "/replicationRecoveryServicesProviders/web01";
            JsonNode p = c.api.getOk(provider + "?" + RS).path("properties");
            assertThat(p.path("connectionStatus").asText()).isEqualTo("Connected");
            Instant first = Instant.parse(p.path("lastHeartBeat").asText());
            assertThat(first).isAfterOrEqualTo(before);
            assertThat(p.path("machineName").asText()).isEqualTo("web01");
            assertThat(p.path("providerVersion").asText()).isEqualTo("9.1.0");
            assertThat(c.api.getOk(site.fabric() + "/replicationRecoveryServicesProviders?" + RS).path("value")).hasSize(1);
            assertThat(c.api.getOk(site.vault() + "/replicationRecoveryServicesProviders?" + RS).path("value")).hasSize(1);
            JsonNode protectable = c.api.getOk(site.container() + "/replicationProtectableItems/web01?" + RS);
            assertThat(protectable.path("id").asText()).isEqualTo(agent.path("protectableItemId").asText());
            JsonNode custom = protectable.path("properties").path("customDetails");
            assertThat(protectable.path("properties").path("protectionStatus").asText()).isEqualTo("Unprotected");
            assertThat(custom.path("disks").get(0).path("name").asText()).isEqualTo("disk0");
            assertThat(custom.path("disks").get(0).path("sizeBytes").asLong()).isEqualTo(DISK);
            assertThat(custom.path("diskCount").asInt()).isEqualTo(1);

            Thread.sleep(20);
            expect(c.heartbeat(auth, "{\"agentTime\":\"" + Instant.now() + "\",\"disks\":[{\"name\":\"disk0\",\"sizeBytes\":"
                    + DISK + "},{\"name\":\"disk1\",\"sizeBytes\":4194304}]}"), 200);
            p = c.api.getOk(provider + "?" + RS).path("properties");
            assertThat(Instant.parse(p.path("lastHeartBeat").asText())).isAfter(first);
            custom = c.api.getOk(site.container() + "/replicationProtectableItems/web01?" + RS)
                    .path("properties").path("customDetails");
            assertThat(custom.path("disks")).hasSize(2);
            assertThat(c.api.getOk(site.container() + "/replicationProtectableItems?" + RS + "&%24filter="
                    + Arm.enc("state eq 'Unprotected'")).path("value")).hasSize(1);

            assertError(c.heartbeat(null, "{}"), 401, "InvalidAgentCredentials");
            assertError(c.heartbeat("Agent " + agent.path("agentId").asText() + ":wrong", "{}"), 401,
                    "InvalidAgentCredentials");

            // Registering again re-issues the secret for the same agent; the old secret stops working.
            JsonNode again = json(expect(c.register(good, "web01", DISK, Instant.now()), 200));
            assertThat(again.path("agentId").asText()).isEqualTo(agent.path("agentId").asText());
            assertError(c.heartbeat(auth, "{}"), 401, "InvalidAgentCredentials");
            expect(c.heartbeat("Agent " + again.path("agentId").asText() + ":" + again.path("agentSecret").asText(),
                    "{}"), 200);
        }

        @Test
        void enableValidation() throws Exception {
            ProtectionClient.Site site = c.site("val", 1440);
            ProtectionClient.Agent agent = c.registerOk(site, "val01", DISK);
            String item = site.item("val01") + "?" + RS;
            assertError(c.api.put(item, "{\"properties\":{\"policyId\":\"" + site.policy() + "\",\"protectableItemId\":\""
                    + agent.protectableItemId() + "\",\"providerSpecificDetails\":{\"instanceType\":\"A2A\"}}}"), 400,
                    "ReplicationProviderNotSupported");
            assertError(c.api.put(item, "{\"properties\":{\"policyId\":\"" + site.policy()
                    + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}"), 400, "MissingRequiredProperty");
            assertError(c.api.put(item, "{\"properties\":{\"policyId\":\"" + site.vault() + "/replicationPolicies/none"
                    + "\",\"protectableItemId\":\"" + agent.protectableItemId()
                    + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}"), 400, "PolicyNotFound");
            assertError(c.api.put(item, "{\"properties\":{\"policyId\":\"" + site.policy() + "\",\"protectableItemId\":\""
                    + site.container() + "/replicationProtectableItems/nobody"
                    + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}"), 400, "ProtectableItemNotFound");
            // A second policy exists but is not mapped to this container.
            c.succeed(c.api.put(site.vault() + "/replicationPolicies/unmapped?" + RS, "{\"properties\":{"
                    + "\"providerSpecificInput\":{\"instanceType\":\"InMageAzureV2\",\"multiVmSyncStatus\":\"Enable\"}}}"));
            assertError(c.api.put(item, "{\"properties\":{\"policyId\":\"" + site.vault() + "/replicationPolicies/unmapped"
                    + "\",\"protectableItemId\":\"" + agent.protectableItemId()
                    + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}"), 400,
                    "PolicyNotAssociatedWithContainer");
            assertError(c.api.get(item), 404, "ResourceNotFound");
            // The policy's mapping can't go while it protects something; the provider can't be unregistered.
            c.enable(site, "val01", agent);
            assertError(c.api.post(site.mapping() + "/remove?" + RS, "{}"), 409, "ProtectionContainerMappingInUse");
            assertError(c.api.post(site.fabric() + "/replicationRecoveryServicesProviders/val01/remove?" + RS, null), 409,
                    "ProviderHasProtectedItems");
            // The same machine under another name is refused; the same PUT again answers 200.
            assertError(c.api.put(site.item("other") + "?" + RS, "{\"properties\":{\"policyId\":\"" + site.policy()
                    + "\",\"protectableItemId\":\"" + agent.protectableItemId()
                    + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}"), 409,
                    "ProtectableItemAlreadyProtected");
            expect(c.api.put(item, "{\"properties\":{\"policyId\":\"" + site.policy() + "\",\"protectableItemId\":\""
                    + agent.protectableItemId() + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}"),
                    200);
            // The same item with other settings is refused, not answered 200 with the old ones.
            JsonNode changed = assertError(c.api.put(item, "{\"properties\":{\"policyId\":\"" + site.policy()
                    + "\",\"protectableItemId\":\"" + agent.protectableItemId() + "\",\"providerSpecificDetails\":{"
                    + "\"instanceType\":\"InMageAzureV2\",\"targetAzureVmName\":\"renamed\"}}}"), 409,
                    "ProtectionAlreadyEnabled");
            assertThat(changed.path("message").asText()).contains("'val01'", "targetAzureVmName",
                    "Disable its replication first", "PATCH");
            assertThat(c.api.getOk(item).at("/properties/providerSpecificDetails/recoveryAzureVMName").asText())
                    .isEqualTo("val01");
            // Validating an enable of a machine that is replicated already says so instead of "valid".
            assertError(c.api.post(site.item("val01") + "/validate?" + RS, "{\"properties\":{\"policyId\":\""
                    + site.policy() + "\",\"protectableItemId\":\"" + agent.protectableItemId()
                    + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}"), 409,
                    "ProtectableItemAlreadyProtected");
        }

        /** The replica digests a resync compares with (agent-protocol §4a): after segment 1, of its content. */
        private void assertReplicaDigests(ProtectionClient.Agent agent, String diskId, byte[] disk) throws Exception {
            HttpResponse<byte[]> page = c.digests(agent.authorization(), diskId, "first=0&count=" + DISK / CHUNK);
            assertThat(page.statusCode()).isEqualTo(200);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(page.body()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            assertThat(b.getInt(0)).isEqualTo(dev.secondsite.replication.ReplicaDigests.PAGE_MAGIC);
            assertThat(b.getInt(4)).isEqualTo(CHUNK);
            assertThat(b.getLong(8)).as("applied sequence").isEqualTo(1);
            assertThat(b.getLong(16)).as("next sequence").isEqualTo(2);
            assertThat(b.getLong(24)).isZero();
            assertThat(b.getInt(32)).isEqualTo((int) (DISK / CHUNK));
            for (int chunk = 0; chunk < DISK / CHUNK; chunk++) {
                byte[] content = java.util.Arrays.copyOfRange(disk, chunk * CHUNK, (chunk + 1) * CHUNK);
                byte[] expected = chunk % 3 == 0 ? dev.secondsite.replication.chunk.ChunkDigest.of(content).toBytes()
                        : new byte[32]; // written chunks hash to their content, the rest are ZERO
                int at = dev.secondsite.replication.ReplicaDigests.PAGE_HEADER_BYTES + chunk * 32;
                assertThat(java.util.Arrays.copyOfRange(page.body(), at, at + 32)).as("chunk %d", chunk).isEqualTo(expected);
            }
            assertThat(c.digests(agent.authorization(), diskId, "first=1&count=" + DISK / CHUNK).statusCode())
                    .as("past the end").isEqualTo(400);
            assertThat(new String(c.digests(agent.authorization(), diskId, "first=0").body())).contains("InvalidDigestRange");
            assertThat(c.digests(agent.authorization(), UUID.randomUUID().toString(), "first=0&count=1").statusCode())
                    .isEqualTo(404);
            assertThat(c.digests(null, diskId, "first=0&count=1").statusCode()).isEqualTo(401);
        }

        @Test
        void replicateExportResyncAndDisable() throws Exception {
            ProtectionClient.Site site = c.site("main", 1440);
            ProtectionClient.Agent agent = c.registerOk(site, "web02", DISK);
            JsonNode hb = c.heartbeatDisk(agent, DISK);
            assertThat(hb.path("replicate").asBoolean()).isFalse();

            HttpResponse<String> accepted = c.api.put(site.item("web02") + "?" + RS, "{\"properties\":{\"policyId\":\""
                    + site.policy() + "\",\"protectableItemId\":\"" + agent.protectableItemId()
                    + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}");
            expect(accepted, 202);
            JsonNode job = c.job(site, accepted);
            assertThat(job.path("properties").path("state").asText()).as("%s", job).isEqualTo("Succeeded");
            assertThat(job.path("properties").path("friendlyName").asText()).isEqualTo("Enable protection");
            assertThat(job.path("properties").path("tasks")).extracting(t -> t.path("friendlyName").asText())
                    .containsExactly("Prerequisites check for protection", "Enable protection",
                            "Start initial replication", "Finalize protection");
            HttpResponse<String> result = c.api.get(accepted.headers().firstValue("Location").orElseThrow());
            expect(result, 200);
            assertThat(json(result).path("name").asText()).isEqualTo("web02");

            JsonNode item = c.item(site, "web02");
            JsonNode p = item.path("properties");
            assertThat(p.path("protectionState").asText()).isEqualTo("InitialReplication");
            assertThat(p.path("friendlyName").asText()).isEqualTo("web02");
            assertThat(p.path("protectableItemId").asText()).isEqualTo(agent.protectableItemId());
            assertThat(p.path("recoveryServicesProviderId").asText()).isEqualTo(agent.providerId());
            assertThat(p.path("policyId").asText()).isEqualTo(site.policy());
            assertThat(p.path("activeLocation").asText()).isEqualTo("Primary");
            assertThat(p.path("replicationHealth").asText()).isEqualTo("Normal");
            assertThat(p.path("currentScenario").path("scenarioName").asText()).isEqualTo("None");
            JsonNode details = p.path("providerSpecificDetails");
            assertThat(details.path("instanceType").asText()).isEqualTo("InMageAzureV2");
            assertThat(details.path("rpoInSeconds").isNull()).isTrue();
            assertThat(details.path("agentVersion").asText()).isEqualTo("9.1.0");
            assertThat(details.path("osType").asText()).isEqualTo("Linux");
            assertThat(details.path("churnMode").asText()).isEqualTo("Normal");
            String diskId = details.path("protectedDisks").get(0).path("diskId").asText();
            assertThat(details.path("protectedDisks").get(0).path("diskCapacityInBytes").asLong()).isEqualTo(DISK);
            assertThat(c.api.getOk(site.container() + "/replicationProtectedItems?" + RS).path("value")).hasSize(1);
            assertThat(c.api.getOk(site.vault() + "/replicationProtectedItems?" + RS).path("value")).hasSize(1);
            assertThat(c.api.getOk(site.container() + "/replicationProtectableItems/web02?" + RS).path("properties")
                    .path("protectionStatus").asText()).isEqualTo("Protected");

            hb = c.heartbeatDisk(agent, DISK);
            assertThat(hb.path("replicate").asBoolean()).isTrue();
            assertThat(hb.path("diskId").asText()).isEqualTo(diskId);
            assertThat(hb.path("nextSequence").asLong()).isEqualTo(1);
            assertThat(hb.path("chunkBytes").asInt()).isEqualTo(CHUNK);
            assertThat(hb.path("crashConsistentSeconds").asInt()).isEqualTo(300);
            assertThat(hb.path("resync").asBoolean()).isFalse();

            // Initial replication: non-zero chunks, then a crash-consistent marker.
            byte[] disk = new byte[(int) DISK];
            Random random = new Random(42);
            Instant t1 = Instant.now().minusSeconds(5).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
            byte[] seg1 = segment(diskId, 1, DISK, w -> {
                for (int chunk = 0; chunk < DISK / CHUNK; chunk += 3) {
                    byte[] data = new byte[CHUNK];
                    random.nextBytes(data);
                    write(w, disk, (long) chunk * CHUNK, data);
                }
                marker(w, ConsistencyType.CRASH_CONSISTENT, t1, "initial");
            });
            HttpResponse<String> stored = expect(c.upload(agent, diskId, 1, seg1), 201);
            assertThat(json(stored).path("nextSequence").asLong()).isEqualTo(2);
            byte[] atT1 = disk.clone();

            item = c.awaitItem(site, "web02", "item Protected", i -> i.path("properties").path("protectionState")
                    .asText().equals("Protected"));
            details = item.path("properties").path("providerSpecificDetails");
            assertThat(details.path("rpoInSeconds").asLong()).isGreaterThanOrEqualTo(4);
            JsonNode d0 = details.path("protectedDisks").get(0);
            assertThat(d0.path("lastRecoveryPointTime").asText()).isEqualTo(t1.toString());
            assertThat(d0.path("lastAppliedSequence").asLong()).isEqualTo(1);
            assertThat(d0.path("nextSequence").asLong()).isEqualTo(2);
            assertThat(d0.path("cacheBytes").asLong()).isZero();
            assertThat(d0.path("pendingUploadBytes").asLong()).isEqualTo(4096);
            assertThat(d0.path("churnMBps").asDouble()).isEqualTo(1.0);
            assertReplicaDigests(agent, diskId, disk);
            JsonNode points = c.points(site, "web02");
            assertThat(points).hasSize(1);
            JsonNode point1 = points.get(0);
            assertThat(point1.path("properties").path("recoveryPointType").asText()).isEqualTo("CrashConsistent");
            assertThat(point1.path("properties").path("recoveryPointTime").asText()).isEqualTo(t1.toString());
            assertThat(point1.path("type").asText()).isEqualTo(
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems/recoveryPoints");
            String root1 = point1.path("properties").path("providerSpecificDetails").path("disks").get(0).path("rootDigest").asText();
            assertThat(c.api.getOk(site.item("web02") + "/recoveryPoints/" + point1.path("name").asText() + "?" + RS))
                    .isEqualTo(point1);
            assertError(c.api.get(site.item("web02") + "/recoveryPoints/" + UUID.randomUUID() + "?" + RS), 404,
                    "RecoveryPointNotFound");

            // Export the point and compare it with what was sent.
            Path exported = export(site, "web02", point1.path("name").asText(), "{\"format\":\"raw\"}");
            assertThat(Files.readAllBytes(exported)).isEqualTo(atT1);
            JsonNode info = RecoveryPointsApi.readInfo(exported);
            assertThat(info.path("sha256").asText()).isEqualTo(sha256(atT1));
            assertError(c.api.post(site.item("web02") + "/recoveryPoints/" + point1.path("name").asText() + "/exportDisk?"
                    + RS, "{\"path\":\"../../escape.img\"}"), 400, "InvalidRequestContent");
            assertError(c.api.post(site.item("web02") + "/recoveryPoints/" + point1.path("name").asText() + "/exportDisk?"
                    + RS, "{\"path\":\"" + exported.getFileName() + "\"}"), 409, "ExportTargetExists");

            // More changes and an app-consistent marker: a second point; the first is unchanged.
            Instant t2 = t1.plusSeconds(2);
            byte[] seg2 = segment(diskId, 2, DISK, w -> {
                byte[] data = new byte[5000];
                random.nextBytes(data);
                write(w, disk, 100_000, data);
                w.zero(0, CHUNK);
                java.util.Arrays.fill(disk, 0, CHUNK, (byte) 0);
                marker(w, ConsistencyType.APP_CONSISTENT, t2, "changes");
            });
            expect(c.upload(agent, diskId, 2, seg2), 201);
            points = c.awaitPoints(site, "web02", 2);
            assertThat(points.get(0).path("properties").path("recoveryPointType").asText()).isEqualTo("AppConsistent");
            assertThat(points.get(1)).isEqualTo(point1);
            assertThat(points.get(1).path("properties").path("providerSpecificDetails").path("disks").get(0)
                    .path("rootDigest").asText()).isEqualTo(root1);
            byte[] atT2 = disk.clone();

            // Replayed: 200 and nothing changes. Gap: 409. Malformed: 400 and the item is unaffected.
            HttpResponse<String> replay = expect(c.upload(agent, diskId, 2, seg2), 200);
            assertThat(json(replay).path("result").asText()).isIn("AlreadyApplied", "AlreadyStored");
            JsonNode gap = assertError(c.upload(agent, diskId, 5, segment(diskId, 5, DISK, w -> w.data(0, new byte[] {1}))),
                    409, "SequenceGap");
            assertThat(gap.path("message").asText()).contains("expects sequence 3");
            byte[] bad = segment(diskId, 3, DISK, w -> {
                w.data(0, new byte[] {9, 9, 9});
                marker(w, ConsistencyType.CRASH_CONSISTENT, t2.plusSeconds(1), "bad");
            });
            bad[bad.length - 40] ^= 0x55;
            assertError(c.upload(agent, diskId, 3, bad), 400, "MalformedSegment");
            byte[] otherDisk = segment(UUID.randomUUID().toString(), 3, DISK, w -> w.data(0, new byte[] {1}));
            assertError(c.upload(agent, diskId, 3, otherDisk), 400, "MalformedSegment");
            assertError(c.upload(agent, UUID.randomUUID().toString(), 1, seg1), 404, "UnknownDisk");
            assertError(c.upload(agent, "not-a-uuid", 1, seg1), 404, "UnknownDisk");
            assertError(uploadChunked(agent, diskId, 3, SegmentIntake.SEGMENT_BYTES_MAX + 1), 413, "SegmentTooLarge");
            Thread.sleep(300);
            assertThat(c.points(site, "web02")).hasSize(2);
            item = c.item(site, "web02");
            assertThat(item.path("properties").path("replicationHealth").asText()).isEqualTo("Normal");
            assertThat(item.path("properties").path("healthErrors")).isEmpty();
            assertThat(c.heartbeatDisk(agent, DISK).path("nextSequence").asLong()).isEqualTo(3);
            // Another agent's credentials do not reach this disk.
            ProtectionClient.Agent stranger = c.registerOk(site, "stranger", DISK);
            assertError(c.upload(stranger, diskId, 3, segment(diskId, 3, DISK, w -> w.data(0, new byte[] {1}))), 404,
                    "UnknownDisk");

            Path second = export(site, "web02", points.get(0).path("name").asText(), "{\"diskName\":\"disk0\"}");
            assertThat(Files.readAllBytes(second)).isEqualTo(atT2);
            for (String format : List.of("vhd", "vhdDynamic", "vhdx")) {
                Path image = export(site, "web02", points.get(0).path("name").asText(), "{\"format\":\"" + format
                        + "\",\"path\":\"images/web02-" + format + "\"}");
                assertThat(RecoveryPointsApi.readInfo(image).path("sha256").asText()).isEqualTo(sha256(atT2));
                try (dev.secondsite.disk.DiskImage opened = dev.secondsite.disk.DiskImages.open(image, false)) {
                    assertThat(opened.format().family()).isEqualTo(format.startsWith("vhdx") ? "VHDX" : "VHD");
                    java.nio.ByteBuffer content = java.nio.ByteBuffer.allocate((int) DISK);
                    opened.readFully(0, content);
                    assertThat(content.array()).as("%s export", format).isEqualTo(atT2);
                }
            }

            // Metrics: unauthenticated, one line per gauge for the disk.
            HttpResponse<String> metrics = c.api.call("GET", "/metrics", null, null);
            expect(metrics, 200);
            assertThat(metrics.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
            String labels = "{vault=\"vault-main\",resource_group=\"rg-main\",item=\"web02\",disk=\"disk0\"}";
            for (String gauge : List.of("secondsite_disk_pending_upload_bytes", "secondsite_disk_pending_apply_bytes",
                    "secondsite_disk_churn_bytes_per_second", "secondsite_disk_rpo_seconds",
                    "secondsite_disk_last_recovery_point_timestamp_seconds", "secondsite_disk_cache_bytes",
                    "secondsite_disk_recovery_store_bytes", "secondsite_disk_recovery_points")) {
                assertThat(metrics.body()).contains("# TYPE " + gauge + " gauge").contains(gauge + labels + " ");
            }
            assertThat(metrics.body()).contains("# TYPE secondsite_disk_cache_segment_writes_total counter")
                    .containsPattern("secondsite_disk_cache_segment_writes_total" + java.util.regex.Pattern.quote(labels) + " \\d+\n");
            assertThat(metrics.body()).contains("secondsite_disk_last_recovery_point_timestamp_seconds" + labels + " "
                    + Metrics.format(t2.toEpochMilli() / 1000.0));

            // Churn mode (SecondSite extension, PATCH providerSpecificDetails.churnMode).
            assertError(c.api.patch(site.item("web02") + "?" + RS, "{\"properties\":{\"providerSpecificDetails\":{"
                    + "\"instanceType\":\"InMageAzureV2\",\"churnMode\":\"Extreme\"}}}"), 400, "InvalidRequestContent");
            c.succeed(c.api.patch(site.item("web02") + "?" + RS, "{\"properties\":{\"providerSpecificDetails\":{"
                    + "\"instanceType\":\"InMageAzureV2\",\"churnMode\":\"High\"}}}"));
            assertThat(c.item(site, "web02").path("properties").path("providerSpecificDetails").path("churnMode").asText())
                    .isEqualTo("High");
            assertThat(c.heartbeatDisk(agent, DISK).path("churnMode").asText()).isEqualTo("High");

            // Enabled without an Azure target: the item does not offer failovers, and one asked for anyway has nothing
            // to fail over into, and says how to give it one.
            assertThat(c.item(site, "web02").path("properties").path("allowedOperations")).extracting(JsonNode::asText)
                    .containsExactly("DisableProtection", "RepairReplication");
            HttpResponse<String> failover = c.api.post(site.item("web02") + "/unplannedFailover?" + RS,
                    "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\"}}");
            assertError(failover, 409, "FailoverTargetNotConfigured");
            assertThat(failover.body()).contains("--target-resource-group").contains("exportDisk");
            HttpResponse<String> commit = c.api.post(site.item("web02") + "/failoverCommit?" + RS, null);
            assertError(commit, 409, "OperationNotAllowedInCurrentState");
            assertThat(commit.body()).contains("Allowed now: DisableProtection, RepairReplication.");

            // Resync: the heartbeat asks for it until the tagged marker is applied.
            HttpResponse<String> repair = c.api.post(site.item("web02") + "/repairReplication?" + RS, null);
            JsonNode repairJob = c.job(site, repair);
            assertThat(repairJob.path("properties").path("state").asText()).isEqualTo("Succeeded");
            assertThat(repairJob.path("properties").path("friendlyName").asText()).isEqualTo("Resynchronize");
            hb = c.heartbeatDisk(agent, DISK);
            assertThat(hb.path("resync").asBoolean()).isTrue();
            String resyncId = hb.path("resyncId").asText();
            assertThat(resyncId).isNotBlank();
            assertThat(c.item(site, "web02").path("properties").path("protectionState").asText()).isEqualTo("Resynchronizing");
            // Progress: 0 until the agent's resync pass reads the disk, its scan progress meanwhile, kept while it
            // is idle before the marker is applied, 100 once it reports the resync's pass acknowledged.
            assertThat(resyncProgress(c.item(site, "web02"))).isEqualTo(0);
            c.heartbeatDisk(agent, DISK, ",\"activity\":\"Resync\",\"scanProgressPercent\":42.4");
            assertThat(resyncProgress(c.item(site, "web02"))).isEqualTo(42);
            assertThat(c.item(site, "web02").path("properties").path("providerSpecificDetails").path("protectedDisks")
                    .get(0).path("agentActivity").asText()).isEqualTo("Resync");
            c.heartbeatDisk(agent, DISK, ",\"activity\":\"Idle\",\"scanProgressPercent\":100");
            assertThat(resyncProgress(c.item(site, "web02"))).isEqualTo(42);
            c.heartbeatDisk(agent, DISK, ",\"activity\":\"Idle\",\"completedResyncId\":\"" + resyncId + "\"");
            assertThat(resyncProgress(c.item(site, "web02"))).isEqualTo(100);
            expect(c.heartbeat(agent.authorization(), "{\"agentTime\":\"" + Instant.now() + "\",\"disks\":[{\"name\":"
                    + "\"disk0\",\"sizeBytes\":" + DISK + "}],\"stats\":{\"disk0\":{\"pendingBytes\":0,"
                    + "\"churnBytesPerSecond\":0,\"scanProgressPercent\":101}}}"), 400);
            Instant t3 = t2.plusSeconds(2);
            expect(c.upload(agent, diskId, 3, segment(diskId, 3, DISK, w -> {
                write(w, disk, 300_000, new byte[] {7, 7, 7});
                marker(w, ConsistencyType.CRASH_CONSISTENT, t3, ReplicationEngine.RESYNC_TAG_PREFIX + resyncId);
            })), 201);
            c.awaitItem(site, "web02", "resync done", i -> i.path("properties").path("protectionState").asText()
                    .equals("Protected"));
            assertThat(c.heartbeatDisk(agent, DISK).path("resync").asBoolean()).isFalse();
            assertThat(c.item(site, "web02").path("properties").path("providerSpecificDetails")
                    .path("resyncProgressPercentage").isNull()).as("no resync, no progress").isTrue();

            // A segment corrupted in cache storage after its upload is never applied: Critical, resync, quarantine.
            byte[] seg4 = segment(diskId, 4, DISK, w -> {
                write(w, disk, 400_000, new byte[] {4, 4});
                marker(w, ConsistencyType.CRASH_CONSISTENT, t3.plusSeconds(1), "changes");
            });
            seg4[seg4.length - 40] ^= 0x11;
            Path cached = dataDir.resolve("cache").resolve(diskId).resolve(String.format("%020d.seg", 4));
            Files.createDirectories(cached.getParent());
            Files.write(cached, seg4);
            item = c.awaitItem(site, "web02", "item Critical", i -> i.path("properties").path("replicationHealth")
                    .asText().equals("Critical"));
            assertThat(item.path("properties").path("healthErrors").get(0).path("errorCode").asText())
                    .isEqualTo(ReplicationEngine.SEGMENT_CORRUPT);
            assertThat(item.path("properties").path("providerSpecificDetails").path("protectedDisks").get(0)
                    .path("resyncRequired").asText()).isEqualTo("true");
            assertThat(Files.exists(dataDir.resolve("cache/quarantine").resolve(diskId)
                    .resolve(String.format("%020d.seg", 4)))).isTrue();
            assertThat(Files.exists(cached)).isFalse();
            assertThat(c.points(site, "web02")).hasSize(3);
            hb = c.heartbeatDisk(agent, DISK);
            assertThat(hb.path("resync").asBoolean()).isTrue();
            assertThat(hb.path("resyncFull").asBoolean()).isTrue();
            assertThat(hb.path("nextSequence").asLong()).isEqualTo(4);
            String fullResync = hb.path("resyncId").asText();
            expect(c.upload(agent, diskId, 4, segment(diskId, 4, DISK, w -> {
                write(w, disk, 400_000, new byte[] {4, 4});
                marker(w, ConsistencyType.CRASH_CONSISTENT, t3.plusSeconds(2), ReplicationEngine.RESYNC_TAG_PREFIX + fullResync);
            })), 201);
            c.awaitItem(site, "web02", "health Normal again", i -> i.path("properties").path("replicationHealth")
                    .asText().equals("Normal"));
            JsonNode latest = c.awaitPoints(site, "web02", 4).get(0);
            assertThat(Files.readAllBytes(export(site, "web02", latest.path("name").asText(), "{}"))).isEqualTo(disk);

            // Disable: job "Disable protection"; points, cached segments and replica are gone.
            HttpResponse<String> remove = c.api.post(site.item("web02") + "/remove?" + RS, "{}");
            JsonNode removeJob = c.job(site, remove);
            assertThat(removeJob.path("properties").path("state").asText()).as("%s", removeJob).isEqualTo("Succeeded");
            assertThat(removeJob.path("properties").path("friendlyName").asText()).isEqualTo("Disable protection");
            assertError(c.api.get(site.item("web02") + "?" + RS), 404, "ResourceNotFound");
            assertError(c.api.get(site.item("web02") + "/recoveryPoints?" + RS), 404, "ResourceNotFound");
            assertThat(server.protection().engine().recovery().points().names(UUID.fromString(diskId))).isEmpty();
            assertThat(server.protection().engine().recovery().states().read(UUID.fromString(diskId))).isEmpty();
            assertThat(server.protection().engine().cache().list(UUID.fromString(diskId))).isEmpty();
            hb = c.heartbeatDisk(agent, DISK);
            assertThat(hb.path("replicate").asBoolean()).isFalse();
            assertThat(hb.path("diskId").isNull()).isTrue();
            assertError(c.upload(agent, diskId, 5, seg1), 404, "UnknownDisk");
            assertThat(c.api.getOk(site.container() + "/replicationProtectableItems/web02?" + RS).path("properties")
                    .path("protectionStatus").asText()).isEqualTo("Unprotected");
            assertThat(c.api.call("GET", "/metrics", null, null).body()).doesNotContain("item=\"web02\"");
            // DELETE of an item that is gone: 204.
            assertThat(c.api.delete(site.item("web02") + "?" + RS).statusCode()).isEqualTo(204);
        }

        @Test
        void purgeDeletesEverything() throws Exception {
            ProtectionClient.Site site = c.site("purge", 1440);
            ProtectionClient.Agent agent = c.registerOk(site, "db01", DISK);
            c.enable(site, "db01", agent);
            String diskId = c.heartbeatDisk(agent, DISK).path("diskId").asText();
            expect(c.upload(agent, diskId, 1, segment(diskId, 1, DISK, w -> {
                w.data(0, new byte[CHUNK]);
                w.data(CHUNK, new byte[] {1, 2, 3});
                w.marker(ConsistencyType.CRASH_CONSISTENT, Instant.now(), "initial");
            })), 201);
            c.awaitPoints(site, "db01", 1);
            HttpResponse<String> purge = c.api.delete(site.item("db01") + "?" + RS);
            JsonNode job = c.job(site, purge);
            assertThat(job.path("properties").path("state").asText()).as("%s", job).isEqualTo("Succeeded");
            assertError(c.api.get(site.item("db01") + "?" + RS), 404, "ResourceNotFound");
            assertThat(server.protection().engine().recovery().points().names(UUID.fromString(diskId))).isEmpty();
            // Now the server can be unregistered.
            JsonNode unregister = c.job(site, c.api.post(site.fabric()
                    + "/replicationRecoveryServicesProviders/db01/remove?" + RS, null));
            assertThat(unregister.path("properties").path("state").asText()).isEqualTo("Succeeded");
            assertError(c.api.get(site.fabric() + "/replicationRecoveryServicesProviders/db01?" + RS), 404, "ResourceNotFound");
            assertError(c.heartbeat(agent.authorization(), "{}"), 401, "InvalidAgentCredentials");
        }

        private Path export(ProtectionClient.Site site, String item, String point, String body) throws Exception {
            HttpResponse<String> accepted = c.api.post(site.item(item) + "/recoveryPoints/" + point + "/exportDisk?" + RS, body);
            expect(accepted, 202);
            Path path = Path.of(json(accepted).path("path").asText());
            assertThat(path.startsWith(dataDir.resolve("exports"))).isTrue();
            JsonNode job = c.job(site, accepted);
            assertThat(job.path("properties").path("state").asText()).as("%s", job).isEqualTo("Succeeded");
            assertThat(job.path("properties").path("friendlyName").asText()).isEqualTo("Export recovery point");
            return path;
        }

        /** An upload of {@code length} bytes without a Content-Length (chunked). */
        private HttpResponse<String> uploadChunked(ProtectionClient.Agent agent, String diskId, long sequence, int length)
                throws Exception {
            byte[] body = new byte[length];
            HttpRequest.BodyPublisher publisher = HttpRequest.BodyPublishers.fromPublisher(
                    HttpRequest.BodyPublishers.ofByteArray(body));
            return c.http.send(HttpRequest.newBuilder(URI.create(c.baseUrl + "/agent/v1/disks/" + diskId + "/segments/"
                            + sequence)).header("Authorization", agent.authorization()).PUT(publisher).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    static String sha256(byte[] bytes) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static int resyncProgress(JsonNode item) {
        JsonNode details = item.path("properties").path("providerSpecificDetails");
        int itemLevel = details.path("resyncProgressPercentage").asInt(-1);
        assertThat(details.path("protectedDisks").get(0).path("resyncProgressPercentage").asInt(-1))
                .as("disk and item agree (one disk)").isEqualTo(itemLevel);
        return itemLevel;
    }
}
