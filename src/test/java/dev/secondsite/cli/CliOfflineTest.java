package dev.secondsite.cli;

import dev.secondsite.Main;
import dev.secondsite.jobs.JobState;
import dev.secondsite.protection.Exporter;
import dev.secondsite.testing.CliRunner;
import dev.secondsite.testing.CliRunner.Run;
import dev.secondsite.tls.TlsMaterial;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * CLI behaviour that needs no server: help texts, and usage errors caught before anything is asked of the
 * server. The profile names a server on port 1, so a command that did contact it would exit 3, not 2.
 */
class CliOfflineTest {
    @TempDir
    Path temp;
    private String previousConfig;

    @BeforeEach
    void profileOfAServerThatIsNotThere() throws Exception {
        Path ca = TlsMaterial.loadOrCreate(temp.resolve("tls"), List.of("localhost"), List.of("127.0.0.1")).caFile();
        Path profile = temp.resolve("profile.json");
        Files.writeString(profile, "{\"server\":\"https://127.0.0.1:1\",\"tenantId\":\"t\",\"clientId\":\"c\","
                + "\"clientSecret\":\"s\",\"caFile\":\"" + ca + "\"}");
        previousConfig = CliRunner.useProfile(profile);
    }

    @AfterEach
    void restoreProfile() {
        CliRunner.restoreProfile(previousConfig);
    }

    /** Every option and positional parameter of every command has a help description. */
    @Test
    void everyOptionAndParameterIsDescribed() {
        List<String> undescribed = new ArrayList<>();
        walk(Main.commandLine(), undescribed);
        assertThat(undescribed).as("options and parameters without a description").isEmpty();
    }

    private static void walk(CommandLine command, List<String> undescribed) {
        CommandSpec spec = command.getCommandSpec();
        List<ArgSpec> args = new ArrayList<>(spec.options());
        args.addAll(spec.positionalParameters());
        for (ArgSpec arg : args) {
            if (arg.hidden()) {
                continue;
            }
            boolean described = Arrays.stream(arg.description()).anyMatch(line -> !line.isBlank());
            if (!described) {
                String name = arg instanceof CommandLine.Model.OptionSpec o ? o.longestName() : arg.paramLabel();
                undescribed.add(spec.qualifiedName() + " " + name);
            }
        }
        command.getSubcommands().values().forEach(sub -> walk(sub, undescribed));
    }

