package dev.secondsite.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.secondsite.testing.Arm.assertError;
import static dev.secondsite.testing.Arm.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Long-running Site Recovery operations through the public API, on both stores: 202 + polling headers,
 * the async-operation and operation-result documents, the jobs they leave behind, failback policies, and
 * fabric / container / mapping pairing with its conflicts.
 */
class ReplicationOperationsTest {
    static final String RS = "api-version=2024-10-01";

    @Nested
    class Embedded extends Scenarios {
        Embedded() {
            super(TestServer.Store.EMBEDDED);
        }
    }

    @Nested
    class Postgres extends Scenarios {
        Postgres() {
            super(TestServer.Store.POSTGRES);
        }
    }

    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    abstract static class Scenarios {
        private static final String IN_MAGE_AZURE_V2 = "{\"properties\":{\"providerSpecificInput\":{"
                + "\"instanceType\":\"InMageAzureV2\",\"recoveryPointHistory\":%d,\"recoveryPointThresholdInMinutes\":30,"
                + "\"appConsistentFrequencyInMinutes\":60,\"crashConsistentFrequencyInMinutes\":5,"
                + "\"multiVmSyncStatus\":\"Enable\"}}}";
        private static final String A2A = "{\"properties\":{\"providerSpecificInput\":{\"instanceType\":\"A2A\","
                + "\"recoveryPointHistory\":1440,\"crashConsistentFrequencyInMinutes\":5,"
                + "\"appConsistentFrequencyInMinutes\":240,\"multiVmSyncStatus\":\"Enable\"}}}";

        private final TestServer.Store store;
        private TestServer server;
        private ArmClient api;
        private String sub;

        Scenarios(TestServer.Store store) {
            this.store = store;
        }

        @BeforeAll
        void startServer() throws Exception {
            server = TestServer.start(store);
            api = ArmClient.of(server).asAdmin();
            sub = UUID.randomUUID().toString();
        }

        @AfterAll
        void stopServer() throws Exception {
            if (server != null) {
                server.close();
            }
        }

        /** A fresh resource group and vault; returns the vault id. */
        private String newVault(String name) throws Exception {
            String rg = "/subscriptions/" + sub + "/resourceGroups/rg-" + name;
            HttpResponse<String> r = api.put(rg + "?api-version=2021-04-01", "{\"location\":\"westus\"}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            String vault = rg + "/providers/Microsoft.RecoveryServices/vaults/" + name;
            r = api.put(vault + "?" + RS, "{\"location\":\"westus\",\"sku\":{\"name\":\"RS0\"}}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            return vault;
        }

        private static String operationId(HttpResponse<String> accepted) {
            String url = accepted.headers().firstValue("Azure-AsyncOperation").orElseThrow();
            String path = URI.create(url).getPath();
            return path.substring(path.lastIndexOf('/') + 1);
        }

        private static void assertAccepted(HttpResponse<String> r, String vault) {
            assertThat(r.statusCode()).as("%s %s: %s", r.request().method(), r.uri(), r.body()).isEqualTo(202);
            String async = r.headers().firstValue("Azure-AsyncOperation").orElse(null);
            String location = r.headers().firstValue("Location").orElse(null);
            assertThat(async).as("Azure-AsyncOperation header").isNotNull()
                    .startsWith("https://127.0.0.1:").contains(vault + "/replicationOperationStatus/")
                    .contains("api-version=");
            assertThat(location).as("Location header").isNotNull()
                    .startsWith("https://127.0.0.1:").contains(vault + "/replicationOperationResults/")
                    .contains("api-version=");
            assertThat(URI.create(async).getPath()).endsWith("/" + URI.create(location).getPath()
                    .substring(URI.create(location).getPath().lastIndexOf('/') + 1));
            assertThat(r.headers().firstValue("Retry-After")).as("Retry-After header")
                    .hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isBetween(0, 60));
        }

        private JsonNode job(String vault, String jobId) throws Exception {
            return api.getOk(vault + "/replicationJobs/" + jobId + "?" + RS);
        }

        private static void assertTasksSucceeded(JsonNode job) {
            JsonNode tasks = job.path("properties").path("tasks");
            assertThat(tasks.isArray() && !tasks.isEmpty()).as("tasks of %s", job).isTrue();
            for (JsonNode task : tasks) {
                assertThat(task.path("state").asText()).as("task %s", task).isEqualTo("Succeeded");
                Instant start = Instant.parse(task.path("startTime").asText());
                Instant end = Instant.parse(task.path("endTime").asText());
                assertThat(end).as("task %s ends after it starts", task.path("name")).isAfterOrEqualTo(start);
            }
        }

        @Test
        void replicationPolicyIsALongRunningOperationWithAJob() throws Exception {
            String vault = newVault("vault-lro");
            String policy = vault + "/replicationPolicies/physical-policy";
            HttpResponse<String> accepted = api.put(policy + "?" + RS, IN_MAGE_AZURE_V2.formatted(1440));
            assertAccepted(accepted, vault);
            String jobId = operationId(accepted);

            JsonNode status = api.awaitSucceeded(accepted);
            assertThat(status.path("name").asText()).isEqualTo(jobId);
            assertThat(status.path("id").asText()).isEqualTo(vault + "/replicationOperationStatus/" + jobId);
            assertThat(Instant.parse(status.path("endTime").asText()))
                    .isAfterOrEqualTo(Instant.parse(status.path("startTime").asText()));
            assertThat(status.has("error")).isFalse();

            HttpResponse<String> result = api.get(accepted.headers().firstValue("Location").orElseThrow());
            assertThat(result.statusCode()).as(result.body()).isEqualTo(200);
            JsonNode created = json(result);
            assertThat(created).isEqualTo(api.getOk(policy + "?" + RS));
            assertThat(created.path("id").asText()).isEqualTo(policy);
            assertThat(created.path("name").asText()).isEqualTo("physical-policy");
            assertThat(created.path("type").asText()).isEqualTo("Microsoft.RecoveryServices/vaults/replicationPolicies");
            JsonNode details = created.path("properties").path("providerSpecificDetails");
            assertThat(details.path("instanceType").asText()).isEqualTo("InMageAzureV2");
            assertThat(details.path("multiVmSyncStatus").asText()).isEqualTo("Enable");
            assertThat(details.path("recoveryPointHistory").asInt()).isEqualTo(1440);
            assertThat(details.path("recoveryPointThresholdInMinutes").asInt()).isEqualTo(30);
            assertThat(details.path("appConsistentFrequencyInMinutes").asInt()).isEqualTo(60);

            JsonNode failback = api.getOk(policy + "-failback?" + RS);
            assertThat(failback.path("name").asText()).isEqualTo("physical-policy-failback");
            JsonNode fbDetails = failback.path("properties").path("providerSpecificDetails");
            assertThat(fbDetails.path("instanceType").asText()).isEqualTo("InMage");
            assertThat(fbDetails.path("recoveryPointHistory").asInt()).isEqualTo(1440);
            assertThat(fbDetails.path("multiVmSyncStatus").asText()).isEqualTo("Enable");

            JsonNode job = job(vault, jobId);
            assertThat(job.path("id").asText()).isEqualTo(vault + "/replicationJobs/" + jobId);
            JsonNode p = job.path("properties");
            assertThat(p.path("scenarioName").asText()).isEqualTo("AddProtectionProfile");
            assertThat(p.path("state").asText()).isEqualTo("Succeeded");
            assertThat(p.path("targetObjectName").asText()).isEqualTo("physical-policy");
            assertThat(p.path("allowedActions")).isEmpty();
            assertThat(p.path("errors")).isEmpty();
            assertThat(Instant.parse(p.path("endTime").asText())).isAfterOrEqualTo(Instant.parse(p.path("startTime").asText()));
            assertTasksSucceeded(job);
            List<String> listed = new ArrayList<>();
            api.getOk(vault + "/replicationJobs?" + RS).path("value").forEach(j -> listed.add(j.path("name").asText()));
            assertThat(listed).containsExactly(jobId);

            // A second PUT updates the policy and its failback policy, with an update job; no duplicates.
            HttpResponse<String> update = api.put(policy + "?" + RS, IN_MAGE_AZURE_V2.formatted(720));
            assertAccepted(update, vault);
            api.awaitSucceeded(update);
            assertThat(api.getOk(policy + "?" + RS).path("properties").path("providerSpecificDetails")
                    .path("recoveryPointHistory").asInt()).isEqualTo(720);
            assertThat(api.getOk(policy + "-failback?" + RS).path("properties").path("providerSpecificDetails")
                    .path("recoveryPointHistory").asInt()).isEqualTo(720);
            assertThat(job(vault, operationId(update)).path("properties").path("scenarioName").asText())
                    .isEqualTo("UpdateProtectionProfile");
            List<String> policies = new ArrayList<>();
            api.getOk(vault + "/replicationPolicies?" + RS).path("value").forEach(v -> policies.add(v.path("name").asText()));
            assertThat(policies).containsExactlyInAnyOrder("physical-policy", "physical-policy-failback");

            assertError(api.get(vault + "/replicationJobs/" + UUID.randomUUID() + "?" + RS), 404, "JobNotFound");
            assertError(api.post(vault + "/replicationJobs/" + jobId + "/cancel?" + RS, null), 409, "JobNotCancellable");
            assertError(api.post(vault + "/replicationJobs/" + jobId + "/restart?" + RS, null), 409, "JobNotRestartable");
        }

        @Test
        void a2aContainersPairThroughAMapping() throws Exception {
            String vault = newVault("vault-a2a");
            String fabricWest = vault + "/replicationFabrics/west";
            String fabricEast = vault + "/replicationFabrics/east";
            for (String[] f : new String[][] {{fabricWest, "West US"}, {fabricEast, "East US"}}) {
                HttpResponse<String> r = api.put(f[0] + "?" + RS,
                        "{\"properties\":{\"customDetails\":{\"instanceType\":\"Azure\",\"location\":\"" + f[1] + "\"}}}");
                assertAccepted(r, vault);
                api.awaitSucceeded(r);
            }
            assertThat(api.getOk(fabricWest + "?" + RS).path("properties").path("customDetails").path("location")
                    .asText()).isEqualTo("westus");
            assertThat(api.getOk(fabricEast + "?" + RS).path("properties").path("customDetails").path("location")
                    .asText()).isEqualTo("eastus");

            String source = fabricWest + "/replicationProtectionContainers/west-container";
            String target = fabricEast + "/replicationProtectionContainers/east-container";
            for (String c : List.of(source, target)) {
                HttpResponse<String> r = api.put(c + "?" + RS,
                        "{\"properties\":{\"providerSpecificInput\":[{\"instanceType\":\"A2A\"}]}}");
                assertAccepted(r, vault);
                api.awaitSucceeded(r);
                JsonNode container = api.getOk(c + "?" + RS);
                assertThat(container.path("id").asText()).isEqualTo(c);
                assertThat(container.path("properties").path("fabricType").asText()).isEqualTo("Azure");
                assertThat(container.path("properties").path("pairingStatus").asText()).isEqualTo("NotPaired");
            }

            String a2aPolicy = vault + "/replicationPolicies/a2a-policy";
            HttpResponse<String> r = api.put(a2aPolicy + "?" + RS, A2A);
            assertAccepted(r, vault);
            api.awaitSucceeded(r);
            assertError(api.get(a2aPolicy + "-failback?" + RS), 404, "ResourceNotFound");
            String physicalPolicy = vault + "/replicationPolicies/physical";
            r = api.put(physicalPolicy + "?" + RS, IN_MAGE_AZURE_V2.formatted(1440));
            api.awaitSucceeded(r);

            int jobsBefore = api.getOk(vault + "/replicationJobs?" + RS).path("value").size();
            String mappingsOfSource = source + "/replicationProtectionContainerMappings";
            String mapping = mappingsOfSource + "/west-to-east";
            String wrongPolicy = "{\"properties\":{\"policyId\":\"" + physicalPolicy + "\",\"targetProtectionContainerId\":\""
                    + target + "\",\"providerSpecificInput\":{\"instanceType\":\"A2A\"}}}";
            JsonNode error = assertError(api.put(mapping + "?" + RS, wrongPolicy), 400, "PolicyNotApplicableToFabric");
            assertThat(error.path("message").asText()).contains("physical", "InMageAzureV2");
            String sameFabric = "{\"properties\":{\"policyId\":\"" + a2aPolicy + "\",\"targetProtectionContainerId\":\""
                    + source + "\"}}";
            assertError(api.put(mapping + "?" + RS, sameFabric), 400, "InvalidTargetProtectionContainer");
            String toAzure = "{\"properties\":{\"policyId\":\"" + a2aPolicy
                    + "\",\"targetProtectionContainerId\":\"Microsoft Azure\"}}";
            assertError(api.put(mapping + "?" + RS, toAzure), 400, "InvalidTargetProtectionContainer");
            assertThat(api.getOk(mappingsOfSource + "?" + RS).path("value")).isEmpty();
            assertThat(api.getOk(vault + "/replicationJobs?" + RS).path("value")).hasSize(jobsBefore);

            r = api.put(mapping + "?" + RS, "{\"properties\":{\"policyId\":\"" + a2aPolicy
                    + "\",\"targetProtectionContainerId\":\"" + target
                    + "\",\"providerSpecificInput\":{\"instanceType\":\"A2A\",\"agentAutoUpdateStatus\":\"Disabled\"}}}");
            assertAccepted(r, vault);
            api.awaitSucceeded(r);
            JsonNode paired = api.getOk(mapping + "?" + RS);
            assertThat(paired).isEqualTo(json(api.get(r.headers().firstValue("Location").orElseThrow())));
            assertThat(paired.path("properties").path("state").asText()).isEqualTo("Paired");
            assertThat(paired.path("properties").path("policyId").asText()).isEqualTo(a2aPolicy);
            assertThat(paired.path("properties").path("targetProtectionContainerId").asText()).isEqualTo(target);
            for (String c : List.of(source, target)) {
                assertThat(api.getOk(c + "?" + RS).path("properties").path("pairingStatus").asText())
                        .as("pairing of %s", c).isEqualTo("Paired");
            }
            assertThat(api.getOk(vault + "/replicationProtectionContainerMappings?" + RS).path("value")).hasSize(1);
            assertThat(api.getOk(vault + "/replicationProtectionContainers?" + RS).path("value")).hasSize(2);

            JsonNode policyBefore = api.getOk(a2aPolicy + "?" + RS);
            error = assertError(api.delete(a2aPolicy + "?" + RS), 409, "PolicyInUse");
            assertThat(error.path("message").asText()).contains("west-to-east");
            assertThat(api.getOk(a2aPolicy + "?" + RS)).isEqualTo(policyBefore);
            JsonNode vaultBefore = api.getOk(vault + "?" + RS);
            assertError(api.delete(vault + "?" + RS), 409, "ServiceResourceNotEmpty");
            assertThat(api.getOk(vault + "?" + RS)).isEqualTo(vaultBefore);

            r = api.post(mapping + "/remove?" + RS, "{\"properties\":{}}");
            assertAccepted(r, vault);
            api.awaitSucceeded(r);
            HttpResponse<String> removed = api.get(r.headers().firstValue("Location").orElseThrow());
            assertThat(removed.statusCode()).as("result of a removal: %s", removed.body()).isEqualTo(204);
            assertError(api.get(mapping + "?" + RS), 404, "ResourceNotFound");
            for (String c : List.of(source, target)) {
                assertThat(api.getOk(c + "?" + RS).path("properties").path("pairingStatus").asText())
                        .as("pairing of %s after removal", c).isEqualTo("NotPaired");
            }
            assertThat(job(vault, operationId(r)).path("properties").path("scenarioName").asText())
                    .isEqualTo("RemoveProtectionContainerMapping");

            r = api.delete(a2aPolicy + "?" + RS);
            assertAccepted(r, vault);
            api.awaitSucceeded(r);
            assertError(api.get(a2aPolicy + "?" + RS), 404, "ResourceNotFound");
            assertThat(api.getOk(physicalPolicy + "?" + RS).path("name").asText()).isEqualTo("physical");

            // Every job so far succeeded: the filter returns them all, in the same order, and no other state matches.
            JsonNode all = api.getOk(vault + "/replicationJobs?" + RS).path("value");
            List<String> succeeded = new ArrayList<>();
            all.forEach(j -> {
                if (j.path("properties").path("state").asText().equals("Succeeded")) {
                    succeeded.add(j.path("name").asText());
                }
            });
            assertThat(succeeded).hasSize(all.size()).hasSize(9);
            JsonNode filtered = api.getOk(vault + "/replicationJobs?" + RS + "&%24filter="
                    + Arm.enc("jobStatus eq 'Succeeded'")).path("value");
            List<String> filteredNames = new ArrayList<>();
            filtered.forEach(j -> {
                assertThat(j.path("properties").path("state").asText()).isEqualTo("Succeeded");
                assertTasksSucceeded(j);
                filteredNames.add(j.path("name").asText());
            });
            assertThat(filteredNames).containsExactlyElementsOf(succeeded);
            for (String state : List.of("Failed", "InProgress", "Cancelled")) {
                assertThat(api.getOk(vault + "/replicationJobs?" + RS + "&%24filter="
                        + Arm.enc("jobStatus eq '" + state + "'")).path("value")).as("jobs %s", state).isEmpty();
            }
        }
    }
}
