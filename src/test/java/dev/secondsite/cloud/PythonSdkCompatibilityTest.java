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
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The official Python SDKs (Debian's python3-azure: azure-mgmt-network 23, -storage 21, -compute, -privatedns,
 * -authorization, -msi) drive the server as automation written for Azure would: a network, a subnet, a NIC and a storage
 * account; VM sizes, a managed disk, a VM on it, deallocate and delete; a private DNS zone with a network link and
 * an A record; a role assignment created, listed and deleted; a user-assigned identity given a role; a storage private
 * endpoint, the NIC Azure creates for it (which refuses deletion) and a DNS zone group over two zones.
 * Skipped when the SDKs are not installed ({@code apt-get install python3-azure}).
 */
class PythonSdkCompatibilityTest {
    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    Path temp;

    private static boolean sdkInstalled() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import azure.mgmt.network, azure.mgmt.storage, "
                    + "azure.mgmt.compute, azure.mgmt.privatedns, azure.mgmt.authorization, azure.mgmt.msi")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** Runs one of the SDK scripts against {@code server} with {@code env}; returns what it printed (JSON). */
    private JsonNode runScript(TestServer server, ArmClient api, String name, Map<String, String> env) throws Exception {
        Path script = temp.resolve(name);
        try (InputStream in = getClass().getResourceAsStream(name)) {
            Files.write(script, in.readAllBytes());
        }
        ProcessBuilder pb = new ProcessBuilder(PYTHON, script.toString());
        pb.environment().put("SECONDSITE_URL", server.baseUrl());
        pb.environment().put("SECONDSITE_TOKEN", api.token());
        pb.environment().put("SECONDSITE_CA", server.dataDir().resolve("tls/ca.pem").toString());
        pb.environment().put("SECONDSITE_SUB", CloudApi.SUB);
        pb.environment().putAll(env);
        pb.environment().remove("PYTHONPATH");
        Path stderr = temp.resolve(name + ".stderr");
        pb.redirectError(stderr.toFile());
        Process p = pb.start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(150, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("python SDK script %s failed:\n%s\n%s", name, stdout, Files.readString(stderr))
                .isZero();
        return Json.parse(stdout);
    }

    private static void assumeSdks() {
        assumeTrue(Files.isExecutable(Path.of(PYTHON)) && sdkInstalled(),
                "python3-azure (azure-mgmt-network, -storage, -compute, -privatedns, -authorization) is not installed");
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void pythonSdksDriveComputePrivateDnsAndRoleAssignments() throws Exception {
        assumeSdks();
        try (TestServer server = TestServer.start(TestServer.Store.EMBEDDED)) {
            ArmClient api = ArmClient.of(server).asAdmin();
            String rg = new CloudApi(api).newGroup("westus");
            JsonNode sp = Json.parse(api.put("/providers/SecondSite.Identity/servicePrincipals/sdk-reader"
                    + "?api-version=2024-10-01", "{}").body());
            String principal = sp.path("properties").path("objectId").asText(sp.path("objectId").asText());
            JsonNode seen = runScript(server, api, "sdk_compute_dns_auth.py",
                    Map.of("SECONDSITE_RG", rg, "SECONDSITE_PRINCIPAL", principal));
            assertThat(seen.at("/sizes").toString()).contains("Standard_B2s");
            assertThat(seen.at("/disk/size").asInt()).isEqualTo(4);
            assertThat(seen.at("/disk/state").asText()).isEqualTo("Unattached");
            assertThat(seen.at("/vm/size").asText()).isEqualTo("Standard_B2s");
            assertThat(seen.at("/vm/state").asText()).isEqualTo("Succeeded");
            assertThat(seen.at("/vm/os_disk").asText()).isEqualToIgnoringCase(seen.at("/disk/id").asText());
            assertThat(seen.at("/power/0").asText()).isEqualTo("PowerState/deallocated");
            assertThat(seen.at("/vms/0").asText()).isEqualTo("sdk-vm");
            assertThat(seen.at("/vms_after_delete")).isEmpty();
            assertThat(seen.at("/dns/zone").asText()).isEqualTo("privatelink.siterecovery.windowsazure.com");
            assertThat(seen.at("/dns/link").asText()).isEqualTo("sdk-link");
            assertThat(seen.at("/dns/record").asText()).isEqualTo("10.70.0.9");
            assertThat(seen.at("/dns/ttl").asInt()).isEqualTo(10);
            assertThat(seen.at("/role/listed").asBoolean()).isTrue();
            assertThat(seen.at("/role/role").asText()).isEqualTo("acdd72a7-3385-48ef-bd42-f606fba81ae7");
            assertThat(seen.at("/role/after_delete").asBoolean()).isFalse();
            assertThat(seen.at("/identity/name").asText()).isEqualTo("sdk-identity");
            assertThat(seen.at("/identity/same_principal").asBoolean()).isTrue();
            assertThat(seen.at("/identity/client_id").asText()).matches("[0-9a-f-]{36}");
            assertThat(seen.at("/identity/listed/0").asText()).isEqualTo("sdk-identity");
            assertThat(seen.at("/identity/after_delete")).isEmpty();
        }
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void pythonSdksDriveNetworksNicsAndStorage() throws Exception {
        assumeSdks();
        try (TestServer server = TestServer.start(TestServer.Store.EMBEDDED)) {
            ArmClient api = ArmClient.of(server).asAdmin();
            CloudApi cloud = new CloudApi(api);
            String rg = cloud.newGroup("westus");
            String account = CloudApi.unique("py");
            JsonNode seen = runScript(server, api, "sdk_network_storage.py",
                    Map.of("SECONDSITE_RG", rg, "SECONDSITE_ACCOUNT", account));
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

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void pythonSdksDrivePrivateEndpointItsNicAndAMultiZoneGroup() throws Exception {
        assumeSdks();
        try (TestServer server = TestServer.start(TestServer.Store.EMBEDDED)) {
            ArmClient api = ArmClient.of(server).asAdmin();
            CloudApi cloud = new CloudApi(api);
            String rg = cloud.newGroup("westus");
            String hub = cloud.newGroup("westus");
            String account = CloudApi.unique("pep");
            JsonNode seen = runScript(server, api, "sdk_private_endpoint.py",
                    Map.of("SECONDSITE_RG", rg, "SECONDSITE_HUB_RG", hub, "SECONDSITE_ACCOUNT", account));
            assertThat(seen.at("/pe/fqdn").asText()).isEqualTo(account + ".privatelink.blob.core.windows.net");
            assertThat(seen.at("/pe/ip").asText()).isEqualTo("10.80.0.4");
            assertThat(seen.at("/pe/status").asText()).isEqualTo("Approved");
            assertThat(seen.at("/nic/name").asText()).matches("sdk-pe\\.nic\\.[0-9a-f-]{36}");
            assertThat(seen.at("/nic/ip").asText()).isEqualTo("10.80.0.4");
            assertThat(seen.at("/nic/endpoint").asText()).endsWith("/privateEndpoints/sdk-pe");
            assertThat(seen.at("/nic/fqdns/0").asText()).isEqualTo(seen.at("/pe/fqdn").asText());
            assertThat(seen.at("/nic/delete_error").asText()).isEqualTo("InUseNetworkInterfaceCannotBeDeleted");
            assertThat(seen.at("/zone_group/configs").toString()).isEqualTo("[\"spoke\",\"hub\"]");
            assertThat(seen.at("/zone_group/record_sets").toString()).isEqualTo("[1,1]");
            for (String zone : new String[] {"spoke", "hub"}) {
                assertThat(seen.at("/records/" + zone).toString()).isEqualTo("[[\"" + account + "\",\"10.80.0.4\"]]");
            }
            assertThat(seen.at("/after_delete/records").asInt()).isZero();
            assertThat(seen.at("/after_delete/nics")).isEmpty();
        }
    }
}
