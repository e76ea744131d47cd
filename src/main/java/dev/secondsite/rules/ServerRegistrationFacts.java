package dev.secondsite.rules;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A server registering with a vault using a vault registration key.
 *
 * @param now                 the service's time when the registration arrives
 * @param keyIssuedAt         when the registration key was generated
 * @param serverClock         the registering server's clock at the same moment
 * @param runAsAdministrator  setup runs as a local administrator
 * @param osRelease           the server's Windows Server release; null when unknown or not Windows Server
 * @param serverCore          the OS is a Server Core installation
 * @param vmmRelease          VMM_SERVER: the Virtual Machine Manager release; null otherwise
 * @param managedHostReleases VMM_SERVER: the Windows Server releases of the Hyper-V hosts it manages
 * @param dotNetVersion       installed .NET Framework version ("4.8"); null when none
 * @param azureBackupConfigured Azure Backup (MARS) is configured on this host
 * @param proxyUrl            the proxy the provider uses; null for a direct connection
 * @param ipv4Connectivity    the server reaches the service over IPv4
 * @param vaultTenantId       the tenant of the vault being registered to
 * @param registeredTenantId  Hyper-V: the tenant the site/host is already registered to; null when none
 */
public record ServerRegistrationFacts(ServerType type, Instant now, Instant keyIssuedAt, Instant serverClock,
                                      boolean runAsAdministrator, ServerRelease osRelease, boolean serverCore,
                                      ServerRelease vmmRelease, List<ServerRelease> managedHostReleases,
                                      String dotNetVersion, boolean azureBackupConfigured, String proxyUrl,
                                      boolean ipv4Connectivity, String vaultTenantId, String registeredTenantId)
        implements Facts {

    public enum ServerType { CONFIGURATION_SERVER, PROCESS_SERVER, HYPERV_HOST, VMM_SERVER }

    public ServerRegistrationFacts {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(now, "now");
        Objects.requireNonNull(keyIssuedAt, "keyIssuedAt");
        Objects.requireNonNull(serverClock, "serverClock");
        managedHostReleases = List.copyOf(managedHostReleases);
    }

    /** Builder with the times set; everything else unset (false / null / empty). */
    public static Builder builder(ServerType type, Instant now, Instant keyIssuedAt, Instant serverClock) {
        return new Builder(new ServerRegistrationFacts(type, now, keyIssuedAt, serverClock, false, null, false, null,
                List.of(), null, false, null, false, null, null));
    }

    /** How far the server's clock is from the service's, either way. */
    public Duration clockSkew() {
        return Duration.between(now, serverClock).abs();
    }

    public boolean hyperV() {
        return type == ServerType.HYPERV_HOST || type == ServerType.VMM_SERVER;
    }

    public ServerRegistrationFacts with(Consumer<Builder> change) {
        Builder b = new Builder(this);
        change.accept(b);
        return b.build();
    }

    public static final class Builder {
        private ServerType type;
        private Instant now;
        private Instant keyIssuedAt;
        private Instant serverClock;
        private boolean runAsAdministrator;
        private ServerRelease osRelease;
        private boolean serverCore;
        private ServerRelease vmmRelease;
        private List<ServerRelease> managedHostReleases;
        private String dotNetVersion;
        private boolean azureBackupConfigured;
        private String proxyUrl;
        private boolean ipv4Connectivity;
        private String vaultTenantId;
        private String registeredTenantId;

        private Builder(ServerRegistrationFacts s) {
            type = s.type; now = s.now; keyIssuedAt = s.keyIssuedAt; serverClock = s.serverClock;
            runAsAdministrator = s.runAsAdministrator; osRelease = s.osRelease; serverCore = s.serverCore;
            vmmRelease = s.vmmRelease; managedHostReleases = new ArrayList<>(s.managedHostReleases);
            dotNetVersion = s.dotNetVersion; azureBackupConfigured = s.azureBackupConfigured; proxyUrl = s.proxyUrl;
            ipv4Connectivity = s.ipv4Connectivity; vaultTenantId = s.vaultTenantId; registeredTenantId = s.registeredTenantId;
        }

        public Builder type(ServerType v) { type = v; return this; }
        public Builder now(Instant v) { now = v; return this; }
        public Builder keyIssuedAt(Instant v) { keyIssuedAt = v; return this; }
        public Builder serverClock(Instant v) { serverClock = v; return this; }
        public Builder runAsAdministrator(boolean v) { runAsAdministrator = v; return this; }
        public Builder osRelease(ServerRelease v) { osRelease = v; return this; }
        public Builder serverCore(boolean v) { serverCore = v; return this; }
        public Builder vmmRelease(ServerRelease v) { vmmRelease = v; return this; }
        public Builder managedHostReleases(List<ServerRelease> v) { managedHostReleases = new ArrayList<>(v); return this; }
        public Builder dotNetVersion(String v) { dotNetVersion = v; return this; }
        public Builder azureBackupConfigured(boolean v) { azureBackupConfigured = v; return this; }
        public Builder proxyUrl(String v) { proxyUrl = v; return this; }
        public Builder ipv4Connectivity(boolean v) { ipv4Connectivity = v; return this; }
        public Builder vaultTenantId(String v) { vaultTenantId = v; return this; }
        public Builder registeredTenantId(String v) { registeredTenantId = v; return this; }

        public ServerRegistrationFacts build() {
            return new ServerRegistrationFacts(type, now, keyIssuedAt, serverClock, runAsAdministrator, osRelease,
                    serverCore, vmmRelease, managedHostReleases, dotNetVersion, azureBackupConfigured, proxyUrl,
                    ipv4Connectivity, vaultTenantId, registeredTenantId);
        }
    }
}
