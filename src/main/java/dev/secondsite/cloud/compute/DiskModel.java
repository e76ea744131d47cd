package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Fields;
import dev.secondsite.resource.StoredResource;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What disks and snapshots share: SKUs and their performance tiers, sizes, states, attachments, and the
 * properties both accept (network access, security profile).
 */
final class DiskModel {
    static final long GIB = 1L << 30;
    /** Azure's largest managed disk: 32,767 GiB. */
    static final int DISK_SIZE_GB_MAX = 32_767;
    /** Azure's smallest upload: 20 MiB plus the 512-byte VHD footer. */
    static final long UPLOAD_BYTES_MIN = 20L * 1024 * 1024 + VhdFooters.SIZE;
    static final long UPLOAD_BYTES_MAX = 32L * 1024 * GIB + VhdFooters.SIZE;

    static final List<String> DISK_SKUS = List.of("Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS",
            "Premium_ZRS", "StandardSSD_ZRS", "PremiumV2_LRS");
    static final List<String> SNAPSHOT_SKUS = List.of("Standard_LRS", "Premium_LRS", "Standard_ZRS");
    static final List<String> OS_TYPES = List.of("Windows", "Linux");
    static final List<String> GENERATIONS = List.of("V1", "V2");
    static final List<String> NETWORK_ACCESS_POLICIES = List.of("AllowAll", "AllowPrivate", "DenyAll");
    static final List<String> ENABLED_DISABLED = List.of("Enabled", "Disabled");

    static final String UNATTACHED = "Unattached";
    static final String ATTACHED = "Attached";
    static final String RESERVED = "Reserved";
    static final String ACTIVE_SAS = "ActiveSAS";
    static final String READY_TO_UPLOAD = "ReadyToUpload";
    static final String ACTIVE_UPLOAD = "ActiveUpload";

    private DiskModel() {}

    static String state(JsonNode disk) {
        return disk.path("properties").path("diskState").asText(UNATTACHED);
    }

    static String uniqueId(JsonNode disk) {
        return disk.path("properties").path("uniqueId").asText();
    }

    static long dataBytes(JsonNode disk) {
        return disk.path("properties").path("diskSizeBytes").asLong();
    }

    static int sizeGb(JsonNode disk) {
        return disk.path("properties").path("diskSizeGB").asInt();
    }

    static String sku(JsonNode disk) {
        return disk.path("sku").path("name").asText("Standard_LRS");
    }

    static boolean premium(String sku) {
        String s = sku.toLowerCase(Locale.ROOT);
        return s.startsWith("premium") || s.startsWith("ultrassd");
    }

    static int maxShares(JsonNode disk) {
        return Math.max(1, disk.path("properties").path("maxShares").asInt(1));
    }

    static boolean shared(JsonNode disk) {
        return maxShares(disk) > 1;
    }

    static DiskFiles.Kind kind(StoredResource r) {
        return r.typeKey().equalsIgnoreCase(ComputeTypes.SNAPSHOT) ? DiskFiles.Kind.SNAPSHOT : DiskFiles.Kind.DISK;
    }

    /** The VMs a disk is attached to (managedBy, or managedByExtended for a shared disk). */
    static List<String> attachedTo(JsonNode disk) {
        List<String> vms = new ArrayList<>();
        for (JsonNode vm : disk.path("managedByExtended")) {
            vms.add(vm.asText());
        }
        if (vms.isEmpty() && disk.path("managedBy").isTextual() && !disk.path("managedBy").asText().isEmpty()) {
            vms.add(disk.path("managedBy").asText());
        }
        return vms;
    }

    static void setAttachedTo(ObjectNode disk, List<String> vms) {
        disk.remove("managedBy");
        disk.remove("managedByExtended");
        if (vms.isEmpty()) {
            return;
        }
        if (shared(disk)) {
            ArrayNode list = disk.putArray("managedByExtended");
            vms.forEach(list::add);
        } else {
            disk.put("managedBy", vms.getFirst());
        }
    }

