package dev.secondsite.cloud.compute;

import dev.secondsite.testing.Qemu;
import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Disk bytes the Azure way: an Upload disk filled through the page-blob protocol on its SAS URL, exported
 * through a Read grant, snapshotted and copied, checked against the original with qemu-img.
 */
class DiskTransferTest {
    private static TestServer server;
    private ComputeFixture fx;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @BeforeEach
    void group() throws Exception {
        fx = new ComputeFixture(server);
        fx.createGroup("rg", "eastus");
    }

    /** A fixed VHD made by qemu-img, with 64 KiB of 0x5a at 1 MiB. */
    private Path qemuVhd(String name, String size) throws Exception {
        Qemu.assumeAvailable();
        Path vhd = tmp.resolve(name);
        Qemu.ok("qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", vhd.toString(), size);
        Qemu.ok("qemu-io", "-f", "vpc", "-c", "write -P 0x5a 1M 64k", vhd.toString());
        return vhd;
    }

    private JsonNode uploadDisk(String name, long uploadSizeBytes) throws Exception {
        return fx.putOk(ComputeFixture.disk(fx.diskId("rg", name)), "{\"location\":\"eastus\",\"sku\":{\"name\":"
                + "\"Standard_LRS\"},\"properties\":{\"osType\":\"Linux\",\"creationData\":{\"createOption\":\"Upload\","
                + "\"uploadSizeBytes\":" + uploadSizeBytes + "}}}");
    }

    private String diskState(String id) throws Exception {
        return fx.arm.getOk(ComputeFixture.disk(id)).path("properties").path("diskState").asText();
    }

    @Test
    void qemuVhdUploadedByPagesDownloadsIdentical() throws Exception {
        Path vhd = qemuVhd("source.vhd", "64M");
        long size = Files.size(vhd);
        String id = fx.diskId("rg", "uploaded");

        JsonNode disk = uploadDisk("uploaded", size);
        assertThat(disk.path("properties").path("diskState").asText()).isEqualTo("ReadyToUpload");
        assertThat(disk.path("properties").path("diskSizeBytes").asLong()).isEqualTo(size - 512);
        assertThat(disk.path("properties").path("publicNetworkAccess").asText()).isEqualTo("Enabled");

        String write = fx.grant(id, "Write", 3600);
        assertThat(diskState(id)).isEqualTo("ActiveUpload");
        HttpResponse<String> head = fx.blobCall("HEAD", write, Map.of());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValueAsLong("Content-Length").orElse(-1)).isEqualTo(size);
        assertThat(head.headers().firstValue("x-ms-blob-type")).hasValue("PageBlob");

        fx.uploadPages(write, vhd);

        HttpResponse<String> pages = fx.blobCall("GET", write + "&comp=pagelist", Map.of());
        assertThat(pages.statusCode()).isEqualTo(200);
        assertThat(pages.body()).contains("<PageList>").contains("<PageRange><Start>");

        fx.endAccess(id);
        assertThat(diskState(id)).isEqualTo("Unattached");
        assertThat(fx.blobCall("HEAD", write, Map.of()).statusCode()).as("revoked upload URL").isEqualTo(403);

        String read = fx.grant(id, "Read", 3600);
        assertThat(diskState(id)).isEqualTo("ActiveSAS");
        Path downloaded = tmp.resolve("downloaded.vhd");
        HttpResponse<Path> got = fx.download(read, downloaded);
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(Files.mismatch(vhd, downloaded)).as("downloaded bytes equal the uploaded VHD").isEqualTo(-1);
        assertThat(Qemu.ok("qemu-img", "compare", "-f", "vpc", "-F", "vpc", vhd.toString(), downloaded.toString()))
                .contains("Images are identical");

        HttpResponse<byte[]> range = server.http().send(HttpRequest.newBuilder(URI.create(read))
                .header("x-ms-range", "bytes=1048576-1049599").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.headers().firstValue("Content-Range")).hasValue("bytes 1048576-1049599/" + size);
        byte[] expected = new byte[1024];
        Arrays.fill(expected, (byte) 0x5a);
        assertThat(range.body()).isEqualTo(expected);

