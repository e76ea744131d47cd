package dev.secondsite.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Role-based access control through the public API: service principals created by the admin, built-in
 * roles assigned at subscription, resource group and vault scope, and what each token may then do.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RbacTest {
    static final String RS = "api-version=2024-04-01";
    static final String AUTH = "api-version=2022-04-01";
    static final String READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    static final String CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c";
    static final String SITE_RECOVERY_CONTRIBUTOR = "6670b86e-a3f7-4917-ac9b-5d6ab1be4567";

    private TestServer server;
    private ArmClient admin;
    private String sub;
    private String groupA;
    private String groupB;
    private String vaultA;
    private String vaultB;
    private String vaultAb;

    /** A service principal as its create response shows it. */
    record Sp(String name, String clientId, String objectId, String secret) {}

    @BeforeAll
    void start() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
        admin = ArmClient.of(server).asAdmin();
        sub = UUID.randomUUID().toString();
        groupA = "/subscriptions/" + sub + "/resourceGroups/rg-a";
        groupB = "/subscriptions/" + sub + "/resourceGroups/rg-b";
        String groupAb = "/subscriptions/" + sub + "/resourceGroups/rg-ab";
        for (String g : new String[] {groupA, groupB, groupAb}) {
            assertThat(admin.put(g + "?api-version=2021-04-01", "{\"location\":\"westus\"}").statusCode()).isEqualTo(201);
        }
        vaultA = createVault(groupA, "vault-a");
        vaultB = createVault(groupB, "vault-b");
        vaultAb = createVault(groupAb, "vault-ab");
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private String createVault(String group, String name) throws Exception {
        String id = group + "/providers/Microsoft.RecoveryServices/vaults/" + name;
        HttpResponse<String> r = admin.put(id + "?" + RS, "{\"location\":\"westus\",\"identity\":{\"type\":\"SystemAssigned\"}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return id;
    }

    private Sp createPrincipal(String name) throws Exception {
        HttpResponse<String> r = admin.put("/providers/SecondSite.Identity/servicePrincipals/" + name
                + "?api-version=2024-10-01", "{}");
        assertThat(r.statusCode()).as("PUT service principal: %s", r.body()).isEqualTo(201);
        JsonNode p = json(r).path("properties");
        Sp sp = new Sp(name, p.path("clientId").asText(), p.path("objectId").asText(), p.path("clientSecret").asText());
        assertThat(sp.clientId()).matches(ControlPlaneApiTest.GUID);
        assertThat(sp.objectId()).matches(ControlPlaneApiTest.GUID).isNotEqualTo(sp.clientId());
        assertThat(sp.secret()).hasSizeGreaterThanOrEqualTo(32);
        return sp;
    }

    private JsonNode assign(String scope, String role, Sp sp) throws Exception {
        String name = UUID.randomUUID().toString();
        HttpResponse<String> r = admin.put(scope + "/providers/Microsoft.Authorization/roleAssignments/" + name + "?" + AUTH,
                "{\"properties\":{\"roleDefinitionId\":\"/subscriptions/" + sub
                        + "/providers/Microsoft.Authorization/roleDefinitions/" + role + "\",\"principalId\":\""
                        + sp.objectId() + "\"}}");
        assertThat(r.statusCode()).as("PUT role assignment: %s", r.body()).isEqualTo(201);
        JsonNode assignment = json(r);
        assertThat(assignment.path("name").asText()).isEqualTo(name);
        assertThat(assignment.path("properties").path("principalId").asText()).isEqualTo(sp.objectId());
        assertThat(assignment.path("properties").path("roleDefinitionId").asText()).endsWith("/roleDefinitions/" + role);
        assertThat(assignment.path("properties").path("scope").asText()).isEqualToIgnoringCase(scope);
        return assignment;
    }

    private ArmClient as(Sp sp) throws Exception {
        return admin.as(admin.token(sp.clientId(), sp.secret()));
    }

    private static void assertForbidden(HttpResponse<String> r, String action) {
        JsonNode error = assertError(r, 403, "AuthorizationFailed");
        assertThat(error.path("message").asText()).as("the 403 names the action").contains(action);
    }

    @Test
    void readerAtSubscriptionReadsButCannotWrite() throws Exception {
        Sp sp = createPrincipal("reader1");
        assertThat(admin.getOk("/providers/SecondSite.Identity/servicePrincipals/reader1?api-version=2024-10-01")
                .path("properties").has("clientSecret")).as("the secret is shown once only").isFalse();
        assertError(admin.put("/providers/SecondSite.Identity/servicePrincipals/reader1?api-version=2024-10-01", "{}"),
                409, "ServicePrincipalExists");
        JsonNode assignment = assign("/subscriptions/" + sub, READER, sp);
        assertThat(assignment.path("properties").path("roleName").asText()).isEqualTo("Reader");
        ArmClient reader = as(sp);

        JsonNode before = admin.getOk(vaultA + "?" + RS);
        assertThat(reader.getOk(vaultA + "?" + RS)).isEqualTo(before);
        assertThat(reader.getOk(vaultB + "?" + RS).path("id").asText()).isEqualTo(vaultB);
        assertThat(reader.getOk("/subscriptions/" + sub + "/providers/Microsoft.RecoveryServices/vaults?" + RS)
                .path("value")).hasSize(3);
        JsonNode policies = admin.getOk(vaultA + "/replicationPolicies?" + RS);
        assertThat(reader.getOk(vaultA + "/replicationPolicies?" + RS)).isEqualTo(policies);
        int jobs = admin.getOk(vaultA + "/replicationJobs?" + RS).path("value").size();

        assertForbidden(reader.put(vaultA + "?" + RS, "{\"location\":\"westus\",\"tags\":{\"by\":\"reader\"}}"),
                "Microsoft.RecoveryServices/vaults/write");
        assertForbidden(reader.patch(vaultA + "?" + RS, "{\"tags\":{\"by\":\"reader\"}}"),
                "Microsoft.RecoveryServices/vaults/write");
        assertForbidden(reader.delete(vaultA + "?" + RS), "Microsoft.RecoveryServices/vaults/delete");
        assertForbidden(reader.put(vaultA + "/replicationPolicies/p?" + RS, "{\"properties\":{\"providerSpecificInput\":"
                + "{\"instanceType\":\"A2A\",\"multiVmSyncStatus\":\"Enable\"}}}"),
                "Microsoft.RecoveryServices/vaults/replicationPolicies/write");
        assertForbidden(reader.put(groupA + "/providers/Microsoft.RecoveryServices/vaults/vault-new?" + RS,
                "{\"location\":\"westus\"}"), "Microsoft.RecoveryServices/vaults/write");
        assertForbidden(reader.put("/providers/SecondSite.Identity/servicePrincipals/sneaky?api-version=2024-10-01",
                "{}"), "SecondSite.Identity/servicePrincipals/write");
        assertThat(admin.getOk(vaultA + "?" + RS)).isEqualTo(before);
        assertError(admin.get(groupA + "/providers/Microsoft.RecoveryServices/vaults/vault-new?" + RS), 404,
                "ResourceNotFound");
        assertThat(admin.getOk(vaultA + "/replicationPolicies?" + RS)).isEqualTo(policies);
        assertThat(admin.getOk(vaultA + "/replicationJobs?" + RS).path("value")).as("no job was queued").hasSize(jobs);
    }

    @Test
    void readerOfOneGroupCannotReadAnother() throws Exception {
        Sp sp = createPrincipal("reader-rg-b");
        // Scopes are case-insensitive ARM ids.
        assign("/subscriptions/" + sub + "/resourcegroups/RG-B", READER, sp);
        ArmClient reader = as(sp);

        assertThat(reader.getOk(vaultB + "?" + RS).path("id").asText()).isEqualTo(vaultB);
        assertForbidden(reader.get(vaultA + "?" + RS), "Microsoft.RecoveryServices/vaults/read");
        // rg-ab is not under rg-b, and rg-a is not a prefix scope of rg-ab.
        assertForbidden(reader.get(vaultAb + "?" + RS), "Microsoft.RecoveryServices/vaults/read");
        assertForbidden(reader.get("/subscriptions/" + sub + "/providers/Microsoft.RecoveryServices/vaults?" + RS),
                "Microsoft.RecoveryServices/vaults/read");
        assertThat(reader.getOk(groupB + "/providers/Microsoft.RecoveryServices/vaults?" + RS).path("value")).hasSize(1);
    }

    @Test
    void siteRecoveryContributorAtVaultManagesReplicationOnly() throws Exception {
        Sp sp = createPrincipal("asr-operator");
        assign(vaultA, SITE_RECOVERY_CONTRIBUTOR, sp);
        ArmClient asr = as(sp);

        HttpResponse<String> accepted = asr.put(vaultA + "/replicationPolicies/asr-policy?" + RS,
                "{\"properties\":{\"providerSpecificInput\":{\"instanceType\":\"A2A\",\"recoveryPointHistory\":1440,"
                        + "\"appConsistentFrequencyInMinutes\":60,\"multiVmSyncStatus\":\"Enable\"}}}");
        JsonNode status = asr.awaitSucceeded(accepted);
        assertThat(status.path("status").asText()).isEqualTo("Succeeded");
        JsonNode policy = asr.getOk(vaultA + "/replicationPolicies/asr-policy?" + RS);
        assertThat(policy.path("properties").path("providerSpecificDetails").path("instanceType").asText()).isEqualTo("A2A");
        assertThat(asr.getOk(vaultA + "/replicationJobs?" + RS).path("value")).isNotEmpty();
        assertThat(asr.getOk(vaultA + "?" + RS).path("id").asText()).isEqualTo(vaultA);

        JsonNode before = admin.getOk(vaultA + "?" + RS);
        assertForbidden(asr.delete(vaultA + "?" + RS), "Microsoft.RecoveryServices/vaults/delete");
        assertForbidden(asr.patch(vaultA + "?" + RS, "{\"tags\":{\"by\":\"asr\"}}"), "Microsoft.RecoveryServices/vaults/write");
        assertThat(admin.getOk(vaultA + "?" + RS)).isEqualTo(before);

        // The assignment is at vault-a: nothing of vault-b, nor role assignments.
        assertForbidden(asr.get(vaultB + "?" + RS), "Microsoft.RecoveryServices/vaults/read");
        assertForbidden(asr.put(vaultB + "/replicationPolicies/asr-policy?" + RS,
                "{\"properties\":{\"providerSpecificInput\":{\"instanceType\":\"A2A\",\"multiVmSyncStatus\":\"Enable\"}}}"),
                "Microsoft.RecoveryServices/vaults/replicationPolicies/write");
        assertForbidden(asr.put(vaultA + "/providers/Microsoft.Authorization/roleAssignments/" + UUID.randomUUID()
                + "?" + AUTH, "{\"properties\":{\"roleDefinitionId\":\"" + CONTRIBUTOR + "\",\"principalId\":\""
                + sp.objectId() + "\"}}"), "Microsoft.Authorization/roleAssignments/write");
        assertError(admin.get(vaultB + "/replicationPolicies/asr-policy?" + RS), 404, "ResourceNotFound");

        // A job of vault-b cannot be reached through vault-a's path, where the role applies.
        HttpResponse<String> otherVaultJob = admin.put(vaultB + "/replicationPolicies/b-policy?" + RS,
                "{\"properties\":{\"providerSpecificInput\":{\"instanceType\":\"A2A\",\"multiVmSyncStatus\":\"Enable\"}}}");
        admin.awaitSucceeded(otherVaultJob);
        String path = java.net.URI.create(otherVaultJob.headers().firstValue("Azure-AsyncOperation").orElseThrow()).getPath();
        String jobId = path.substring(path.lastIndexOf('/') + 1);
        assertThat(admin.getOk(vaultB + "/replicationJobs/" + jobId + "?" + RS).path("name").asText()).isEqualTo(jobId);
        assertError(asr.get(vaultA + "/replicationJobs/" + jobId + "?" + RS), 404, "JobNotFound");
        assertError(asr.get(vaultA + "/replicationOperationStatus/" + jobId + "?" + RS), 404, "JobNotFound");
        assertError(asr.get(vaultA + "/replicationOperationResults/" + jobId + "?" + RS), 404, "JobNotFound");
        assertError(asr.post(vaultA + "/replicationJobs/" + jobId + "/restart?" + RS, null), 404, "JobNotFound");
    }

    @Test
    void principalWithoutAssignmentIsForbidden() throws Exception {
        Sp sp = createPrincipal("nobody");
        ArmClient nobody = as(sp);
        assertForbidden(nobody.get(vaultA + "?" + RS), "Microsoft.RecoveryServices/vaults/read");
        assertForbidden(nobody.get(groupA + "?api-version=2021-04-01"), "read");
        assertForbidden(nobody.get("/subscriptions/" + sub + "/resourcegroups?api-version=2021-04-01"), "read");
        JsonNode before = admin.getOk(vaultA + "?" + RS);
        assertForbidden(nobody.delete(vaultA + "?" + RS), "Microsoft.RecoveryServices/vaults/delete");
        assertThat(admin.getOk(vaultA + "?" + RS)).isEqualTo(before);
    }

    @Test
    void contributorCannotGrantAccess() throws Exception {
        Sp sp = createPrincipal("contributor1");
        Sp other = createPrincipal("contributor-target");
        JsonNode own = assign("/subscriptions/" + sub, CONTRIBUTOR, sp);
        ArmClient contributor = as(sp);

        // Contributor can manage resources...
        String vault = groupB + "/providers/Microsoft.RecoveryServices/vaults/vault-contrib";
        HttpResponse<String> r = contributor.put(vault + "?" + RS, "{\"location\":\"westus\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(contributor.delete(vault + "?" + RS).statusCode()).isEqualTo(204);

        // ...but not access: no role assignments, no service principals.
        String assignmentId = "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleAssignments/"
                + UUID.randomUUID();
        assertForbidden(contributor.put(assignmentId + "?" + AUTH, "{\"properties\":{\"roleDefinitionId\":\"/subscriptions/"
                + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + READER + "\",\"principalId\":\""
                + other.objectId() + "\"}}"), "Microsoft.Authorization/roleAssignments/write");
        assertError(admin.get(assignmentId + "?" + AUTH), 404, "RoleAssignmentNotFound");
        assertForbidden(contributor.delete(own.path("id").asText() + "?" + AUTH),
                "Microsoft.Authorization/roleAssignments/delete");
        assertThat(admin.getOk(own.path("id").asText() + "?" + AUTH)).isEqualTo(own);
        assertForbidden(contributor.put("/providers/SecondSite.Identity/servicePrincipals/escalate?api-version=2024-10-01",
                "{}"), "SecondSite.Identity/servicePrincipals/write");
        assertForbidden(contributor.delete("/providers/SecondSite.Identity/servicePrincipals/contributor-target"
                + "?api-version=2024-10-01"), "SecondSite.Identity/servicePrincipals/delete");
        assertError(admin.get("/providers/SecondSite.Identity/servicePrincipals/escalate?api-version=2024-10-01"), 404,
                "ServicePrincipalNotFound");
        // The other principal still has no access at all.
        assertForbidden(as(other).get(vaultA + "?" + RS), "Microsoft.RecoveryServices/vaults/read");
    }

    @Test
    void deletingAPrincipalInvalidatesItsTokens() throws Exception {
        Sp sp = createPrincipal("short-lived");
        assign("/subscriptions/" + sub, READER, sp);
        ArmClient reader = as(sp);
        assertThat(reader.getOk(vaultA + "?" + RS).path("id").asText()).isEqualTo(vaultA);

        HttpResponse<String> r = admin.delete("/providers/SecondSite.Identity/servicePrincipals/short-lived?api-version=2024-10-01");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertError(admin.get("/providers/SecondSite.Identity/servicePrincipals/short-lived?api-version=2024-10-01"), 404,
                "ServicePrincipalNotFound");

        HttpResponse<String> rejected = reader.get(vaultA + "?" + RS);
        assertError(rejected, 401, "InvalidAuthenticationToken");
        assertThat(rejected.headers().firstValue("WWW-Authenticate")).isPresent();
        HttpResponse<String> token = admin.tokenResponse(sp.clientId(), sp.secret());
        assertThat(token.statusCode()).as(token.body()).isEqualTo(401);
        assertThat(json(token).path("error").asText()).isEqualTo("invalid_client");

        // A new principal of the same name is a new identity: the old token stays invalid.
        Sp again = createPrincipal("short-lived");
        assertThat(again.objectId()).isNotEqualTo(sp.objectId());
        assertError(reader.get(vaultA + "?" + RS), 401, "InvalidAuthenticationToken");
        assertForbidden(as(again).get(vaultA + "?" + RS), "Microsoft.RecoveryServices/vaults/read");
    }
}
