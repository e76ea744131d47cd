package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.arm.Json;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The official Python SDKs (azure-mgmt-network 23, azure-mgmt-storage 21: Debian's python3-azure) create a
 * network, a subnet, a NIC and a storage account through the server, as automation written for Azure would.
 * Skipped when the SDKs are not installed ({@code apt-get install python3-azure}).
 */
class PythonSdkCompatibilityTest {
    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    Path temp;

    private static boolean sdkInstalled() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import azure.mgmt.network, azure.mgmt.storage")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void pythonSdksDriveNetworksNicsAndStorage() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PYTHON)) && sdkInstalled(),
                "python3-azure (azure-mgmt-network, azure-mgmt-storage) is not installed");
        try (TestServer server = TestServer.start(TestServer.Store.EMBEDDED)) {
            ArmClient api = ArmClient.of(server).asAdmin();
            CloudApi cloud = new CloudApi(api);
            String rg = cloud.newGroup("westus");
            Path script = temp.resolve("sdk_network_storage.py");
            try (InputStream in = getClass().getResourceAsStream("sdk_network_storage.py")) {
                Files.write(script, in.readAllBytes());
            }
            String account = CloudApi.unique("py");
            ProcessBuilder pb = new ProcessBuilder(PYTHON, script.toString());
            pb.environment().put("SECONDSITE_URL", server.baseUrl());
            pb.environment().put("SECONDSITE_TOKEN", api.token());
            pb.environment().put("SECONDSITE_CA", server.dataDir().resolve("tls/ca.pem").toString());
            pb.environment().put("SECONDSITE_SUB", CloudApi.SUB);
            pb.environment().put("SECONDSITE_RG", rg);
            pb.environment().put("SECONDSITE_ACCOUNT", account);
            pb.environment().remove("PYTHONPATH");
            Path stderr = temp.resolve("stderr.txt");
            pb.redirectError(stderr.toFile());
            Process p = pb.start();
            String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(150, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("python SDK script failed:\n%s\n%s", stdout, Files.readString(stderr)).isZero();

            JsonNode seen = Json.parse(stdout);
            assertThat(seen.at("/vnet/name").asText()).isEqualTo("sdk-vnet");
            assertThat(seen.at("/vnet/prefixes/0").asText()).isEqualTo("10.60.0.0/16");
            assertThat(seen.at("/vnet/subnets/0").asText()).isEqualTo("default");
            assertThat(seen.at("/vnet/state").asText()).isEqualTo("Succeeded");
            assertThat(seen.at("/subnet/id").asText()).isEqualTo(CloudApi.subnetId(rg, "sdk-vnet", "small"));
            assertThat(seen.at("/nic/ip").asText()).isEqualTo("10.60.1.4");
            assertThat(seen.at("/nic/method").asText()).isEqualTo("Dynamic");
            assertThat(seen.at("/check/available").asBoolean()).isFalse();
            assertThat(seen.at("/check/free/0").asText()).isEqualTo("10.60.1.5");
            assertThat(seen.at("/listed/0").asText()).isEqualTo("sdk-vnet");
            assertThat(seen.at("/nics").toString()).contains("sdk-nic");
            assertThat(seen.at("/storage/kind").asText()).isEqualTo("StorageV2");
            assertThat(seen.at("/storage/sku").asText()).isEqualTo("Standard_GRS");
            assertThat(seen.at("/storage/blob").asText()).isEqualTo("https://" + account + ".blob.localhost/");
            assertThat(seen.at("/storage/secondary").asText()).isEqualTo("eastus");
            assertThat(seen.at("/storage/default_action").asText()).isEqualTo("Deny");
            assertThat(seen.at("/storage/bypass").asText()).isEqualTo("AzureServices");
            assertThat(seen.at("/storage/keys").toString()).isEqualTo("[\"key1\",\"key2\"]");
            assertThat(seen.at("/after_delete")).isEmpty();
        }
    }
}