        fx.endAccess(id);
        assertThat(diskState(id)).isEqualTo("Unattached");
        assertThat(fx.download(read, tmp.resolve("again.vhd")).statusCode()).as("revoked read URL").isEqualTo(403);
    }

    @Test
    void snapshotAndCopiesDownloadIdenticalBytes() throws Exception {
        Path vhd = qemuVhd("source.vhd", "32M");
        String id = fx.diskId("rg", "src");
        uploadDisk("src", Files.size(vhd));
        fx.uploadPages(fx.grant(id, "Write", 600), vhd);
        fx.endAccess(id);

        JsonNode snapshot = fx.putOk(ComputeFixture.disk(fx.snapshotId("rg", "snap1")), "{\"location\":\"eastus\","
                + "\"properties\":{\"incremental\":true,\"creationData\":{\"createOption\":\"Copy\",\"sourceResourceId\":\""
                + id + "\"}}}");
        assertThat(snapshot.path("properties").path("incremental").asBoolean()).isTrue();
        assertThat(snapshot.path("properties").path("osType").asText()).isEqualTo("Linux");
        assertThat(snapshot.path("properties").path("creationData").path("sourceUniqueId").asText()).isNotEmpty();

        // The snapshot is its own copy: it outlives its source.
        assertThat(fx.fileOf(snapshot)).isNotEqualTo(fx.fileOf(fx.arm.getOk(ComputeFixture.disk(id))));
        assertThat(fx.arm.delete(ComputeFixture.disk(id)).statusCode()).isEqualTo(200);

        String snapshotSas = fx.grant(fx.snapshotId("rg", "snap1"), "Read", 600);
        Path fromSnapshot = tmp.resolve("snapshot.vhd");
        assertThat(fx.download(snapshotSas, fromSnapshot).statusCode()).isEqualTo(200);
        assertThat(Files.mismatch(vhd, fromSnapshot)).isEqualTo(-1);
        assertThat(Qemu.ok("qemu-img", "compare", "-f", "vpc", "-F", "vpc", vhd.toString(), fromSnapshot.toString()))
                .contains("Images are identical");
        fx.endAccess(fx.snapshotId("rg", "snap1"));

        // A disk made from the snapshot, larger: same content, zeros after, a footer with the new size.
        JsonNode copy = fx.putOk(ComputeFixture.disk(fx.diskId("rg", "copy")), "{\"location\":\"eastus\",\"properties\":"
                + "{\"diskSizeGB\":1,\"creationData\":{\"createOption\":\"Copy\",\"sourceResourceId\":\""
                + fx.snapshotId("rg", "snap1") + "\"}}}");
        assertThat(copy.path("properties").path("diskSizeGB").asInt()).isEqualTo(1);
        Path copyFile = fx.fileOf(copy);
        assertThat(Files.size(copyFile)).isEqualTo((1L << 30) + 512);
        assertThat(Qemu.ok("qemu-img", "info", "-f", "vpc", copyFile.toString())).contains("virtual size: 1 GiB");
        assertThat(Qemu.ok("qemu-img", "compare", "-f", "vpc", "-F", "vpc", vhd.toString(), copyFile.toString()))
                .contains("Images are identical");
        assertThat(allocatedBytes(copyFile)).as("the copy stays sparse").isLessThan(8L << 20);
    }

    @Test
    void emptyDiskIsASparseFixedVhd() throws Exception {
        Qemu.assumeAvailable();
        JsonNode disk = fx.emptyDisk("rg", "empty", "eastus", 4, "");
        assertThat(disk.path("properties").path("tier").asText()).isEqualTo("P1");
        assertThat(disk.path("properties").path("diskSizeBytes").asLong()).isEqualTo(4L << 30);
        Path file = fx.fileOf(disk);
        assertThat(Qemu.ok("qemu-img", "info", "-f", "vpc", file.toString())).contains("virtual size: 4 GiB");
        assertThat(allocatedBytes(file)).isLessThan(1L << 20);

        String read = fx.grant(disk.path("id").asText(), "Read", 600);
        HttpResponse<byte[]> footer = server.http().send(HttpRequest.newBuilder(URI.create(read))
                .header("Range", "bytes=" + (4L << 30) + "-").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(footer.statusCode()).isEqualTo(206);
        assertThat(VhdFooters.problem(footer.body(), 4L << 30)).isNull();

        // Grow it (unattached): the footer moves, the old footer's bytes read as zeros.
        fx.endAccess(disk.path("id").asText());
        HttpResponse<String> grown = fx.arm.patch(ComputeFixture.disk(disk.path("id").asText()),
                "{\"properties\":{\"diskSizeGB\":8}}");
        assertThat(grown.statusCode()).as(grown.body()).isEqualTo(200);
        assertThat(Files.size(file)).isEqualTo((8L << 30) + 512);
        assertThat(Qemu.ok("qemu-img", "info", "-f", "vpc", file.toString())).contains("virtual size: 8 GiB");
        byte[] oldFooter = new byte[512];
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            ch.read(ByteBuffer.wrap(oldFooter), 4L << 30);
        }
        assertThat(oldFooter).containsOnly(0);
        Arm.assertError(fx.arm.patch(ComputeFixture.disk(disk.path("id").asText()), "{\"properties\":{\"diskSizeGB\":2}}"),
                409, "OperationNotAllowed");
    }

    @Test
    void pageWritesFollowTheBlobRules() throws Exception {
        long size = 20L * 1024 * 1024 + 512;
        String id = fx.diskId("rg", "rules");
        uploadDisk("rules", size);
        Arm.assertError(fx.arm.put(ComputeFixture.disk(fx.diskId("rg", "odd")), "{\"location\":\"eastus\",\"properties\":"
                + "{\"creationData\":{\"createOption\":\"Upload\",\"uploadSizeBytes\":" + (size + 100) + "}}}"), 400,
                "InvalidParameter");
        Arm.assertError(fx.arm.put(ComputeFixture.disk(fx.diskId("rg", "tiny")), "{\"location\":\"eastus\",\"properties\":"
                + "{\"creationData\":{\"createOption\":\"Upload\",\"uploadSizeBytes\":1049088}}}"), 400, "InvalidParameter");

        Arm.assertError(fx.arm.post(ComputeFixture.action(id, "beginGetAccess", ComputeFixture.DISK_API),
                "{\"access\":\"Read\",\"durationInSeconds\":60}"), 409, "OperationNotAllowed");
        String sas = fx.grant(id, "Write", 600);
        byte[] page = new byte[1024];
        Arrays.fill(page, (byte) 7);

        HttpResponse<String> misaligned = fx.putPage(sas, 100, page, 512);
        assertThat(misaligned.statusCode()).isEqualTo(400);
        assertThat(misaligned.body()).contains("<Error><Code>InvalidPageRange</Code><Message>");
        assertThat(misaligned.headers().firstValue("x-ms-error-code")).hasValue("InvalidPageRange");
        assertThat(fx.putPage(sas, 0, page, 1000).statusCode()).as("length not a multiple of 512").isEqualTo(400);
        assertThat(fx.putPage(sas, size, page, 512).statusCode()).as("past the end").isEqualTo(416);
        HttpResponse<String> tooBig = fx.putPage(sas, 0, new byte[8 << 20], 8 << 20);
        assertThat(tooBig.statusCode()).isEqualTo(413);

        assertThat(fx.putPage(sas, 512, page, 1024).statusCode()).isEqualTo(201);
        HttpResponse<String> clear = server.http().send(HttpRequest.newBuilder(URI.create(sas + "&comp=page"))
                .header("x-ms-page-write", "clear").header("x-ms-range", "bytes=1024-1535")
                .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(clear.statusCode()).as(clear.body()).isEqualTo(201);
        HttpResponse<byte[]> back = server.http().send(HttpRequest.newBuilder(URI.create(sas))
                .header("Range", "bytes=0-2047").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        byte[] expected = new byte[2048];
        Arrays.fill(expected, 512, 1024, (byte) 7);
        assertThat(Arrays.equals(back.body(), expected)).as("page 512-1023 written, 1024-1535 cleared").isTrue();

        // No VHD footer yet: endAccess refuses and the upload stays open.
        Arm.assertError(fx.arm.post(ComputeFixture.action(id, "endAccess", ComputeFixture.DISK_API), null), 400, "InvalidVhd");
        assertThat(diskState(id)).isEqualTo("ActiveUpload");
        byte[] footer = VhdFooters.fixed(size - 512);
        assertThat(fx.putPage(sas, size - 512, footer, 512).statusCode()).isEqualTo(201);
        fx.endAccess(id);
        assertThat(diskState(id)).isEqualTo("Unattached");
        Arm.assertError(fx.arm.post(ComputeFixture.action(id, "beginGetAccess", ComputeFixture.DISK_API),
                "{\"access\":\"Write\",\"durationInSeconds\":60}"), 409, "OperationNotAllowed");
    }

    @Test
    void tamperedExpiredAndReadOnlyUrlsAreRefused() throws Exception {
        JsonNode disk = fx.emptyDisk("rg", "guarded", "eastus", 1, "");
        String id = disk.path("id").asText();
        String read = fx.grant(id, "Read", 600);

        HttpResponse<String> ok = fx.blobCall("HEAD", read, Map.of());
        assertThat(ok.statusCode()).isEqualTo(200);

        String badSig = read.replaceFirst("sig=[^&]+", "sig=AAAA" + read.substring(read.indexOf("sig=") + 8));
        assertAuthFailed(fx.blobCall("GET", badSig, Map.of("Range", "bytes=0-511")));
        assertAuthFailed(fx.blobCall("GET", read.replace("sp=r&", "sp=rw&"), Map.of("Range", "bytes=0-511")));
        assertAuthFailed(fx.blobCall("GET", read.replaceFirst("se=[^&]+", "se=2099-01-01T00%3A00%3A00Z"), Map.of()));
        assertAuthFailed(fx.blobCall("GET", read.replaceFirst("/sas/disks/[^?]+", "/sas/disks/" + java.util.UUID.randomUUID()), Map.of()));
        assertAuthFailed(fx.blobCall("GET", read.substring(0, read.indexOf('?')), Map.of()));

        HttpResponse<String> put = fx.putPage(read, 0, new byte[512], 512);
        assertThat(put.statusCode()).isEqualTo(403);
        assertThat(put.headers().firstValue("x-ms-error-code")).hasValue("AuthorizationPermissionMismatch");
        Arm.assertError(fx.arm.delete(ComputeFixture.disk(id)), 409, "OperationNotAllowed");
        fx.endAccess(id);

        String shortLived = fx.grant(id, "Read", 1);
        Thread.sleep(1500);
        HttpResponse<String> expired = fx.blobCall("GET", shortLived, Map.of("Range", "bytes=0-511"));
        assertAuthFailed(expired);
        assertThat(expired.body()).contains("Signature not valid in the specified time frame");
        // The export ends by itself once its last URL has expired.
        ComputeFixture.awaitTrue("ActiveSAS to end", Duration.ofSeconds(15), () -> diskState(id).equals("Unattached"));
        assertThat(fx.arm.delete(ComputeFixture.disk(id)).statusCode()).isEqualTo(200);
        ComputeFixture.awaitTrue("the file to go", Duration.ofSeconds(5), () -> !Files.exists(fx.fileOf(disk)));
    }

    private static void assertAuthFailed(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(403);
        assertThat(response.headers().firstValue("x-ms-error-code")).hasValue("AuthenticationFailed");
        if (!response.request().method().equals("HEAD")) {
            assertThat(response.body()).contains("<Error><Code>AuthenticationFailed</Code>");
        }
    }

    /** Bytes the filesystem allocated for a file (stat %b blocks of 512). */
    static long allocatedBytes(Path file) throws Exception {
        return Long.parseLong(Qemu.ok("stat", "-c", "%b", file.toString()).trim()) * 512;
    }
}
