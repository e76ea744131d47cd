package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secondsite.testing.CliRunner;
import dev.secondsite.testing.LoggedInCliTest;
import dev.secondsite.testing.CliRunner.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The protection commands (fabric registration-key, item, point, provider) against a real in-process server,
 * with the agent run in-process as {@code secondsite agent --once}.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ProtectionCliTest extends LoggedInCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** One command in this JVM; System.out/err are captured too (the agent and server print there). */
    static Run run(String... args) {
        return CliRunner.runCapturingSystemStreams(args);
    }

    static Run ok(String... args) {
        Run r = run(args);
        assertThat(r.exit()).as(String.join(" ", args) + "\n" + r).isZero();
        return r;
    }

    static String[] args(List<String> base, String... more) {
        List<String> all = new ArrayList<>(List.of(more));
        all.addAll(base);
        return all.toArray(String[]::new);
    }

    /** Group, vault, VMware fabric cs, container cs-c, InMageAzureV2 policy pol, mapping to Microsoft Azure. */
    static List<String> site() {
        String group = "rg-" + UUID.randomUUID().toString().substring(0, 8);
        String vault = "v" + UUID.randomUUID().toString().substring(0, 8);
        List<String> v = List.of("-g", group, "--vault", vault);
        ok("group", "create", group, "-l", "westus");
        ok("vault", "create", vault, "-g", group, "-l", "westus");
        ok(args(v, "fabric", "create", "cs", "--type", "VMware"));
        ok(args(v, "container", "create", "cs-c", "--fabric", "cs"));
        ok(args(v, "policy", "create", "pol", "--type", "InMageAzureV2", "--retention-hours", "24"));
        ok(args(v, "mapping", "create", "map", "--fabric", "cs", "--container", "cs-c", "--policy", "pol",
                "--target-container", "Microsoft Azure"));
        return v;
    }

    private Run agent(String... more) {
        List<String> all = new ArrayList<>(List.of("agent", "--once", "--server", server.baseUrl(),
                "--data-dir", server.dataDir().toString()));
        all.addAll(List.of(more));
        return ok(all.toArray(String[]::new));
    }

    @Test
    void protectAMachineAndExportItsNewestPointByteForByte() throws Exception {
        List<String> v = site();
        Path key = temp.resolve("key.json");
        Run keyRun = ok(args(v, "fabric", "registration-key", "cs", "--file", key.toString()));
        assertThat(keyRun.out()).contains("written to " + key, "Expires at ");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(JSON.readTree(key.toFile()).path("registrationKey").asText()).isNotBlank();
        Run printed = ok(args(v, "fabric", "registration-key", "cs"));
        assertThat(printed.out().strip()).doesNotContain("\n").isNotEmpty();
        assertThat(printed.err()).contains("expires at ");

        Path disk = temp.resolve("disk.raw");
        byte[] bytes = new byte[4 << 20];
        new Random(7).nextBytes(bytes);
        java.util.Arrays.fill(bytes, 1 << 20, 2 << 20, (byte) 0); // a hole
        Files.write(disk, bytes);
        Path state = temp.resolve("agent-state");
        Run registered = agent("--registration-key-file", key.toString(), "--name", "m1", "--state-dir",
                state.toString(), "--disk", disk.toString());
        assertThat(registered.out() + registered.err()).contains("registered machine m1");

        Run providers = ok(args(v, "provider", "list", "--fabric", "cs"));
        assertThat(providers.out()).contains("NAME", "LAST CONTACT", "STATUS", "m1", "Connected");
        assertThat(ok(args(v, "provider", "show", "m1", "--fabric", "cs", "-o", "json")).json()
                .path("name").asText()).isEqualTo("m1");

        Run enabled = ok(args(v, "item", "enable", "m1", "--fabric", "cs", "--container", "cs-c", "--machine", "m1",
                "--policy", "pol"));
        assertThat(enabled.out()).contains("NAME", "STATE", "HEALTH", "RPO", "m1");
        agent("--state-dir", state.toString(), "--disk", disk.toString());
        Run waited = ok(args(v, "item", "wait-protected", "m1", "--timeout-seconds", "60", "--interval-seconds", "1"));
        assertThat(waited.out()).contains("Protected");

        // A change, replicated: the newest point must hold it.
        byte[] change = new byte[65536];
        new Random(9).nextBytes(change);
        System.arraycopy(change, 0, bytes, 3 << 20, change.length);
        Files.write(disk, bytes);
        agent("--state-dir", state.toString(), "--disk", disk.toString());

        Run list = ok(args(v, "point", "list", "--item", "m1", "--fabric", "cs", "--container", "cs-c"));
        assertThat(list.out()).contains("NAME", "TIME", "TYPE", "CrashConsistent");
        assertThat(list.out().strip().split("\n")).hasSize(3);
        String latest = ok(args(v, "point", "latest", "--item", "m1")).out().strip();
        assertThat(list.out().split("\n")[1]).startsWith(latest);

        String file = "cli-" + UUID.randomUUID() + ".img";
        Run exported = ok(args(v, "point", "export", latest, "--item", "m1", "--disk", "disk0", "--format", "raw",
                "--path", file));
        Path restored = server.dataDir().toAbsolutePath().resolve("exports").resolve(file);
        assertThat(exported.out()).contains("path:   " + restored);
        assertThat(Files.mismatch(restored, disk)).isEqualTo(-1L);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        assertThat(exported.out()).contains("sha256: " + sha);

        JsonNode asJson = ok(args(v, "point", "export", "latest", "--item", "m1", "--disk", "disk0", "-o", "json"))
                .json();
        assertThat(asJson.path("sha256").asText()).isEqualTo(sha);
        assertThat(Files.mismatch(Path.of(asJson.path("path").asText()), disk)).isEqualTo(-1L);

        Run items = ok(args(v, "item", "list"));
        assertThat(items.out()).contains("m1", "Protected");
        assertThat(ok(args(v, "item", "set-churn-mode", "m1", "--mode", "high", "-o", "json")).json()
                .at("/properties/providerSpecificDetails/churnMode").asText()).isEqualTo("High");
        assertThat(ok(args(v, "item", "disable", "m1")).out()).contains("Disabled protection of item 'm1'.");
        Run gone = run(args(v, "item", "show", "m1"));
        assertThat(gone.exit()).isEqualTo(1);
    }

    @Test
    void enablingAnUnknownMachineIsAnArmError() {
        List<String> v = site();
        Run r = run(args(v, "item", "enable", "ghost", "--fabric", "cs", "--container", "cs-c", "--machine", "ghost",
                "--policy", "pol"));
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).startsWith("secondsite: ProtectableItemNotFound: ");

        Run usage = run(args(v, "item", "set-churn-mode", "ghost", "--mode", "Turbo"));
        assertThat(usage.exit()).isEqualTo(2);
        Run none = run(args(v, "point", "latest", "--item", "ghost"));
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.err()).contains("NotFound");
    }

    @Test
    void aBadCacheStoreIsAUsageError() {
        Run r = run("server", "--data-dir", temp.resolve("d").toString(), "--port", "0", "--cache-store", "s3:bucket");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--cache-store must be 'file' or 'azure:<connection string>'");
        Run azure = run("server", "--data-dir", temp.resolve("d").toString(), "--port", "0", "--cache-store",
                "azure:NotAConnectionString");
        assertThat(azure.exit()).as(azure.toString()).isEqualTo(2);
        assertThat(azure.err()).contains("--cache-store:");
    }
}
