package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.TestServer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Compute API tests' helpers over one real server: each test gets its own subscription (so quotas start
 * fresh) and resource group; paths, bodies and the LRO and SAS steps every test repeats.
 */
final class ComputeFixture {
    static final String VM_API = "2024-03-01";
    static final String DISK_API = "2023-10-02";
    static final String QUOTA_API = "2023-02-01";

    final TestServer server;
    final ArmClient arm;
    final String subscription = UUID.randomUUID().toString();
    final HttpClient blob;

    ComputeFixture(TestServer server) throws Exception {
        this.server = server;
        this.arm = ArmClient.of(server).asAdmin();
        this.blob = server.http();
    }

    String groupPath(String group) {
        return "/subscriptions/" + subscription + "/resourceGroups/" + group;
    }

    void createGroup(String group, String location) throws Exception {
        HttpResponse<String> r = arm.put(groupPath(group) + "?api-version=2021-04-01", "{\"location\":\"" + location + "\"}");
        assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    }

    String diskId(String group, String name) {
        return groupPath(group) + "/providers/Microsoft.Compute/disks/" + name;
    }

    String snapshotId(String group, String name) {
        return groupPath(group) + "/providers/Microsoft.Compute/snapshots/" + name;
    }

    String vmId(String group, String name) {
        return groupPath(group) + "/providers/Microsoft.Compute/virtualMachines/" + name;
    }

    static String disk(String id) {
        return id + "?api-version=" + DISK_API;
    }

    static String vm(String id) {
        return id + "?api-version=" + VM_API;
    }

    static String action(String id, String action, String apiVersion) {
        return id + "/" + action + "?api-version=" + apiVersion;
    }

    String usagesPath(String location) {
        return "/subscriptions/" + subscription + "/providers/Microsoft.Compute/locations/" + location
                + "/usages?api-version=" + VM_API;
    }

    String quotaPath(String location, String name) {
        return "/subscriptions/" + subscription + "/providers/Microsoft.Compute/locations/" + location
                + "/providers/Microsoft.Quota/quotas/" + name + "?api-version=" + QUOTA_API;
    }

    /** currentValue of one usage entry. */
    long usage(String location, String name) throws Exception {
        for (JsonNode u : arm.getOk(usagesPath(location)).path("value")) {
            if (u.path("name").path("value").asText().equals(name)) {
                return u.path("currentValue").asLong();
            }
        }
        throw new AssertionError("no usage named " + name);
    }

