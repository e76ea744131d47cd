package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.auth.BuiltInRole;
import dev.secondsite.cloud.storage.StorageAccounts;
import dev.secondsite.rules.StorageAccountFacts;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.ArmClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.cloud.CloudApi.storage;
import static dev.secondsite.cloud.CloudApi.unique;
import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.assertNamesField;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/** Storage accounts of the local cloud through the public HTTPS API (Microsoft.Storage 2023-05-01 shapes). */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StorageAccountsApiTest extends EmbeddedCloudTest {
    private static String body(String kind, String sku, String properties) {
        return "{\"location\":\"westus\",\"kind\":\"" + kind + "\",\"sku\":{\"name\":\"" + sku + "\"}"
                + (properties == null ? "" : ",\"properties\":" + properties) + "}";
    }

    @Test
    void createReadUpdateListDelete() throws Exception {
        String rg = cloud.newGroup("westus");
        String name = unique("st");
        HttpResponse<String> created = api.put(storage(rg, name), "{\"location\":\"West US\",\"kind\":\"StorageV2\","
                + "\"sku\":{\"name\":\"Standard_RAGRS\"},\"tags\":{\"env\":\"dr\"}}");
        // The Storage spec's Create answers 200 (or 202), never 201: the official SDKs reject anything else.
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        JsonNode account = json(created);
        assertThat(account.path("id").asText()).isEqualTo(CloudApi.storageId(rg, name));
        assertThat(account.path("type").asText()).isEqualTo("Microsoft.Storage/storageAccounts");
        assertThat(account.path("location").asText()).isEqualTo("westus");
        assertThat(account.path("kind").asText()).isEqualTo("StorageV2");
        assertThat(account.at("/sku/name").asText()).isEqualTo("Standard_RAGRS");
        assertThat(account.at("/sku/tier").asText()).isEqualTo("Standard");
        assertThat(account.at("/tags/env").asText()).isEqualTo("dr");
        JsonNode p = account.path("properties");
        assertThat(p.path("provisioningState").asText()).isEqualTo("Succeeded");
        assertThat(p.path("accessTier").asText()).isEqualTo("Hot");
        assertThat(p.path("primaryLocation").asText()).isEqualTo("westus");
        assertThat(p.path("statusOfPrimary").asText()).isEqualTo("available");
        assertThat(p.path("secondaryLocation").asText()).isEqualTo("eastus");
        assertThat(p.at("/primaryEndpoints/blob").asText()).isEqualTo("https://" + name + ".blob.localhost/");
        assertThat(p.at("/secondaryEndpoints/blob").asText()).isEqualTo("https://" + name + "-secondary.blob.localhost/");
        assertThat(p.at("/networkAcls/defaultAction").asText()).isEqualTo("Allow");
        assertThat(p.at("/networkAcls/bypass").asText()).isEqualTo("AzureServices");
        assertThat(p.path("publicNetworkAccess").asText()).isEqualTo("Enabled");
        assertThat(p.path("minimumTlsVersion").asText()).isEqualTo("TLS1_2");
        assertThat(p.path("allowBlobPublicAccess").asBoolean(true)).isFalse();
        assertThat(p.at("/keyCreationTime/key1").asText()).isNotBlank();
        assertThat(created.body()).doesNotContain("\"value\"");

        assertThat(api.getOk(storage(rg, name))).isEqualTo(account);

        HttpResponse<String> patched = api.patch(storage(rg, name), "{\"sku\":{\"name\":\"Standard_LRS\"},"
                + "\"properties\":{\"accessTier\":\"Cool\",\"minimumTlsVersion\":\"TLS1_2\",\"networkAcls\":"
                + "{\"defaultAction\":\"Deny\",\"bypass\":\"AzureServices, Logging\",\"ipRules\":[{\"value\":\"20.30.40.0/24\"}]}}}");
        assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
        JsonNode updated = json(patched);
        assertThat(updated.at("/sku/name").asText()).isEqualTo("Standard_LRS");
        assertThat(updated.at("/properties/accessTier").asText()).isEqualTo("Cool");
        assertThat(updated.at("/properties/secondaryLocation").isMissingNode()).isTrue();
        assertThat(updated.at("/properties/networkAcls/defaultAction").asText()).isEqualTo("Deny");
        assertThat(updated.at("/properties/networkAcls/bypass").asText()).isEqualTo("AzureServices, Logging");
        assertThat(updated.at("/properties/networkAcls/ipRules/0/value").asText()).isEqualTo("20.30.40.0/24");
        assertThat(updated.at("/tags/env").asText()).as("PATCH without tags keeps them").isEqualTo("dr");

        // PUT on the existing account updates it, still 200.
        HttpResponse<String> again = api.put(storage(rg, name), body("StorageV2", "Standard_GRS", "{\"accessTier\":\"Hot\"}"));
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(json(again).at("/properties/creationTime").asText()).isEqualTo(p.path("creationTime").asText());

        JsonNode byGroup = api.getOk(CloudApi.group(rg) + "/providers/Microsoft.Storage/storageAccounts?"
                + CloudApi.STORAGE_VERSION);
        assertThat(byGroup.path("value")).extracting(v -> v.path("name").asText()).containsExactly(name);
        JsonNode bySubscription = api.getOk("/subscriptions/" + CloudApi.SUB
                + "/providers/Microsoft.Storage/storageAccounts?" + CloudApi.STORAGE_VERSION);
        assertThat(bySubscription.path("value")).extracting(v -> v.path("name").asText()).contains(name);

        assertThat(api.delete(storage(rg, name)).statusCode()).isEqualTo(200);
        assertError(api.get(storage(rg, name)), 404, "ResourceNotFound");
        assertThat(api.delete(storage(rg, name)).statusCode()).isEqualTo(204);
    }

    @Test
    void keysAreStableUntilRegenerated() throws Exception {
        String rg = cloud.newGroup("westus");
        String name = unique("keys");
        assertThat(api.put(storage(rg, name), body("StorageV2", "Standard_LRS", null)).statusCode()).isEqualTo(200);
        String listKeys = CloudApi.storageId(rg, name) + "/listKeys?" + CloudApi.STORAGE_VERSION;
        JsonNode first = json(api.post(listKeys, null));
        assertThat(first.path("keys")).hasSize(2);
        assertThat(first.path("keys")).extracting(k -> k.path("keyName").asText()).containsExactly("key1", "key2");
        assertThat(first.at("/keys/0/permissions").asText()).isEqualTo("FULL");
        String key1 = first.at("/keys/0/value").asText();
        String key2 = first.at("/keys/1/value").asText();
        assertThat(java.util.Base64.getDecoder().decode(key1)).hasSize(64);
        assertThat(key1).isNotEqualTo(key2);
        assertThat(json(api.post(listKeys, null))).isEqualTo(first);

        HttpResponse<String> regenerated = api.post(CloudApi.storageId(rg, name) + "/regenerateKey?"
                + CloudApi.STORAGE_VERSION, "{\"keyName\":\"key2\"}");
        assertThat(regenerated.statusCode()).as(regenerated.body()).isEqualTo(200);
        JsonNode after = json(regenerated);
        assertThat(after.at("/keys/0/value").asText()).isEqualTo(key1);
        assertThat(after.at("/keys/1/value").asText()).isNotEqualTo(key2);
        assertThat(json(api.post(listKeys, null))).isEqualTo(after);

        JsonNode bad = assertError(api.post(CloudApi.storageId(rg, name) + "/regenerateKey?" + CloudApi.STORAGE_VERSION,
                "{\"keyName\":\"key3\"}"), 400, "InvalidRequestContent");
        assertNamesField(bad, "keyName");
    }

    @Test
    void namesAreGlobalAndFreedWithTheirGroup() throws Exception {
        String rg1 = cloud.newGroup("westus");
        String rg2 = cloud.newGroup("eastus");
        String name = unique("glob");
        assertThat(api.put(storage(rg1, name), body("StorageV2", "Standard_LRS", null)).statusCode()).isEqualTo(200);
        JsonNode taken = assertError(api.put(storage(rg2, name), body("StorageV2", "Standard_LRS", null)), 409,
                "StorageAccountAlreadyTaken");
        assertThat(taken.path("message").asText()).contains(name);
        assertError(api.get(storage(rg2, name)), 404, "ResourceNotFound");

        assertThat(api.delete(CloudApi.group(rg1) + "?api-version=2021-04-01").statusCode()).isEqualTo(200);
        assertThat(api.put(storage(rg2, name), body("StorageV2", "Standard_LRS", null)).statusCode())
                .as("the name is free once its group is gone").isEqualTo(200);
    }

    @Test
    void concurrentCreatesOfOneNameHaveOneWinner() throws Exception {
        String name = unique("race");
        List<String> groups = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            groups.add(cloud.newGroup("westus"));
        }
        ExecutorService pool = Executors.newFixedThreadPool(groups.size());
        try {
            List<Future<HttpResponse<String>>> futures = new ArrayList<>();
            for (String rg : groups) {
                futures.add(pool.submit((Callable<HttpResponse<String>>) () ->
                        api.put(storage(rg, name), body("StorageV2", "Standard_LRS", null))));
            }
            int ok = 0;
            for (Future<HttpResponse<String>> f : futures) {
                HttpResponse<String> r = f.get();
                if (r.statusCode() == 200) {
                    ok++;
                } else {
                    assertError(r, 409, "StorageAccountAlreadyTaken");
                }
            }
            assertThat(ok).isEqualTo(1);
            int listed = 0;
            for (String rg : groups) {
                listed += api.getOk(CloudApi.group(rg) + "/providers/Microsoft.Storage/storageAccounts?"
                        + CloudApi.STORAGE_VERSION).path("value").size();
            }
            assertThat(listed).as("losers leave no account behind").isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void premiumAccountsExistEvenWhereRegionsDoNotReplicateToPremium() throws Exception {
        assertThat(Regions.find("centralindia").orElseThrow().premiumReplication()).isFalse();
        String rg = cloud.newGroup("centralindia");
        String name = unique("prem");
        HttpResponse<String> created = api.put(storage(rg, name), "{\"location\":\"centralindia\",\"kind\":\"StorageV2\","
                + "\"sku\":{\"name\":\"Premium_LRS\"}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        JsonNode account = json(created);
        assertThat(account.at("/sku/tier").asText()).isEqualTo("Premium");
        assertThat(account.at("/properties/accessTier").isMissingNode()).as("premium accounts have no tier").isTrue();
        StorageAccountFacts facts = StorageAccounts.facts(account, Set.of());
        assertThat(facts.sku()).isEqualTo(StorageAccountFacts.Sku.PREMIUM_LRS);
        assertThat(facts.region().premiumReplication()).isFalse();

        HttpResponse<String> blockBlob = api.put(storage(rg, unique("bb")), "{\"location\":\"centralindia\","
                + "\"kind\":\"BlockBlobStorage\",\"sku\":{\"name\":\"Premium_ZRS\"}}");
        assertThat(blockBlob.statusCode()).as(blockBlob.body()).isEqualTo(200);
        assertThat(json(blockBlob).at("/properties/primaryEndpoints/file").isMissingNode()).isTrue();
    }

    @Test
    void firewallAndTrustedServicesBecomeFacts() throws Exception {
        String rg = cloud.newGroup("westus");
        String name = unique("fw");
        HttpResponse<String> created = api.put(storage(rg, name), body("StorageV2", "Standard_LRS",
                "{\"networkAcls\":{\"defaultAction\":\"Deny\",\"bypass\":\"AzureServices\"}}"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        StorageAccountFacts facts = StorageAccounts.facts(json(created), Set.of(BuiltInRole.CONTRIBUTOR));
        assertThat(facts.firewallEnabled()).isTrue();
        assertThat(facts.trustedServicesAllowed()).isTrue();
        assertThat(facts.kind()).isEqualTo(StorageAccountFacts.Kind.STORAGE_V2);
        assertThat(facts.accessTier()).isEqualTo(StorageAccountFacts.AccessTier.HOT);
        assertThat(facts.vaultIdentityRoles()).containsExactly(BuiltInRole.CONTRIBUTOR);

        JsonNode noBypass = json(api.patch(storage(rg, name), "{\"properties\":{\"networkAcls\":{\"defaultAction\":"
                + "\"Deny\",\"bypass\":\"None\"}}}"));
        assertThat(StorageAccounts.facts(noBypass, Set.of()).trustedServicesAllowed()).isFalse();
        JsonNode open = json(api.patch(storage(rg, name), "{\"properties\":{\"networkAcls\":{\"defaultAction\":"
                + "\"Allow\"}}}"));
        assertThat(StorageAccounts.facts(open, Set.of()).firewallEnabled()).isFalse();
        assertThat(open.at("/properties/networkAcls/bypass").asText()).isEqualTo("AzureServices");
    }

    @Test
    void virtualNetworkRulesNeedASubnetWithTheStorageServiceEndpoint() throws Exception {
        String rg = cloud.newGroup("westus");
        String vnetBody = "{\"location\":\"westus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.8.0.0/16\"]},"
                + "\"subnets\":[{\"name\":\"plain\",\"properties\":{\"addressPrefix\":\"10.8.0.0/24\"}},"
                + "{\"name\":\"withep\",\"properties\":{\"addressPrefix\":\"10.8.1.0/24\",\"serviceEndpoints\":"
                + "[{\"service\":\"Microsoft.Storage\"}]}}]}}";
        assertThat(api.put(CloudApi.vnet(rg, "v1"), vnetBody).statusCode()).isEqualTo(201);
        String name = unique("vr");
        String rule = "{\"networkAcls\":{\"defaultAction\":\"Deny\",\"virtualNetworkRules\":[{\"id\":\"%s\"}]}}";
        JsonNode missing = assertError(api.put(storage(rg, name), body("StorageV2", "Standard_LRS",
                rule.formatted(CloudApi.subnetId(rg, "v1", "nope")))), 400, "NetworkAclsValidationFailure");
        assertNamesField(missing, "properties.networkAcls.virtualNetworkRules[0].id");
        JsonNode noEndpoint = assertError(api.put(storage(rg, name), body("StorageV2", "Standard_LRS",
                rule.formatted(CloudApi.subnetId(rg, "v1", "plain")))), 400, "NetworkAclsValidationFailure");
        assertThat(noEndpoint.path("message").asText()).contains("Microsoft.Storage service endpoint");
        HttpResponse<String> ok = api.put(storage(rg, name), body("StorageV2", "Standard_LRS",
                rule.formatted(CloudApi.subnetId(rg, "v1", "withep"))));
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(json(ok).at("/properties/networkAcls/virtualNetworkRules/0/id").asText())
                .isEqualTo(CloudApi.subnetId(rg, "v1", "withep"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "uppercase name     | Bad1          | StorageV2        | Standard_LRS   |                                                         | 400 | AccountNameInvalid                | name",
            "short name         | ab            | StorageV2        | Standard_LRS   |                                                         | 400 | AccountNameInvalid                | name",
            "unknown kind       | -             | StorageV3        | Standard_LRS   |                                                         | 400 | InvalidRequestContent             | kind",
            "missing kind       | -             |                  | Standard_LRS   |                                                         | 400 | MissingRequiredProperty           | kind",
            "unknown sku        | -             | StorageV2        | Standard_XYZ   |                                                         | 400 | InvalidRequestContent             | sku.name",
            "missing sku        | -             | StorageV2        |                |                                                         | 400 | MissingRequiredProperty           | sku.name",
            "standard blockblob | -             | BlockBlobStorage | Standard_LRS   |                                                         | 400 | InvalidValuesForRequestParameters | sku.name",
            "premium zrs v2     | -             | StorageV2        | Premium_ZRS    |                                                         | 400 | InvalidValuesForRequestParameters | sku.name",
            "premium blob       | -             | BlobStorage      | Premium_LRS    | {\"accessTier\":\"Hot\"}                                 | 400 | InvalidValuesForRequestParameters | sku.name",
            "tier on v1         | -             | Storage          | Standard_LRS   | {\"accessTier\":\"Hot\"}                                 | 400 | InvalidRequestPropertyValue       | properties.accessTier",
            "tier on premium    | -             | StorageV2        | Premium_LRS    | {\"accessTier\":\"Cool\"}                                | 400 | InvalidRequestPropertyValue       | properties.accessTier",
            "bad tier           | -             | StorageV2        | Standard_LRS   | {\"accessTier\":\"Warm\"}                                | 400 | InvalidRequestContent             | properties.accessTier",
            "blob needs tier    | -             | BlobStorage      | Standard_LRS   |                                                         | 400 | MissingRequiredProperty           | properties.accessTier",
            "bad default action | -             | StorageV2        | Standard_LRS   | {\"networkAcls\":{\"defaultAction\":\"Block\"}}           | 400 | InvalidRequestContent             | properties.networkAcls.defaultAction",
            "no default action  | -             | StorageV2        | Standard_LRS   | {\"networkAcls\":{\"bypass\":\"AzureServices\"}}          | 400 | MissingRequiredProperty           | properties.networkAcls.defaultAction",
            "bad bypass         | -             | StorageV2        | Standard_LRS   | {\"networkAcls\":{\"defaultAction\":\"Deny\",\"bypass\":\"Everything\"}}            | 400 | NetworkAclsValidationFailure | properties.networkAcls.bypass",
            "none plus others   | -             | StorageV2        | Standard_LRS   | {\"networkAcls\":{\"defaultAction\":\"Deny\",\"bypass\":\"None, AzureServices\"}}   | 400 | NetworkAclsValidationFailure | properties.networkAcls.bypass",
            "private ip rule    | -             | StorageV2        | Standard_LRS   | {\"networkAcls\":{\"defaultAction\":\"Deny\",\"ipRules\":[{\"value\":\"10.1.2.3\"}]}} | 400 | NetworkAclsValidationFailure | properties.networkAcls.ipRules[0].value",
            "slash 32 ip rule   | -             | StorageV2        | Standard_LRS   | {\"networkAcls\":{\"defaultAction\":\"Deny\",\"ipRules\":[{\"value\":\"20.1.2.3/32\"}]}} | 400 | NetworkAclsValidationFailure | properties.networkAcls.ipRules[0].value",
            "garbage ip rule    | -             | StorageV2        | Standard_LRS   | {\"networkAcls\":{\"defaultAction\":\"Deny\",\"ipRules\":[{\"value\":\"300.1.2.3\"}]}} | 400 | NetworkAclsValidationFailure | properties.networkAcls.ipRules[0].value",
            "public access      | -             | StorageV2        | Standard_LRS   | {\"publicNetworkAccess\":\"Sometimes\"}                  | 400 | InvalidRequestContent             | properties.publicNetworkAccess",
            "tls version        | -             | StorageV2        | Standard_LRS   | {\"minimumTlsVersion\":\"SSL3\"}                         | 400 | InvalidRequestContent             | properties.minimumTlsVersion",
            "blob public access | -             | StorageV2        | Standard_LRS   | {\"allowBlobPublicAccess\":\"maybe\"}                    | 400 | InvalidRequestContent             | properties.allowBlobPublicAccess",
            "hns on v1          | -             | Storage          | Standard_LRS   | {\"isHnsEnabled\":true}                                  | 400 | InvalidRequestPropertyValue       | properties.isHnsEnabled",
    })
    void invalidCreatesAreRefusedNamingTheField(String title, String name, String kind, String sku, String properties,
                                                 int status, String code, String field) throws Exception {
        String rg = cloud.newGroup("westus");
        String accountName = name.equals("-") ? unique("inv") : name;
        StringBuilder json = new StringBuilder("{\"location\":\"westus\"");
        if (kind != null) {
            json.append(",\"kind\":\"").append(kind).append('"');
        }
        if (sku != null) {
            json.append(",\"sku\":{\"name\":\"").append(sku).append("\"}");
        }
        if (properties != null) {
            json.append(",\"properties\":").append(properties);
        }
        json.append('}');
        JsonNode error = assertError(api.put(storage(rg, accountName), json.toString()), status, code);
        assertNamesField(error, field);
        assertError(api.get(storage(rg, accountName)), 404, "ResourceNotFound");
    }

    @Test
    void locationIsRequiredAndKnown() throws Exception {
        String rg = cloud.newGroup("westus");
        assertNamesField(assertError(api.put(storage(rg, unique("loc")), "{\"kind\":\"StorageV2\",\"sku\":"
                + "{\"name\":\"Standard_LRS\"}}"), 400, "LocationRequired"), "location");
        assertNamesField(assertError(api.put(storage(rg, unique("loc")), "{\"location\":\"moon\",\"kind\":\"StorageV2\","
                + "\"sku\":{\"name\":\"Standard_LRS\"}}"), 400, "LocationNotAvailableForResourceType"), "location");
        assertError(api.put(storage("no-such-group", unique("loc")), body("StorageV2", "Standard_LRS", null)), 404,
                "ResourceGroupNotFound");
        assertError(api.put(storage(rg, unique("loc")).replace("2023-05-01", "2018-01-01"),
                body("StorageV2", "Standard_LRS", null)), 400, "InvalidApiVersionParameter");
    }

    @Test
    void updatesThatAzureRefuses() throws Exception {
        String rg = cloud.newGroup("westus");
        String name = unique("upd");
        assertThat(api.put(storage(rg, name), body("Storage", "Standard_LRS", null)).statusCode()).isEqualTo(200);
        assertNamesField(assertError(api.patch(storage(rg, name), "{\"sku\":{\"name\":\"Premium_LRS\"}}"), 400,
                "InvalidRequestPropertyValue"), "sku.name");
        assertNamesField(assertError(api.patch(storage(rg, name), "{\"sku\":{\"name\":\"Standard_ZRS\"}}"), 400,
                "InvalidValuesForRequestParameters"), "sku.name");
        assertNamesField(assertError(api.patch(storage(rg, name), "{\"kind\":\"BlockBlobStorage\"}"), 400,
                "InvalidValuesForRequestParameters"), "sku.name");
        assertNamesField(assertError(api.patch(storage(rg, name), "{\"kind\":\"BlobStorage\"}"), 400,
                "InvalidRequestPropertyValue"), "kind");
        assertError(api.put(storage(rg, name), "{\"location\":\"eastus\",\"kind\":\"Storage\",\"sku\":{\"name\":"
                + "\"Standard_LRS\"}}"), 409, "InvalidResourceLocation");

        HttpResponse<String> upgraded = api.patch(storage(rg, name), "{\"kind\":\"StorageV2\"}");
        assertThat(upgraded.statusCode()).as(upgraded.body()).isEqualTo(200);
        assertThat(json(upgraded).path("kind").asText()).isEqualTo("StorageV2");
        assertThat(json(upgraded).at("/properties/accessTier").asText()).isEqualTo("Hot");
        assertThat(json(upgraded).at("/properties/primaryEndpoints/dfs").asText()).isNotBlank();
        assertNamesField(assertError(api.patch(storage(rg, name), "{\"sku\":{\"name\":\"Standard_ZRS\"}}"), 400,
                "InvalidRequestPropertyValue"), "sku.name");
        assertThat(api.getOk(storage(rg, name)).at("/sku/name").asText()).isEqualTo("Standard_LRS");
    }

    @Test
    void readersCannotListKeys() throws Exception {
        String rg = cloud.newGroup("westus");
        String name = unique("rbac");
        assertThat(api.put(storage(rg, name), body("StorageV2", "Standard_LRS", null)).statusCode()).isEqualTo(200);
        HttpResponse<String> sp = api.put("/providers/SecondSite.Identity/servicePrincipals/" + unique("reader")
                + "?api-version=2024-10-01", "{}");
        assertThat(sp.statusCode()).as(sp.body()).isIn(200, 201);
        JsonNode principal = json(sp);
        String objectId = principal.at("/properties/objectId").asText();
        HttpResponse<String> assigned = api.put(CloudApi.group(rg)
                        + "/providers/Microsoft.Authorization/roleAssignments/" + java.util.UUID.randomUUID()
                        + "?api-version=2022-04-01",
                "{\"properties\":{\"roleDefinitionId\":\"/subscriptions/" + CloudApi.SUB
                        + "/providers/Microsoft.Authorization/roleDefinitions/" + BuiltInRole.READER.id()
                        + "\",\"principalId\":\"" + objectId + "\"}}");
        assertThat(assigned.statusCode()).as(assigned.body()).isIn(200, 201);
        ArmClient reader = api.as(ArmClient.of(server).token(principal.at("/properties/clientId").asText(),
                principal.at("/properties/clientSecret").asText()));
        assertThat(reader.get(storage(rg, name)).statusCode()).isEqualTo(200);
        assertError(reader.post(CloudApi.storageId(rg, name) + "/listKeys?" + CloudApi.STORAGE_VERSION, null), 403,
                "AuthorizationFailed");
        assertError(reader.put(storage(rg, unique("nope")), body("StorageV2", "Standard_LRS", null)), 403,
                "AuthorizationFailed");
    }

    @Test
    void errorBodiesNeverLeakInternals() throws Exception {
        HttpResponse<String> r = api.put(storage(cloud.newGroup("westus"), unique("x")), "{\"location\":\"westus\","
                + "\"kind\":5}");
        Arm.assertErrorShape(json(r), r.body());
    }
}
