package dev.secondsite.cloud.compute;

import dev.secondsite.arm.ArmException;
import dev.secondsite.rules.TargetSizes;
import dev.secondsite.rules.VmSize;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The VM size catalogue of the local cloud: real Azure sizes with Azure's published vCPUs, memory,
 * data disk and NIC limits, premium storage support, Hyper-V generations and trusted launch support.
 * Every region offers every size. {@link #closest} is the seed-004 "same or closest size" over this
 * catalogue (rules.TargetSizes).
 */
public final class VmSizes {
    private static final Map<String, ComputeSize> BY_NAME = new LinkedHashMap<>();
    private static final Map<String, String> FAMILIES = new LinkedHashMap<>();

    static {
        // name, family, vCPUs, memory GiB, data disks, NICs, premium IO, gen1, gen2, trusted launch, temp disk GiB
        add("Standard_A1_v2", "standardAv2Family", "Standard Av2 Family vCPUs", 1, 2, 2, 2, false, true, false, false, 10);
        add("Standard_A2_v2", "standardAv2Family", "Standard Av2 Family vCPUs", 2, 4, 4, 2, false, true, false, false, 20);
        add("Standard_A4_v2", "standardAv2Family", "Standard Av2 Family vCPUs", 4, 8, 8, 4, false, true, false, false, 40);
        add("Standard_B1s", "standardBSFamily", "Standard BS Family vCPUs", 1, 1, 2, 2, true, true, true, true, 4);
        add("Standard_B2s", "standardBSFamily", "Standard BS Family vCPUs", 2, 4, 4, 3, true, true, true, true, 8);
        add("Standard_B2ms", "standardBSFamily", "Standard BS Family vCPUs", 2, 8, 4, 3, true, true, true, true, 16);
        add("Standard_DS1_v2", "standardDSv2Family", "Standard DSv2 Family vCPUs", 1, 3.5, 4, 2, true, true, true, true, 7);
        add("Standard_DS2_v2", "standardDSv2Family", "Standard DSv2 Family vCPUs", 2, 7, 8, 2, true, true, true, true, 14);
        add("Standard_D2_v3", "standardDv3Family", "Standard Dv3 Family vCPUs", 2, 8, 4, 2, false, true, true, true, 50);
        add("Standard_D2s_v3", "standardDSv3Family", "Standard DSv3 Family vCPUs", 2, 8, 4, 2, true, true, true, true, 16);
        add("Standard_D4s_v3", "standardDSv3Family", "Standard DSv3 Family vCPUs", 4, 16, 8, 2, true, true, true, true, 32);
        add("Standard_D8s_v3", "standardDSv3Family", "Standard DSv3 Family vCPUs", 8, 32, 16, 4, true, true, true, true, 64);
        add("Standard_D2s_v5", "standardDSv5Family", "Standard DSv5 Family vCPUs", 2, 8, 4, 2, true, true, true, true, 0);
        add("Standard_D4s_v5", "standardDSv5Family", "Standard DSv5 Family vCPUs", 4, 16, 8, 2, true, true, true, true, 0);
        add("Standard_E2s_v3", "standardESv3Family", "Standard ESv3 Family vCPUs", 2, 16, 4, 2, true, true, true, true, 32);
        add("Standard_E4s_v3", "standardESv3Family", "Standard ESv3 Family vCPUs", 4, 32, 8, 2, true, true, true, true, 64);
        add("Standard_F2s_v2", "standardFSv2Family", "Standard FSv2 Family vCPUs", 2, 4, 4, 2, true, true, true, true, 16);
        add("Standard_F4s_v2", "standardFSv2Family", "Standard FSv2 Family vCPUs", 4, 8, 8, 2, true, true, true, true, 32);
        // Generation 2 only, and no trusted launch (DCsv2 is an SGX confidential-computing size).
        add("Standard_DC2s_v2", "standardDCSv2Family", "Standard DCSv2 Family vCPUs", 2, 8, 2, 2, true, false, true, false, 100);
    }

    private VmSizes() {}

    private static void add(String name, String family, String familyDisplay, int vCpus, double memoryGib,
                            int maxDataDisks, int maxNics, boolean premiumIo, boolean gen1, boolean gen2,
                            boolean trustedLaunch, int resourceDiskGib) {
        BY_NAME.put(name.toLowerCase(Locale.ROOT), new ComputeSize(name, family, familyDisplay, vCpus,
                Math.round(memoryGib * 1024), maxDataDisks, maxNics, premiumIo, gen1, gen2, trustedLaunch,
                resourceDiskGib * 1024L));
        FAMILIES.put(family, familyDisplay);
    }

    public static Collection<ComputeSize> all() {
        return BY_NAME.values();
    }

    public static Optional<ComputeSize> find(String name) {
        return name == null ? Optional.empty() : Optional.ofNullable(BY_NAME.get(name.toLowerCase(Locale.ROOT)));
    }

    /** The size, or Azure's 400 for a size the region does not offer. */
    public static ComputeSize require(String name, String field, String location) {
        return find(name).orElseThrow(() -> new ArmException(400, "InvalidParameter", "The requested VM size '"
                + name + "' is not available in location '" + location + "'. The sizes available there are: "
                + String.join(", ", all().stream().map(ComputeSize::name).toList()) + ".", field, List.of()));
    }

    /** Quota family name to its display name ("standardDSv3Family" to "Standard DSv3 Family vCPUs"), in order. */
    public static Map<String, String> families() {
        return FAMILIES;
    }

    /** Every size as the rules see it, for rules.TargetSizes. */
    public static List<VmSize> asRuleSizes() {
        List<VmSize> sizes = new ArrayList<>();
        all().forEach(s -> sizes.add(s.toVmSize()));
        return sizes;
    }

    /** Seed 004: the same size if offered, else the closest one (never smaller); empty if nothing fits. */
    public static Optional<ComputeSize> closest(VmSize source) {
        return TargetSizes.pick(source, asRuleSizes()).flatMap(s -> find(s.name()));
    }
}
