package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secondsite.testing.CliRunner;
import dev.secondsite.testing.CliRunner.Run;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI end to end: real commands (as picocli parses them) against a real in-process server. */
class CliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;

    @TempDir
    Path temp;
    private String previousConfig;

    @BeforeAll
    static void startServer() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @BeforeEach
    void useTempProfile() {
        previousConfig = CliRunner.useProfile(temp.resolve("profile.json"));
    }

    @AfterEach
    void restoreProfile() {
        CliRunner.restoreProfile(previousConfig);
    }

    static Run run(String... args) {
        return CliRunner.run(args);
    }

    private void loginAsAdmin() {
        Run login = run("login", "--server", server.baseUrl(), "--data-dir", server.dataDir().toString());
        assertThat(login.exit()).as(login.err()).isZero();
    }

    /** A fresh resource group and vault for one test. */
    private String[] groupAndVault() {
        String group = "rg-" + UUID.randomUUID().toString().substring(0, 8);
        String vault = "v" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(run("group", "create", group, "-l", "westus").exit()).isZero();
        Run created = run("vault", "create", vault, "-g", group, "-l", "westus");
        assertThat(created.exit()).as(created.err()).isZero();
        return new String[] {group, vault};
    }

    @Test
    void loginSavesAPrivateProfileAndVaultRoundTrips() throws Exception {
        loginAsAdmin();
        Path profile = temp.resolve("profile.json");
        assertThat(Files.getPosixFilePermissions(profile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        JsonNode saved = JSON.readTree(profile.toFile());
        assertThat(saved.path("server").asText()).isEqualTo(server.baseUrl());
        assertThat(saved.path("tenantId").asText()).isEqualTo(server.admin().path("tenantId").asText());
        assertThat(Path.of(saved.path("caFile").asText())).isAbsolute();

        assertThat(run("group", "create", "rg-round", "-l", "westus", "--tag", "env=test").exit()).isZero();
        Run created = run("vault", "create", "vault-round", "-g", "rg-round", "-l", "West US", "--tag", "team=dr",
                "-o", "json");
        assertThat(created.exit()).as(created.err()).isZero();
        JsonNode vault = created.json();
        assertThat(vault.path("name").asText()).isEqualTo("vault-round");
        assertThat(vault.path("location").asText()).isEqualTo("westus");
        assertThat(vault.at("/identity/type").asText()).isEqualTo("SystemAssigned");
        assertThat(vault.at("/tags/team").asText()).isEqualTo("dr");

        JsonNode shown = run("vault", "show", "vault-round", "-g", "rg-round", "-o", "json").json();
        assertThat(shown.path("id").asText()).isEqualTo(vault.path("id").asText());

        JsonNode byGroup = run("vault", "list", "-g", "rg-round", "-o", "json").json();
        assertThat(byGroup.path("value")).extracting(v -> v.path("name").asText()).containsExactly("vault-round");
        JsonNode bySubscription = run("vault", "list", "-o", "json").json();
        assertThat(bySubscription.path("value")).extracting(v -> v.path("name").asText()).contains("vault-round");

        Run updated = run("vault", "update", "vault-round", "-g", "rg-round", "--tag", "team=ops", "-o", "json");
        assertThat(updated.exit()).as(updated.err()).isZero();
        assertThat(updated.json().at("/tags/team").asText()).isEqualTo("ops");

        Run deleted = run("vault", "delete", "vault-round", "-g", "rg-round");
        assertThat(deleted.exit()).as(deleted.err()).isZero();
        Run gone = run("vault", "show", "vault-round", "-g", "rg-round");
        assertThat(gone.exit()).isEqualTo(1);
        assertThat(gone.err()).startsWith("secondsite: ResourceNotFound: ");
        assertThat(run("vault", "list", "-g", "rg-round", "-o", "json").json().path("value")).isEmpty();
    }

    @Test
    void tableOutputHasTheHeaderAndTheRow() {
        loginAsAdmin();
        String[] gv = groupAndVault();
        Run table = run("vault", "list", "-g", gv[0]);
        assertThat(table.exit()).isZero();
        String[] lines = table.out().split("\\R");
        assertThat(lines).hasSize(2);
        assertThat(lines[0]).matches("NAME\\s+RESOURCE GROUP\\s+LOCATION\\s+SKU\\s+PUBLIC ACCESS\\s+STATE");
        assertThat(lines[1]).matches(gv[1] + "\\s+" + gv[0] + "\\s+westus\\s+RS0\\s+Enabled\\s+Succeeded");
        // Columns line up: each value starts where its header does.
        assertThat(lines[1].indexOf("westus")).isEqualTo(lines[0].indexOf("LOCATION"));
    }

    @Test
    void policyCreateWaitsForTheJobAndPrintsThePolicy() throws Exception {
        loginAsAdmin();
        String[] gv = groupAndVault();
        Run created = run("policy", "create", "pol1", "-g", gv[0], "--vault", gv[1], "--type", "InMageAzureV2",
                "--rpo-threshold-minutes", "30", "--retention-hours", "24", "--app-consistent-minutes", "120",
                "--crash-consistent-minutes", "10", "-o", "json");
        assertThat(created.exit()).as(created.err()).isZero();
        JsonNode details = created.json().at("/properties/providerSpecificDetails");
        assertThat(details.path("instanceType").asText()).isEqualTo("InMageAzureV2");
        assertThat(details.path("recoveryPointThresholdInMinutes").asInt()).isEqualTo(30);
        assertThat(details.path("recoveryPointHistory").asInt()).isEqualTo(24 * 60);
        assertThat(details.path("appConsistentFrequencyInMinutes").asInt()).isEqualTo(120);
        assertThat(details.path("crashConsistentFrequencyInMinutes").asInt()).isEqualTo(10);
        assertThat(details.path("multiVmSyncStatus").asText()).isEqualTo("Disable");
        assertThat(created.err()).contains("Create replication policy 'pol1' ... Succeeded");

        Run hyperV = run("policy", "create", "hv1", "-g", gv[0], "--vault", gv[1], "--type", "HyperVReplicaAzure",
                "--retention-hours", "12", "--app-consistent-minutes", "120", "-o", "json");
        assertThat(hyperV.exit()).as(hyperV.err()).isZero();
        assertThat(hyperV.json().at("/properties/providerSpecificDetails/recoveryPointHistoryDurationInHours").asInt())
                .isEqualTo(12);
        assertThat(hyperV.json().at("/properties/providerSpecificDetails/applicationConsistentSnapshotFrequencyInHours")
                .asInt()).isEqualTo(2);

        Run updated = run("policy", "update", "pol1", "-g", gv[0], "--vault", gv[1], "--retention-hours", "48",
                "-o", "json");
        assertThat(updated.exit()).as(updated.err()).isZero();
        assertThat(updated.json().at("/properties/providerSpecificDetails/recoveryPointHistory").asInt())
                .isEqualTo(48 * 60);
        assertThat(updated.json().at("/properties/providerSpecificDetails/recoveryPointThresholdInMinutes").asInt())
                .isEqualTo(30);

        Run list = run("policy", "list", "-g", gv[0], "--vault", gv[1]);
        assertThat(list.out()).contains("pol1", "pol1-failback", "hv1");
    }

    @Test
    void asrChainFabricContainerMappingAndRemoval() throws Exception {
        loginAsAdmin();
        String[] gv = groupAndVault();
        String g = gv[0];
        String v = gv[1];
        assertThat(run("fabric", "create", "west", "-g", g, "--vault", v, "--type", "Azure", "-l", "westus").exit())
                .isZero();
        assertThat(run("fabric", "create", "east", "-g", g, "--vault", v, "--type", "Azure", "-l", "eastus").exit())
                .isZero();
        assertThat(run("container", "create", "cw", "--fabric", "west", "-g", g, "--vault", v).exit()).isZero();
        assertThat(run("container", "create", "ce", "--fabric", "east", "-g", g, "--vault", v).exit()).isZero();
        assertThat(run("policy", "create", "a2a", "-g", g, "--vault", v, "--type", "A2A").exit()).isZero();
        Run mapping = run("mapping", "create", "m1", "--fabric", "west", "--container", "cw", "--policy", "a2a",
                "--target-container", "east/ce", "-g", g, "--vault", v, "-o", "json");
        assertThat(mapping.exit()).as(mapping.err()).isZero();
        assertThat(mapping.json().at("/properties/state").asText()).isEqualTo("Paired");
        assertThat(run("container", "list", "-g", g, "--vault", v).out()).contains("Paired");

        Run notEmpty = run("fabric", "delete", "west", "-g", g, "--vault", v);
        assertThat(notEmpty.exit()).isEqualTo(1);
        assertThat(notEmpty.err()).contains("secondsite: FabricNotEmpty: ");

        assertThat(run("mapping", "delete", "m1", "--fabric", "west", "--container", "cw", "-g", g, "--vault", v)
                .exit()).isZero();
        assertThat(run("container", "delete", "cw", "--fabric", "west", "-g", g, "--vault", v).exit()).isZero();
        assertThat(run("fabric", "delete", "west", "-g", g, "--vault", v).exit()).isZero();
        assertThat(run("fabric", "delete", "east", "--purge", "-g", g, "--vault", v).exit()).isZero();
        assertThat(run("fabric", "list", "-g", g, "--vault", v, "-o", "json").json().path("value")).isEmpty();
    }

    @Test
    void badLocationAndBadPolicyTypeAreApiErrors() {
        loginAsAdmin();
        String[] gv = groupAndVault();
        Run badLocation = run("vault", "create", "vbad", "-g", gv[0], "-l", "not a region!");
        assertThat(badLocation.exit()).isEqualTo(1);
        assertThat(badLocation.err()).matches("(?s)secondsite: (InvalidRequestContent|LocationNotAvailableForResourceType"
                + "|InvalidLocation): .*");
        assertThat(badLocation.err()).doesNotContain("Exception", "\tat ");

        Run badType = run("policy", "create", "p", "-g", gv[0], "--vault", gv[1], "--type", "NotAScenario");
        assertThat(badType.exit()).isEqualTo(1);
        assertThat(badType.err()).startsWith("secondsite: InvalidRequestContent: ").contains("NotAScenario");
    }

    @Test
    void wrongSecretOnLoginIsAClearApiError() throws Exception {
        Run login = run("login", "--server", server.baseUrl(), "--data-dir", server.dataDir().toString(),
                "--client-secret", "not-the-secret");
        assertThat(login.exit()).isEqualTo(1);
        assertThat(login.err()).startsWith("secondsite: login failed: invalid_client: ")
                .contains("Invalid client secret");
        assertThat(temp.resolve("profile.json")).doesNotExist();
    }

    @Test
    void withoutAProfileCommandsExitWith4() {
        Run list = run("vault", "list");
        assertThat(list.exit()).isEqualTo(4);
        assertThat(list.err()).startsWith("secondsite: not logged in: run `secondsite login`");
    }

    @Test
    void aServerThatIsDownExitsWith3() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Run login = run("login", "--server", "https://127.0.0.1:" + port, "--data-dir", server.dataDir().toString());
        assertThat(login.exit()).isEqualTo(3);
        assertThat(login.err()).contains("cannot connect to https://127.0.0.1:" + port)
                .contains("secondsite login --server");

        // A saved profile whose server has gone away: the same exit code.
        loginAsAdmin();
        JsonNode profile = JSON.readTree(temp.resolve("profile.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) profile).put("server", "https://127.0.0.1:" + port);
        Files.writeString(temp.resolve("profile.json"), profile.toString());
        Run list = run("vault", "list");
        assertThat(list.exit()).isEqualTo(3);
        assertThat(list.err()).contains("cannot connect");
    }

    @Test
    void usageErrorsExitWith2() {
        loginAsAdmin();
        assertThat(run("vault", "create", "v-no-group").exit()).isEqualTo(2);
        assertThat(run("vault").exit()).isEqualTo(2);
        assertThat(run("vault", "list", "-o", "yaml").exit()).isEqualTo(2);
    }

    @Test
    void noWaitPrintsAJobIdThatJobShowFinds() throws Exception {
        loginAsAdmin();
        String[] gv = groupAndVault();
        Run submitted = run("policy", "create", "nw", "-g", gv[0], "--vault", gv[1], "--type", "A2A", "--no-wait");
        assertThat(submitted.exit()).as(submitted.err()).isZero();
        String jobId = submitted.out().strip();
        assertThat(jobId).matches("[0-9a-f-]{36}");

        Run waited = run("job", "wait", jobId, "-g", gv[0], "--vault", gv[1], "--timeout-seconds", "30", "-o", "json");
        assertThat(waited.exit()).as(waited.err()).isZero();
        assertThat(waited.json().at("/properties/state").asText()).isEqualTo("Succeeded");

        Run shown = run("job", "show", jobId, "-g", gv[0], "--vault", gv[1], "-o", "json");
        assertThat(shown.exit()).isZero();
        assertThat(shown.json().path("name").asText()).isEqualTo(jobId);
        assertThat(shown.json().at("/properties/friendlyName").asText()).isEqualTo("Create replication policy");
        assertThat(shown.json().at("/properties/targetObjectName").asText()).isEqualTo("nw");

        Run table = run("job", "list", "-g", gv[0], "--vault", gv[1], "--state", "Succeeded");
        assertThat(table.out()).contains(jobId);
        assertThat(run("job", "list", "-g", gv[0], "--vault", gv[1], "--state", "Failed", "-o", "json").json()
                .path("value")).isEmpty();
        Run cancel = run("job", "cancel", jobId, "-g", gv[0], "--vault", gv[1]);
        assertThat(cancel.exit()).isEqualTo(1);
        assertThat(cancel.err()).startsWith("secondsite: JobNotCancellable: ");
    }

    @Test
    void aReaderCanReadButNotWrite() throws Exception {
        loginAsAdmin();
        String[] gv = groupAndVault();
        String name = "reader-" + UUID.randomUUID().toString().substring(0, 8);
        Run sp = run("sp", "create", name, "-o", "json");
        assertThat(sp.exit()).as(sp.err()).isZero();
        String clientId = sp.json().at("/properties/clientId").asText();
        String secret = sp.json().at("/properties/clientSecret").asText();
        assertThat(secret).isNotBlank();
        assertThat(run("sp", "list").out()).contains(name, clientId);

        Run assigned = run("role", "assign", "--role", "Reader", "--assignee", name,
                "--scope", "/subscriptions/" + Profile.DEFAULT_SUBSCRIPTION, "-o", "json");
        assertThat(assigned.exit()).as(assigned.err()).isZero();
        assertThat(assigned.json().at("/properties/roleName").asText()).isEqualTo("Reader");
        assertThat(assigned.json().at("/properties/principalId").asText())
                .isEqualTo(sp.json().at("/properties/objectId").asText());
        assertThat(run("role", "list", "--scope", "/subscriptions/" + Profile.DEFAULT_SUBSCRIPTION).out())
                .contains(assigned.json().path("name").asText(), "Reader");

        System.setProperty("secondsite.config", temp.resolve("reader.json").toString());
        Run login = run("login", "--server", server.baseUrl(), "--ca", server.dataDir().resolve("tls/ca.pem").toString(),
                "--data-dir", temp.resolve("nowhere").toString(), "--client-id", clientId, "--client-secret", secret);
        assertThat(login.exit()).as(login.err()).isZero();
        assertThat(JSON.readTree(temp.resolve("reader.json").toFile()).path("tenantId").asText())
                .isEqualTo(server.admin().path("tenantId").asText());

        Run read = run("vault", "show", gv[1], "-g", gv[0]);
        assertThat(read.exit()).as(read.err()).isZero();
        Run write = run("vault", "create", "denied", "-g", gv[0], "-l", "westus");
        assertThat(write.exit()).isEqualTo(1);
        assertThat(write.err()).startsWith("secondsite: AuthorizationFailed: ");

        // Back to the admin: remove the assignment and the principal.
        System.setProperty("secondsite.config", temp.resolve("profile.json").toString());
        assertThat(run("role", "delete", assigned.json().path("name").asText()).exit()).isZero();
        assertThat(run("sp", "delete", name).exit()).isZero();
        System.setProperty("secondsite.config", temp.resolve("reader.json").toString());
        Run rejected = run("vault", "list");
        assertThat(rejected.exit()).isEqualTo(4);
        assertThat(rejected.err()).contains("saved credentials were rejected");
    }

    @Test
    void tokenPrintsABearerToken() throws Exception {
        loginAsAdmin();
        Run token = run("token");
        assertThat(token.exit()).isZero();
        String jwt = token.out().strip();
        assertThat(jwt.split("\\.")).hasSize(3);
        var response = server.call("GET", "/subscriptions/" + Profile.DEFAULT_SUBSCRIPTION
                + "/resourcegroups?api-version=2021-04-01", jwt, null);
        assertThat(response.statusCode()).isEqualTo(200);
    }

    @Test
    void groupCommands() throws Exception {
        loginAsAdmin();
        Run created = run("group", "create", "rg-g1", "-l", "eastus", "--tag", "a=b", "-o", "json");
        assertThat(created.exit()).isZero();
        assertThat(created.json().at("/tags/a").asText()).isEqualTo("b");
        assertThat(run("group", "show", "rg-g1").out()).contains("rg-g1", "eastus");
        assertThat(run("group", "list").out()).contains("rg-g1");
        assertThat(run("group", "delete", "rg-g1").exit()).isZero();
        assertThat(run("group", "show", "rg-g1").err()).startsWith("secondsite: ResourceGroupNotFound: ");
        assertThat(run("group", "create", "rg-g2", "-l", "eastus", "--tag", "novalue").exit()).isEqualTo(2);
    }
}
