package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.auth.Rbac;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.VaultScope;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Managed disks (Microsoft.Compute/disks): create Empty, Upload or Copy (of a disk or snapshot), update, delete,
 * list, and export/import through beginGetAccess/endAccess. A disk's bytes are a sparse fixed VHD file
 * ({@link DiskFiles}); its state follows Azure: Unattached, Attached / Reserved (attached to a running /
 * deallocated VM), ActiveSAS (exported), ReadyToUpload and ActiveUpload (created for upload, until the
 * upload's endAccess checks the VHD footer).
 */
public final class Disks {
    /** Azure: 1-80 letters, digits, '_', '.', '-'; starts with a letter, digit or '_', ends with one or '_'. */
    static final Pattern NAME = Pattern.compile("^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$");
    private static final List<String> CREATE_OPTIONS = List.of("Empty", "Upload", "Copy", "Attach", "FromImage",
            "Import", "Restore", "CopyStart", "ImportSecure", "UploadPreparedSecure", "CopyFromSanSnapshot");
    /** durationInSeconds: from 1 second to 30 days. */
    private static final int ACCESS_SECONDS_MAX = 30 * 24 * 3600;

    private final ResourceStore resources;
    private final VaultScope scope;
    private final RegionLocks locks;
    private final DiskFiles files;
    private final DiskAccess access;
    private final ComputeOperations operations;
    private final Rbac rbac;
    /** Import reads fixed VHDs from here only: the server's export directory (exported recovery points). */
    private final Path importRoot;

    Disks(ResourceStore resources, VaultScope scope, RegionLocks locks, DiskFiles files, DiskAccess access,
          ComputeOperations operations, Rbac rbac, Path importRoot) {
        this.importRoot = importRoot.toAbsolutePath().normalize();
        this.resources = resources;
        this.scope = scope;
        this.locks = locks;
        this.files = files;
        this.access = access;
        this.operations = operations;
        this.rbac = rbac;
    }

    // ------------------------------------------------------------------ ARM handlers

    public ArmResponse put(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name();
        checkName(name, "disk");
        Fields body = Fields.of(request.bodyObject(), "");
        Region region = Regions.require(body.string("location").orElseThrow(() -> new ArmException(400,
                "LocationRequired", "The location property is required for this definition.", "location", List.of())),
                "location");
        String id = group.id() + "/providers/" + ComputeTypes.DISK + "/" + name;
        String subscription = request.path().subscriptionId();
        return locks.inRegion(subscription, region.name(), () -> {
            Optional<StoredResource> existing = resources.find(id);
            if (existing.isPresent()) {
                checkSameLocation(existing.get(), region, group);
                ObjectNode updated = update(request, existing.get(), body);
                return ArmResponse.ok(updated);
            }
            // 200, not 201: the spec's Disks_CreateOrUpdate answers 200 or 202, and the Azure SDKs refuse anything else.
            return ArmResponse.ok(create(request, group, id, name, region, body));
        });
    }

    public ArmResponse patch(ArmRequest request) {
        StoredResource current = require(request);
        Fields body = Fields.of(request.bodyObject(), "");
        if (body.has("location")) {
            checkSameLocation(current, Regions.require(body.requiredString("location"), "location"),
                    scope.requireGroup(request.path()));
        }
        String location = current.body().path("location").asText();
        return locks.inRegion(request.path().subscriptionId(), location, () ->
                ArmResponse.ok(update(request, require(request), body)));
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(require(request).bodyCopy());
    }

    public ArmResponse list(ArmRequest request) {
        return ArmResponse.ok(ComputeTypes.list(listOf(request, ComputeTypes.DISK), StoredResource::bodyCopy));
    }

    List<StoredResource> listOf(ArmRequest request, String type) {
        return scope.listInScope(request.path(), type);
    }

    public ArmResponse delete(ArmRequest request) {
        scope.requireGroup(request.path());
        Optional<StoredResource> found = resources.find(request.path().resourceId());
        if (found.isEmpty()) {
            return ArmResponse.noContent();
        }
        String location = found.get().body().path("location").asText();
        StoredResource deleted = locks.inRegion(request.path().subscriptionId(), location, () -> {
            Optional<StoredResource> disk = resources.find(request.path().resourceId());
            if (disk.isEmpty()) {
                return null;
            }
            List<String> vms = liveAttachments(disk.get().body());
            if (!vms.isEmpty()) {
                throw ArmException.conflict("OperationNotAllowed", "Disk '" + disk.get().name() + "' is attached to VM '"
                        + vms.getFirst() + "'. Detach it from the VM (or delete the VM) before deleting the disk.");
            }
            requireNoActiveAccess(disk.get());
            access.revokeAll(disk.get().id());
            resources.delete(disk.get().id());
            return disk.get();
        });
        if (deleted != null) {
            files.delete(DiskFiles.Kind.DISK, DiskModel.uniqueId(deleted.body()));
        }
        return deleted == null ? ArmResponse.noContent() : ArmResponse.ok(null);
    }

    /** POST …/disks/{d}/beginGetAccess {access: Read|Write, durationInSeconds} → 202; result {accessSAS}. */
    public ArmResponse beginGetAccess(ArmRequest request) {
        return beginGetAccess(request, require(request), false);
    }

    public ArmResponse endAccess(ArmRequest request) {
        return endAccess(request, require(request));
    }

    ArmResponse beginGetAccess(ArmRequest request, StoredResource target, boolean snapshot) {
        Fields body = Fields.of(request.bodyObject(), "");
        String mode = body.oneOf("access", List.of("None", DiskAccess.READ, DiskAccess.WRITE))
                .orElseThrow(() -> ArmException.missingField("access"));
        int seconds = body.integer("durationInSeconds", 1, ACCESS_SECONDS_MAX)
                .orElseThrow(() -> ArmException.missingField("durationInSeconds"));
        body.oneOf("fileFormat", List.of("VHD", "VHDX")).filter(f -> f.equals("VHDX")).ifPresent(f -> {
            throw ArmException.invalidField("fileFormat", "the local cloud exports disks as VHD only.");
        });
        if (mode.equals("None")) {
            return endAccess(request, target);
        }
        if (snapshot && mode.equals(DiskAccess.WRITE)) {
            throw ArmException.conflict("OperationNotAllowed", "Snapshots can only be exported (access Read).");
        }
        String location = target.body().path("location").asText();
        String url = locks.inRegion(request.path().subscriptionId(), location, () -> {
            StoredResource current = resources.require(target.id());
            ObjectNode disk = settle(current);
            String state = DiskModel.state(disk);
            String next;
            if (mode.equals(DiskAccess.WRITE)) {
                if (!state.equals(DiskModel.READY_TO_UPLOAD) && !state.equals(DiskModel.ACTIVE_UPLOAD)) {
                    throw ArmException.conflict("OperationNotAllowed", "Write access is granted only to a disk created "
                            + "with createOption Upload whose upload has not finished (diskState ReadyToUpload); disk '"
                            + current.name() + "' is " + state + ".");
                }
                next = DiskModel.ACTIVE_UPLOAD;
            } else {
                switch (state) {
                    case DiskModel.ATTACHED -> throw ArmException.conflict("OperationNotAllowed", "Disk '" + current.name()
                            + "' is attached to running VM '" + liveAttachments(disk).getFirst() + "'. Deallocate the VM "
                            + "or detach the disk before exporting it.");
                    case DiskModel.READY_TO_UPLOAD, DiskModel.ACTIVE_UPLOAD -> throw ArmException.conflict(
                            "OperationNotAllowed", "Disk '" + current.name() + "' is " + state + ": finish the upload "
                                    + "(endAccess) before reading it.");
                    default -> { }
                }
                next = DiskModel.ACTIVE_SAS;
            }
            ((ObjectNode) disk.path("properties")).put("diskState", next);
            save(current, disk);
            return access.grant(current.id(), mode, Instant.now().getEpochSecond() + seconds, request.baseUrl());
        });
        ObjectNode output = Json.object();
        output.put("accessSAS", url);
        return operations.accepted(request, target.id(), output);
    }

    ArmResponse endAccess(ArmRequest request, StoredResource target) {
        String location = target.body().path("location").asText();
        locks.inRegion(request.path().subscriptionId(), location, () -> {
            StoredResource current = resources.require(target.id());
            ObjectNode disk = current.bodyCopy();
            String state = DiskModel.state(disk);
            String next = state;
            if (state.equals(DiskModel.ACTIVE_UPLOAD)) {
                String problem;
                try {
                    problem = files.uploadProblem(DiskModel.kind(current), DiskModel.uniqueId(disk));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                if (problem != null) {
                    throw new ArmException(400, "InvalidVhd", "Disk '" + current.name() + "' was not uploaded as a "
                            + "fixed VHD: " + problem + " Write the VHD (data and its 512-byte footer) again, then call "
                            + "endAccess; the upload URL stays valid until then.");
                }
                next = DiskModel.UNATTACHED;
            } else if (state.equals(DiskModel.ACTIVE_SAS)) {
                next = attachmentState(disk);
            }
            access.revokeAll(current.id());
            if (!next.equals(state)) {
                ((ObjectNode) disk.path("properties")).put("diskState", next);
                save(current, disk);
            }
            return null;
        });
        return operations.accepted(request, target.id(), null);
    }

    // ------------------------------------------------------------------ create and update

    private ObjectNode create(ArmRequest request, StoredResource group, String id, String name, Region region,
                              Fields body) {
        Fields properties = body.object("properties");
        Fields creation = properties.object("creationData");
        if (!creation.present()) {
            throw ArmException.missingField("properties.creationData");
        }
        String option = creation.oneOf("createOption", CREATE_OPTIONS)
                .orElseThrow(() -> ArmException.missingField("properties.creationData.createOption"));
        String sku = Fields.of(body.raw("sku"), "sku").oneOf("name", DiskModel.DISK_SKUS).orElse("Standard_LRS");
        String uniqueId = UUID.randomUUID().toString();
        ObjectNode disk = Json.object();
        disk.put("id", id);
        disk.put("name", name);
        disk.put("type", ComputeTypes.DISK);
        disk.put("location", region.name());
        disk.set("tags", ComputeTypes.tags(body, null));
        ObjectNode skuNode = disk.putObject("sku");
        skuNode.put("name", sku);
        skuNode.put("tier", DiskModel.skuTier(sku));
        ObjectNode p = disk.putObject("properties");
        String osType = properties.oneOf("osType", DiskModel.OS_TYPES).orElse(null);
        String generation = properties.oneOf("hyperVGeneration", DiskModel.GENERATIONS).orElse(null);
        ObjectNode creationOut = p.putObject("creationData");
        creationOut.put("createOption", option);
        long dataBytes;
        String state = DiskModel.UNATTACHED;
        StoredResource source = null;
        Path importFile = null;
        switch (option) {
            case "Empty" -> {
                int gb = properties.integer("diskSizeGB", 1, DiskModel.DISK_SIZE_GB_MAX)
                        .orElseThrow(() -> ArmException.missingField("properties.diskSizeGB"));
                dataBytes = gb * DiskModel.GIB;
            }
            case "Upload" -> {
                long upload = DiskModel.longField(creation, "uploadSizeBytes", 0, Long.MAX_VALUE)
                        .orElseThrow(() -> ArmException.missingField("properties.creationData.uploadSizeBytes"));
                checkUploadSize(upload);
                creationOut.put("uploadSizeBytes", upload);
                dataBytes = upload - VhdFooters.SIZE;
                state = DiskModel.READY_TO_UPLOAD;
            }
            case "Copy" -> {
                source = copySource(request, creation, region);
                creationOut.put("sourceResourceId", source.id());
                creationOut.put("sourceUniqueId", DiskModel.uniqueId(source.body()));
                long sourceBytes = DiskModel.dataBytes(source.body());
                dataBytes = sourceBytes;
                Optional<Integer> gb = properties.integer("diskSizeGB", 1, DiskModel.DISK_SIZE_GB_MAX);
                if (gb.isPresent()) {
                    if (gb.get() * DiskModel.GIB < sourceBytes) {
                        throw ArmException.invalidField("properties.diskSizeGB", "a copy can't be smaller than its "
                                + "source (" + DiskModel.sizeGb(source.body()) + " GiB).");
                    }
                    dataBytes = Math.max(sourceBytes, gb.get() * DiskModel.GIB);
                }
                JsonNode sp = source.properties();
                if (osType == null && sp.has("osType")) {
                    osType = sp.path("osType").asText();
                }
                if (generation == null && sp.has("hyperVGeneration")) {
                    generation = sp.path("hyperVGeneration").asText();
                }
            }
            case "Import" -> {
                // Azure imports a VHD blob (sourceUri); the local cloud imports a fixed VHD from the server's export
                // directory, which is how a failover turns a recovery point into a managed disk.
                String uri = creation.requiredString("sourceUri");
                importFile = importSource(uri);
                creationOut.put("sourceUri", uri);
                dataBytes = importFile.toFile().length() - VhdFooters.SIZE;
            }
            default -> throw new ArmException(400, "InvalidParameter", "createOption '" + option + "' is not supported "
                    + "by the local cloud; use Empty, Upload, Copy or Import.", "properties.creationData.createOption",
                    List.of());
        }
        if (osType != null) {
            p.put("osType", osType);
            p.put("hyperVGeneration", generation == null ? "V1" : generation);
        } else if (generation != null) {
            p.put("hyperVGeneration", generation);
        }
        String securityType = properties.object("securityProfile").present()
                ? DiskModel.securityType(properties, p.path("hyperVGeneration").asText(null))
                : source != null && DiskModel.trustedLaunch(source.body()) ? "TrustedLaunch" : null;
        if (securityType != null) {
            p.putObject("securityProfile").put("securityType", securityType);
        }
        int sizeGb = (int) ((dataBytes + DiskModel.GIB - 1) / DiskModel.GIB);
        p.put("diskSizeGB", sizeGb);
        p.put("diskSizeBytes", dataBytes);
        p.put("uniqueId", uniqueId);
        int maxShares = properties.integer("maxShares", 1, 15).orElse(1);
        DiskModel.checkMaxShares(maxShares, sku, sizeGb, "properties.maxShares");
        if (properties.has("maxShares")) {
            p.put("maxShares", maxShares);
        }
        DiskModel.applyNetworkAccess(p, properties);
        p.putObject("encryption").put("type", "EncryptionAtRestWithPlatformKey");
        DiskModel.performance(p, sku, sizeGb);
        p.put("timeCreated", Instant.now().toString());
        p.put("provisioningState", "Succeeded");
        p.put("diskState", state);
        ComputeTypes.touch(disk, request.principal().clientId(), true);

        StoredResource src = source;
        long bytes = dataBytes;
        Path imported = importFile;
        writeNewFile(DiskFiles.Kind.DISK, uniqueId, () -> {
            switch (option) {
                case "Empty" -> files.createEmpty(DiskFiles.Kind.DISK, uniqueId, bytes);
                case "Upload" -> files.createForUpload(DiskFiles.Kind.DISK, uniqueId, bytes + VhdFooters.SIZE);
                case "Import" -> {
                    try {
                        files.importFixedVhd(imported, DiskFiles.Kind.DISK, uniqueId);
                    } catch (IllegalArgumentException e) {
                        throw ArmException.invalidField("properties.creationData.sourceUri", "'" + imported
                                + "' is not a fixed VHD: " + e.getMessage() + ".");
                    }
                }
                default -> files.copy(DiskModel.kind(src), DiskModel.uniqueId(src.body()), DiskFiles.Kind.DISK, uniqueId, bytes);
            }
        }, () -> resources.put(id, group.id(), ComputeTypes.DISK, name, group.id().split("/")[2], disk));
        return resources.find(id).orElseThrow().bodyCopy();
    }

    /** An OS or data disk a VM creates for itself (FromImage / Empty): an empty disk; the caller writes the row. */
    ObjectNode newImplicitDisk(ArmRequest request, String groupId, String name, String location, String sku,
                               int sizeGb, String osType, String generation, boolean trustedLaunch, String vmId) {
        String id = groupId + "/providers/" + ComputeTypes.DISK + "/" + name;
        ObjectNode disk = Json.object();
        disk.put("id", id);
        disk.put("name", name);
        disk.put("type", ComputeTypes.DISK);
        disk.put("location", location);
        disk.putObject("tags");
        ObjectNode skuNode = disk.putObject("sku");
        skuNode.put("name", sku);
        skuNode.put("tier", DiskModel.skuTier(sku));
        disk.put("managedBy", vmId);
        ObjectNode p = disk.putObject("properties");
        if (osType != null) {
            p.put("osType", osType);
            p.put("hyperVGeneration", generation);
        }
        p.putObject("creationData").put("createOption", osType != null ? "FromImage" : "Empty");
        if (trustedLaunch) {
            p.putObject("securityProfile").put("securityType", "TrustedLaunch");
        }
        p.put("diskSizeGB", sizeGb);
        p.put("diskSizeBytes", sizeGb * DiskModel.GIB);
        p.put("uniqueId", UUID.randomUUID().toString());
        DiskModel.applyNetworkAccess(p, Fields.of(null, ""));
        p.putObject("encryption").put("type", "EncryptionAtRestWithPlatformKey");
        DiskModel.performance(p, sku, sizeGb);
        p.put("timeCreated", Instant.now().toString());
        p.put("provisioningState", "Succeeded");
        p.put("diskState", DiskModel.ATTACHED);
        ComputeTypes.touch(disk, request.principal().clientId(), true);
        return disk;
    }

    private ObjectNode update(ArmRequest request, StoredResource current, Fields body) {
        ObjectNode disk = settle(current);
        ObjectNode p = (ObjectNode) disk.path("properties");
        String state = DiskModel.state(disk);
        Fields properties = body.object("properties");
        disk.set("tags", ComputeTypes.tags(body, disk.path("tags")));
        Fields creation = properties.object("creationData");
        creation.string("createOption").filter(o -> !o.equalsIgnoreCase(p.path("creationData").path("createOption").asText()))
                .ifPresent(o -> {
                    throw propertyChange("creationData.createOption");
                });
        creation.string("sourceResourceId").filter(s -> !ComputeTypes.sameId(s, p.path("creationData").path("sourceResourceId").asText(null)))
                .ifPresent(o -> {
                    throw propertyChange("creationData.sourceResourceId");
                });
        properties.oneOf("hyperVGeneration", DiskModel.GENERATIONS)
                .filter(g -> p.has("hyperVGeneration") && !g.equals(p.path("hyperVGeneration").asText()))
                .ifPresent(g -> {
                    throw propertyChange("hyperVGeneration");
                });
        properties.oneOf("hyperVGeneration", DiskModel.GENERATIONS).ifPresent(g -> p.put("hyperVGeneration", g));
        properties.oneOf("osType", DiskModel.OS_TYPES).ifPresent(o -> {
            p.put("osType", o);
            if (!p.has("hyperVGeneration")) {
                p.put("hyperVGeneration", "V1");
            }
        });
        if (properties.object("securityProfile").present()) {
            String type = DiskModel.securityType(properties, p.path("hyperVGeneration").asText(null));
            if (!java.util.Objects.equals(type, DiskModel.trustedLaunch(disk) ? "TrustedLaunch" : null)) {
                throw propertyChange("securityProfile.securityType");
            }
        }
        boolean detachedEnough = state.equals(DiskModel.UNATTACHED) || state.equals(DiskModel.RESERVED);
        Optional<String> newSku = Fields.of(body.raw("sku"), "sku").oneOf("name", DiskModel.DISK_SKUS)
                .filter(s -> !s.equals(DiskModel.sku(disk)));
        if (newSku.isPresent()) {
            if (!detachedEnough) {
                throw ArmException.conflict("OperationNotAllowed", "The SKU of disk '" + current.name() + "' can be "
                        + "changed only when it is unattached or its VM is deallocated; it is " + state + ".");
            }
            ObjectNode skuNode = disk.putObject("sku");
            skuNode.put("name", newSku.get());
            skuNode.put("tier", DiskModel.skuTier(newSku.get()));
        }
        Optional<Integer> newSize = properties.integer("diskSizeGB", 1, DiskModel.DISK_SIZE_GB_MAX)
                .filter(g -> g != DiskModel.sizeGb(disk));
        long newBytes = -1;
        if (newSize.isPresent()) {
            if (newSize.get() * DiskModel.GIB < DiskModel.dataBytes(disk)) {
                throw ArmException.conflict("OperationNotAllowed", "Disk '" + current.name() + "' is "
                        + DiskModel.sizeGb(disk) + " GiB; disks can grow but not shrink (asked for " + newSize.get() + " GiB).");
            }
            if (!detachedEnough) {
                throw ArmException.conflict("OperationNotAllowed", "Disk resizing is allowed only when creating a VM or "
                        + "when the VM is deallocated (disk '" + current.name() + "' is " + state + ").");
            }
            newBytes = newSize.get() * DiskModel.GIB;
            p.put("diskSizeGB", newSize.get());
            p.put("diskSizeBytes", newBytes);
        }
        if (properties.has("maxShares")) {
            int maxShares = properties.integer("maxShares", 1, 15).orElseThrow();
            if (maxShares != DiskModel.maxShares(disk)) {
                if (!DiskModel.attachedTo(disk).isEmpty()) {
                    throw ArmException.conflict("OperationNotAllowed", "maxShares of disk '" + current.name()
                            + "' can be changed only while it is attached to no VM.");
                }
                p.put("maxShares", maxShares);
            }
        }
        DiskModel.checkMaxShares(DiskModel.maxShares(disk), DiskModel.sku(disk), DiskModel.sizeGb(disk), "properties.maxShares");
        DiskModel.applyNetworkAccess(p, properties);
        DiskModel.performance(p, DiskModel.sku(disk), DiskModel.sizeGb(disk));
        for (String vmId : liveAttachments(disk)) {
            resources.find(vmId).ifPresent(vm -> {
                ComputeSize size = VmSizes.find(vm.properties().path("hardwareProfile").path("vmSize").asText()).orElse(null);
                if (size != null && !size.premiumIo() && DiskModel.premium(DiskModel.sku(disk))) {
                    throw new ArmException(409, "OperationNotAllowed", "Storage account type '" + DiskModel.sku(disk)
                            + "' is not supported for VM size '" + size.name() + "' of VM '" + vm.name() + "'.");
                }
            });
        }
        ComputeTypes.touch(disk, request.principal().clientId(), false);
        if (newBytes > 0) {
            try {
                files.resize(DiskFiles.Kind.DISK, DiskModel.uniqueId(disk), newBytes);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return save(current, disk).bodyCopy();
    }

    /** The file a {@code file:} sourceUri names, which must be a VHD inside the export directory. */
    private Path importSource(String uri) {
        Path file;
        try {
            URI parsed = new URI(uri);
            if (!"file".equalsIgnoreCase(parsed.getScheme())) {
                throw new IllegalArgumentException("not a file: URI");
            }
            file = Path.of(parsed).toAbsolutePath().normalize();
        } catch (URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            throw ArmException.invalidField("properties.creationData.sourceUri", "'" + uri + "' must be a file: URI of "
                    + "a fixed VHD under the server's export directory " + importRoot + ".");
        }
        if (!file.startsWith(importRoot) || !java.nio.file.Files.isRegularFile(file)) {
            throw ArmException.invalidField("properties.creationData.sourceUri", "'" + uri + "' is not a file under the "
                    + "server's export directory " + importRoot + ". Export a recovery point as 'vhd' first.");
        }
        long dataBytes = file.toFile().length() - VhdFooters.SIZE;
        if (dataBytes <= 0 || dataBytes % 512 != 0) {
            throw ArmException.invalidField("properties.creationData.sourceUri", "'" + uri + "' is not a fixed VHD (its "
                    + "size is not a multiple of 512 bytes plus a 512-byte footer).");
        }
        return file;
    }

    private static void checkUploadSize(long upload) {
        if (upload < DiskModel.UPLOAD_BYTES_MIN || upload > DiskModel.UPLOAD_BYTES_MAX) {
            throw new ArmException(400, "InvalidParameter", "uploadSizeBytes " + upload + " must be between "
                    + DiskModel.UPLOAD_BYTES_MIN + " (20 MiB + 512 bytes for the VHD footer) and " + DiskModel.UPLOAD_BYTES_MAX
                    + " (32 TiB + 512 bytes for the VHD footer).", "properties.creationData.uploadSizeBytes", List.of());
        }
        if (upload % 512 != 0) {
            throw new ArmException(400, "InvalidParameter", "uploadSizeBytes " + upload + " must be the size of a fixed "
                    + "VHD: a multiple of 512 bytes of data plus the 512-byte VHD footer.",
                    "properties.creationData.uploadSizeBytes", List.of());
        }
    }

    /** The disk or snapshot a Copy reads: it must exist, be in the same region and hold finished bytes. */
    StoredResource copySource(ArmRequest request, Fields creation, Region region) {
        String sourceId = creation.requiredString("sourceResourceId");
        String type = ComputeTypes.typeOf(sourceId);
        if (!type.equalsIgnoreCase(ComputeTypes.DISK) && !type.equalsIgnoreCase(ComputeTypes.SNAPSHOT)) {
            throw ArmException.invalidField("properties.creationData.sourceResourceId", "'" + sourceId
                    + "' is not the id of a managed disk or a snapshot.");
        }
        ComputeTypes.authorizeLinked(rbac, request, sourceId, (type.equalsIgnoreCase(ComputeTypes.DISK)
                ? ComputeTypes.DISK : ComputeTypes.SNAPSHOT) + "/read");
        StoredResource source = resources.find(sourceId).filter(r -> r.typeKey().equalsIgnoreCase(type))
                .orElseThrow(() -> new ArmException(404, "NotFound", "The source '" + sourceId + "' was not found.",
                        "properties.creationData.sourceResourceId", List.of()));
        if (!source.body().path("location").asText().equals(region.name())) {
            throw new ArmException(400, "InvalidParameter", "The source '" + sourceId + "' is in "
                    + source.body().path("location").asText() + "; a copy must be made in the same region ("
                    + region.name() + ").", "properties.creationData.sourceResourceId", List.of());
        }
        String state = DiskModel.state(source.body());
        if (state.equals(DiskModel.READY_TO_UPLOAD) || state.equals(DiskModel.ACTIVE_UPLOAD)) {
            throw ArmException.conflict("OperationNotAllowed", "The source '" + source.name() + "' is " + state
                    + ": its upload has not finished.");
        }
        return source;
    }

    // ------------------------------------------------------------------ attachment (for VMs)

    /** The VMs a disk's attachment fields name that still exist (a deleted group may have taken a VM). */
    List<String> liveAttachments(JsonNode disk) {
        List<String> live = new ArrayList<>();
        for (String vm : DiskModel.attachedTo(disk)) {
            if (resources.find(vm).isPresent()) {
                live.add(vm);
            }
        }
        return live;
    }

    /** Unattached, Attached (some attached VM holds its hardware) or Reserved (every attached VM is deallocated). */
    String attachmentState(JsonNode disk) {
        List<String> vms = liveAttachments(disk);
        if (vms.isEmpty()) {
            return DiskModel.UNATTACHED;
        }
        for (String vmId : vms) {
            Optional<StoredResource> vm = resources.find(vmId);
            if (vm.isPresent() && ComputeTypes.allocated(vm.get().body())) {
                return DiskModel.ATTACHED;
            }
        }
        return DiskModel.RESERVED;
    }

    /**
     * The disk with its state settled: an export or upload whose every URL has expired ends (ActiveSAS back to
     * Unattached/Reserved, ActiveUpload back to ReadyToUpload) and attachments to VMs that no longer exist are
     * dropped. Not saved.
     */
    ObjectNode settle(StoredResource current) {
        ObjectNode disk = current.bodyCopy();
        List<String> attached = DiskModel.attachedTo(disk);
        List<String> live = liveAttachments(disk);
        if (live.size() != attached.size()) {
            DiskModel.setAttachedTo(disk, live);
        }
        String state = DiskModel.state(disk);
        String next = state;
        boolean granted = !access.live(current.id()).isEmpty();
        if (state.equals(DiskModel.ACTIVE_SAS) && !granted) {
            next = attachmentState(disk);
        } else if (state.equals(DiskModel.ACTIVE_UPLOAD) && !granted) {
            next = DiskModel.READY_TO_UPLOAD;
        } else if (state.equals(DiskModel.ATTACHED) || state.equals(DiskModel.RESERVED) || state.equals(DiskModel.UNATTACHED)) {
            next = attachmentState(disk);
        }
        ((ObjectNode) disk.path("properties")).put("diskState", next);
        return disk;
    }

    /** Writes a settled disk when it differs from the stored one (the reconciler's job). */
    boolean settleAndSave(StoredResource current) {
        ObjectNode disk = settle(current);
        if (disk.equals(current.body())) {
            return false;
        }
        save(current, disk);
        return true;
    }

    StoredResource save(StoredResource current, ObjectNode body) {
        String id = current.id();
        return resources.put(id, ComputeTypes.groupIdOf(id), current.typeKey().equalsIgnoreCase(ComputeTypes.SNAPSHOT)
                ? ComputeTypes.SNAPSHOT : ComputeTypes.DISK, current.name(), ComputeTypes.subscriptionOf(id), body);
    }

    /** 409 while URLs of an export or upload are live (endAccess first). */
    void requireNoActiveAccess(StoredResource disk) {
        String state = DiskModel.state(disk.body());
        if ((state.equals(DiskModel.ACTIVE_SAS) || state.equals(DiskModel.ACTIVE_UPLOAD)) && !access.live(disk.id()).isEmpty()) {
            throw ArmException.conflict("OperationNotAllowed", "'" + disk.name() + "' is in state " + state
                    + " (its access URL is live). Call endAccess first.");
        }
    }

    /** Creates a file, runs write (the row), and deletes the file again if write fails. */
    void writeNewFile(DiskFiles.Kind kind, String uniqueId, FileWork make, Runnable write) {
        try (AutoCloseable guard = files.creating(uniqueId)) {
            try {
                make.run();
                write.run();
            } catch (IOException e) {
                files.delete(kind, uniqueId);
                throw new UncheckedIOException(e);
            } catch (RuntimeException e) {
                files.delete(kind, uniqueId);
                throw e;
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @FunctionalInterface
    interface FileWork {
        void run() throws IOException;
    }

    // ------------------------------------------------------------------ helpers

    static void checkName(String name, String what) {
        if (!NAME.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidResourceName", "The " + what + " name '" + name + "' is invalid: use "
                    + "1-80 letters, digits, '_', '.' or '-', starting with a letter, digit or '_' and ending with a "
                    + "letter, digit or '_'.");
        }
    }

    static void checkSameLocation(StoredResource existing, Region region, StoredResource group) {
        String location = existing.body().path("location").asText();
        if (!location.equals(region.name())) {
            throw new ArmException(409, "InvalidResourceLocation", "The resource '" + existing.name()
                    + "' already exists in location '" + location + "' in resource group '" + group.name()
                    + "'. A resource with the same name cannot be created in location '" + region.name() + "'.");
        }
    }

    static ArmException propertyChange(String property) {
        return ArmException.conflict("PropertyChangeNotAllowed", "Changing property '" + property + "' is not allowed.");
    }

    private StoredResource require(ArmRequest request) {
        scope.requireGroup(request.path());
        return resources.find(request.path().resourceId())
                .filter(r -> r.typeKey().equalsIgnoreCase(ComputeTypes.DISK))
                .orElseThrow(() -> ArmException.notFound(request.path().resourceId()));
    }
}
