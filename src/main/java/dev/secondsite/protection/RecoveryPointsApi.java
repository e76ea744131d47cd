package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.jobs.JobContext;
import dev.secondsite.jobs.JobStore;
import dev.secondsite.jobs.JobsApi;
import dev.secondsite.jobs.Workflow;
import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.RecoveryStore;
import dev.secondsite.replication.RestoreResult;
import dev.secondsite.replication.point.RecoveryPointManifest;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.vault.VaultScope;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.ReplicationTypes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

import static dev.secondsite.jobs.Workflow.task;

/**
 * Recovery points of a protected item ({@code P/recoveryPoints}, reference §4.4) and their export.
 *
 * <p>A machine's recovery point is one consistency marker time at which <em>every</em> protected disk has a
 * point (the agent stamps one cycle's markers with the same time on all disks, agent-protocol §5); for a
 * one-disk machine every disk point is a machine point. Its name is a GUID derived from the item and the
 * time, so it is stable for as long as the point exists. {@code recoveryPointType} is CrashConsistent, or
 * AppConsistent when every disk's marker was app-consistent.
 *
 * <p>{@code POST …/recoveryPoints/{name}/exportDisk} materializes one disk of a point as a file under the
 * server's export directory (a job "Export recovery point"); failover builds on it.
 */
public final class RecoveryPointsApi {
    private static final DateTimeFormatter FILE_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** One machine-level point: its time and each disk's manifest. */
    public record MachinePoint(String name, Instant time, String type, Map<UUID, RecoveryPointManifest> disks) {
        public static final String APP_CONSISTENT = "AppConsistent";
        public static final String CRASH_CONSISTENT = "CrashConsistent";

        public boolean appConsistent() {
            return type.equals(APP_CONSISTENT);
        }
    }

    private final ProtectedItems items;
    private final ProtectionStore store;
    private final ReplicationEngine engine;
    private final JobsApi jobs;
    private final Path exportDir;
    private final Workflow export = new Workflow("ExportRecoveryPoint", "Export recovery point", List.of(
            task("ExportDisk", "Export and verify the disk", this::applyExport)));

    public RecoveryPointsApi(ProtectedItems items, ProtectionStore store, ReplicationEngine engine, JobsApi jobs,
                             Path exportDir) {
        this.items = items;
        this.store = store;
        this.engine = engine;
        this.jobs = jobs;
        this.exportDir = exportDir.toAbsolutePath().normalize();
    }

    public List<Workflow> workflows() {
        return List.of(export);
    }

    public Path exportDir() {
        return exportDir;
    }

    public ArmResponse list(ArmRequest request) {
        StoredResource item = items.requireItem(request);
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        for (MachinePoint point : points(item.id()).reversed()) {
            value.add(body(item.id(), point));
        }
        return ArmResponse.ok(list);
    }

    public ArmResponse get(ArmRequest request) {
        StoredResource item = items.requireItem(request);
        return ArmResponse.ok(body(item.id(), require(item.id(), request.path().name(4))));
    }

