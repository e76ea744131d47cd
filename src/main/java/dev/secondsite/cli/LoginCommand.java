package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code secondsite login}: checks credentials by getting a token, then saves the profile every other
 * command uses. With no credential options it uses the server's admin credentials from
 * {@code <data-dir>/admin.json}.
 */
@Command(name = "login",
        description = "Log in to a SecondSite server and save the profile the other commands use.")
final class LoginCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    Options.Help help;

    @Option(names = "--server", defaultValue = "https://127.0.0.1:8443", paramLabel = "URL",
            description = "Server URL (default: ${DEFAULT-VALUE}).")
    String server;

    @Option(names = "--data-dir", defaultValue = "${env:SECONDSITE_DATA:-data}", paramLabel = "DIR",
            description = "The server's data directory, for admin.json and tls/ca.pem (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--admin-file", paramLabel = "FILE",
            description = "JSON with tenantId, clientId, clientSecret (default: <data-dir>/admin.json).")
    Path adminFile;

    @Option(names = "--tenant", paramLabel = "T", description = "Tenant id (default: the admin file's, else the token's).")
    String tenant;

    @Option(names = "--client-id", paramLabel = "ID", description = "Service principal client id.")
    String clientId;

    @Option(names = "--client-secret", paramLabel = "S", arity = "0..1", interactive = true,
            description = "Client secret; give the option without a value to be prompted.")
    String clientSecret;

    @Option(names = "--ca", paramLabel = "FILE", description = "CA certificate to trust (default: <data-dir>/tls/ca.pem).")
    Path ca;

    @Option(names = "--subscription", paramLabel = "ID",
            description = "Default subscription of the profile (default: " + Profile.DEFAULT_SUBSCRIPTION + ").")
    String subscription;

    @Override
    public Integer call() throws IOException {
        ApiClient.serverUri(server);
        Profile.saveLocation();
        readAdminFile();
        if (clientId == null || clientSecret == null) {
            throw CliException.usage("no credentials: " + adminFile() + " not found; pass --data-dir (the server's "
                    + "data directory), --admin-file, or --client-id and --client-secret");
        }
        Path caFile = (ca != null ? ca : dataDir.resolve("tls").resolve("ca.pem")).toAbsolutePath().normalize();
        if (server.startsWith("https:") && !Files.isReadable(caFile)) {
            throw CliException.usage("CA certificate " + caFile + " not found; pass --ca FILE or --data-dir "
                    + "(the server writes <data-dir>/tls/ca.pem)");
        }
        Profile profile = new Profile(server, tenant != null ? tenant : "organizations", clientId, clientSecret,
                caFile.toString(), subscription != null ? subscription : Profile.DEFAULT_SUBSCRIPTION);
        String token;
        try (ApiClient client = new ApiClient(profile, spec.commandLine().getErr())) {
            token = client.requestToken();
        } catch (CliException e) {
            if (e.exitCode() == CliException.API_ERROR) {
                throw new CliException(CliException.API_ERROR, "login failed: " + e.getMessage());
            }
            throw e;
        }
        String tenantId = ApiClient.tenantOf(token).orElse(profile.tenantId());
        profile = new Profile(profile.server(), tenantId, profile.clientId(), profile.clientSecret(),
                profile.caFile(), profile.subscription());
        Path saved = profile.save();
        spec.commandLine().getOut().println("Logged in to " + server + " as " + clientId + " (tenant " + tenantId
                + "). Profile saved to " + saved + ".");
        spec.commandLine().getOut().flush();
        return 0;
    }

    private Path adminFile() {
        return adminFile != null ? adminFile : dataDir.resolve("admin.json");
    }

    /** Fills the credentials not given as options from the admin file, when there is one. */
    private void readAdminFile() {
        if (tenant != null && clientId != null && clientSecret != null) {
            return;
        }
        Path file = adminFile();
        if (!Files.exists(file)) {
            if (adminFile != null) {
                throw CliException.usage("admin file " + file + " not found");
            }
            return;
        }
        JsonNode admin;
        try {
            admin = ApiClient.JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw CliException.usage("cannot read admin file " + file + ": " + e.getMessage());
        }
        if (tenant == null) {
            tenant = admin.path("tenantId").textValue();
        }
        String adminClientId = admin.path("clientId").textValue();
        if (clientId == null) {
            clientId = adminClientId;
        }
        if (clientSecret == null && clientId != null && clientId.equals(adminClientId)) {
            clientSecret = admin.path("clientSecret").textValue();
        }
    }
}
