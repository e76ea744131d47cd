package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.auth.Rbac;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;
import dev.secondsite.cloud.network.NetworkInterfaces;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.DiskFacts;
import dev.secondsite.rules.Operation;
import dev.secondsite.rules.RuleCatalogue;
import dev.secondsite.rules.VmFacts;
import dev.secondsite.rules.VmUpdateFacts;
import dev.secondsite.vault.VaultScope;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Virtual machines (Microsoft.Compute/virtualMachines) of the local cloud: create (with an attached OS disk,
 * or an OS disk and empty data disks the VM creates), update (PUT or PATCH: size, data disks, NICs, security
 * profile, tags), delete, power actions (start, powerOff, deallocate, restart) and the instance view.
 *
 * <p>Every change runs in its region's lock and one transaction ({@link RegionLocks}): it is validated
 * against the store (disks exist and are free, NICs exist and are free, quota has room), then the VM, the
 * disks it creates or attaches and the NICs it joins are written together. A failure leaves nothing behind:
 * the rows roll back and the files of disks it created are deleted.
 *
 * <p>Azure's rules enforced here: the size must boot the OS disk's Hyper-V generation; trusted launch needs a
 * trusted-launch size and a generation 2 OS disk, and uefiSettings need trusted launch; premium disks need a
 * premium-IO size; at most the size's data disks and NICs, unique LUNs, one primary NIC; a disk attached
 * elsewhere is refused unless it is shared (maxShares); Windows computer names of at most 15 characters. The
 * seed-000 rule against converting an ASR-protected VM to trusted launch runs through the rule catalogue.
 */
public final class VirtualMachines {
    /** 1-64 letters, digits, '.', '_', '-'; starts with a letter or digit, does not end with '.' or '-'. */
    static final Pattern NAME = Pattern.compile("^[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9_])?$");
    private static final Pattern WINDOWS_NAME_BAD = Pattern.compile("[`~!@#$%^&*()=+_\\[\\]{}\\\\|;:.'\",<>/?\\s]");
    private static final Pattern LINUX_NAME_BAD = Pattern.compile("[`~!@#$%^&*()=+_\\[\\]{}\\\\|;:'\",<>/?\\s]");
    private static final int WINDOWS_OS_DISK_GB = 127;
    private static final int LINUX_OS_DISK_GB = 30;

    private final ResourceStore resources;
    private final VaultScope scope;
    private final RegionLocks locks;
    private final Quotas quotas;
    private final Disks disks;
    private final DiskFiles files;
    private final DiskAccess access;
    private final ComputeOperations operations;
    private final Rbac rbac;
    private final NetworkInterfaces nics;
    private final ProtectedVms protectedVms;

    VirtualMachines(ResourceStore resources, VaultScope scope, RegionLocks locks, Quotas quotas, Disks disks,
                    DiskFiles files, DiskAccess access, ComputeOperations operations, Rbac rbac, NetworkInterfaces nics) {
        this.resources = resources;
        this.scope = scope;
        this.locks = locks;
        this.quotas = quotas;
        this.disks = disks;
        this.files = files;
        this.access = access;
        this.operations = operations;
        this.rbac = rbac;
        this.nics = nics;
        this.protectedVms = new ProtectedVms(resources);
    }

    // ====================================================================== ARM handlers