    /** sku.tier as Azure reports it. */
    static String skuTier(String sku) {
        String s = sku.toLowerCase(Locale.ROOT);
        return s.startsWith("ultrassd") ? "Ultra" : s.startsWith("premium") ? "Premium" : "Standard";
    }

    private static final int[] TIER_GB = {4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767};
    private static final String[] TIER_NUM = {"1", "2", "3", "4", "6", "10", "15", "20", "30", "40", "50", "60", "70", "80"};
    private static final int[][] PREMIUM_PERF = {{120, 25}, {120, 25}, {120, 25}, {120, 25}, {240, 50}, {500, 100},
            {1100, 125}, {2300, 150}, {5000, 200}, {7500, 250}, {7500, 250}, {16000, 500}, {18000, 750}, {20000, 900}};
    private static final int[][] SSD_PERF = {{500, 60}, {500, 60}, {500, 60}, {500, 60}, {500, 60}, {500, 60},
            {500, 60}, {500, 60}, {500, 60}, {500, 60}, {500, 60}, {2000, 400}, {4000, 600}, {6000, 750}};
    private static final int[][] HDD_PERF = {{500, 60}, {500, 60}, {500, 60}, {500, 60}, {500, 60}, {500, 60},
            {500, 60}, {500, 60}, {500, 60}, {500, 60}, {500, 60}, {1300, 300}, {2000, 500}, {2000, 500}};

    private static int tierIndex(int sizeGb) {
        for (int i = 0; i < TIER_GB.length; i++) {
            if (sizeGb <= TIER_GB[i]) {
                return i;
            }
        }
        return TIER_GB.length - 1;
    }

    /** Performance tier, IOPS and MB/s of a disk of this SKU and size (Azure's published figures). */
    static void performance(ObjectNode properties, String sku, int sizeGb) {
        int i = tierIndex(sizeGb);
        String s = sku.toLowerCase(Locale.ROOT);
        int[] perf;
        if (s.startsWith("premium_")) {
            properties.put("tier", "P" + TIER_NUM[i]);
            perf = PREMIUM_PERF[i];
        } else if (s.startsWith("standardssd")) {
            perf = SSD_PERF[i];
        } else if (s.startsWith("standard_")) {
            perf = HDD_PERF[i];
        } else {
            perf = new int[] {3000, 125}; // UltraSSD / PremiumV2 baselines
        }
        properties.put("diskIOPSReadWrite", perf[0]);
        properties.put("diskMBpsReadWrite", perf[1]);
    }

    /**
     * maxShares: 1 (or absent) for a disk one VM uses; above 1 a shared disk, allowed on Premium SSD, Standard
     * SSD, Ultra and Premium SSD v2, within Azure's per-size limits (P15/E15 and up: 2 up to 512 GiB, 5 up to
     * 4 TiB, 10 above; Ultra and Premium v2: 15).
     */
    static void checkMaxShares(int maxShares, String sku, int sizeGb, String field) {
        if (maxShares <= 1) {
            return;
        }
        String s = sku.toLowerCase(Locale.ROOT);
        int limit;
        if (s.startsWith("ultrassd") || s.startsWith("premiumv2")) {
            limit = 15;
        } else if (s.startsWith("premium_") || s.startsWith("standardssd")) {
            if (sizeGb < 256) {
                throw new ArmException(400, "InvalidParameter", "Shared disks (maxShares " + maxShares + ") of SKU "
                        + sku + " must be at least 256 GiB (P15/E15); this disk is " + sizeGb + " GiB.", field, List.of());
            }
            limit = sizeGb <= 512 ? 2 : sizeGb <= 4096 ? 5 : 10;
        } else {
            throw new ArmException(400, "InvalidParameter", "Shared disks (maxShares > 1) are supported on Premium SSD, "
                    + "Standard SSD, Ultra Disk and Premium SSD v2 disks, not " + sku + ".", field, List.of());
        }
        if (maxShares > limit) {
            throw new ArmException(400, "InvalidParameter", "The maximum number of shares for a " + sizeGb + " GiB "
                    + sku + " disk is " + limit + "; maxShares is " + maxShares + ".", field, List.of());
        }
    }

