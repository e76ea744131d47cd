package dev.secondsite.cloud.compute;

import dev.secondsite.testing.Qemu;
import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.Main;
import dev.secondsite.arm.Json;
import dev.secondsite.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The compute CLI end to end: disk upload/download round trips, snapshots, VMs, sizes and quotas. */
class ComputeCliTest {
    private static TestServer server;
    private final String subscription = UUID.randomUUID().toString();

    @TempDir
    Path temp;
    private String previousConfig;

    record Run(int exit, String out, String err) {
        JsonNode json() {
            return Json.parse(out);
        }
    }

    @BeforeAll
    static void startServer() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @BeforeEach
    void login() {
        previousConfig = System.getProperty("secondsite.config");
        System.setProperty("secondsite.config", temp.resolve("profile.json").toString());
        ok("login", "--server", server.baseUrl(), "--data-dir", server.dataDir().toString());
        ok("group", "create", "rg", "-l", "eastus", "--subscription", subscription);
    }

    @AfterEach
    void restoreProfile() {
        if (previousConfig == null) {
            System.clearProperty("secondsite.config");
        } else {
            System.setProperty("secondsite.config", previousConfig);
        }
    }

    private Run run(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(all.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    private Run ok(String... args) {
        Run r = run(args);
        assertThat(r.exit()).as("%s\nstdout: %s\nstderr: %s", String.join(" ", args), r.out(), r.err()).isZero();
        return r;
    }

    @Test
    void uploadsAndDownloadsAQemuVhd() throws Exception {
        Qemu.assumeAvailable();
        Path vhd = temp.resolve("disk.vhd");
        Qemu.ok("qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", vhd.toString(), "40M");
        Qemu.ok("qemu-io", "-f", "vpc", "-c", "write -P 0x5a 1M 64k", "-c", "write -P 0x33 20M 5M", vhd.toString());

        Run upload = ok("disk", "upload", "d1", vhd.toString(), "-g", "rg", "-l", "eastus", "--os-type", "Linux",
                "--subscription", subscription, "-o", "json");
        assertThat(upload.json().path("properties").path("diskState").asText()).isEqualTo("Unattached");
        assertThat(upload.err()).contains("Uploading disk.vhd to disk 'd1'");

        Path back = temp.resolve("back.vhd");
        Run download = ok("disk", "download", "d1", back.toString(), "-g", "rg", "--subscription", subscription);
        assertThat(download.out()).contains("Downloaded " + Files.size(vhd) + " bytes");
        assertThat(Files.mismatch(vhd, back)).isEqualTo(-1);
        assertThat(Qemu.ok("qemu-img", "compare", "-f", "vpc", "-F", "vpc", vhd.toString(), back.toString()))
                .contains("Images are identical");
        assertThat(ok("disk", "show", "d1", "-g", "rg", "--subscription", subscription, "-o", "json").json()
                .path("properties").path("diskState").asText()).as("download revoked its grant").isEqualTo("Unattached");

        // A qcow2-free conversion: a VHDX made by qemu-img uploads as a fixed VHD with the same content.
        Path vhdx = temp.resolve("disk.vhdx");
        Qemu.ok("qemu-img", "convert", "-f", "vpc", "-O", "vhdx", vhd.toString(), vhdx.toString());
        ok("disk", "upload", "d2", vhdx.toString(), "-g", "rg", "-l", "eastus", "--subscription", subscription);
        Path raw = temp.resolve("d2.raw");
        ok("disk", "download", "d2", raw.toString(), "--raw", "-g", "rg", "--subscription", subscription);
        assertThat(Qemu.ok("qemu-img", "compare", "-f", "vhdx", "-F", "raw", vhdx.toString(), raw.toString()))
                .contains("Images are identical");

        // Snapshot and download it.
        ok("snapshot", "create", "s1", "--source", "d1", "-g", "rg", "--subscription", subscription);
        Path snap = temp.resolve("snap.vhd");
        ok("snapshot", "download", "s1", snap.toString(), "-g", "rg", "--subscription", subscription);
        assertThat(Files.mismatch(vhd, snap)).isEqualTo(-1);
        Run snapshots = ok("snapshot", "list", "-g", "rg", "--subscription", subscription);
        assertThat(snapshots.out()).contains("s1").contains("d1");

        Run grant = ok("disk", "grant-access", "d1", "-g", "rg", "--subscription", subscription, "--duration-in-seconds", "60");
        assertThat(grant.out().strip()).startsWith(server.baseUrl() + "/sas/disks/");
        ok("disk", "revoke-access", "d1", "-g", "rg", "--subscription", subscription);
        ok("disk", "delete", "d2", "-g", "rg", "--subscription", subscription);
    }

    @Test
    void createsAndDrivesVms() {
        Run sizes = ok("compute", "sizes", "-l", "eastus", "--subscription", subscription);
        assertThat(sizes.out()).contains("Standard_D2s_v3").contains("VCPUS");

        Run created = ok("vm", "create", "vm1", "-g", "rg", "-l", "eastus", "--size", "Standard_D2s_v3",
                "--data-disk-sizes-gb", "4,8", "--security-type", "TrustedLaunch", "--subscription", subscription);
        assertThat(created.out()).contains("vm1").contains("Standard_D2s_v3").contains("TrustedLaunch").contains("running");
        Run list = ok("vm", "list", "-g", "rg", "--subscription", subscription, "-o", "json");
        assertThat(list.json().path("value")).hasSize(1);
        assertThat(ok("disk", "list", "-g", "rg", "--subscription", subscription).out()).contains("Attached");

        assertThat(ok("vm", "stop", "vm1", "-g", "rg", "--subscription", subscription).out()).contains("stopped");
        assertThat(ok("vm", "deallocate", "vm1", "-g", "rg", "--subscription", subscription).out()).contains("deallocated");
        assertThat(ok("compute", "usage", "-l", "eastus", "--subscription", subscription, "-o", "json").json().toString())
                .contains("\"currentValue\":0");
        ok("compute", "quota", "set", "-l", "eastus", "--name", "standardDSv3Family", "--limit", "1",
                "--subscription", subscription);
        Run refused = run("vm", "start", "vm1", "-g", "rg", "--subscription", subscription);
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("OperationNotAllowed: Operation could not be completed as it results in "
                + "exceeding approved standardDSv3Family Cores quota");
        ok("compute", "quota", "set", "-l", "eastus", "--name", "standardDSv3Family", "--limit", "20",
                "--subscription", subscription);
        assertThat(ok("vm", "start", "vm1", "-g", "rg", "--subscription", subscription).out()).contains("running");
        assertThat(ok("compute", "quota", "list", "-l", "eastus", "--subscription", subscription).out())
                .contains("standardDSv3Family").contains("20");

        ok("vm", "delete", "vm1", "-g", "rg", "--subscription", subscription);
        assertThat(ok("vm", "list", "-g", "rg", "--subscription", subscription, "-o", "json").json().path("value")).isEmpty();
        Run bad = run("vm", "create", "vm2", "-g", "rg", "-l", "eastus", "--size", "Standard_A2_v2",
                "--security-type", "TrustedLaunch", "--subscription", subscription);
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("VmSizeDoesNotSupportHyperVGeneration");
    }
}