    /** The item's machine points, oldest first. */
    public List<MachinePoint> points(String itemId) {
        List<ProtectionStore.Disk> disks = store.disksOf(itemId);
        if (disks.isEmpty()) {
            return List.of();
        }
        RecoveryStore recovery = engine.recovery();
        TreeMap<Long, Map<UUID, RecoveryPointManifest>> byTime = new TreeMap<>();
        try {
            for (ProtectionStore.Disk disk : disks) {
                for (RecoveryPointManifest m : recovery.points().list(disk.diskId())) {
                    byTime.computeIfAbsent(m.createdAt().toEpochMilli(), t -> new LinkedHashMap<>()).put(disk.diskId(), m);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<MachinePoint> points = new ArrayList<>();
        for (var e : byTime.entrySet()) {
            if (e.getValue().size() != disks.size()) {
                continue; // not every disk has a point at this time
            }
            boolean app = e.getValue().values().stream().allMatch(m -> m.consistency() == ConsistencyType.APP_CONSISTENT);
            points.add(new MachinePoint(pointName(itemId, e.getKey()), Instant.ofEpochMilli(e.getKey()),
                    app ? MachinePoint.APP_CONSISTENT : MachinePoint.CRASH_CONSISTENT, e.getValue()));
        }
        return points;
    }

    static String pointName(String itemId, long millis) {
        return UUID.nameUUIDFromBytes(("secondsite-recovery-point/" + ResourceStore.key(itemId) + "/" + millis)
                .getBytes(StandardCharsets.UTF_8)).toString();
    }

    private MachinePoint require(String itemId, String name) {
        return points(itemId).stream().filter(p -> p.name().equalsIgnoreCase(name)).findFirst()
                .orElseThrow(() -> new ArmException(404, "RecoveryPointNotFound", "Recovery point '" + name
                        + "' does not exist (or was removed by retention)."));
    }

    private ObjectNode body(String itemId, MachinePoint point) {
        ObjectNode body = Json.object();
        body.put("id", itemId + "/recoveryPoints/" + point.name());
        body.put("name", point.name());
        body.put("type", ReplicationTypes.RECOVERY_POINT);
        ObjectNode p = body.putObject("properties");
        p.put("recoveryPointTime", point.time().toString());
        p.put("recoveryPointType", point.type());
        ObjectNode details = p.putObject("providerSpecificDetails");
        details.put("instanceType", "InMageAzureV2");
        details.put("isMultiVmSyncPoint", "false");
        ArrayNode disks = details.putArray("disks");
        Map<UUID, String> names = new LinkedHashMap<>();
        store.disksOf(itemId).forEach(d -> names.put(d.diskId(), d.name()));
        point.disks().forEach((diskId, m) -> {
            ObjectNode d = disks.addObject();
            d.put("diskId", diskId.toString());
            d.put("diskName", names.get(diskId));
            d.put("rootDigest", m.root().hex());
            d.put("virtualBytes", m.geometry().virtualBytes());
            d.put("chunkBytes", m.geometry().chunkBytes());
            d.put("consistency", m.consistency() == ConsistencyType.APP_CONSISTENT ? MachinePoint.APP_CONSISTENT
                    : MachinePoint.CRASH_CONSISTENT);
            d.put("segmentSequence", m.segmentSequence());
            d.put("tag", m.tag());
        });
        return body;
    }

    // ---- export ----

    /**
     * POST …/recoveryPoints/{name}/exportDisk {diskId | diskName, format raw|vhd|vhdDynamic|vhdx, path}: 202 and a job;
     * the body of the 202 names the file. {@code path} is relative to the export directory (absolute paths must
     * lie inside it); by default {@code {item}-{disk}-{time}.{ext}}.
     */
    public ArmResponse exportDisk(ArmRequest request) {
        StoredResource item = items.requireItem(request);
        MachinePoint point = require(item.id(), request.path().name(4));
        Fields body = Fields.of(request.bodyObject(), "");
        List<ProtectionStore.Disk> disks = store.disksOf(item.id());
        Optional<String> diskId = body.string("diskId");
        Optional<String> diskName = body.string("diskName");
        ProtectionStore.Disk disk;
        if (diskId.isEmpty() && diskName.isEmpty()) {
            if (disks.size() != 1) {
                throw ArmException.missingField("diskId");
            }
            disk = disks.getFirst();
        } else {
            disk = disks.stream().filter(d -> diskId.map(id -> id.equalsIgnoreCase(d.diskId().toString())).orElse(true)
                            && diskName.map(n -> n.equalsIgnoreCase(d.name())).orElse(true)).findFirst()
                    .orElseThrow(() -> ArmException.invalidField(diskId.isPresent() ? "diskId" : "diskName",
                            "'" + diskId.or(() -> diskName).get() + "' is not a protected disk of this item."));
        }
        String format = body.oneOf("format", Exporter.FORMATS).orElse("raw");
        Path target = target(body.string("path").orElse(null), item.name() + "-" + disk.name() + "-"
                + FILE_TIME.format(point.time()) + "." + Exporter.extension(format));
        if (Files.exists(target)) {
            throw ArmException.conflict("ExportTargetExists", "'" + target + "' exists already. Choose another path "
                    + "or delete the file.");
        }
        ObjectNode input = Json.object();
        input.put("itemId", item.id());
        input.put("recoveryPoint", point.name());
        input.put("diskId", disk.diskId().toString());
        input.put("manifest", point.disks().get(disk.diskId()).blobName());
        input.put("format", format);
        input.put("path", target.toString());
        String vaultId = VaultScope.vaultIdOf(item.id());
        ArmResponse accepted = jobs.accept(request, new JobStore.NewJob(vaultId, export,
                item.id() + "/recoveryPoints/" + point.name(), point.name(), "RecoveryPoint", input,
                request.principal().clientId()));
        ObjectNode answer = Json.object();
        answer.put("path", target.toString());
        answer.put("format", format);
        answer.put("diskId", disk.diskId().toString());
        answer.put("recoveryPointId", item.id() + "/recoveryPoints/" + point.name());
        answer.put("recoveryPointTime", point.time().toString());
        return new ArmResponse(202, answer, accepted.headers());
    }

    private Path target(String requested, String defaultName) {
        Path path;
        if (requested == null || requested.isBlank()) {
            path = exportDir.resolve(defaultName);
        } else {
            Path given = Path.of(requested);
            path = (given.isAbsolute() ? given : exportDir.resolve(given)).toAbsolutePath().normalize();
        }
        if (!path.startsWith(exportDir) || path.equals(exportDir)) {
            throw ArmException.invalidField("path", "exports are written under the server's export directory "
                    + exportDir + "; '" + requested + "' is outside it.");
        }
        return path;
    }

    private void applyExport(JobContext ctx) throws IOException {
        ObjectNode in = ctx.input();
        Path target = Path.of(in.path("path").asText());
        Path sidecar = target.resolveSibling(target.getFileName() + ".json");
        if (Files.exists(target)) {
            if (Files.exists(sidecar) && Json.parse(Files.readString(sidecar)).path("jobId").asText().equals(ctx.job().id())) {
                return; // done before a crash
            }
            throw ArmException.conflict("ExportTargetExists", "'" + target + "' appeared while the export was queued.");
        }
        Files.createDirectories(target.getParent());
        Path partial = target.resolveSibling("." + target.getFileName() + "." + ctx.job().id() + ".export");
        Files.deleteIfExists(partial);
        Files.deleteIfExists(partial.resolveSibling(partial.getFileName() + dev.secondsite.replication.Restore.PARTIAL_SUFFIX));
        RecoveryStore recovery = engine.recovery();
        RestoreResult result = engine.withPointsStable(() -> {
            RecoveryPointManifest manifest = recovery.points().read(in.path("manifest").asText())
                    .orElseThrow(() -> new ArmException(404, "RecoveryPointNotFound", "Recovery point '"
                            + in.path("recoveryPoint").asText() + "' was removed (retention or disable) before the "
                            + "export ran."));
            try {
                return Exporter.export(recovery, manifest, in.path("format").asText(), partial);
            } catch (IllegalArgumentException e) {
                throw ArmException.badRequest("ExportFormatNotSupported", "The disk can't be exported as "
                        + in.path("format").asText() + ": " + e.getMessage());
            }
        });
        ObjectNode info = Json.object();
        info.put("jobId", ctx.job().id());
        info.put("recoveryPointId", in.path("itemId").asText() + "/recoveryPoints/" + in.path("recoveryPoint").asText());
        info.put("diskId", in.path("diskId").asText());
        info.put("format", in.path("format").asText());
        info.put("virtualBytes", result.virtualBytes());
        info.put("sha256", result.sha256());
        info.put("chunksWritten", result.chunksWritten());
        info.put("zeroChunks", result.zeroChunks());
        Path infoTemp = sidecar.resolveSibling("." + sidecar.getFileName() + ".tmp");
        Files.writeString(infoTemp, Json.write(info));
        Files.move(infoTemp, sidecar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        try {
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            throw ArmException.conflict("ExportTargetExists", "'" + target + "' appeared while the export ran.");
        }
    }

    static JsonNode readInfo(Path target) throws IOException {
        return Json.parse(Files.readString(target.resolveSibling(target.getFileName() + ".json")));
    }
}
