package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.VaultScope;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Snapshots (Microsoft.Compute/snapshots): a point-in-time copy of a disk or of another snapshot, made when
 * the snapshot is created (a reflink or sparse copy of the source's file). {@code incremental} is accepted and
 * reported; every snapshot holds its full bytes. A snapshot can be exported (beginGetAccess Read) and is the
 * source of new disks (disks' createOption Copy).
 */
public final class Snapshots {
    private static final List<String> CREATE_OPTIONS = List.of("Copy", "CopyStart", "Import", "Upload", "Empty",
            "Restore", "FromImage", "ImportSecure", "CopyFromSanSnapshot");

    private final ResourceStore resources;
    private final VaultScope scope;
    private final RegionLocks locks;
    private final DiskFiles files;
    private final DiskAccess access;
    private final Disks disks;

    Snapshots(ResourceStore resources, VaultScope scope, RegionLocks locks, DiskFiles files, DiskAccess access, Disks disks) {
        this.resources = resources;
        this.scope = scope;
        this.locks = locks;
        this.files = files;
        this.access = access;
        this.disks = disks;
    }

    public ArmResponse put(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name();
        Disks.checkName(name, "snapshot");
        Fields body = Fields.of(request.bodyObject(), "");
        Region region = Regions.require(body.string("location").orElseThrow(() -> new ArmException(400,
                "LocationRequired", "The location property is required for this definition.", "location", List.of())),
                "location");
        String id = group.id() + "/providers/" + ComputeTypes.SNAPSHOT + "/" + name;
        return locks.inRegion(request.path().subscriptionId(), region.name(), () -> {
            Optional<StoredResource> existing = resources.find(id);
            if (existing.isPresent()) {
                Disks.checkSameLocation(existing.get(), region, group);
                return ArmResponse.ok(update(request, existing.get(), body));
            }
            // 200, not 201: the spec's Snapshots_CreateOrUpdate answers 200 or 202, and the Azure SDKs refuse anything else.
            return ArmResponse.ok(create(request, group, id, name, region, body));
        });
    }

    public ArmResponse patch(ArmRequest request) {
        StoredResource current = require(request);
        Fields body = Fields.of(request.bodyObject(), "");
        return locks.inRegion(request.path().subscriptionId(), current.body().path("location").asText(), () ->
                ArmResponse.ok(update(request, require(request), body)));
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(require(request).bodyCopy());
    }

    public ArmResponse list(ArmRequest request) {
        return ArmResponse.ok(ComputeTypes.list(disks.listOf(request, ComputeTypes.SNAPSHOT), StoredResource::bodyCopy));
    }

    public ArmResponse delete(ArmRequest request) {
        scope.requireGroup(request.path());
        Optional<StoredResource> found = resources.find(request.path().resourceId());
        if (found.isEmpty()) {
            return ArmResponse.noContent();
        }
        StoredResource deleted = locks.inRegion(request.path().subscriptionId(), found.get().body().path("location").asText(), () -> {
            Optional<StoredResource> snapshot = resources.find(request.path().resourceId());
            if (snapshot.isEmpty()) {
                return null;
            }
            disks.requireNoActiveAccess(snapshot.get());
            access.revokeAll(snapshot.get().id());
            resources.delete(snapshot.get().id());
            return snapshot.get();
        });
        if (deleted != null) {
            files.delete(DiskFiles.Kind.SNAPSHOT, DiskModel.uniqueId(deleted.body()));
        }
        return deleted == null ? ArmResponse.noContent() : ArmResponse.ok(null);
    }

    public ArmResponse beginGetAccess(ArmRequest request) {
        return disks.beginGetAccess(request, require(request), true);
    }

    public ArmResponse endAccess(ArmRequest request) {
        return disks.endAccess(request, require(request));
    }

    private ObjectNode create(ArmRequest request, StoredResource group, String id, String name, Region region, Fields body) {
        Fields properties = body.object("properties");
        Fields creation = properties.object("creationData");
        if (!creation.present()) {
            throw ArmException.missingField("properties.creationData");
        }
        String option = creation.oneOf("createOption", CREATE_OPTIONS)
                .orElseThrow(() -> ArmException.missingField("properties.creationData.createOption"));
        if (!option.equals("Copy")) {
            throw new ArmException(400, "InvalidParameter", "createOption '" + option + "' is not supported for "
                    + "snapshots by the local cloud; use Copy with sourceResourceId (a disk or a snapshot).",
                    "properties.creationData.createOption", List.of());
        }
        StoredResource source = disks.copySource(request, creation, region);
        String sku = Fields.of(body.raw("sku"), "sku").oneOf("name", DiskModel.SNAPSHOT_SKUS).orElse("Standard_LRS");
        String uniqueId = UUID.randomUUID().toString();
        JsonNode sp = source.properties();
        ObjectNode snapshot = Json.object();
        snapshot.put("id", id);
        snapshot.put("name", name);
        snapshot.put("type", ComputeTypes.SNAPSHOT);
        snapshot.put("location", region.name());
        snapshot.set("tags", ComputeTypes.tags(body, null));
        ObjectNode skuNode = snapshot.putObject("sku");
        skuNode.put("name", sku);
        skuNode.put("tier", "Standard");
        ObjectNode p = snapshot.putObject("properties");
        if (sp.has("osType")) {
            p.put("osType", sp.path("osType").asText());
        }
        if (sp.has("hyperVGeneration")) {
            p.put("hyperVGeneration", sp.path("hyperVGeneration").asText());
        }
        ObjectNode creationOut = p.putObject("creationData");
        creationOut.put("createOption", "Copy");
        creationOut.put("sourceResourceId", source.id());
        creationOut.put("sourceUniqueId", DiskModel.uniqueId(source.body()));
        if (sp.has("securityProfile")) {
            p.set("securityProfile", sp.path("securityProfile").deepCopy());
        }
        p.put("diskSizeGB", sp.path("diskSizeGB").asInt());
        p.put("diskSizeBytes", sp.path("diskSizeBytes").asLong());
        p.put("uniqueId", uniqueId);
        p.put("incremental", properties.booleanString("incremental").map(Boolean::parseBoolean).orElse(false));
        DiskModel.applyNetworkAccess(p, properties);
        p.putObject("encryption").put("type", "EncryptionAtRestWithPlatformKey");
        p.put("timeCreated", Instant.now().toString());
        p.put("provisioningState", "Succeeded");
        p.put("diskState", DiskModel.UNATTACHED);
        ComputeTypes.touch(snapshot, request.principal().clientId(), true);
        disks.writeNewFile(DiskFiles.Kind.SNAPSHOT, uniqueId,
                () -> files.copy(DiskModel.kind(source), DiskModel.uniqueId(source.body()), DiskFiles.Kind.SNAPSHOT, uniqueId, -1),
                () -> resources.put(id, group.id(), ComputeTypes.SNAPSHOT, name, group.id().split("/")[2], snapshot));
        return resources.find(id).orElseThrow().bodyCopy();
    }

    private ObjectNode update(ArmRequest request, StoredResource current, Fields body) {
        ObjectNode snapshot = disks.settle(current);
        ObjectNode p = (ObjectNode) snapshot.path("properties");
        Fields properties = body.object("properties");
        snapshot.set("tags", ComputeTypes.tags(body, snapshot.path("tags")));
        Fields creation = properties.object("creationData");
        creation.string("sourceResourceId").filter(s -> !ComputeTypes.sameId(s, p.path("creationData").path("sourceResourceId").asText(null)))
                .ifPresent(s -> {
                    throw Disks.propertyChange("creationData.sourceResourceId");
                });
        properties.integer("diskSizeGB", 1, DiskModel.DISK_SIZE_GB_MAX).filter(g -> g != p.path("diskSizeGB").asInt())
                .ifPresent(g -> {
                    throw Disks.propertyChange("diskSizeGB");
                });
        Fields.of(body.raw("sku"), "sku").oneOf("name", DiskModel.SNAPSHOT_SKUS).ifPresent(s -> snapshot.with("sku").put("name", s));
        DiskModel.applyNetworkAccess(p, properties);
        ComputeTypes.touch(snapshot, request.principal().clientId(), false);
        return disks.save(current, snapshot).bodyCopy();
    }

    private StoredResource require(ArmRequest request) {
        scope.requireGroup(request.path());
        return resources.find(request.path().resourceId())
                .filter(r -> r.typeKey().equalsIgnoreCase(ComputeTypes.SNAPSHOT))
                .orElseThrow(() -> ArmException.notFound(request.path().resourceId()));
    }
}