    void setQuota(String location, String name, int limit) throws Exception {
        HttpResponse<String> r = arm.put(quotaPath(location, name),
                "{\"properties\":{\"limit\":{\"limitObjectType\":\"LimitValue\",\"value\":" + limit + "}}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    JsonNode putOk(String path, String body) throws Exception {
        HttpResponse<String> r = arm.put(path, body);
        assertThat(r.statusCode()).as("PUT %s: %s", path, r.body()).isIn(200, 201);
        return Arm.json(r);
    }

    JsonNode emptyDisk(String group, String name, String location, int sizeGb, String extraProperties) throws Exception {
        return putOk(disk(diskId(group, name)), "{\"location\":\"" + location + "\",\"sku\":{\"name\":\"Premium_LRS\"},"
                + "\"properties\":{\"creationData\":{\"createOption\":\"Empty\"},\"diskSizeGB\":" + sizeGb
                + (extraProperties.isEmpty() ? "" : "," + extraProperties) + "}}");
    }

    /** A minimal VM body: size, a new Linux OS disk, optional extra properties (JSON members). */
    static String vmBody(String location, String size, String extra) {
        return "{\"location\":\"" + location + "\",\"properties\":{\"hardwareProfile\":{\"vmSize\":\"" + size + "\"},"
                + "\"storageProfile\":{\"imageReference\":{\"publisher\":\"Canonical\",\"offer\":\"ubuntu-24_04-lts\","
                + "\"sku\":\"server\",\"version\":\"latest\"},\"osDisk\":{\"createOption\":\"FromImage\",\"diskSizeGB\":30}}"
                + (extra.isEmpty() ? "" : "," + extra) + "}}";
    }

    JsonNode createVm(String group, String name, String location, String size) throws Exception {
        return putOk(vm(vmId(group, name)), vmBody(location, size, ""));
    }

    /** Runs a compute LRO (202 + Azure-AsyncOperation, Location) to its end; returns the Location result (or null). */
    JsonNode lro(HttpResponse<String> accepted) throws Exception {
        arm.awaitSucceeded(accepted);
        String location = accepted.headers().firstValue("Location").orElseThrow();
        HttpResponse<String> result = arm.get(location);
        assertThat(result.statusCode()).as(result.body()).isEqualTo(200);
        return result.body().isBlank() ? null : Arm.json(result);
    }

    String grant(String resourceId, String access, int seconds) throws Exception {
        JsonNode result = lro(arm.post(action(resourceId, "beginGetAccess", DISK_API),
                "{\"access\":\"" + access + "\",\"durationInSeconds\":" + seconds + "}"));
        String sas = result.path("accessSAS").asText();
        assertThat(sas).startsWith(server.baseUrl() + "/sas/disks/");
        return sas;
    }

    void endAccess(String resourceId) throws Exception {
        lro(arm.post(action(resourceId, "endAccess", DISK_API), null));
    }

    HttpResponse<String> putPage(String sas, long offset, byte[] data, int length) throws Exception {
        return blob.send(HttpRequest.newBuilder(URI.create(sas + "&comp=page"))
                .header("x-ms-page-write", "update")
                .header("x-ms-range", "bytes=" + offset + "-" + (offset + length - 1))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(data, 0, length)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Uploads a file by the page-blob protocol in 4 MiB pieces, skipping all-zero pieces (as azcopy does). */
    void uploadPages(String sas, Path file) throws Exception {
        byte[] all = Files.readAllBytes(file);
        int piece = 4 * 1024 * 1024;
        for (int off = 0; off < all.length; off += piece) {
            int n = Math.min(piece, all.length - off);
            boolean zero = true;
            for (int i = off; i < off + n && zero; i++) {
                zero = all[i] == 0;
            }
            if (zero) {
                continue;
            }
            byte[] chunk = java.util.Arrays.copyOfRange(all, off, off + n);
            HttpResponse<String> r = putPage(sas, off, chunk, n);
            assertThat(r.statusCode()).as("page write at %d: %s", off, r.body()).isEqualTo(201);
        }
    }

    HttpResponse<Path> download(String sas, Path file) throws Exception {
        return blob.send(HttpRequest.newBuilder(URI.create(sas)).GET().build(), HttpResponse.BodyHandlers.ofFile(file));
    }

    HttpResponse<String> blobCall(String method, String url, java.util.Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.noBody());
        headers.forEach(b::header);
        return blob.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Names of the disks in a group. */
    List<String> diskNames(String group) throws Exception {
        List<String> names = new ArrayList<>();
        arm.getOk(groupPath(group) + "/providers/Microsoft.Compute/disks?api-version=" + DISK_API).path("value")
                .forEach(d -> names.add(d.path("name").asText()));
        return names;
    }

    /** The disk files under the data directory. */
    List<Path> diskFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        for (String dir : List.of("cloud/disks", "cloud/snapshots")) {
            Path d = server.dataDir().resolve(dir);
            if (Files.isDirectory(d)) {
                try (var s = Files.list(d)) {
                    s.filter(p -> p.getFileName().toString().endsWith(".vhd")).forEach(files::add);
                }
            }
        }
        return files;
    }

    Path fileOf(JsonNode diskOrSnapshot) {
        String dir = diskOrSnapshot.path("type").asText().endsWith("snapshots") ? "cloud/snapshots" : "cloud/disks";
        return server.dataDir().resolve(dir).resolve(diskOrSnapshot.path("properties").path("uniqueId").asText() + ".vhd");
    }

    static ObjectNode obj(String json) {
        return (ObjectNode) Json.parse(json);
    }

    static void awaitTrue(String what, Duration timeout, java.util.concurrent.Callable<Boolean> probe) throws Exception {
        Arm.await(what, timeout, Duration.ofMillis(200), probe, v -> v);
    }
}