    /** networkAccessPolicy, diskAccessId and publicNetworkAccess (default Enabled: seed 000 replica disks). */
    static void applyNetworkAccess(ObjectNode properties, Fields input) {
        input.oneOf("networkAccessPolicy", NETWORK_ACCESS_POLICIES).ifPresent(v -> properties.put("networkAccessPolicy", v));
        input.string("diskAccessId").ifPresent(v -> properties.put("diskAccessId", v));
        input.oneOf("publicNetworkAccess", ENABLED_DISABLED).ifPresent(v -> properties.put("publicNetworkAccess", v));
        if (!properties.has("networkAccessPolicy")) {
            properties.put("networkAccessPolicy", "AllowAll");
        }
        if (!properties.has("publicNetworkAccess")) {
            properties.put("publicNetworkAccess", dev.secondsite.rules.DocumentedDefaults.REPLICA_DISK_PUBLIC_NETWORK_ACCESS);
        }
        if (properties.path("networkAccessPolicy").asText().equals("AllowPrivate")
                && properties.path("diskAccessId").asText("").isEmpty()) {
            throw new ArmException(400, "InvalidParameter", "networkAccessPolicy AllowPrivate needs "
                    + "properties.diskAccessId, the disk access resource to export and import through.",
                    "properties.diskAccessId", List.of());
        }
        if (!properties.path("networkAccessPolicy").asText().equals("AllowPrivate")) {
            properties.remove("diskAccessId");
        }
    }

    /** securityProfile.securityType: TrustedLaunch (needs a V2 disk); confidential VM types are not offered. */
    static String securityType(Fields properties, String hyperVGeneration) {
        Fields security = properties.object("securityProfile");
        if (!security.present()) {
            return null;
        }
        String type = security.string("securityType").orElse(null);
        if (type == null || type.equalsIgnoreCase("Standard")) {
            return null;
        }
        if (!type.equalsIgnoreCase("TrustedLaunch")) {
            throw new ArmException(400, "InvalidParameter", "Security type '" + type + "' is not offered by the local "
                    + "cloud; use TrustedLaunch or omit securityProfile.", "properties.securityProfile.securityType",
                    List.of());
        }
        if (!"V2".equals(hyperVGeneration)) {
            throw new ArmException(400, "InvalidParameter", "Security type TrustedLaunch requires hyperVGeneration V2; "
                    + "this disk is " + (hyperVGeneration == null ? "V1 (the default)" : hyperVGeneration) + ".",
                    "properties.securityProfile.securityType", List.of());
        }
        return "TrustedLaunch";
    }

    static boolean trustedLaunch(JsonNode disk) {
        return "TrustedLaunch".equals(disk.path("properties").path("securityProfile").path("securityType").asText());
    }

    /** A long field (Fields has whole numbers up to int only). */
    static java.util.Optional<Long> longField(Fields fields, String name, long min, long max) {
        JsonNode v = fields.raw(name);
        if (v.isMissingNode() || v.isNull()) {
            return java.util.Optional.empty();
        }
        long value;
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            value = v.asLong();
        } else if (v.isTextual() && v.asText().matches("\\d{1,19}")) {
            value = Long.parseLong(v.asText());
        } else {
            throw ArmException.invalidField(fields.path(name), "must be a whole number, got " + v + ".");
        }
        if (value < min || value > max) {
            throw ArmException.invalidField(fields.path(name), "must be between " + min + " and " + max + ", got " + value + ".");
        }
        return java.util.Optional.of(value);
    }
}
