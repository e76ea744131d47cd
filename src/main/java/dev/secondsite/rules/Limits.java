package dev.secondsite.rules;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The numbers the seed documents give, in one place. Sizes are binary: the seeds' "TB" is taken as TiB,
 * as Azure sizes disks in GiB/TiB.
 */
public final class Limits {
    private Limits() {}

    public static final long GIB = 1L << 30;
    public static final long TIB = 1L << 40;

    // ---- Seed 002: Hyper-V to Azure -----------------------------------------------------------------

    /** "VM name: Between 1 and 63 characters. Restricted to letters, numbers, and hyphens. Must start and end with a letter or number." */
    public static final int VM_NAME_MAX_LENGTH = 63;
    public static final Pattern VM_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    /** "Operating system disk size: Up to 2 TB for generation 1 VMs." */
    public static final long HYPERV_OS_DISK_MAX_GEN1 = 2 * TIB;
    /** "Up to 4 TB for generation 2 VMs." */
    public static final long HYPERV_OS_DISK_MAX_GEN2 = 4 * TIB;
    /** "Operating system disk count: 1." */
    public static final int HYPERV_OS_DISK_COUNT = 1;
    /** "Data disk count: 16 or less." */
    public static final int HYPERV_DATA_DISKS_MAX = 16;
    /** "Data disk VHD size: Up to 32 TB." */
    public static final long HYPERV_DATA_DISK_MAX = 32 * TIB;
    /** "Disk > 1 TB: Yes, up to 32 TB": above this a disk is "large". */
    public static final long HYPERV_LARGE_DISK = TIB;
    /** Large disks need "the replication provider ... any version after 2.0.9214.0" (exclusive). */
    public static final String HYPERV_LARGE_DISK_PROVIDER_AFTER = "2.0.9214.0";
    /** EFI/UEFI: "The OS disk should have up to five partitions or fewer." */
    public static final int HYPERV_GEN2_OS_PARTITIONS_MAX = 5;
    /** EFI/UEFI: "The VM should be running Windows Server 2012 and later only." */
    public static final ServerRelease HYPERV_GEN2_MIN_WINDOWS_SERVER = ServerRelease.R2012;
    /** 32-bit guests: only Windows Server 2008 ("32-bit (Windows Server 2008)/64-bit"). */
    public static final ServerRelease HYPERV_32BIT_WINDOWS_SERVER = ServerRelease.R2008;
    /** Hyper-V hosts: Windows Server 2022, 2019, 2016, 2012 R2. */
    public static final Set<ServerRelease> HYPERV_HOST_RELEASES =
            Set.copyOf(EnumSet.of(ServerRelease.R2012_R2, ServerRelease.R2016, ServerRelease.R2019, ServerRelease.R2022));
    /** Virtual Machine Manager 2022, 2019, 2016, 2012 R2. */
    public static final Set<ServerRelease> VMM_RELEASES = HYPERV_HOST_RELEASES;
    /** VMM 2022 "(Server core not supported)". */
    public static final ServerRelease VMM_NO_SERVER_CORE = ServerRelease.R2022;
    /** ".NET Framework 4.6.2 or higher is present on the on-premises server." */
    public static final String DOTNET_MIN_VERSION = "4.6.2";

    // ---- Seed 001: Government/public move through a configuration server -------------------------

    /** "The key is valid for five days after you generate it." */
    public static final Duration REGISTRATION_KEY_VALIDITY = Duration.ofDays(5);
    /** "If the system clock is 15 minutes ahead or behind, setup might fail." A skew of 15 minutes or more is refused. */
    public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(15);
    /** "Up to ... 72 hours for standard storage." */
    public static final Duration RETENTION_MAX_STANDARD = Duration.ofHours(72);
    /** "Up to 24 hours retention is supported for machines replicated to premium storage." */
    public static final Duration RETENTION_MAX_PREMIUM = Duration.ofHours(24);

    // ---- Seed 003: private endpoints ------------------------------------------------------------------

    /** "At least nine IP addresses are required in the subnets of both your source machines and your recovery machines." */
    public static final int PRIVATE_ENDPOINT_MIN_FREE_IPS = 9;
    /** "One additional IP address is required in both the source and recovery subnets" for a cache storage endpoint. */
    public static final int PRIVATE_ENDPOINT_CACHE_EXTRA_IPS = 1;

    /** "When you enable the replication, it adds two additional private links for the source and target region pairing." */
    public static final int PRIVATE_ENDPOINT_REPLICATION_LINKS = 2;

    /** Free IPs a subnet needs for the vault's private endpoint (seed 003). */
    public static int privateEndpointFreeIps(boolean cacheStoragePrivateEndpoint) {
        return PRIVATE_ENDPOINT_MIN_FREE_IPS + (cacheStoragePrivateEndpoint ? PRIVATE_ENDPOINT_CACHE_EXTRA_IPS : 0);
    }

    /** Exact and readable: "2 TiB", "2049 GiB", "1099511627777 bytes". */
    public static String bytes(long n) {
        if (n > 0 && n % TIB == 0) return n / TIB + " TiB";
        if (n > 0 && n % GIB == 0) return n / GIB + " GiB";
        return n + " bytes";
    }
}