    @Test
    void noCommandIsAUsageErrorListingTheCommandsOnStderr() {
        Run run = CliRunner.run();
        assertThat(run.exit()).as(run.toString()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("Missing required subcommand", "Commands:", "server", "agent", "login", "item", "job");
    }

    @Test
    void jobListRefusesAnUnknownStateNamingTheValidOnes() {
        Run run = CliRunner.run("job", "list", "-g", "rg", "--vault", "v", "--state", "Done");
        assertThat(run.exit()).as(run.toString()).isEqualTo(2);
        assertThat(run.err()).contains("'Done'");
        for (JobState state : JobState.values()) {
            assertThat(run.err()).contains(state.name());
        }
    }

    @Test
    void pointExportListsItsFormatsAndRefusesOthers() {
        List<String> formats = Arrays.stream(ProtectionCommands.ExportFormat.values()).map(Enum::name).toList();
        assertThat(formats).as("the formats the server exports").isEqualTo(Exporter.FORMATS);
        Run help = CliRunner.run("point", "export", "--help");
        assertThat(help.out()).contains("raw, vhd, vhdDynamic, vhdx");
        Run run = CliRunner.run("point", "export", "latest", "--item", "i", "--disk", "disk0", "--format", "qcow2",
                "-g", "rg", "--vault", "v");
        assertThat(run.exit()).as(run.toString()).isEqualTo(2);
        assertThat(run.err()).contains("'qcow2'", "raw, vhd, vhdDynamic, vhdx");
    }

    @Test
    void writingIntoAMissingDirectoryIsAUsageErrorBeforeAnythingHappens() {
        Path missing = temp.resolve("no-such-dir");
        Run key = CliRunner.run("fabric", "registration-key", "cs", "-g", "rg", "--vault", "v", "--file",
                missing.resolve("key.json").toString());
        assertThat(key.exit()).as(key.toString()).isEqualTo(2);
        assertThat(key.err().strip()).isEqualTo("secondsite: cannot write the registration key to "
                + missing.resolve("key.json") + ": directory " + missing + " does not exist");
        for (String type : List.of("disk", "snapshot")) {
            Run download = CliRunner.run(type, "download", "d1", missing.resolve("d1.vhd").toString(), "-g", "rg");
            assertThat(download.exit()).as(download.toString()).isEqualTo(2);
            assertThat(download.err()).contains("cannot write the " + type + " to", "does not exist");
        }
        assertThat(missing).doesNotExist();
    }

    /** A download cut off midway leaves no half-written file, and a file already there as it was. */
    @Test
    @Timeout(60)
    void aFailedDownloadLeavesNoHalfWrittenFile() throws Exception {
        assertDownloadFails("disk.vhd", client -> {
            byte[] mib = new byte[1 << 20];
            Arrays.fill(mib, (byte) 0x5a);
            client.getOutputStream().write(mib); // then the connection ends, 3 MiB short
        }, ComputeCommands.DOWNLOAD_STALL_LIMIT, "download failed");
    }

    /** A server that stops sending in the middle of the body fails the download instead of hanging it. */
    @Test
    @Timeout(60)
    void aDownloadThatStallsFailsInsteadOfHanging() throws Exception {
        long start = System.nanoTime();
        assertDownloadFails("stalled.vhd", client -> {
            client.getOutputStream().write(new byte[1 << 20]);
            client.getOutputStream().flush();
            client.getInputStream().read(); // then nothing more until the client hangs up
        }, Duration.ofMillis(500), "download failed: the server sent less than 1 MiB in 0.5 s");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
    }

    /** What a test SAS server does after its 200 headers announcing 4 MiB. */
    private interface SasBody {
        void send(Socket client) throws IOException;
    }

    /**
     * Downloads {@code name} from a one-request SAS server that answers 200 with 4 MiB announced, then {@code body}:
     * the download must fail with {@code message} and leave the file that was there as it was, and no part file.
     */
    private void assertDownloadFails(String name, SasBody body, Duration stallLimit, String message) throws Exception {
        Path file = temp.resolve(name);
        Files.writeString(file, "the previous download");
        try (ServerSocket sas = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
             ApiClient api = new ApiClient(new Profile("http://127.0.0.1:1", "t", "c", "s", null, null),
                     new PrintWriter(new StringWriter()))) {
            Thread server = Thread.ofVirtual().start(() -> {
                try (Socket client = sas.accept()) {
                    client.getInputStream().read(new byte[8192]); // the request
                    OutputStream out = client.getOutputStream();
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    body.send(client);
                } catch (IOException e) {
                    // the client went away first
                }
            });
            String url = "http://127.0.0.1:" + sas.getLocalPort() + "/sas/disks/g?sig=x";
            assertThatThrownBy(() -> ComputeCommands.download(api, new PrintWriter(new StringWriter()), url, file,
                    false, "disk", stallLimit)).isInstanceOf(CliException.class).hasMessageContaining(message);
            server.join();
        }
        assertThat(Files.readString(file)).isEqualTo("the previous download");
        try (var left = Files.list(temp)) {
            assertThat(left.map(p -> p.getFileName().toString())).doesNotContain("." + name + ".part");
        }
    }

    @Test
    void aProfileInAMissingDirectoryIsAUsageError() {
        Path profile = temp.resolve("no-such-dir").resolve("profile.json");
        CliRunner.useProfile(profile);
        Run run = CliRunner.run("login", "--server", "https://127.0.0.1:1", "--client-id", "c", "--client-secret", "s",
                "--ca", temp.resolve("tls").resolve("ca.pem").toString());
        assertThat(run.exit()).as(run.toString()).isEqualTo(2);
        assertThat(run.err()).contains("cannot write the profile", profile.toString(), "does not exist")
                .doesNotContain("Exception");
    }
}
