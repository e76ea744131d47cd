package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;

import java.util.ArrayList;
import java.util.List;

/**
 * A virtual machine request body, read and checked field by field (every error names its field): the size,
 * the OS disk, data disks, OS profile, NICs and security profile. Rules that need the store (does the disk
 * exist, is it free, is there quota) are {@link VirtualMachines}' job.
 */
record VmSpec(ComputeSize size, OsDisk os, List<DataDisk> dataDisks, boolean dataDisksGiven, ObjectNode osProfile,
              List<Nic> nics, boolean nicsGiven, String securityType, Boolean secureBoot, Boolean vTpm,
              boolean securityGiven, boolean uefiGiven, ObjectNode imageReference, ObjectNode tags,
              ObjectNode passThrough) {

    static final List<String> OS_CREATE = List.of("FromImage", "Attach", "Empty");
    static final List<String> DATA_CREATE = List.of("Empty", "Attach", "FromImage", "Copy", "Restore");
    static final List<String> CACHING = List.of("None", "ReadOnly", "ReadWrite");
    static final List<String> DELETE_OPTIONS = List.of("Delete", "Detach");
    static final List<String> SECURITY_TYPES = List.of("Standard", "TrustedLaunch", "ConfidentialVM");
    static final int LUN_MAX = 63;
    static final int OS_DISK_GB_MAX = 4095;

    record OsDisk(String createOption, String diskId, Integer sizeGb, String name, String osType, String sku,
                  String caching, String deleteOption) {}

    record DataDisk(int lun, String createOption, String diskId, Integer sizeGb, String name, String sku,
                    String caching, String deleteOption, boolean writeAccelerator, boolean toBeDetached, String field) {}

    record Nic(String id, Boolean primary, String deleteOption, String field) {}

    static VmSpec parse(Fields body, String location, JsonNode currentTags) {
        Fields properties = body.object("properties");
        Fields hardware = properties.object("hardwareProfile");
        String sizeName = hardware.string("vmSize")
                .orElseThrow(() -> ArmException.missingField("properties.hardwareProfile.vmSize"));
        ComputeSize size = VmSizes.require(sizeName, "properties.hardwareProfile.vmSize", location);

        Fields storage = properties.object("storageProfile");
        OsDisk os = null;
        Fields osDisk = storage.object("osDisk");
        if (osDisk.present()) {
            Fields managed = osDisk.object("managedDisk");
            os = new OsDisk(osDisk.oneOf("createOption", OS_CREATE).orElse(null),
                    managed.string("id").orElse(null),
                    osDisk.integer("diskSizeGB", 1, OS_DISK_GB_MAX).orElse(null),
                    osDisk.string("name").orElse(null),
                    osDisk.oneOf("osType", DiskModel.OS_TYPES).orElse(null),
                    managed.oneOf("storageAccountType", DiskModel.DISK_SKUS).orElse(null),
                    osDisk.oneOf("caching", CACHING).orElse(null),
                    osDisk.oneOf("deleteOption", DELETE_OPTIONS).orElse(null));
            if (os.createOption() == null) {
                throw ArmException.missingField("properties.storageProfile.osDisk.createOption");
            }
            if (os.createOption().equals("Attach") && os.diskId() == null) {
                throw ArmException.missingField("properties.storageProfile.osDisk.managedDisk.id");
            }
            osDisk.object("vhd").string("uri").ifPresent(u -> {
                throw ArmException.invalidField("properties.storageProfile.osDisk.vhd",
                        "unmanaged (storage account VHD) disks are not supported; use managed disks.");
            });
        }
        ObjectNode imageReference = storage.objectNode("imageReference").map(ObjectNode::deepCopy).orElse(null);

        boolean dataGiven = storage.has("dataDisks");
        List<DataDisk> dataDisks = new ArrayList<>();
        ArrayNode rawData = ComputeTypes.array(storage, "dataDisks");
        for (int i = 0; i < rawData.size(); i++) {
            String field = "properties.storageProfile.dataDisks[" + i + "]";
            Fields d = Fields.of(rawData.get(i), field);
            int lun = d.integer("lun", 0, LUN_MAX).orElseThrow(() -> ArmException.missingField(field + ".lun"));
            Fields managed = d.object("managedDisk");
            String create = d.oneOf("createOption", DATA_CREATE).orElseThrow(() -> ArmException.missingField(field + ".createOption"));
            if (!create.equals("Empty") && !create.equals("Attach")) {
                throw new ArmException(400, "InvalidParameter", "Data disk createOption '" + create + "' is not "
                        + "supported by the local cloud; use Empty (a new disk) or Attach (an existing one).",
                        field + ".createOption", List.of());
            }
            String diskId = managed.string("id").orElse(null);
            if (create.equals("Attach") && diskId == null) {
                throw ArmException.missingField(field + ".managedDisk.id");
            }
            dataDisks.add(new DataDisk(lun, create, diskId,
                    d.integer("diskSizeGB", 1, DiskModel.DISK_SIZE_GB_MAX).orElse(null),
                    d.string("name").orElse(null),
                    managed.oneOf("storageAccountType", DiskModel.DISK_SKUS).orElse(null),
                    d.oneOf("caching", CACHING).orElse(null),
                    d.oneOf("deleteOption", DELETE_OPTIONS).orElse(null),
                    ComputeTypes.bool(d, "writeAcceleratorEnabled").orElse(false),
                    ComputeTypes.bool(d, "toBeDetached").orElse(false), field));
        }

        ObjectNode osProfile = properties.objectNode("osProfile").map(VmSpec::sanitizeOsProfile).orElse(null);

        Fields network = properties.object("networkProfile");
        boolean nicsGiven = network.has("networkInterfaces");
        List<Nic> nics = new ArrayList<>();
        ArrayNode rawNics = ComputeTypes.array(network, "networkInterfaces");
        for (int i = 0; i < rawNics.size(); i++) {
            String field = "properties.networkProfile.networkInterfaces[" + i + "]";
            Fields n = Fields.of(rawNics.get(i), field);
            Fields p = n.object("properties");
            nics.add(new Nic(n.requiredString("id"), ComputeTypes.bool(p, "primary").orElse(null),
                    p.oneOf("deleteOption", DELETE_OPTIONS).orElse(null), field));
        }
        network.objectNode("networkInterfaceConfigurations").ifPresent(v -> {
            throw ArmException.invalidField("properties.networkProfile.networkInterfaceConfigurations",
                    "create the network interfaces first (Microsoft.Network/networkInterfaces) and list them in "
                            + "networkInterfaces.");
        });

        Fields security = properties.object("securityProfile");
        String securityType = null;
        Boolean secureBoot = null;
        Boolean vTpm = null;
        Fields uefi = security.object("uefiSettings");
        if (security.present()) {
            securityType = security.oneOf("securityType", SECURITY_TYPES).orElse(null);
            if ("ConfidentialVM".equals(securityType)) {
                throw new ArmException(400, "InvalidParameter", "Confidential VMs are not offered by the local cloud; "
                        + "use securityType TrustedLaunch or Standard.", "properties.securityProfile.securityType", List.of());
            }
            secureBoot = ComputeTypes.bool(uefi, "secureBootEnabled").orElse(null);
            vTpm = ComputeTypes.bool(uefi, "vTpmEnabled").orElse(null);
        }

        ObjectNode passThrough = Json.object();
        for (String key : List.of("diagnosticsProfile", "licenseType", "additionalCapabilities", "priority",
                "evictionPolicy", "availabilitySet", "userData")) {
            JsonNode v = properties.raw(key);
            if (!v.isMissingNode() && !v.isNull()) {
                passThrough.set(key, v.deepCopy());
            }
        }
        return new VmSpec(size, os, dataDisks, dataGiven, osProfile, nics, nicsGiven, securityType, secureBoot, vTpm,
                security.present(), uefi.present(), imageReference, ComputeTypes.tags(body, currentTags), passThrough);
    }

    /** The OS profile as it is kept and returned: no adminPassword, no customData (Azure never returns them). */
    private static ObjectNode sanitizeOsProfile(ObjectNode input) {
        Fields f = Fields.of(input, "properties.osProfile");
        ObjectNode out = Json.object();
        f.string("computerName").ifPresent(v -> out.put("computerName", v));
        f.string("adminUsername").ifPresent(v -> out.put("adminUsername", v));
        for (String key : List.of("windowsConfiguration", "linuxConfiguration", "secrets")) {
            JsonNode v = input.path(key);
            if (!v.isMissingNode() && !v.isNull()) {
                out.set(key, v.deepCopy());
            }
        }
        if (out.has("windowsConfiguration") && out.has("linuxConfiguration")) {
            throw ArmException.invalidField("properties.osProfile", "give windowsConfiguration or linuxConfiguration, not both.");
        }
        if (!out.has("secrets")) {
            out.putArray("secrets");
        }
        out.put("allowExtensionOperations", input.path("allowExtensionOperations").asBoolean(true));
        out.put("requireGuestProvisionSignal", true);
        return out;
    }

    boolean trustedLaunch() {
        return "TrustedLaunch".equals(securityType);
    }
}
