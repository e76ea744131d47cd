package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.segment.SegmentHeader;
import dev.secondsite.replication.segment.SegmentWriter;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.tls.TlsMaterial;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Drives one server (in-process or a child process) the way a user and an agent would: ARM calls with an
 * admin token, agent calls with agent credentials, and sealed segments built with the real SegmentWriter.
 */
final class ProtectionClient {
    static final String RS = "api-version=2024-10-01";
    static final String RG = "api-version=2021-04-01";
    private static final Set<String> DONE = Set.of("Succeeded", "Failed", "Cancelled");

    /** The ARM ids and paths of one vault with a VMware/physical fabric ready to replicate. */
    record Site(String vault, String fabric, String container, String policy, String mapping) {
        String item(String name) {
            return container + "/replicationProtectedItems/" + name;
        }
    }

    /** What register returned. */
    record Agent(String id, String secret, String protectableItemId, String providerId) {
        String authorization() {
            return "Agent " + id + ":" + secret;
        }
    }

    final ArmClient api;
    final HttpClient http;
    final String baseUrl;

    ProtectionClient(String baseUrl, Path dataDir) throws Exception {
        this.baseUrl = baseUrl;
        this.api = ArmClient.connect(baseUrl, dataDir).asAdmin();
        this.http = HttpClient.newBuilder().sslContext(TlsMaterial.clientContextTrusting(dataDir.resolve("tls/ca.pem")))
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    // ---- ARM set-up ----

    /** A resource group, vault, VMware fabric, container, InMageAzureV2 policy and the mapping between them. */
    Site site(String name, int retentionMinutes) throws Exception {
        String group = "/subscriptions/" + UUID.randomUUID() + "/resourceGroups/rg-" + name;
        String vault = group + "/providers/Microsoft.RecoveryServices/vaults/vault-" + name;
        expect(api.put(group + "?" + RG, "{\"location\":\"westus\"}"), 201);
        expect(api.put(vault + "?" + RS, "{\"location\":\"westus\"}"), 201);
        String fabric = vault + "/replicationFabrics/site-" + name;
        succeed(api.put(fabric + "?" + RS, "{\"properties\":{\"customDetails\":{\"instanceType\":\"VMware\"}}}"));
        String container = fabric + "/replicationProtectionContainers/cloud-" + name;
        succeed(api.put(container + "?" + RS, "{}"));
        String policy = vault + "/replicationPolicies/policy-" + name;
        succeed(api.put(policy + "?" + RS, "{\"properties\":{\"providerSpecificInput\":{\"instanceType\":\"InMageAzureV2\","
                + "\"recoveryPointHistory\":" + retentionMinutes + ",\"recoveryPointThresholdInMinutes\":30,"
                + "\"appConsistentFrequencyInMinutes\":" + Math.min(60, retentionMinutes)
                + ",\"crashConsistentFrequencyInMinutes\":5,\"multiVmSyncStatus\":\"Enable\"}}}"));
        String mapping = container + "/replicationProtectionContainerMappings/map-" + name;
        succeed(api.put(mapping + "?" + RS, "{\"properties\":{\"policyId\":\"" + policy
                + "\",\"targetProtectionContainerId\":\"Microsoft Azure\"}}"));
        return new Site(vault, fabric, container, policy, mapping);
    }

    String registrationKey(Site site) throws Exception {
        HttpResponse<String> r = api.post(site.fabric() + "/generateRegistrationKey?" + RS, null);
        expect(r, 200);
        return Arm.json(r).path("registrationKey").asText();
    }

    /** Enables replication and waits for the job; returns the job's final status document. */
    JsonNode enable(Site site, String itemName, Agent agent) throws Exception {
        return succeed(api.put(site.item(itemName) + "?" + RS, "{\"properties\":{\"policyId\":\"" + site.policy()
                + "\",\"protectableItemId\":\"" + agent.protectableItemId()
                + "\",\"providerSpecificDetails\":{\"instanceType\":\"InMageAzureV2\"}}}"));
    }

    JsonNode item(Site site, String itemName) throws Exception {
        return api.getOk(site.item(itemName) + "?" + RS);
    }

    JsonNode points(Site site, String itemName) throws Exception {
        return api.getOk(site.item(itemName) + "/recoveryPoints?" + RS).path("value");
    }

    JsonNode awaitItem(Site site, String itemName, String what, java.util.function.Predicate<JsonNode> done)
            throws Exception {
        return Arm.await(what, Duration.ofSeconds(30), Duration.ofMillis(100), () -> item(site, itemName), done);
    }

    JsonNode awaitPoints(Site site, String itemName, int count) throws Exception {
        return Arm.await(count + " recovery points", Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> points(site, itemName), p -> p.size() >= count);
    }

    JsonNode succeed(HttpResponse<String> accepted) throws Exception {
        return api.awaitSucceeded(accepted);
    }

    /** Waits for an LRO's job (named by its Azure-AsyncOperation URL) to end; returns the job body. */
    JsonNode job(Site site, HttpResponse<String> accepted) throws Exception {
        String status = accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow();
        String id = URI.create(status).getPath().substring(URI.create(status).getPath().lastIndexOf('/') + 1);
        return Arm.await("job " + id, Duration.ofSeconds(30), Duration.ofMillis(100),
                () -> api.getOk(site.vault() + "/replicationJobs/" + id + "?" + RS),
                j -> DONE.contains(j.path("properties").path("state").asText()));
    }

    // ---- agent calls ----

    HttpResponse<String> register(String key, String machine, long diskBytes, Instant agentTime) throws Exception {
        return register(key, machine, diskBytes, agentTime, null);
    }

    /** Registers a machine; {@code azureRegion} (nullable) says it is an Azure VM in that region (seed 001). */
    HttpResponse<String> register(String key, String machine, long diskBytes, Instant agentTime, String azureRegion)
            throws Exception {
        return register(key, machine, diskBytes, agentTime, azureRegion, 1);
    }

    /** As above for a machine of {@code disks} disks of {@code diskBytes} each, named disk0, disk1, ... */
    HttpResponse<String> register(String key, String machine, long diskBytes, Instant agentTime, String azureRegion,
                                  int disks) throws Exception {
        ObjectNode body = Json.object();
        if (azureRegion != null) {
            body.put("azureRegion", azureRegion);
        }
        body.put("registrationKey", key);
        body.put("machineName", machine);
        body.put("agentTime", agentTime.toString());
        body.put("osType", "Linux");
        body.put("agentVersion", "9.1.0");
        var list = body.putArray("disks");
        for (int i = 0; i < disks; i++) {
            ObjectNode disk = list.addObject();
            disk.put("name", "disk" + i);
            disk.put("path", "/images/" + machine + (i == 0 ? "" : "-" + i) + ".img");
            disk.put("sizeBytes", diskBytes);
            disk.put("logicalSectorBytes", 512);
            disk.put("physicalSectorBytes", 512);
            disk.put("format", "RAW");
        }
        return agentCall("POST", "/agent/v1/register", null, Json.write(body));
    }

    Agent registerOk(Site site, String machine, long diskBytes) throws Exception {
        return registerOk(site, machine, diskBytes, null);
    }

    Agent registerOk(Site site, String machine, long diskBytes, String azureRegion) throws Exception {
        return registerOk(site, machine, diskBytes, azureRegion, 1);
    }

    Agent registerOk(Site site, String machine, long diskBytes, String azureRegion, int disks) throws Exception {
        HttpResponse<String> r = register(registrationKey(site), machine, diskBytes, Instant.now(), azureRegion, disks);
        expect(r, 200);
        JsonNode j = Arm.json(r);
        return new Agent(j.path("agentId").asText(), j.path("agentSecret").asText(), j.path("protectableItemId").asText(),
                j.path("providerId").asText());
    }

    HttpResponse<String> heartbeat(String authorization, String body) throws Exception {
        return agentCall("POST", "/agent/v1/heartbeat", authorization, body);
    }

    /** A heartbeat that must succeed; returns the entry of disk0. */
    JsonNode heartbeatDisk(Agent agent, long diskBytes) throws Exception {
        return heartbeatDisk(agent, diskBytes, "");
    }

    /** As above with more fields in disk0's stats ({@code moreStats}: e.g. {@code ,"activity":"Resync"}). */
    JsonNode heartbeatDisk(Agent agent, long diskBytes, String moreStats) throws Exception {
        HttpResponse<String> r = heartbeat(agent.authorization(), "{\"agentTime\":\"" + Instant.now()
                + "\",\"disks\":[{\"name\":\"disk0\",\"sizeBytes\":" + diskBytes + "}],\"stats\":{\"disk0\":"
                + "{\"pendingBytes\":4096,\"churnBytesPerSecond\":1048576.0" + moreStats + "}}}");
        expect(r, 200);
        for (JsonNode d : Arm.json(r).path("disks")) {
            if (d.path("name").asText().equals("disk0")) {
                return d;
            }
        }
        throw new AssertionError("no disk0 in " + r.body());
    }

    /** A heartbeat of a machine with {@code disks} disks that must succeed; returns each disk's id by name. */
    Map<String, String> heartbeatDisks(Agent agent, long diskBytes, int disks) throws Exception {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < disks; i++) {
            list.append(i == 0 ? "" : ",").append("{\"name\":\"disk").append(i).append("\",\"sizeBytes\":")
                    .append(diskBytes).append('}');
        }
        HttpResponse<String> r = heartbeat(agent.authorization(), "{\"agentTime\":\"" + Instant.now()
                + "\",\"disks\":[" + list + "]}");
        expect(r, 200);
        Map<String, String> ids = new java.util.TreeMap<>();
        Arm.json(r).path("disks").forEach(d -> ids.put(d.path("name").asText(), d.path("diskId").asText()));
        return ids;
    }

