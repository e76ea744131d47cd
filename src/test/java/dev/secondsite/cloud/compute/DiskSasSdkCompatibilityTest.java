package dev.secondsite.cloud.compute;

import dev.secondsite.testing.Qemu;
import com.azure.core.http.HttpClient;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobClientBuilder;
import com.azure.storage.blob.models.BlobProperties;
import com.azure.storage.blob.models.BlobType;
import com.azure.storage.blob.models.PageRange;
import com.azure.storage.blob.specialized.PageBlobClient;
import dev.secondsite.testing.TestServer;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The official Azure Storage SDK (azure-storage-blob) drives a disk's SAS URLs as it drives Azure's: a
 * PageBlobClient uploads pages of a qemu-made VHD (what azcopy does), a BlobClient reads properties and
 * downloads the disk, in ranged chunks, to a file identical to the source.
 */
class DiskSasSdkCompatibilityTest {
    private static TestServer server;
    private static HttpClient http;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
        SslContext ssl = SslContextBuilder.forClient().trustManager(server.dataDir().resolve("tls/ca.pem").toFile()).build();
        http = new NettyAsyncHttpClientBuilder(reactor.netty.http.client.HttpClient.create()
                .secure(spec -> spec.sslContext(ssl))).build();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private BlobClient blob(String sas) {
        return new BlobClientBuilder().endpoint(sas).httpClient(http).buildClient();
    }

    @Test
    void storageSdkUploadsPagesAndDownloadsTheDisk() throws Exception {
        Qemu.assumeAvailable();
        ComputeFixture fx = new ComputeFixture(server);
        fx.createGroup("rg", "eastus");
        Path vhd = tmp.resolve("src.vhd");
        Qemu.ok("qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", vhd.toString(), "24M");
        Qemu.ok("qemu-io", "-f", "vpc", "-c", "write -P 0x5a 1M 64k", "-c", "write -P 0x11 9M 3M", vhd.toString());
        long size = Files.size(vhd);
        String id = fx.diskId("rg", "sdk");
        fx.putOk(ComputeFixture.disk(id), "{\"location\":\"eastus\",\"properties\":{\"creationData\":{\"createOption\":"
                + "\"Upload\",\"uploadSizeBytes\":" + size + "}}}");

        PageBlobClient pages = blob(fx.grant(id, "Write", 600)).getPageBlobClient();
        BlobProperties before = pages.getProperties();
        assertThat(before.getBlobType()).isEqualTo(BlobType.PAGE_BLOB);
        assertThat(before.getBlobSize()).isEqualTo(size);
        byte[] all = Files.readAllBytes(vhd);
        int piece = 4 * 1024 * 1024;
        for (int off = 0; off < all.length; off += piece) {
            int n = Math.min(piece, all.length - off);
            byte[] chunk = Arrays.copyOfRange(all, off, off + n);
            pages.uploadPages(new PageRange().setStart(off).setEnd(off + n - 1L), new ByteArrayInputStream(chunk));
        }
        fx.endAccess(id);

        BlobClient read = blob(fx.grant(id, "Read", 600));
        assertThat(read.getProperties().getBlobSize()).isEqualTo(size);
        Path out = tmp.resolve("out.vhd");
        read.downloadToFile(out.toString(), true);
        assertThat(Files.mismatch(vhd, out)).isEqualTo(-1);
        BinaryData slice = read.downloadContent();
        assertThat(slice.toBytes()).hasSize((int) size);
        assertThat(Qemu.ok("qemu-img", "compare", "-f", "vpc", "-F", "vpc", vhd.toString(), out.toString()))
                .contains("Images are identical");
    }
}
