package dev.secondsite.cli;

import dev.secondsite.io.AtomicFiles;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * What {@code secondsite login} saves and every other command reads: the server, the credentials and
 * the CA to trust. Stored as JSON at {@code -Dsecondsite.config}, {@code $SECONDSITE_CONFIG} or
 * {@code ~/.secondsite/profile.json}, mode 0600 (it holds a client secret).
 */
record Profile(String server, String tenantId, String clientId, String clientSecret, String caFile,
               String subscription) {
    static final String DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** Where the profile lives: the system property wins over the environment variable. */
    static Path location() {
        String property = System.getProperty("secondsite.config");
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        String env = System.getenv("SECONDSITE_CONFIG");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return defaultLocation();
    }

    private static Path defaultLocation() {
        return Path.of(System.getProperty("user.home"), ".secondsite", "profile.json");
    }

    /**
     * Where {@link #save} writes, checked before login contacts the server: the default location's directory is
     * created on first use, any other profile path ({@code $SECONDSITE_CONFIG}, {@code -Dsecondsite.config}) must
     * be in an existing directory (exit 2 otherwise).
     */
    static Path saveLocation() {
        Path file = location().toAbsolutePath();
        if (!file.equals(defaultLocation().toAbsolutePath())) {
            Output.requireDirectoryOf(file, "the profile (SECONDSITE_CONFIG) to");
        }
        return file;
    }

    /** The saved profile; exit code 4 when there is none (or it cannot be used). */
    static Profile load() {
        Path file = location();
        if (!Files.exists(file)) {
            throw CliException.notLoggedIn("not logged in: run `secondsite login` (no profile at " + file + ")");
        }
        Profile profile;
        try {
            profile = MAPPER.readValue(file.toFile(), Profile.class);
        } catch (IOException e) {
            throw CliException.notLoggedIn("profile " + file + " is unreadable (" + e.getMessage()
                    + "): run `secondsite login` again");
        }
        if (profile.server() == null || profile.tenantId() == null || profile.clientId() == null
                || profile.clientSecret() == null) {
            throw CliException.notLoggedIn("profile " + file + " is incomplete: run `secondsite login` again");
        }
        return profile;
    }

    String subscriptionOrDefault() {
        return subscription == null || subscription.isBlank() ? DEFAULT_SUBSCRIPTION : subscription;
    }

    /** Writes the profile atomically (temporary file, then rename), readable by the owner only. */
    Path save() throws IOException {
        Path file = saveLocation();
        Path dir = file.getParent();
        boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
        if (!Files.isDirectory(dir)) {
            if (posix) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            } else {
                Files.createDirectories(dir);
            }
        }
        AtomicFiles.write(file, (MAPPER.writeValueAsString(this) + System.lineSeparator())
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return file;
    }
}