    HttpResponse<String> upload(Agent agent, String diskId, long sequence, byte[] segment) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/agent/v1/disks/" + diskId + "/segments/" + sequence))
                .timeout(Duration.ofSeconds(60)).header("Authorization", agent.authorization())
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(segment)).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** GET /agent/v1/disks/{diskId}/digests?{query}: the binary page of replica digests (agent-protocol §4a). */
    HttpResponse<byte[]> digests(String authorization, String diskId, String query) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + "/agent/v1/disks/" + diskId + "/digests?"
                + query)).timeout(Duration.ofSeconds(30)).GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<String> agentCall(String method, String path, String authorization, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    // ---- segments ----

    interface Records {
        void write(SegmentWriter w) throws IOException;
    }

    static byte[] segment(String diskId, long sequence, long diskBytes, Records records) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SegmentWriter w = SegmentWriter.start(out, new SegmentHeader(UUID.fromString(diskId), sequence, Instant.now()),
                SegmentWriter.Compression.LZ4, diskBytes);
        records.write(w);
        w.seal();
        return out.toByteArray();
    }

    /** Writes {@code data} at {@code offset} into the model disk and into the segment. */
    static void write(SegmentWriter w, byte[] disk, long offset, byte[] data) throws IOException {
        System.arraycopy(data, 0, disk, (int) offset, data.length);
        w.data(offset, data);
    }

    static void marker(SegmentWriter w, ConsistencyType type, Instant at, String tag) throws IOException {
        w.marker(type, at, tag);
    }

    static HttpResponse<String> expect(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as("%s %s: %s", r.request().method(), r.uri(), r.body()).isEqualTo(status);
        return r;
    }
}
