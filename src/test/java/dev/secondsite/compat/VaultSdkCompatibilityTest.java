package dev.secondsite.compat;

import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import com.azure.core.management.AzureEnvironment;
import com.azure.core.management.exception.ManagementException;
import com.azure.core.management.profile.AzureProfile;
import com.azure.core.util.Context;
import com.azure.identity.ClientSecretCredentialBuilder;
import com.azure.resourcemanager.recoveryservices.RecoveryServicesManager;
import com.azure.resourcemanager.recoveryservices.models.IdentityData;
import com.azure.resourcemanager.recoveryservices.models.PublicNetworkAccess;
import com.azure.resourcemanager.recoveryservices.models.ResourceIdentityType;
import com.azure.resourcemanager.recoveryservices.models.Sku;
import com.azure.resourcemanager.recoveryservices.models.SkuName;
import com.azure.resourcemanager.recoveryservices.models.Vault;
import com.azure.resourcemanager.recoveryservices.models.VaultProperties;
import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.TestServer;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Mono;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Drives the vault API with the official Azure SDK for Java exactly as a user would:
 * azure-identity's ClientSecretCredential against our token endpoint, and
 * azure-resourcemanager-recoveryservices (api-version 2024-04-01) against our ARM API, over an
 * HTTPS client that trusts only the server's own CA.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VaultSdkCompatibilityTest {
    private static final String GUID = "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$";

    private static TestServer server;
    private static RecordingHttpClient http;
    private static RecoveryServicesManager manager;
    private static String tenantId;
    private static String subscriptionId;
    private static String resourceGroup;

    @BeforeAll
    static void startServerAndSdk() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
        JsonNode admin = server.admin();
        tenantId = admin.path("tenantId").asText();
        subscriptionId = UUID.randomUUID().toString();
        resourceGroup = "sdk-rg-" + UUID.randomUUID().toString().substring(0, 8);

        // An HTTP client that trusts our CA and nothing else; TLS verification (incl. host name) stays on.
        SslContext ssl = SslContextBuilder.forClient()
                .trustManager(server.dataDir().resolve("tls/ca.pem").toFile())
                .build();
        reactor.netty.http.client.HttpClient reactorClient = reactor.netty.http.client.HttpClient.create()
                .secure(spec -> spec.sslContext(ssl));
        http = new RecordingHttpClient(new NettyAsyncHttpClientBuilder(reactorClient).build());

        TokenCredential credential = new ClientSecretCredentialBuilder()
                .tenantId(tenantId)
                .clientId(admin.path("clientId").asText())
                .clientSecret(admin.path("clientSecret").asText())
                .authorityHost(server.baseUrl())
                .disableInstanceDiscovery()
                .httpClient(http)
                .build();

        String base = server.baseUrl() + "/";
        Map<String, String> endpoints = new HashMap<>(AzureEnvironment.AZURE.getEndpoints());
        endpoints.put("resourceManagerEndpointUrl", base);
        endpoints.put("managementEndpointUrl", base);
        endpoints.put("activeDirectoryEndpointUrl", base);
        endpoints.put("activeDirectoryResourceId", base);
        endpoints.put("portalUrl", base);
        AzureProfile profile = new AzureProfile(tenantId, subscriptionId, new AzureEnvironment(endpoints));

        manager = RecoveryServicesManager.configure().withHttpClient(http).authenticate(credential, profile);

        // The recoveryservices SDK has no resource-group API; create the group with a plain ARM call.
        var response = server.call("PUT", "/subscriptions/" + subscriptionId + "/resourcegroups/" + resourceGroup
                + "?api-version=2021-04-01", server.adminToken(), "{\"location\":\"westus\"}");
        assertThat(response.statusCode()).as(response.body()).isIn(200, 201);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void vaultLifecycleThroughTheOfficialSdk() {
        String name = "sdkvault-" + UUID.randomUUID().toString().substring(0, 8);

        Vault created = manager.vaults().define(name)
                .withRegion("westus")
                .withExistingResourceGroup(resourceGroup)
                .withSku(new Sku().withName(SkuName.STANDARD))
                .withIdentity(new IdentityData().withType(ResourceIdentityType.SYSTEM_ASSIGNED))
                .withProperties(new VaultProperties().withPublicNetworkAccess(PublicNetworkAccess.ENABLED))
                .create();

        // The credential really asked our token endpoint, through our CA-trusting client.
        assertThat(http.requests()).anySatisfy(r -> assertThat(r)
                .startsWith("POST " + server.baseUrl() + "/" + tenantId + "/oauth2/v2.0/token"));

        assertThat(created.name()).isEqualTo(name);
        assertThat(created.location()).isEqualTo("westus");
        assertThat(created.sku().name()).isEqualTo(SkuName.RS0);
        assertThat(created.identity().type()).isEqualTo(ResourceIdentityType.SYSTEM_ASSIGNED);
        assertThat(created.identity().principalId()).isNotBlank().matches(GUID);
        assertThat(created.properties().provisioningState()).isEqualTo("Succeeded");
        assertThat(created.properties().publicNetworkAccess()).isEqualTo(PublicNetworkAccess.ENABLED);
        String vaultId = "/subscriptions/" + subscriptionId + "/resourceGroups/" + resourceGroup
                + "/providers/Microsoft.RecoveryServices/vaults/" + name;
        assertThat(created.id()).isEqualToIgnoringCase(vaultId);

        Vault fetched = manager.vaults().getByResourceGroup(resourceGroup, name);
        assertThat(fetched.id()).isEqualTo(created.id());
        assertThat(fetched.location()).isEqualTo("westus");
        assertThat(fetched.sku().name()).isEqualTo(SkuName.RS0);
        assertThat(fetched.identity().principalId()).isEqualTo(created.identity().principalId());

        List<Vault> inGroup = StreamSupport.stream(manager.vaults().listByResourceGroup(resourceGroup).spliterator(),
                false).toList();
        assertThat(inGroup).extracting(Vault::name).contains(name);
        List<Vault> inSubscription = StreamSupport.stream(manager.vaults().list().spliterator(), false).toList();
        assertThat(inSubscription).extracting(Vault::id).contains(created.id());

        Vault updated = fetched.update().withTags(Map.of("env", "test")).apply();
        assertThat(updated.tags()).containsEntry("env", "test");
        Vault reread = manager.vaults().getByResourceGroup(resourceGroup, name);
        assertThat(reread.tags()).containsExactlyEntriesOf(Map.of("env", "test"));
        assertThat(reread.identity().principalId()).isEqualTo(created.identity().principalId());

        manager.vaults().deleteByResourceGroup(resourceGroup, name);
        ManagementException gone = catchThrowableOfType(ManagementException.class,
                () -> manager.vaults().getByResourceGroup(resourceGroup, name));
        assertThat(gone).isNotNull();
        assertThat(gone.getResponse().getStatusCode()).isEqualTo(404);
        assertThat(gone.getValue().getCode()).isEqualTo("ResourceNotFound");
        assertThat(StreamSupport.stream(manager.vaults().listByResourceGroup(resourceGroup).spliterator(), false))
                .extracting(Vault::name).doesNotContain(name);
    }

    /**
     * Seed 003 through the SDK's models: a private endpoint (created with a plain ARM call; this SDK has no
     * network API) shows on the vault as PrivateEndpointConnectionVaultProperties, and the vault's private link
     * resources list Site Recovery's sub-resource.
     */
    @Test
    void privateEndpointConnectionsAndPrivateLinkResourcesThroughTheOfficialSdk() throws Exception {
        String name = "sdkpe-" + UUID.randomUUID().toString().substring(0, 8);
        Vault vault = manager.vaults().define(name).withRegion("westus").withExistingResourceGroup(resourceGroup)
                .withSku(new Sku().withName(SkuName.STANDARD))
                .withIdentity(new IdentityData().withType(ResourceIdentityType.SYSTEM_ASSIGNED)).create();
        assertThat(vault.properties().privateEndpointStateForSiteRecovery().toString()).isEqualTo("None");

        String group = "/subscriptions/" + subscriptionId + "/resourceGroups/" + resourceGroup;
        String vnet = group + "/providers/Microsoft.Network/virtualNetworks/" + name;
        var r = server.call("PUT", vnet + "?api-version=2024-05-01", server.adminToken(), "{\"location\":\"westus\","
                + "\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.30.0.0/24\"]},\"subnets\":[{\"name\":"
                + "\"default\",\"properties\":{\"addressPrefix\":\"10.30.0.0/24\"}}]}}");
        assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
        r = server.call("PUT", group + "/providers/Microsoft.Network/privateEndpoints/" + name + "?api-version=2024-05-01",
                server.adminToken(), "{\"location\":\"westus\",\"properties\":{\"subnet\":{\"id\":\"" + vnet
                        + "/subnets/default\"},\"privateLinkServiceConnections\":[{\"name\":\"asr\",\"properties\":{"
                        + "\"privateLinkServiceId\":\"" + vault.id() + "\",\"groupIds\":[\"AzureSiteRecovery\"]}}]}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);

        Vault reread = manager.vaults().getByResourceGroup(resourceGroup, name);
        assertThat(reread.properties().privateEndpointStateForSiteRecovery().toString()).isEqualTo("Enabled");
        var connections = reread.properties().privateEndpointConnections();
        assertThat(connections).hasSize(1);
        assertThat(connections.get(0).name()).startsWith(name + ".");
        assertThat(connections.get(0).properties().privateEndpoint().id()).endsWith("/privateEndpoints/" + name);
        assertThat(connections.get(0).properties().privateLinkServiceConnectionState().status().toString())
                .isEqualTo("Approved");
        assertThat(connections.get(0).properties().groupIds()).extracting(Object::toString)
                .containsExactly("AzureSiteRecovery");

        var resources = StreamSupport.stream(manager.privateLinkResourcesOperations().list(resourceGroup, name)
                .spliterator(), false).toList();
        assertThat(resources).hasSize(1);
        assertThat(resources.get(0).groupId()).isEqualTo("AzureSiteRecovery");
        assertThat(resources.get(0).requiredMembers()).hasSize(5);
        assertThat(resources.get(0).requiredZoneNames()).containsExactly("privatelink.siterecovery.windowsazure.com");
        assertThat(manager.privateLinkResourcesOperations().get(resourceGroup, name, "AzureSiteRecovery").groupId())
                .isEqualTo("AzureSiteRecovery");
    }

    /** Delegates to the real client and remembers "METHOD url" of every request it carried. */
    private static final class RecordingHttpClient implements HttpClient {
        private final HttpClient delegate;
        private final List<String> requests = new CopyOnWriteArrayList<>();

        RecordingHttpClient(HttpClient delegate) {
            this.delegate = delegate;
        }

        List<String> requests() {
            return List.copyOf(requests);
        }

        @Override
        public Mono<HttpResponse> send(HttpRequest request) {
            record(request);
            return delegate.send(request);
        }

        @Override
        public Mono<HttpResponse> send(HttpRequest request, Context context) {
            record(request);
            return delegate.send(request, context);
        }

        @Override
        public HttpResponse sendSync(HttpRequest request, Context context) {
            record(request);
            return delegate.sendSync(request, context);
        }

        private void record(HttpRequest request) {
            requests.add(request.getHttpMethod() + " " + request.getUrl());
        }
    }
}
