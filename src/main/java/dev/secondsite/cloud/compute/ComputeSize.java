package dev.secondsite.cloud.compute;

import dev.secondsite.rules.VmSize;

/**
 * One VM size of the local cloud, with the figures Azure publishes for it.
 *
 * @param family         the vCPU quota family, as Azure's usages API names it ("standardDSv3Family")
 * @param familyDisplay  the family's localized name ("Standard DSv3 Family vCPUs")
 * @param maxDataDisks   data disks the size can attach
 * @param maxNics        network interfaces the size can attach
 * @param premiumIo      premium (SSD) managed disks can be attached
 * @param gen1           boots Hyper-V generation 1 (BIOS) disks
 * @param gen2           boots Hyper-V generation 2 (UEFI) disks
 * @param trustedLaunch  can run as a trusted launch VM (secure boot, vTPM)
 */
public record ComputeSize(String name, String family, String familyDisplay, int vCpus, long memoryMb,
                          int maxDataDisks, int maxNics, boolean premiumIo, boolean gen1, boolean gen2,
                          boolean trustedLaunch, long resourceDiskMb) {

    /** Azure's OS disk size limit for every size (1023 GiB expressed in MB, as vmSizes reports it). */
    public static final long OS_DISK_SIZE_MB = 1_047_552;

    /** The size as the rule catalogue sees it (rules.TargetSizes picks from these). */
    public VmSize toVmSize() {
        return new VmSize(name, vCpus, memoryMb);
    }

    /** "V1", "V2" or "V1,V2", as the resource SKUs API lists HyperVGenerations. */
    public String hyperVGenerations() {
        return gen1 && gen2 ? "V1,V2" : gen2 ? "V2" : "V1";
    }

    public boolean supportsGeneration(String hyperVGeneration) {
        return "V2".equalsIgnoreCase(hyperVGeneration) ? gen2 : gen1;
    }
}