    public ArmResponse put(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name();
        if (!NAME.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidResourceName", "The VM name '" + name + "' is invalid: use 1-64 "
                    + "letters, digits, '.', '_' or '-', starting with a letter or digit and not ending with '.' or '-'.");
        }
        Fields body = Fields.of(request.bodyObject(), "");
        Region region = Regions.require(body.string("location").orElseThrow(() -> new ArmException(400,
                "LocationRequired", "The location property is required for this definition.", "location", List.of())),
                "location");
        String id = group.id() + "/providers/" + ComputeTypes.VM + "/" + name;
        Optional<StoredResource> existing = resources.find(id);
        VmSpec spec = VmSpec.parse(body, region.name(), existing.map(e -> e.body().path("tags")).orElse(null));
        return locks.inRegion(request.path().subscriptionId(), region.name(), () -> {
            Optional<StoredResource> current = resources.find(id);
            if (current.isPresent()) {
                Disks.checkSameLocation(current.get(), region, group);
                return ArmResponse.ok(view(apply(request, group, id, name, region, spec, current.get()), false));
            }
            return ArmResponse.created(view(apply(request, group, id, name, region, spec, null), false));
        });
    }

    /** PATCH: the patch merged into the current model (objects merge, arrays replace), then applied like a PUT. */
    public ArmResponse patch(ArmRequest request) {
        StoredResource current = require(request);
        StoredResource group = scope.requireGroup(request.path());
        ObjectNode merged = current.bodyCopy();
        ((ObjectNode) merged.path("properties")).remove("instanceView");
        ComputeTypes.merge(merged, request.bodyObject());
        JsonNode patchSecurity = request.bodyObject().path("properties").path("securityProfile");
        if (patchSecurity.has("securityType") && !patchSecurity.has("uefiSettings")
                && !"TrustedLaunch".equals(patchSecurity.path("securityType").asText())) {
            // Rolling back from trusted launch: the old uefiSettings go with it.
            ((ObjectNode) merged.path("properties").path("securityProfile")).remove("uefiSettings");
        }
        Region region = Regions.require(current.body().path("location").asText(), "location");
        if (request.bodyObject().has("location")
                && !Regions.require(request.bodyObject().path("location").asText(), "location").name().equals(region.name())) {
            throw new ArmException(409, "InvalidResourceLocation", "A VM can't move to another location.");
        }
        Fields body = Fields.of(merged, "");
        VmSpec spec = VmSpec.parse(body, region.name(), current.body().path("tags"));
        return locks.inRegion(request.path().subscriptionId(), region.name(), () -> ArmResponse.ok(view(
                apply(request, group, current.id(), current.name(), region, spec, require(request)), false)));
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(view(require(request).bodyCopy(), expandInstanceView(request)));
    }

    public ArmResponse list(ArmRequest request) {
        boolean expand = expandInstanceView(request) || "true".equalsIgnoreCase(request.query().get("statusOnly"));
        return ArmResponse.ok(ComputeTypes.list(disks.listOf(request, ComputeTypes.VM), r -> view(r.bodyCopy(), expand)));
    }

    /** GET …/virtualMachines/{vm}/instanceView */
    public ArmResponse instanceView(ArmRequest request) {
        StoredResource vm = requireByName(request, request.path().name(0));
        ObjectNode view = vm.body().path("properties").path("instanceView").deepCopy();
        ArrayNode diskViews = view.putArray("disks");
        JsonNode storage = vm.body().path("properties").path("storageProfile");
        List<JsonNode> all = new ArrayList<>();
        all.add(storage.path("osDisk"));
        storage.path("dataDisks").forEach(all::add);
        for (JsonNode d : all) {
            if (d.isMissingNode()) {
                continue;
            }
            ObjectNode dv = diskViews.addObject();
            dv.put("name", d.path("name").asText());
            ObjectNode s = dv.putArray("statuses").addObject();
            s.put("code", "ProvisioningState/succeeded");
            s.put("level", "Info");
            s.put("displayStatus", "Provisioning succeeded");
            s.put("time", vm.body().path("properties").path("timeCreated").asText());
        }
        return ArmResponse.ok(view);
    }

    /** GET …/virtualMachines/{vm}/vmSizes: the sizes this VM can be resized to (same generation, trusted launch). */
    public ArmResponse resizeOptions(ArmRequest request) {
        StoredResource vm = requireByName(request, request.path().name(0));
        String generation = vm.body().path("properties").path("instanceView").path("hyperVGeneration").asText("V1");
        boolean tl = "TrustedLaunch".equals(vm.body().path("properties").path("securityProfile").path("securityType").asText());
        return ArmResponse.ok(SizesApi.vmSizes(VmSizes.all().stream()
                .filter(s -> s.supportsGeneration(generation) && (!tl || s.trustedLaunch())).toList()));
    }

    public ArmResponse delete(ArmRequest request) {
        scope.requireGroup(request.path());
        Optional<StoredResource> found = resources.find(request.path().resourceId());
        if (found.isEmpty()) {
            return ArmResponse.noContent();
        }
        List<StoredResource> deletedDisks = new ArrayList<>();
        locks.inRegion(request.path().subscriptionId(), found.get().body().path("location").asText(), () -> {
            Optional<StoredResource> vm = resources.find(request.path().resourceId());
            if (vm.isEmpty()) {
                return null;
            }
            String vmId = vm.get().id();
            JsonNode storage = vm.get().body().path("properties").path("storageProfile");
            List<JsonNode> attached = new ArrayList<>();
            attached.add(storage.path("osDisk"));
            storage.path("dataDisks").forEach(attached::add);
            for (JsonNode d : attached) {
                String diskId = d.path("managedDisk").path("id").asText("");
                if (diskId.isEmpty()) {
                    continue;
                }
                Optional<StoredResource> disk = resources.find(diskId);
                if (disk.isEmpty()) {
                    continue;
                }
                if ("Delete".equals(d.path("deleteOption").asText())) {
                    access.revokeAll(disk.get().id());
                    resources.delete(disk.get().id());
                    deletedDisks.add(disk.get());
                } else {
                    detachDisk(disk.get(), vmId);
                }
            }
            for (JsonNode n : vm.get().body().path("properties").path("networkProfile").path("networkInterfaces")) {
                String nicId = n.path("id").asText();
                nics.detach(nicId, vmId);
                if ("Delete".equals(n.path("properties").path("deleteOption").asText())) {
                    resources.find(nicId).ifPresent(nic -> resources.delete(nic.id()));
                }
            }
            resources.delete(vmId);
            return null;
        });
        for (StoredResource d : deletedDisks) {
            files.delete(DiskFiles.Kind.DISK, DiskModel.uniqueId(d.body()));
        }
        return ArmResponse.ok(null);
    }

    public ArmResponse start(ArmRequest request) {
        return power(request, "start");
    }

    public ArmResponse powerOff(ArmRequest request) {
        return power(request, "powerOff");
    }

    public ArmResponse deallocate(ArmRequest request) {
        return power(request, "deallocate");
    }

    public ArmResponse restart(ArmRequest request) {
        return power(request, "restart");
    }

    private ArmResponse power(ArmRequest request, String action) {
        StoredResource found = require(request);
        locks.inRegion(request.path().subscriptionId(), found.body().path("location").asText(), () -> {
            StoredResource vm = require(request);
            ObjectNode body = vm.bodyCopy();
            String state = ComputeTypes.powerState(body);
            String next = switch (action) {
                case "start" -> ComputeTypes.RUNNING;
                case "powerOff" -> {
                    if (state.equals(ComputeTypes.DEALLOCATED)) {
                        throw ArmException.conflict("OperationNotAllowed", "Operation 'powerOff' is not allowed on VM '"
                                + vm.name() + "' since the VM is deallocated.");
                    }
                    yield ComputeTypes.STOPPED;
                }
                case "restart" -> {
                    if (!state.equals(ComputeTypes.RUNNING)) {
                        throw ArmException.conflict("OperationNotAllowed", "Operation 'restart' is not allowed on VM '"
                                + vm.name() + "' since the VM is " + (state.equals(ComputeTypes.DEALLOCATED)
                                ? "deallocated" : "stopped") + ". Start it instead.");
                    }
                    yield ComputeTypes.RUNNING;
                }
                default -> ComputeTypes.DEALLOCATED;
            };
            if (state.equals(ComputeTypes.DEALLOCATED) && !next.equals(ComputeTypes.DEALLOCATED)) {
                // Starting a deallocated VM claims its cores again.
                ComputeSize size = VmSizes.require(body.path("properties").path("hardwareProfile").path("vmSize").asText(),
                        "properties.hardwareProfile.vmSize", body.path("location").asText());
                quotas.require(request.path().subscriptionId(), body.path("location").asText(), size, size.vCpus(), size.vCpus());
            }
            if (!next.equals(state)) {
                setPowerState(body, next);
                StoredResource saved = save(vm, body);
                refreshDiskStates(saved.body());
            }
            return null;
        });
        return operations.accepted(request, found.id(), null);
    }

    // ====================================================================== create and update

    /** Applies a VM spec: creates the VM (current == null) or changes it. Runs in the region's transaction. */
    private ObjectNode apply(ArmRequest request, StoredResource group, String id, String name, Region region, VmSpec spec,
                             StoredResource current) {
        boolean creating = current == null;
        ObjectNode vm = creating ? null : current.bodyCopy();
        JsonNode curProps = creating ? Json.object() : current.body().path("properties"); // unchanged original
        boolean allocated = creating || ComputeTypes.allocated(vm);
        String subscription = request.path().subscriptionId();
        ComputeSize size = spec.size();
        List<String> createdFiles = new ArrayList<>();
        try {
            // ---------------- OS disk: which disk, which OS, which generation
            String osType;
            String generation;
            StoredResource osDiskToAttach = null;
            VmSpec.OsDisk os = spec.os();
            ObjectNode osDiskOut;
            if (creating) {
                if (os == null) {
                    if (spec.imageReference() == null) {
                        throw ArmException.missingField("properties.storageProfile.osDisk");
                    }
                    os = new VmSpec.OsDisk("FromImage", null, null, null, null, null, null, null);
                }
                if (os.createOption().equals("Attach")) {
                    osDiskToAttach = attachableDisk(request, os.diskId(), "properties.storageProfile.osDisk.managedDisk.id",
                            region, id);
                    JsonNode dp = osDiskToAttach.properties();
                    osType = os.osType() != null ? os.osType() : dp.path("osType").asText(null);
                    if (osType == null) {
                        throw new ArmException(400, "InvalidParameter", "Required parameter 'osDisk.osType' is missing "
                                + "(null): disk '" + osDiskToAttach.name() + "' has no osType, so say which OS it boots.",
                                "properties.storageProfile.osDisk.osType", List.of());
                    }
                    generation = dp.path("hyperVGeneration").asText("V1");
                    if (spec.osProfile() != null) {
                        throw new ArmException(400, "InvalidParameter", "Parameter 'osProfile' is not allowed when the "
                                + "OS disk is attached (createOption Attach): the disk is already provisioned.",
                                "properties.osProfile", List.of());
                    }
                } else {
                    if (os.diskId() != null) {
                        throw ArmException.invalidField("properties.storageProfile.osDisk.managedDisk.id",
                                "give a disk id only with createOption Attach.");
                    }
                    osType = inferOsType(os, spec);
                    generation = spec.trustedLaunch() ? "V2" : inferGeneration(spec.imageReference());
                }
            } else {
                JsonNode curOs = curProps.path("storageProfile").path("osDisk");
                String curOsId = curOs.path("managedDisk").path("id").asText();
                if (os != null && os.diskId() != null && !ComputeTypes.sameId(os.diskId(), curOsId)) {
                    throw Disks.propertyChange("osDisk.managedDisk.id");
                }
                if (os != null && os.name() != null && !os.name().equalsIgnoreCase(curOs.path("name").asText())) {
                    throw Disks.propertyChange("osDisk.name");
                }
                osType = curOs.path("osType").asText("Linux");
                generation = curProps.path("instanceView").path("hyperVGeneration").asText("V1");
            }
            boolean windows = "Windows".equals(osType);
            if (windows && name.contains(".")) {
                throw ArmException.badRequest("InvalidResourceName", "The name '" + name + "' of a Windows VM can't "
                        + "contain '.'.");
            }

            // ---------------- security profile
            String currentSecurity = curProps.path("securityProfile").path("securityType").asText("Standard");
            String securityType = spec.securityGiven()
                    ? (spec.securityType() == null ? (creating ? "Standard" : currentSecurity) : spec.securityType())
                    : (creating ? "Standard" : currentSecurity);
            boolean trusted = securityType.equals("TrustedLaunch");
            if (!creating && !securityType.equals(currentSecurity)) {
                if (trusted) {
                    // Seed 000: a VM protected by Site Recovery can't be converted to trusted launch.
                    RuleCatalogue.enforce(Operation.UPDATE_VM, new VmUpdateFacts(facts(current, size, generation),
                            VmFacts.SecurityType.TRUSTED_LAUNCH));
                }
                if (allocated) {
                    throw ArmException.conflict("OperationNotAllowed", "Changing securityProfile.securityType of VM '"
                            + name + "' from " + currentSecurity + " to " + securityType + " needs the VM deallocated.");
                }
            }
            if (spec.uefiGiven() && !trusted && (Boolean.TRUE.equals(spec.secureBoot()) || Boolean.TRUE.equals(spec.vTpm()))) {
                throw new ArmException(400, "UefiSettingsRequireTrustedLaunch", "securityProfile.uefiSettings "
                        + "(secure boot, vTPM) can be set only when securityProfile.securityType is TrustedLaunch.",
                        "properties.securityProfile.uefiSettings", List.of());
            }
            if (!size.supportsGeneration(generation)) {
                String gen = generation.equals("V2") ? "2" : "1";
                throw new ArmException(400, "VmSizeDoesNotSupportHyperVGeneration", "The selected VM size '"
                        + size.name() + "' cannot boot Hypervisor Generation '" + gen + "'. If this was a Create "
                        + "operation please check that the Hypervisor Generation of the Image matches the Hypervisor "
                        + "Generation of the selected VM Size. If this was an Update operation please select a "
                        + "Hypervisor Generation '" + gen + "' VM Size.", "properties.hardwareProfile.vmSize", List.of());
            }
            if (trusted && !size.trustedLaunch()) {
                throw new ArmException(400, "VmSizeDoesNotSupportTrustedLaunch", "The VM size '" + size.name()
                        + "' is not supported for creation of VMs and Virtual Machine Scale Set with 'TrustedLaunch' "
                        + "security type.", "properties.hardwareProfile.vmSize", List.of());
            }
            if (trusted && !generation.equals("V2")) {
                throw new ArmException(400, "TrustedLaunchRequiresGeneration2", "Trusted launch needs a generation 2 "
                        + "(UEFI) OS disk; the OS disk of VM '" + name + "' is generation 1 (hyperVGeneration V1).",
                        "properties.securityProfile.securityType", List.of());
            }
            if (!trusted && osDiskToAttach != null && DiskModel.trustedLaunch(osDiskToAttach.body())) {
                throw new ArmException(400, "TrustedLaunchDiskRequiresTrustedLaunchVm", "Disk '" + osDiskToAttach.name()
                        + "' has security type TrustedLaunch; it can boot only a VM with securityProfile.securityType "
                        + "TrustedLaunch.", "properties.securityProfile.securityType", List.of());
            }

            // ---------------- computer name
            ObjectNode osProfile = creating ? spec.osProfile()
                    : curProps.has("osProfile") ? (ObjectNode) curProps.path("osProfile").deepCopy() : null;
            if (!creating && spec.osProfile() != null && curProps.has("osProfile")) {
                for (String immutable : List.of("computerName", "adminUsername")) {
                    String wanted = spec.osProfile().path(immutable).asText(null);
                    if (wanted != null && !wanted.equals(curProps.path("osProfile").path(immutable).asText(null))) {
                        throw Disks.propertyChange(immutable);
                    }
                }
                for (String mutable : List.of("windowsConfiguration", "linuxConfiguration", "secrets", "allowExtensionOperations")) {
                    if (spec.osProfile().has(mutable)) {
                        osProfile.set(mutable, spec.osProfile().get(mutable));
                    }
                }
            }
            if (creating && osDiskToAttach == null) {
                if (osProfile == null) {
                    osProfile = Json.object();
                    osProfile.putArray("secrets");
                    osProfile.put("allowExtensionOperations", true);
                    osProfile.put("requireGuestProvisionSignal", true);
                }
                if (!osProfile.has("computerName")) {
                    osProfile.put("computerName", name);
                }
                checkComputerName(osProfile.path("computerName").asText(), windows);
                if (!osProfile.has("windowsConfiguration") && !osProfile.has("linuxConfiguration")) {
                    osProfile.putObject(windows ? "windowsConfiguration" : "linuxConfiguration")
                            .put("provisionVMAgent", true);
                }
            }

            // ---------------- data disks
            Map<Integer, JsonNode> currentByLun = new LinkedHashMap<>();
            for (JsonNode d : curProps.path("storageProfile").path("dataDisks")) {
                currentByLun.put(d.path("lun").asInt(), d);
            }
            List<VmSpec.DataDisk> wanted = spec.dataDisksGiven() || creating ? spec.dataDisks()
                    : currentByLun.values().stream().map(VirtualMachines::asSpec).toList();
            Set<Integer> luns = new HashSet<>();
            Set<String> diskIds = new HashSet<>();
            String osDiskId = creating ? (osDiskToAttach != null ? osDiskToAttach.id() : null)
                    : curProps.path("storageProfile").path("osDisk").path("managedDisk").path("id").asText();
            if (osDiskId != null) {
                diskIds.add(ResourceStore.key(osDiskId));
            }
            List<VmSpec.DataDisk> kept = new ArrayList<>();
            List<VmSpec.DataDisk> toCreate = new ArrayList<>();
            List<StoredResource> toAttach = new ArrayList<>();
            List<VmSpec.DataDisk> toAttachSpecs = new ArrayList<>();
            Set<Integer> stay = new HashSet<>();
            for (VmSpec.DataDisk d : wanted) {
                if (d.toBeDetached()) {
                    continue;
                }
                if (!luns.add(d.lun())) {
                    throw new ArmException(400, "InvalidParameter", "A disk at LUN " + d.lun() + " already exists: "
                            + "each data disk needs its own LUN.", d.field() + ".lun", List.of());
                }
                JsonNode existingAtLun = currentByLun.get(d.lun());
                String existingId = existingAtLun == null ? null : existingAtLun.path("managedDisk").path("id").asText();
                if (existingAtLun != null && (d.diskId() == null || ComputeTypes.sameId(d.diskId(), existingId))) {
                    kept.add(d);
                    stay.add(d.lun());
                    diskIds.add(ResourceStore.key(existingId));
                    continue;
                }
                if (existingAtLun != null) {
                    throw ArmException.conflict("PropertyChangeNotAllowed", "LUN " + d.lun() + " of VM '" + name
                            + "' holds disk '" + existingId + "'; detach it before attaching another disk at that LUN.");
                }
                if (d.diskId() != null) {
                    if (!diskIds.add(ResourceStore.key(d.diskId()))) {
                        throw new ArmException(400, "InvalidParameter", "Disk '" + d.diskId() + "' is listed twice; a "
                                + "VM attaches a disk once.", d.field() + ".managedDisk.id", List.of());
                    }
                    StoredResource disk = attachableDisk(request, d.diskId(), d.field() + ".managedDisk.id", region, id);
                    toAttach.add(disk);
                    toAttachSpecs.add(d);
                } else {
                    if (d.sizeGb() == null) {
                        throw ArmException.missingField(d.field() + ".diskSizeGB");
                    }
                    toCreate.add(d);
                }
            }
            int dataCount = kept.size() + toCreate.size() + toAttach.size();
            if (dataCount > size.maxDataDisks()) {
                throw ArmException.conflict("OperationNotAllowed", "The maximum number of data disks allowed to be "
                        + "attached to a VM of this size is " + size.maxDataDisks() + ". (VM size " + size.name() + "; "
                        + dataCount + " data disks requested.)");
            }
            List<JsonNode> toDetach = new ArrayList<>();
            currentByLun.forEach((lun, d) -> {
                if (!stay.contains(lun)) {
                    toDetach.add(d);
                }
            });

            // ---------------- premium storage
            String defaultSku = size.premiumIo() ? "Premium_LRS" : "Standard_LRS";
            List<String> skus = new ArrayList<>();
            if (creating) {
                skus.add(osDiskToAttach != null ? DiskModel.sku(osDiskToAttach.body()) : os.sku() != null ? os.sku() : defaultSku);
            } else {
                resources.find(osDiskId).ifPresent(d -> skus.add(DiskModel.sku(d.body())));
            }
            for (VmSpec.DataDisk d : kept) {
                String keptId = currentByLun.get(d.lun()).path("managedDisk").path("id").asText();
                resources.find(keptId).ifPresent(r -> skus.add(DiskModel.sku(r.body())));
            }
            toCreate.forEach(d -> skus.add(d.sku() != null ? d.sku() : defaultSku));
            toAttach.forEach(d -> skus.add(DiskModel.sku(d.body())));
            for (String sku : skus) {
                if (DiskModel.premium(sku) && !size.premiumIo()) {
                    throw new ArmException(400, "PremiumStorageNotSupportedForVmSize", "Requested operation cannot be "
                            + "performed because storage account type '" + sku + "' is not supported for VM size '"
                            + size.name() + "'. Choose a size with premium storage (an 's' in its name) or a Standard "
                            + "disk.", "properties.hardwareProfile.vmSize", List.of());
                }
            }

            // ---------------- NICs
            List<VmSpec.Nic> wantedNics = spec.nicsGiven() || creating ? spec.nics() : currentNics(curProps);
            checkNics(request, wantedNics, size, name, region, id);
            Set<String> currentNicIds = new HashSet<>();
            currentNics(curProps).forEach(n -> currentNicIds.add(ResourceStore.key(n.id())));
            Set<String> wantedNicIds = new HashSet<>();
            wantedNics.forEach(n -> wantedNicIds.add(ResourceStore.key(n.id())));
            if (!creating && !currentNicIds.equals(wantedNicIds) && allocated) {
                throw ArmException.conflict("OperationNotAllowed", "Network interfaces of VM '" + name + "' can be "
                        + "added or removed only while the VM is deallocated.");
            }

            // ---------------- quota
            if (creating) {
                quotas.require(subscription, region.name(), size, size.vCpus(), size.vCpus());
            } else {
                ComputeSize oldSize = VmSizes.find(curProps.path("hardwareProfile").path("vmSize").asText()).orElse(size);
                if (allocated && !oldSize.name().equals(size.name())) {
                    boolean sameFamily = oldSize.family().equals(size.family());
                    quotas.require(subscription, region.name(), size,
                            sameFamily ? size.vCpus() - oldSize.vCpus() : size.vCpus(), size.vCpus() - oldSize.vCpus());
                }
            }

            // ================= writes (nothing above wrote anything)
            String powerState = creating ? ComputeTypes.RUNNING : ComputeTypes.powerState(vm);
            boolean willBeAllocated = !powerState.equals(ComputeTypes.DEALLOCATED);
            String attachedState = willBeAllocated ? DiskModel.ATTACHED : DiskModel.RESERVED;

            if (creating) {
                vm = Json.object();
                vm.put("id", id);
                vm.put("name", name);
                vm.put("type", ComputeTypes.VM);
                vm.put("location", region.name());
                ObjectNode p = vm.putObject("properties");
                p.put("vmId", UUID.randomUUID().toString());
                p.put("timeCreated", Instant.now().toString());
            }
            vm.set("tags", spec.tags());
            ObjectNode props = (ObjectNode) vm.path("properties");
            props.putObject("hardwareProfile").put("vmSize", size.name());

            ObjectNode storage = Json.object();
            if (creating) {
                if (spec.imageReference() != null) {
                    storage.set("imageReference", spec.imageReference());
                }
                StoredResource osDisk;
                String createOption = os.createOption();
                if (osDiskToAttach != null) {
                    osDisk = attachDisk(osDiskToAttach, id, attachedState);
                } else {
                    int sizeGb = os.sizeGb() != null ? os.sizeGb() : windows ? WINDOWS_OS_DISK_GB : LINUX_OS_DISK_GB;
                    String diskName = os.name() != null ? os.name() : name + "_OsDisk_1_" + hex();
                    osDisk = createImplicitDisk(request, group, region, diskName, os.sku() != null ? os.sku() : defaultSku,
                            sizeGb, osType, generation, trusted, id, "properties.storageProfile.osDisk.name", createdFiles);
                }
                osDiskOut = storage.putObject("osDisk");
                osDiskOut.put("osType", osType);
                osDiskOut.put("name", osDisk.name());
                osDiskOut.put("createOption", createOption);
                osDiskOut.put("caching", os.caching() != null ? os.caching() : "ReadWrite");
                ObjectNode managed = osDiskOut.putObject("managedDisk");
                managed.put("storageAccountType", DiskModel.sku(osDisk.body()));
                managed.put("id", osDisk.id());
                osDiskOut.put("deleteOption", os.deleteOption() != null ? os.deleteOption() : "Detach");
                osDiskOut.put("diskSizeGB", DiskModel.sizeGb(osDisk.body()));
            } else {
                ObjectNode curStorage = (ObjectNode) curProps.path("storageProfile");
                if (curStorage.has("imageReference")) {
                    storage.set("imageReference", curStorage.get("imageReference").deepCopy());
                }
                osDiskOut = (ObjectNode) curStorage.path("osDisk").deepCopy();
                if (os != null) {
                    if (os.caching() != null) {
                        osDiskOut.put("caching", os.caching());
                    }
                    if (os.deleteOption() != null) {
                        osDiskOut.put("deleteOption", os.deleteOption());
                    }
                }
                resources.find(osDiskId).ifPresent(d -> osDiskOut.put("diskSizeGB", DiskModel.sizeGb(d.body())));
                storage.set("osDisk", osDiskOut);
            }

            for (JsonNode d : toDetach) {
                resources.find(d.path("managedDisk").path("id").asText()).ifPresent(disk -> detachDisk(disk, id));
            }
            List<ObjectNode> dataOut = new ArrayList<>();
            for (VmSpec.DataDisk d : kept) {
                ObjectNode entry = currentByLun.get(d.lun()).deepCopy();
                if (d.caching() != null) {
                    entry.put("caching", d.caching());
                }
                if (d.deleteOption() != null) {
                    entry.put("deleteOption", d.deleteOption());
                }
                entry.put("writeAcceleratorEnabled", d.writeAccelerator());
                resources.find(entry.path("managedDisk").path("id").asText())
                        .ifPresent(r -> entry.put("diskSizeGB", DiskModel.sizeGb(r.body())));
                dataOut.add(entry);
            }
            for (VmSpec.DataDisk d : toCreate) {
                String diskName = d.name() != null ? d.name() : name + "_disk" + (d.lun() + 2) + "_" + hex();
                StoredResource disk = createImplicitDisk(request, group, region, diskName,
                        d.sku() != null ? d.sku() : defaultSku, d.sizeGb(), null, null, false, id, d.field() + ".name",
                        createdFiles);
                dataOut.add(dataDiskEntry(d, disk, "Empty"));
            }
            for (int i = 0; i < toAttach.size(); i++) {
                StoredResource disk = attachDisk(toAttach.get(i), id, attachedState);
                dataOut.add(dataDiskEntry(toAttachSpecs.get(i), disk, "Attach"));
            }
            dataOut.sort(Comparator.comparingInt(n -> n.path("lun").asInt()));
            ArrayNode dataArray = storage.putArray("dataDisks");
            dataOut.forEach(dataArray::add);
            storage.put("diskControllerType", "SCSI");
            props.set("storageProfile", storage);

            if (osProfile != null) {
                props.set("osProfile", osProfile);
            }

            // NICs: detach the ones dropped, join the new ones, keep the order asked for.
            for (VmSpec.Nic n : currentNics(curProps)) {
                if (!wantedNicIds.contains(ResourceStore.key(n.id()))) {
                    nics.detach(n.id(), id);
                }
            }
            ObjectNode network = Json.object();
            ArrayNode nicArray = network.putArray("networkInterfaces");
            for (VmSpec.Nic n : wantedNics) {
                StoredResource nic = resources.find(n.id()).orElseThrow();
                String holder = nic.properties().path("virtualMachine").path("id").asText("");
                if (!holder.isEmpty() && !ComputeTypes.sameId(holder, id) && resources.find(holder).isEmpty()) {
                    nics.detach(nic.id(), holder); // its VM was deleted with its group
                }
                nics.attach(nic.id(), id);
                ObjectNode entry = nicArray.addObject();
                entry.put("id", nic.id());
                ObjectNode np = entry.putObject("properties");
                np.put("primary", n.primary() != null ? n.primary() : wantedNics.size() == 1);
                np.put("deleteOption", n.deleteOption() != null ? n.deleteOption() : "Detach");
            }
            props.set("networkProfile", network);

            if (trusted) {
                ObjectNode security = Json.object();
                security.put("securityType", "TrustedLaunch");
                ObjectNode uefi = security.putObject("uefiSettings");
                JsonNode curUefi = curProps.path("securityProfile").path("uefiSettings");
                uefi.put("secureBootEnabled", spec.secureBoot() != null ? spec.secureBoot()
                        : curUefi.path("secureBootEnabled").asBoolean(true));
                uefi.put("vTpmEnabled", spec.vTpm() != null ? spec.vTpm() : curUefi.path("vTpmEnabled").asBoolean(true));
                props.set("securityProfile", security);
            } else if (securityType.equals("Standard") && spec.securityGiven() && spec.securityType() != null) {
                props.putObject("securityProfile").put("securityType", "Standard");
            } else if (!creating && !spec.securityGiven() && curProps.has("securityProfile")) {
                props.set("securityProfile", curProps.path("securityProfile").deepCopy());
            } else {
                props.remove("securityProfile");
            }
            for (String key : List.of("diagnosticsProfile", "licenseType", "additionalCapabilities", "priority",
                    "evictionPolicy", "availabilitySet", "userData")) {
                if (spec.passThrough().has(key)) {
                    props.set(key, spec.passThrough().get(key));
                }
            }
            props.put("provisioningState", "Succeeded");
            ObjectNode instanceView = props.putObject("instanceView");
            if (osProfile != null && osProfile.has("computerName")) {
                instanceView.put("computerName", osProfile.path("computerName").asText());
            }
            instanceView.put("osName", windows ? "Windows" : "Linux");
            instanceView.put("hyperVGeneration", generation);
            setPowerState(vm, powerState);
            ComputeTypes.touch(vm, request.principal().clientId(), creating);
            StoredResource saved = resources.put(id, group.id(), ComputeTypes.VM, name, subscription, vm);
            return saved.bodyCopy();
        } catch (RuntimeException e) {
            for (String uniqueId : createdFiles) {
                files.delete(DiskFiles.Kind.DISK, uniqueId);
            }
            throw e;
        }
    }

    // ====================================================================== disks

    /**
     * An existing disk this VM may attach: it exists, is in the VM's region, is not uploading or exported, and is
     * not attached to another VM (unless shared, with a share free).
     */
    private StoredResource attachableDisk(ArmRequest request, String diskId, String field, Region region, String vmId) {
        if (!ComputeTypes.typeOf(diskId).equalsIgnoreCase(ComputeTypes.DISK)) {
            throw ArmException.invalidField(field, "'" + diskId + "' is not the id of a managed disk.");
        }
        ComputeTypes.authorizeLinked(rbac, request, diskId, ComputeTypes.DISK + "/write");
        StoredResource disk = resources.find(diskId).filter(r -> r.typeKey().equalsIgnoreCase(ComputeTypes.DISK))
                .orElseThrow(() -> new ArmException(400, "InvalidResourceReference", "Resource " + diskId
                        + " referenced by resource " + vmId + " was not found. Please make sure that the referenced "
                        + "resource exists.", field, List.of()));
        if (!disk.body().path("location").asText().equals(region.name())) {
            throw new ArmException(400, "InvalidResourceReference", "Disk " + disk.id() + " is in region '"
                    + disk.body().path("location").asText() + "', but the VM is in '" + region.name() + "'. A VM can "
                    + "attach disks of its own region only.", field, List.of());
        }
        ObjectNode settled = disks.settle(disk);
        String state = DiskModel.state(settled);
        if (state.equals(DiskModel.READY_TO_UPLOAD) || state.equals(DiskModel.ACTIVE_UPLOAD)) {
            throw ArmException.conflict("OperationNotAllowed", "Disk '" + disk.name() + "' is " + state + ": finish "
                    + "its upload (endAccess) before attaching it.");
        }
        if (state.equals(DiskModel.ACTIVE_SAS)) {
            throw ArmException.conflict("OperationNotAllowed", "Disk '" + disk.name() + "' is being exported "
                    + "(ActiveSAS); call endAccess before attaching it.");
        }
        List<String> holders = new ArrayList<>(DiskModel.attachedTo(settled));
        holders.removeIf(h -> ComputeTypes.sameId(h, vmId));
        if (!holders.isEmpty() && !DiskModel.shared(settled)) {
            throw new ArmException(409, "ConflictingUserInput", "Disk '" + disk.name() + "' is already attached to VM '"
                    + holders.getFirst() + "'. A disk is attached to one VM at a time unless it is a shared disk "
                    + "(maxShares > 1).", field, List.of());
        }
        if (holders.size() >= DiskModel.maxShares(settled)) {
            throw new ArmException(409, "ConflictingUserInput", "Shared disk '" + disk.name() + "' is already attached "
                    + "to " + holders.size() + " VMs, its maxShares.", field, List.of());
        }
        return disk;
    }

    private StoredResource attachDisk(StoredResource disk, String vmId, String attachedState) {
        ObjectNode body = disks.settle(disk);
        List<String> holders = new ArrayList<>(DiskModel.attachedTo(body));
        if (holders.stream().noneMatch(h -> ComputeTypes.sameId(h, vmId))) {
            holders.add(vmId);
        }
        DiskModel.setAttachedTo(body, holders);
        String state = attachedState.equals(DiskModel.ATTACHED) || disks.attachmentState(body).equals(DiskModel.ATTACHED)
                ? DiskModel.ATTACHED : DiskModel.RESERVED;
        ((ObjectNode) body.path("properties")).put("diskState", state);
        return disks.save(disk, body);
    }

    private void detachDisk(StoredResource disk, String vmId) {
        ObjectNode body = disk.bodyCopy();
        List<String> holders = new ArrayList<>(DiskModel.attachedTo(body));
        holders.removeIf(h -> ComputeTypes.sameId(h, vmId));
        DiskModel.setAttachedTo(body, holders);
        String state = DiskModel.state(body);
        if (state.equals(DiskModel.ATTACHED) || state.equals(DiskModel.RESERVED)) {
            ((ObjectNode) body.path("properties")).put("diskState", disks.attachmentState(body));
        }
        disks.save(disk, body);
    }

    private StoredResource createImplicitDisk(ArmRequest request, StoredResource group, Region region, String diskName,
                                              String sku, int sizeGb, String osType, String generation, boolean trusted,
                                              String vmId, String field, List<String> createdFiles) {
        Disks.checkName(diskName, "disk");
        String diskId = group.id() + "/providers/" + ComputeTypes.DISK + "/" + diskName;
        if (resources.find(diskId).isPresent()) {
            throw new ArmException(409, "ConflictingUserInput", "Disk '" + diskName + "' already exists in resource "
                    + "group '" + group.name() + "'. Only CreateOption.Attach is supported.", field, List.of());
        }
        ObjectNode body = disks.newImplicitDisk(request, group.id(), diskName, region.name(), sku, sizeGb, osType,
                generation, trusted, vmId);
        String uniqueId = DiskModel.uniqueId(body);
        try (AutoCloseable guard = files.creating(uniqueId)) {
            createdFiles.add(uniqueId);
            files.createEmpty(DiskFiles.Kind.DISK, uniqueId, sizeGb * DiskModel.GIB);
            return resources.put(diskId, group.id(), ComputeTypes.DISK, diskName, group.id().split("/")[2], body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode dataDiskEntry(VmSpec.DataDisk d, StoredResource disk, String createOption) {
        ObjectNode entry = Json.object();
        entry.put("lun", d.lun());
        entry.put("name", disk.name());
        entry.put("createOption", createOption);
        entry.put("caching", d.caching() != null ? d.caching() : "None");
        entry.put("writeAcceleratorEnabled", d.writeAccelerator());
        ObjectNode managed = entry.putObject("managedDisk");
        managed.put("storageAccountType", DiskModel.sku(disk.body()));
        managed.put("id", disk.id());
        entry.put("deleteOption", d.deleteOption() != null ? d.deleteOption() : "Detach");
        entry.put("diskSizeGB", DiskModel.sizeGb(disk.body()));
        entry.put("toBeDetached", false);
        return entry;
    }

    private static VmSpec.DataDisk asSpec(JsonNode d) {
        return new VmSpec.DataDisk(d.path("lun").asInt(), d.path("createOption").asText(),
                d.path("managedDisk").path("id").asText(), d.path("diskSizeGB").asInt(), d.path("name").asText(),
                d.path("managedDisk").path("storageAccountType").asText(), d.path("caching").asText(),
                d.path("deleteOption").asText(), d.path("writeAcceleratorEnabled").asBoolean(), false,
                "properties.storageProfile.dataDisks");
    }

    /** After a power change: each attached disk is Attached (its VM holds hardware) or Reserved (deallocated). */
    private void refreshDiskStates(JsonNode vm) {
        JsonNode storage = vm.path("properties").path("storageProfile");
        List<JsonNode> all = new ArrayList<>();
        all.add(storage.path("osDisk"));
        storage.path("dataDisks").forEach(all::add);
        for (JsonNode d : all) {
            resources.find(d.path("managedDisk").path("id").asText("")).ifPresent(disks::settleAndSave);
        }
    }

    // ====================================================================== NICs

    private void checkNics(ArmRequest request, List<VmSpec.Nic> wanted, ComputeSize size, String name, Region region,
                           String vmId) {
        if (wanted.size() > size.maxNics()) {
            throw new ArmException(400, "NetworkInterfaceCountExceeded", "The number of network interfaces for virtual "
                    + "machine " + name + " exceeds the maximum allowed for the virtual machine size " + size.name()
                    + ". The number of network interfaces is " + wanted.size() + " and the maximum allowed is "
                    + size.maxNics() + ".", "properties.networkProfile.networkInterfaces", List.of());
        }
        if (wanted.size() > 1 && wanted.stream().filter(n -> Boolean.TRUE.equals(n.primary())).count() != 1) {
            throw new ArmException(400, "VirtualMachineMustHaveOneNetworkInterfaceAsPrimary", "Virtual machine " + name
                    + " must have one network interface set as the primary.",
                    "properties.networkProfile.networkInterfaces", List.of());
        }
        Set<String> seen = new HashSet<>();
        for (VmSpec.Nic n : wanted) {
            if (!ComputeTypes.typeOf(n.id()).equalsIgnoreCase(ComputeTypes.NIC)) {
                throw ArmException.invalidField(n.field() + ".id", "'" + n.id() + "' is not the id of a network interface.");
            }
            if (!seen.add(ResourceStore.key(n.id()))) {
                throw new ArmException(400, "InvalidParameter", "Network interface '" + n.id() + "' is listed twice.",
                        n.field() + ".id", List.of());
            }
            ComputeTypes.authorizeLinked(rbac, request, n.id(), "Microsoft.Network/networkInterfaces/join/action");
            StoredResource nic = resources.find(n.id()).filter(r -> r.typeKey().equalsIgnoreCase(ComputeTypes.NIC))
                    .orElseThrow(() -> new ArmException(400, "InvalidResourceReference", "Resource " + n.id()
                            + " referenced by resource " + vmId + " was not found. Please make sure that the referenced "
                            + "resource exists.", n.field() + ".id", List.of()));
            if (!nic.body().path("location").asText().equals(region.name())) {
                throw new ArmException(400, "InvalidResourceReference", "Network interface " + nic.id() + " is in "
                        + "region '" + nic.body().path("location").asText() + "', but the VM is in '" + region.name()
                        + "'. Both resources must be in the same region.", n.field() + ".id", List.of());
            }
            String holder = nic.properties().path("virtualMachine").path("id").asText("");
            if (!holder.isEmpty() && !ComputeTypes.sameId(holder, vmId) && resources.find(holder).isPresent()) {
                throw new ArmException(400, "NicInUse", "Network Interface " + nic.id() + " is used by existing resource "
                        + holder + ". In order to use this network interface in a new virtual machine, it must be "
                        + "dissociated from that resource.", n.field() + ".id", List.of());
            }
        }
    }

    private static List<VmSpec.Nic> currentNics(JsonNode props) {
        List<VmSpec.Nic> out = new ArrayList<>();
        for (JsonNode n : props.path("networkProfile").path("networkInterfaces")) {
            out.add(new VmSpec.Nic(n.path("id").asText(), n.path("properties").path("primary").asBoolean(false),
                    n.path("properties").path("deleteOption").asText("Detach"), "properties.networkProfile.networkInterfaces"));
        }
        return out;
    }

    // ====================================================================== facts, names, views

    /** The VM as the rule catalogue sees it (for UPDATE_VM). */
    VmFacts facts(StoredResource vm, ComputeSize size, String generation) {
        JsonNode p = vm.body().path("properties");
        String osType = p.path("storageProfile").path("osDisk").path("osType").asText("Windows");
        JsonNode uefi = p.path("securityProfile").path("uefiSettings");
        VmFacts.Builder b = VmFacts.builder(vm.name())
                .osType(osType.equals("Linux") ? VmFacts.OsType.LINUX : VmFacts.OsType.WINDOWS)
                .osName(p.path("instanceView").path("osName").asText(null))
                .generation(generation.equals("V2") ? 2 : 1)
                .securityType("TrustedLaunch".equals(p.path("securityProfile").path("securityType").asText())
                        ? VmFacts.SecurityType.TRUSTED_LAUNCH : VmFacts.SecurityType.STANDARD)
                .secureBoot(uefi.path("secureBootEnabled").asBoolean(false))
                .vTpm(uefi.path("vTpmEnabled").asBoolean(false))
                .size(size.toVmSize())
                .managedDisks(true)
                .latestRootCertificates(true)
                .protectedByAsr(protectedVms.isProtected(vm.id()));
        JsonNode storage = p.path("storageProfile");
        List<JsonNode> all = new ArrayList<>();
        all.add(storage.path("osDisk"));
        storage.path("dataDisks").forEach(all::add);
        for (int i = 0; i < all.size(); i++) {
            String diskId = all.get(i).path("managedDisk").path("id").asText("");
            Optional<StoredResource> disk = resources.find(diskId);
            if (disk.isEmpty()) {
                continue;
            }
            DiskFacts facts = i == 0 ? DiskFacts.os(disk.get().id(), DiskModel.dataBytes(disk.get().body()))
                    : DiskFacts.data(disk.get().id(), DiskModel.dataBytes(disk.get().body()));
            facts = facts.with(d -> d.format(DiskFacts.Format.VHD));
            if (DiskModel.shared(disk.get().body())) {
                facts = facts.with(d -> d.trait(DiskFacts.Trait.SHARED));
            }
            b.disk(facts);
        }
        return b.build();
    }

    private static String inferOsType(VmSpec.OsDisk os, VmSpec spec) {
        if (os.osType() != null) {
            return os.osType();
        }
        if (spec.osProfile() != null && spec.osProfile().has("windowsConfiguration")) {
            return "Windows";
        }
        if (spec.osProfile() != null && spec.osProfile().has("linuxConfiguration")) {
            return "Linux";
        }
        if (spec.imageReference() != null) {
            String image = (spec.imageReference().path("publisher").asText("") + " "
                    + spec.imageReference().path("offer").asText("")).toLowerCase(Locale.ROOT);
            if (image.contains("windows")) {
                return "Windows";
            }
        }
        return "Linux";
    }

    /** Generation 2 for images whose SKU says so ("…-gen2", "…-g2", "…gen2"), else generation 1. */
    private static String inferGeneration(ObjectNode imageReference) {
        if (imageReference == null) {
            return "V1";
        }
        String sku = imageReference.path("sku").asText("").toLowerCase(Locale.ROOT);
        return sku.endsWith("gen2") || sku.endsWith("-g2") || sku.contains("-gen2") ? "V2" : "V1";
    }

    private static void checkComputerName(String computerName, boolean windows) {
        if (windows) {
            if (computerName.isEmpty() || computerName.length() > 15 || computerName.matches("\\d+")
                    || WINDOWS_NAME_BAD.matcher(computerName).find()) {
                throw new ArmException(400, "InvalidParameter", "Windows computer name cannot be more than 15 "
                        + "characters long, be entirely numeric, or contain the following characters: ` ~ ! @ # $ % ^ & * "
                        + "( ) = + _ [ ] { } \\ | ; : . ' \" , < > / ?. ('" + computerName + "'; when osProfile.computerName "
                        + "is not given, the VM name is used.)", "properties.osProfile.computerName", List.of());
            }
        } else if (computerName.isEmpty() || computerName.length() > 64 || LINUX_NAME_BAD.matcher(computerName).find()) {
            throw new ArmException(400, "InvalidParameter", "Linux host name cannot exceed 64 characters in length or "
                    + "contain the following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : ' \" , < > / ?. ('"
                    + computerName + "')", "properties.osProfile.computerName", List.of());
        }
    }

    private static void setPowerState(ObjectNode vm, String state) {
        ObjectNode view = ((ObjectNode) vm.path("properties")).with("instanceView");
        ArrayNode statuses = view.putArray("statuses");
        ObjectNode provisioning = statuses.addObject();
        provisioning.put("code", "ProvisioningState/succeeded");
        provisioning.put("level", "Info");
        provisioning.put("displayStatus", "Provisioning succeeded");
        provisioning.put("time", Instant.now().toString());
        ObjectNode power = statuses.addObject();
        power.put("code", "PowerState/" + state);
        power.put("level", "Info");
        power.put("displayStatus", switch (state) {
            case ComputeTypes.RUNNING -> "VM running";
            case ComputeTypes.STOPPED -> "VM stopped";
            default -> "VM deallocated";
        });
    }

    /** The VM as returned: the instance view only on $expand=instanceView (as Azure does). */
    private static ObjectNode view(ObjectNode vm, boolean instanceView) {
        if (!instanceView) {
            ((ObjectNode) vm.path("properties")).remove("instanceView");
        }
        return vm;
    }

    private static boolean expandInstanceView(ArmRequest request) {
        String expand = request.query().get("$expand");
        return expand != null && expand.equalsIgnoreCase("instanceView");
    }

    private StoredResource save(StoredResource vm, ObjectNode body) {
        return resources.put(vm.id(), ComputeTypes.groupIdOf(vm.id()), ComputeTypes.VM, vm.name(),
                ComputeTypes.subscriptionOf(vm.id()), body);
    }

    private StoredResource require(ArmRequest request) {
        return requireByName(request, request.path().name());
    }

    private StoredResource requireByName(ArmRequest request, String name) {
        StoredResource group = scope.requireGroup(request.path());
        String id = group.id() + "/providers/" + ComputeTypes.VM + "/" + name;
        return resources.find(id).filter(r -> r.typeKey().equalsIgnoreCase(ComputeTypes.VM))
                .orElseThrow(() -> ArmException.notFound(id));
    }

    private static String hex() {
        return UUID.randomUUID().toString().replace("-", "");
    }
}
