package dev.secondsite.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A virtual machine (Azure VM, Hyper-V VM, or a physical server treated as one) as the rules see it.
 *
 * @param osName                  the guest OS product name as reported ("Windows Server 2019 Datacenter",
 *                                "Ubuntu 22.04"); null when unknown
 * @param generation              1 (BIOS) or 2 (UEFI)
 * @param size                    vCPUs and memory (and the Azure size name, when it has one)
 * @param disks                   every attached disk; excluded ones carry {@link DiskFacts.Trait#EXCLUDED}
 * @param managedDisks            the source VM's disks are managed disks (false: page blobs in storage accounts)
 * @param latestRootCertificates  the guest has the current trusted root certificates and CRLs (seed 004)
 * @param protectedByAsr          the VM is currently protected (replicating) by Site Recovery
 */
public record VmFacts(String name, OsType osType, String osName, Architecture architecture, int generation,
                      SecurityType securityType, boolean secureBoot, boolean vTpm, VmSize size,
                      List<DiskFacts> disks, boolean managedDisks, List<NicFacts> nics,
                      boolean latestRootCertificates, boolean protectedByAsr) {

    public enum OsType { WINDOWS, LINUX }

    public enum Architecture { X64, X86 }

    /** Azure VM security types (Confidential VMs are not covered by the seeds). */
    public enum SecurityType { STANDARD, TRUSTED_LAUNCH }

    public VmFacts {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(osType, "osType");
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(securityType, "securityType");
        Objects.requireNonNull(size, "size");
        if (generation != 1 && generation != 2) throw new IllegalArgumentException("generation must be 1 or 2: " + generation);
        disks = List.copyOf(disks);
        nics = List.copyOf(nics);
    }

    /**
     * A builder; osType, generation and size must be set. Unset booleans are false: a fact nobody
     * reported (say, latest root certificates) counts as absent, so rules err towards flagging it.
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    public VmFacts with(Consumer<Builder> change) {
        Builder b = new Builder(this);
        change.accept(b);
        return b.build();
    }

    public boolean trustedLaunch() { return securityType == SecurityType.TRUSTED_LAUNCH; }
    public int cores() { return size.cores(); }
    public long memoryMb() { return size.memoryMb(); }
    public int nicCount() { return nics.size(); }
    /** The disks that replicate (all but the excluded ones). */
    public List<DiskFacts> replicatedDisks() { return disks.stream().filter(DiskFacts::replicated).toList(); }
    public List<DiskFacts> osDisks() { return disks.stream().filter(DiskFacts::osDisk).toList(); }
    /** Replicated data disks. */
    public List<DiskFacts> dataDisks() { return replicatedDisks().stream().filter(d -> !d.osDisk()).toList(); }
    public Optional<DiskFacts> osDisk() { return osDisks().stream().findFirst(); }
    public boolean bitLocker() { return replicatedDisks().stream().anyMatch(DiskFacts::bitLocker); }

    /** Windows Server Nano Server (seed 002: not supported). */
    public boolean nanoServer() {
        return osName != null && osName.toLowerCase(Locale.ROOT).contains("nano server");
    }

    /** The Windows Server release, when the guest is Windows Server. */
    public Optional<ServerRelease> windowsServerRelease() {
        if (osType != OsType.WINDOWS || osName == null || !osName.toLowerCase(Locale.ROOT).contains("server")) {
            return Optional.empty();
        }
        return ServerRelease.parse(osName);
    }

    public static final class Builder {
        private String name;
        private OsType osType;
        private String osName;
        private Architecture architecture = Architecture.X64;
        private int generation;
        private SecurityType securityType = SecurityType.STANDARD;
        private boolean secureBoot;
        private boolean vTpm;
        private VmSize size;
        private List<DiskFacts> disks = new ArrayList<>();
        private boolean managedDisks;
        private List<NicFacts> nics = new ArrayList<>();
        private boolean latestRootCertificates;
        private boolean protectedByAsr;

        private Builder(String name) {
            this.name = name;
        }

        private Builder(VmFacts v) {
            name = v.name; osType = v.osType; osName = v.osName; architecture = v.architecture;
            generation = v.generation; securityType = v.securityType; secureBoot = v.secureBoot; vTpm = v.vTpm;
            size = v.size; disks = new ArrayList<>(v.disks); managedDisks = v.managedDisks;
            nics = new ArrayList<>(v.nics); latestRootCertificates = v.latestRootCertificates;
            protectedByAsr = v.protectedByAsr;
        }

        public Builder name(String v) { name = v; return this; }
        public Builder osType(OsType v) { osType = v; return this; }
        public Builder osName(String v) { osName = v; return this; }
        public Builder architecture(Architecture v) { architecture = v; return this; }
        public Builder generation(int v) { generation = v; return this; }
        public Builder securityType(SecurityType v) { securityType = v; return this; }
        public Builder secureBoot(boolean v) { secureBoot = v; return this; }
        public Builder vTpm(boolean v) { vTpm = v; return this; }
        public Builder size(VmSize v) { size = v; return this; }
        public Builder disks(List<DiskFacts> v) { disks = new ArrayList<>(v); return this; }
        public Builder disk(DiskFacts v) { disks.add(v); return this; }
        public Builder managedDisks(boolean v) { managedDisks = v; return this; }
        public Builder nics(List<NicFacts> v) { nics = new ArrayList<>(v); return this; }
        public Builder nic(NicFacts v) { nics.add(v); return this; }
        public Builder latestRootCertificates(boolean v) { latestRootCertificates = v; return this; }
        public Builder protectedByAsr(boolean v) { protectedByAsr = v; return this; }

        /** Replaces the disk with the same id. */
        public Builder replaceDisk(String id, Consumer<DiskFacts.Builder> change) {
            disks.replaceAll(d -> d.id().equals(id) ? d.with(change) : d);
            return this;
        }

        public VmFacts build() {
            return new VmFacts(name, osType, osName, architecture, generation, securityType, secureBoot, vTpm, size,
                    disks, managedDisks, nics, latestRootCertificates, protectedByAsr);
        }
    }
}
