package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.cloud.CloudApi.NETWORK_VERSION;
import static dev.secondsite.cloud.CloudApi.SUB;
import static dev.secondsite.cloud.CloudApi.group;
import static dev.secondsite.cloud.CloudApi.subnet;
import static dev.secondsite.cloud.CloudApi.subnetId;
import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Private endpoints for Site Recovery (seed 003) through the public HTTPS API: a vault endpoint's five FQDNs and
 * addresses, auto- and manual approval from the vault side, storage endpoints, every CREATE_PRIVATE_ENDPOINT rule
 * refused with its code and accepted when met, and DNS zone groups writing A records into a private DNS zone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PrivateEndpointsApiTest {
    static final String RS = "api-version=2024-04-01";
    static final String DNS = "api-version=2020-06-01";
    private static final String CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c";
    private static final String FQDN = "\\d+-asr-pod01-(id1|prot2|rcm1|srs1|tel1)\\.wus\\.privatelink\\.siterecovery"
            + "\\.windowsazure\\.com";

    private TestServer server;
    private ArmClient api;
    private CloudApi cloud;

    /** The store the server runs on; {@link PrivateEndpointsPostgresApiTest} runs the same tests on PostgreSQL. */
    TestServer.Store store() {
        return TestServer.Store.EMBEDDED;
    }

    @BeforeAll
    void start() throws Exception {
        server = TestServer.start(store());
        api = ArmClient.of(server).asAdmin();
        cloud = new CloudApi(api);
    }

    @AfterAll
    void stop() throws Exception {
        server.close();
    }

    // ---------------------------------------------------------------- helpers

    static String vaultId(String rg, String name) {
        return group(rg) + "/providers/Microsoft.RecoveryServices/vaults/" + name;
    }

    static String peId(String rg, String name) {
        return group(rg) + "/providers/Microsoft.Network/privateEndpoints/" + name;
    }

    /** A vault in the group's region, with a system-assigned identity unless told otherwise. */
    String vault(String rg, String name, String location, boolean identity) throws Exception {
        HttpResponse<String> r = api.put(vaultId(rg, name) + "?" + RS, "{\"location\":\"" + location + "\""
                + (identity ? ",\"identity\":{\"type\":\"SystemAssigned\"}" : "") + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return vaultId(rg, name);
    }

    static String peBody(String location, String subnetId, String serviceId, String groupId, boolean manual,
                         String extraProperties) {
        String list = manual ? "manualPrivateLinkServiceConnections" : "privateLinkServiceConnections";
        return "{\"location\":\"" + location + "\",\"properties\":{\"subnet\":{\"id\":\"" + subnetId + "\"},\"" + list
                + "\":[{\"name\":\"conn1\",\"properties\":{\"privateLinkServiceId\":\"" + serviceId + "\",\"groupIds\":[\""
                + groupId + "\"]}}]" + (extraProperties == null ? "" : "," + extraProperties) + "}}";
    }

    HttpResponse<String> putPe(ArmClient as, String rg, String name, String location, String subnetId, String serviceId,
                               String groupId, boolean manual, String extra) throws Exception {
        return as.put(peId(rg, name) + "?" + NETWORK_VERSION, peBody(location, subnetId, serviceId, groupId, manual, extra));
    }

    JsonNode newPe(String rg, String name, String location, String subnetId, String serviceId, String groupId)
            throws Exception {
        HttpResponse<String> r = putPe(api, rg, name, location, subnetId, serviceId, groupId, false, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return json(r);
    }

    static String status(JsonNode pe) {
        JsonNode auto = pe.at("/properties/privateLinkServiceConnections");
        JsonNode c = auto.isEmpty() ? pe.at("/properties/manualPrivateLinkServiceConnections/0") : auto.get(0);
        return c.at("/properties/privateLinkServiceConnectionState/status").asText();
    }

    /** A network with one subnet; returns the subnet id. */
    String network(String rg, String vnet, String location, String prefix) throws Exception {
        cloud.putVnet(rg, vnet, location, prefix, "default=" + prefix);
        return subnetId(rg, vnet, "default");
    }

    String storageAccount(String rg, String location, String kind) throws Exception {
        String name = CloudApi.unique("pe");
        HttpResponse<String> r = api.put(CloudApi.storage(rg, name), "{\"location\":\"" + location + "\",\"kind\":\""
                + kind + "\",\"sku\":{\"name\":\"Standard_LRS\"}}");
        assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
        return CloudApi.storageId(rg, name);
    }

    // ---------------------------------------------------------------- vault endpoints

    @Test
    void vaultEndpointGetsFiveAddressesAndFqdnsAndIsAutoApprovedForTheOwner() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "pe-vault", "westus", true);
        String subnetId = network(rg, "recovery-vnet", "westus", "10.1.0.0/27");
        long freeBefore = cloud.freeIps(rg, "recovery-vnet", "default");

        JsonNode pe = newPe(rg, "vault-pe", "westus", subnetId, vault, "AzureSiteRecovery");

        assertThat(status(pe)).isEqualTo("Approved");
        JsonNode dns = pe.at("/properties/customDnsConfigs");
        assertThat(dns).hasSize(5);
        List<String> ips = new ArrayList<>();
        for (JsonNode d : dns) {
            assertThat(d.path("fqdn").asText()).matches(FQDN);
            ips.add(d.at("/ipAddresses/0").asText());
        }
        assertThat(ips).containsExactly("10.1.0.4", "10.1.0.5", "10.1.0.6", "10.1.0.7", "10.1.0.8");
        assertThat(pe.at("/properties/ipConfigurations/0/properties/groupId").asText()).isEqualTo("AzureSiteRecovery");
        assertThat(pe.at("/properties/ipConfigurations/0/properties/memberName").asText()).startsWith("SiteRecovery-");
        assertThat(cloud.freeIps(rg, "recovery-vnet", "default")).isEqualTo(freeBefore - 5);
        assertThat(api.getOk(peId(rg, "vault-pe") + "?" + NETWORK_VERSION)).isEqualTo(api.getOk(peId(rg, "vault-pe")
                + "?" + NETWORK_VERSION)); // reads are stable

        JsonNode v = api.getOk(vault + "?" + RS);
        assertThat(v.at("/properties/privateEndpointStateForSiteRecovery").asText()).isEqualTo("Enabled");
        assertThat(v.at("/properties/privateEndpointConnections")).hasSize(1);
        assertThat(v.at("/properties/privateEndpointConnections/0/properties/privateEndpoint/id").asText())
                .isEqualTo(peId(rg, "vault-pe"));
        JsonNode connections = api.getOk(vault + "/privateEndpointConnections?" + RS).path("value");
        assertThat(connections).hasSize(1);
        assertThat(connections.at("/0/properties/groupIds/0").asText()).isEqualTo("AzureSiteRecovery");
        assertThat(connections.at("/0/name").asText()).startsWith("vault-pe.");

        JsonNode links = api.getOk(vault + "/privateLinkResources?" + RS).path("value");
        assertThat(links).hasSize(1);
        assertThat(links.at("/0/properties/groupId").asText()).isEqualTo("AzureSiteRecovery");
        assertThat(links.at("/0/properties/requiredMembers")).hasSize(5);
        assertThat(links.at("/0/properties/requiredZoneNames/0").asText())
                .isEqualTo("privatelink.siterecovery.windowsazure.com");
        assertThat(api.getOk(vault + "/privateLinkResources/AzureSiteRecovery?" + RS).at("/properties/groupId").asText())
                .isEqualTo("AzureSiteRecovery");

        String byGroup = group(rg) + "/providers/Microsoft.Network/privateEndpoints?" + NETWORK_VERSION;
        assertThat(api.getOk(byGroup).path("value")).hasSize(1);
        JsonNode bySub = api.getOk("/subscriptions/" + SUB + "/providers/Microsoft.Network/privateEndpoints?"
                + NETWORK_VERSION).path("value");
        assertThat(bySub.findValuesAsText("id")).contains(peId(rg, "vault-pe"));

        // A PUT of an existing endpoint changes its tags, not its target or subnet.
        assertError(putPe(api, rg, "vault-pe", "westus", subnetId, storageAccount(rg, "westus", "StorageV2"), "blob",
                false, null), 400, "PrivateEndpointPropertyCannotBeUpdated");

        HttpResponse<String> deleted = api.delete(peId(rg, "vault-pe") + "?" + NETWORK_VERSION);
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
        assertThat(cloud.freeIps(rg, "recovery-vnet", "default")).isEqualTo(freeBefore);
        v = api.getOk(vault + "?" + RS);
        assertThat(v.at("/properties/privateEndpointConnections")).isEmpty();
        assertThat(v.at("/properties/privateEndpointStateForSiteRecovery").asText()).isEqualTo("None");
        assertError(api.get(peId(rg, "vault-pe") + "?" + NETWORK_VERSION), 404, "ResourceNotFound");
    }

    @Test
    void vaultWithoutSystemAssignedIdentityIsRefused() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "no-identity", "westus", false);
        String subnetId = network(rg, "vnet", "westus", "10.2.0.0/24");
        assertError(putPe(api, rg, "pe", "westus", subnetId, vault, "AzureSiteRecovery", false, null), 409,
                "VaultSystemAssignedIdentityRequired");
        assertThat(cloud.freeIps(rg, "vnet", "default")).as("nothing allocated").isEqualTo(251);

        api.patch(vault + "?" + RS, "{\"identity\":{\"type\":\"SystemAssigned\"}}");
        newPe(rg, "pe", "westus", subnetId, vault, "AzureSiteRecovery");
    }

    @Test
    void vaultWithRegisteredItemsIsRefused() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "used-vault", "westus", true);
        String subnetId = network(rg, "vnet", "westus", "10.3.0.0/24");
        api.awaitSucceeded(api.put(vault + "/replicationFabrics/site1?" + RS,
                "{\"properties\":{\"customDetails\":{\"instanceType\":\"VMware\"}}}"));
        JsonNode error = assertError(putPe(api, rg, "pe", "westus", subnetId, vault, "AzureSiteRecovery", false, null),
                409, "PrivateEndpointRequiresNewVault");
        assertThat(error.path("message").asText()).contains("1 registered item");
    }

    @Test
    void subnetNeedsNineFreeAddresses() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "small-subnet", "westus", true);
        // A /28 has 11 usable addresses: two NICs leave 9 (enough), a third leaves 8 (too few).
        String small = network(rg, "small", "westus", "10.4.0.0/28");
        cloud.newNic(rg, "nic1", "westus", small);
        cloud.newNic(rg, "nic2", "westus", small);
        cloud.newNic(rg, "nic3", "westus", small);
        JsonNode error = assertError(putPe(api, rg, "pe", "westus", small, vault, "AzureSiteRecovery", false, null), 400,
                "InsufficientSubnetIpsForPrivateEndpoint");
        assertThat(error.path("message").asText()).contains("has 8 free IPs, 9 are needed");

        api.delete(CloudApi.nic(rg, "nic3"));
        JsonNode pe = newPe(rg, "pe", "westus", small, vault, "AzureSiteRecovery");
        assertThat(pe.at("/properties/customDnsConfigs")).hasSize(5);
        assertThat(cloud.freeIps(rg, "small", "default")).isEqualTo(4);
    }

    @Test
    void vaultEndpointRefusesStaticAddresses() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "static", "westus", true);
        String subnetId = network(rg, "vnet", "westus", "10.5.0.0/24");
        String staticIp = "\"ipConfigurations\":[{\"name\":\"c1\",\"properties\":{\"groupId\":\"AzureSiteRecovery\","
                + "\"memberName\":\"SiteRecovery-prot2\",\"privateIPAddress\":\"10.5.0.50\"}}]";
        assertError(putPe(api, rg, "pe", "westus", subnetId, vault, "AzureSiteRecovery", false, staticIp), 400,
                "PrivateEndpointStaticIpNotSupported");
    }

    @Test
    void badTargetsNameTheField() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "targets", "westus", true);
        String subnetId = network(rg, "vnet", "westus", "10.6.0.0/24");
        Arm.assertNamesField(assertError(putPe(api, rg, "pe", "westus", subnetId, vault, "AzureBackup", false, null),
                400, "InvalidGroupId"), "properties.privateLinkServiceConnections[0].properties.groupIds");
        assertError(putPe(api, rg, "pe", "westus", subnetId, vault + "x", "AzureSiteRecovery", false, null), 400,
                "PrivateLinkServiceNotFound");
        assertError(putPe(api, rg, "pe", "eastus", subnetId, vault, "AzureSiteRecovery", false, null), 400,
                "InvalidResourceReference");
        assertError(api.put(peId(rg, "pe") + "?" + NETWORK_VERSION, "{\"location\":\"westus\",\"properties\":{"
                + "\"subnet\":{\"id\":\"" + subnetId + "\"}}}"), 400, "InvalidRequestContent");
    }

    // ---------------------------------------------------------------- approval

    @Test
    void callerWithoutRightsOnTheVaultWaitsForTheOwnerToApprove() throws Exception {
        String vaultRg = cloud.newGroup("westus");
        String netRg = cloud.newGroup("westus");
        String vault = vault(vaultRg, "owned", "westus", true);
        String subnetId = network(netRg, "vnet", "westus", "10.7.0.0/24");
        ArmClient networkAdmin = principalWithContributorOn(group(netRg));

        JsonNode pe = json(expect(putPe(networkAdmin, netRg, "pe1", "westus", subnetId, vault, "AzureSiteRecovery",
                false, null), 201));
        assertThat(status(pe)).isEqualTo("Pending");
        assertThat(api.getOk(vault + "?" + RS).at("/properties/privateEndpointStateForSiteRecovery").asText())
                .isEqualTo("None");
        String connection = vault + "/privateEndpointConnections/"
                + api.getOk(vault + "/privateEndpointConnections?" + RS).at("/value/0/name").asText();

        // The network admin can't approve on the vault; its owner can.
        assertError(networkAdmin.put(connection + "?" + RS, approve("Approved")), 403, "AuthorizationFailed");
        JsonNode approved = json(expect(api.put(connection + "?" + RS, approve("Approved")), 200));
        assertThat(approved.at("/properties/privateLinkServiceConnectionState/status").asText()).isEqualTo("Approved");
        assertThat(status(api.getOk(peId(netRg, "pe1") + "?" + NETWORK_VERSION))).isEqualTo("Approved");
        assertThat(api.getOk(vault + "?" + RS).at("/properties/privateEndpointStateForSiteRecovery").asText())
                .isEqualTo("Enabled");

        // A manual request waits even for the owner; once rejected it can't be approved.
        JsonNode manual = json(expect(putPe(api, netRg, "pe2", "westus", subnetId, vault, "AzureSiteRecovery", true,
                null), 201));
        assertThat(status(manual)).isEqualTo("Pending");
        String second = vault + "/privateEndpointConnections/pe2." + manual.at("/properties/resourceGuid").asText();
        expect(api.put(second + "?" + RS, approve("Rejected")), 200);
        assertThat(status(api.getOk(peId(netRg, "pe2") + "?" + NETWORK_VERSION))).isEqualTo("Rejected");
        assertError(api.put(second + "?" + RS, approve("Approved")), 409, "PrivateEndpointConnectionRejected");
        assertError(api.put(second + "?" + RS, approve("Maybe")), 400, "InvalidRequestContent");

        // The owner deletes a connection: the endpoint stays and shows Disconnected.
        expect(api.delete(connection + "?" + RS), 200);
        assertThat(status(api.getOk(peId(netRg, "pe1") + "?" + NETWORK_VERSION))).isEqualTo("Disconnected");
        assertError(api.get(connection + "?" + RS), 404, "PrivateEndpointConnectionNotFound");
        assertThat(api.getOk(vault + "?" + RS).at("/properties/privateEndpointConnections")).hasSize(1);
    }

    static String approve(String status) {
        return "{\"properties\":{\"privateLinkServiceConnectionState\":{\"status\":\"" + status
                + "\",\"description\":\"by the vault owner\"}}}";
    }

    private ArmClient principalWithContributorOn(String scope) throws Exception {
        String name = CloudApi.unique("sp-");
        JsonNode sp = json(expect(api.put("/providers/SecondSite.Identity/servicePrincipals/" + name
                + "?api-version=2024-10-01", "{}"), 201)).path("properties");
        expect(api.put(scope + "/providers/Microsoft.Authorization/roleAssignments/" + UUID.randomUUID()
                + "?api-version=2022-04-01", "{\"properties\":{\"roleDefinitionId\":\"/subscriptions/" + SUB
                + "/providers/Microsoft.Authorization/roleDefinitions/" + CONTRIBUTOR + "\",\"principalId\":\""
                + sp.path("objectId").asText() + "\"}}"), 201);
        return api.as(api.token(sp.path("clientId").asText(), sp.path("clientSecret").asText()));
    }

    static HttpResponse<String> expect(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        return r;
    }

    // ---------------------------------------------------------------- storage endpoints

    @Test
    void storageEndpointsNeedGeneralPurposeV2AndMayUseAStaticAddress() throws Exception {
        String rg = cloud.newGroup("westus");
        String subnetId = network(rg, "vnet", "westus", "10.8.0.0/24");
        String v1 = storageAccount(rg, "westus", "Storage");
        JsonNode error = assertError(putPe(api, rg, "pe-v1", "westus", subnetId, v1, "blob", false, null), 400,
                "StoragePrivateEndpointRequiresGeneralPurposeV2");
        assertThat(error.path("message").asText()).contains("is of kind Storage");

        String v2 = storageAccount(rg, "westus", "StorageV2");
        String staticIp = "\"ipConfigurations\":[{\"name\":\"c1\",\"properties\":{\"groupId\":\"blob\","
                + "\"memberName\":\"blob\",\"privateIPAddress\":\"10.8.0.20\"}}]";
        JsonNode pe = json(expect(putPe(api, rg, "pe-v2", "westus", subnetId, v2, "blob", false, staticIp), 201));
        String account = v2.substring(v2.lastIndexOf('/') + 1);
        assertThat(pe.at("/properties/customDnsConfigs/0/fqdn").asText())
                .isEqualTo(account + ".privatelink.blob.core.windows.net");
        assertThat(pe.at("/properties/customDnsConfigs/0/ipAddresses/0").asText()).isEqualTo("10.8.0.20");
        assertThat(status(pe)).isEqualTo("Approved");
        assertThat(api.getOk(v2 + "/privateEndpointConnections?" + CloudApi.STORAGE_VERSION).path("value")).hasSize(1);
        assertError(putPe(api, rg, "pe-v2b", "westus", subnetId, v2, "blob", false, staticIp), 409,
                "PrivateIPAddressInUse");
        assertError(putPe(api, rg, "pe-v2b", "westus", subnetId, v2, "blob", false, staticIp.replace("10.8.0.20",
                "10.8.0.1")), 400, "PrivateIPAddressInReservedRange");
        assertError(putPe(api, rg, "pe-v2b", "westus", subnetId, v2, "blob", false, staticIp.replace("10.8.0.20",
                "10.99.0.20")), 400, "PrivateIPAddressNotInSubnet");
    }

    /**
     * Endpoints created at once, in different networks, all end up in the vault's connection list (each create
     * rewrites the vault's copy under the vault's row lock). A smoke test: the race it guards is not forced.
     */
    @Test
    void concurrentEndpointsOfOneVaultAreAllListedOnIt() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "busy-vault", "westus", true);
        int endpoints = 4;
        List<String> subnets = new ArrayList<>();
        for (int i = 0; i < endpoints; i++) {
            subnets.add(network(rg, "vnet" + i, "westus", "10.12." + i + ".0/24"));
        }
        ExecutorService pool = Executors.newFixedThreadPool(endpoints);
        try {
            List<Future<HttpResponse<String>>> created = new ArrayList<>();
            for (int i = 0; i < endpoints; i++) {
                int n = i;
                created.add(pool.submit(() -> putPe(api, rg, "pe" + n, "westus", subnets.get(n), vault,
                        "AzureSiteRecovery", false, null)));
            }
            for (Future<HttpResponse<String>> f : created) {
                expect(f.get(60, TimeUnit.SECONDS), 201);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(api.getOk(vault + "?" + RS).at("/properties/privateEndpointConnections")).hasSize(endpoints);
        assertThat(api.getOk(vault + "/privateEndpointConnections?" + RS).path("value")).hasSize(endpoints);
    }

    // ---------------------------------------------------------------- DNS zone groups

    @Test
    void eachVaultEndpointNeedsItsOwnDnsZone() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "dns-vault", "westus", true);
        String source = network(rg, "source", "eastus", "10.9.0.0/24");
        String recovery = network(rg, "recovery", "westus", "10.10.0.0/24");
        newPe(rg, "pe-source", "eastus", source, vault, "AzureSiteRecovery");
        newPe(rg, "pe-recovery", "westus", recovery, vault, "AzureSiteRecovery");
        String zone = PrivateDnsZonesApiTest.zone(api, rg, "privatelink.siterecovery.windowsazure.com");
        String otherRg = cloud.newGroup("westus");
        String otherZone = PrivateDnsZonesApiTest.zone(api, otherRg, "privatelink.siterecovery.windowsazure.com");

        JsonNode groupOk = json(expect(api.put(peId(rg, "pe-source") + "/privateDnsZoneGroups/default?"
                + NETWORK_VERSION, zoneGroup(zone)), 201));
        JsonNode sets = groupOk.at("/properties/privateDnsZoneConfigs/0/properties/recordSets");
        assertThat(sets).hasSize(5);
        assertThat(sets.get(0).path("fqdn").asText()).matches(FQDN);
        assertThat(sets.get(0).path("ipAddresses").get(0).asText()).isEqualTo("10.9.0.4");
        JsonNode records = api.getOk(zone + "/A?" + DNS).path("value");
        assertThat(records).hasSize(5);
        assertThat(records.at("/0/properties/aRecords/0/ipv4Address").asText()).startsWith("10.9.0.");

        JsonNode error = assertError(api.put(peId(rg, "pe-recovery") + "/privateDnsZoneGroups/default?"
                + NETWORK_VERSION, zoneGroup(zone)), 409, "PrivateDnsZoneAlreadyUsedByVault");
        assertThat(error.path("message").asText()).contains("dns-vault");
        assertThat(api.getOk(zone + "/A?" + DNS).path("value")).as("records untouched").hasSize(5);
        expect(api.put(peId(rg, "pe-recovery") + "/privateDnsZoneGroups/default?" + NETWORK_VERSION,
                zoneGroup(otherZone)), 201);
        assertThat(api.getOk(otherZone + "/A?" + DNS).at("/value/0/properties/aRecords/0/ipv4Address").asText())
                .startsWith("10.10.0.");

        // A zone of the wrong family is refused; deleting the endpoint deletes its records.
        String blobZone = PrivateDnsZonesApiTest.zone(api, rg, "privatelink.blob.core.windows.net");
        assertError(api.put(peId(rg, "pe-source") + "/privateDnsZoneGroups/default?" + NETWORK_VERSION,
                zoneGroup(blobZone)), 400, "PrivateDnsZoneDoesNotMatch");
        expect(api.delete(peId(rg, "pe-source") + "?" + NETWORK_VERSION), 200);
        assertThat(api.getOk(zone + "/A?" + DNS).path("value")).isEmpty();
        expect(api.delete(peId(rg, "pe-recovery") + "/privateDnsZoneGroups/default?" + NETWORK_VERSION), 200);
        assertThat(api.getOk(otherZone + "/A?" + DNS).path("value")).isEmpty();
    }

    static String zoneGroup(String zoneId) {
        return "{\"properties\":{\"privateDnsZoneConfigs\":[{\"name\":\"siterecovery\",\"properties\":{"
                + "\"privateDnsZoneId\":\"" + zoneId + "\"}}]}}";
    }

    @Test
    void subnetWithAnEndpointCannotBeDeleted() throws Exception {
        String rg = cloud.newGroup("westus");
        String vault = vault(rg, "busy", "westus", true);
        String subnetId = network(rg, "vnet", "westus", "10.11.0.0/24");
        newPe(rg, "pe", "westus", subnetId, vault, "AzureSiteRecovery");
        assertError(api.delete(subnet(rg, "vnet", "default")), 409, "InUseSubnetCannotBeDeleted");
    }
}
