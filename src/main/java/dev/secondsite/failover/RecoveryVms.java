package dev.secondsite.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.ArmRouter;
import dev.secondsite.arm.Json;
import dev.secondsite.auth.Principal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Builds and tears down the VM a failover recovers into, in the local cloud, through the same ARM pipeline a
 * user's calls take ({@link ArmRouter#call}, as the user who started the failover): so the target resource
 * group's RBAC, the region's vCPU quota, name rules and disk/NIC validation all apply, and the result is an
 * ordinary VM the user can see and manage.
 *
 * <p>Every step is idempotent and safe to re-run after a crash: resources have names derived from the VM name,
 * and carry a {@value #JOB_TAG} tag naming the job that created them. A resource of that name without our tag
 * is the user's: the build stops with 409 FailoverResourceExists instead of touching it. A disk becomes a
 * resource only after its whole file is written and verified (export → Import), and the VM is created last, so
 * nothing half-built is ever shown as ready.
 */
public final class RecoveryVms {
    public static final String JOB_TAG = "secondsite-failover-job";
    public static final String ITEM_TAG = "secondsite-protected-item";
    private static final String COMPUTE_API = "2024-07-01";
    private static final String DISK_API = "2024-03-02";
    private static final String NETWORK_API = "2024-05-01";
    private static final String BASE_URL = "https://localhost";

    /** Exports one disk of the recovery point to a fixed VHD at {@code target} (which must not exist). */
    @FunctionalInterface
    public interface DiskExport {
        void export(Plan.Disk disk, Path target) throws IOException;
    }

    /**
     * What to build. {@code resourceGroupId} is the target group's ARM id, {@code vmName} the VM's name (a test
     * failover's ends in "-test"); disks in order, the OS disk first.
     */
    public record Plan(String jobId, String itemName, String resourceGroupId, String location, String vmName,
                       String vmSize, String osType, String subnetId, List<Disk> disks) {
        public record Disk(String diskId, String name, String manifest) {}

        String vmId() {
            return resourceGroupId + "/providers/Microsoft.Compute/virtualMachines/" + vmName;
        }

        String nicId() {
            return resourceGroupId + "/providers/Microsoft.Network/networkInterfaces/" + vmName + "-nic";
        }

        /** The network a failover creates when none was chosen at enable: one per item, reused by later failovers. */
        String autoNetworkId() {
            return resourceGroupId + "/providers/Microsoft.Network/virtualNetworks/" + itemName + "-recovery-vnet";
        }

        String managedDiskId(Disk disk) {
            return resourceGroupId + "/providers/Microsoft.Compute/disks/" + diskResourceName(vmName, disk.name());
        }

        ObjectNode toJson() {
            return Json.MAPPER.valueToTree(this);
        }

        static Plan fromJson(JsonNode node) {
            return Json.MAPPER.convertValue(node, Plan.class);
        }
    }

    private final ArmRouter arm;
    private final Path stagingRoot;

    /** @param stagingRoot where disks are exported before import; must be inside the server's export directory */
    public RecoveryVms(ArmRouter arm, Path stagingRoot) {
        this.arm = arm;
        this.stagingRoot = stagingRoot;
    }

    /** A disk resource name from the VM's and the source disk's: letters, digits, '-', '_', '.' only. */
    static String diskResourceName(String vmName, String diskName) {
        String clean = diskName.replaceAll("[^A-Za-z0-9_.-]", "-");
        String name = vmName + "-" + clean;
        return name.length() <= 80 ? name : name.substring(0, 80);
    }

    // ---- build steps ----

    /** Creates every disk of the plan from the recovery point (skipping those this job created already). */
    public void createDisks(Plan plan, Principal as, DiskExport export) throws IOException {
        Path staging = stagingRoot.resolve(plan.jobId());
        for (int i = 0; i < plan.disks().size(); i++) {
            Plan.Disk disk = plan.disks().get(i);
            String id = plan.managedDiskId(disk);
            if (ours(find(id, DISK_API, as), plan.jobId(), id)) {
                continue;
            }
            Files.createDirectories(staging);
            Path file = staging.resolve(disk.diskId() + ".vhd");
            Files.deleteIfExists(file); // a partial export from before a crash
            export.export(disk, file);
            ObjectNode body = Json.object();
            body.put("location", plan.location());
            body.set("tags", tags(plan));
            body.putObject("sku").put("name", "Standard_LRS");
            ObjectNode p = body.putObject("properties");
            if (i == 0) {
                p.put("osType", plan.osType());
                p.put("hyperVGeneration", "V1");
            }
            ObjectNode creation = p.putObject("creationData");
            creation.put("createOption", "Import");
            creation.put("sourceUri", file.toUri().toString());
            call("PUT", id, DISK_API, as, body);
            Files.deleteIfExists(file);
        }
        deleteStaging(plan.jobId());
    }

    /** Creates the VM's network interface in the plan's subnet (or in the item's auto-created network). */
    public void createNic(Plan plan, Principal as) {
        if (ours(find(plan.nicId(), NETWORK_API, as), plan.jobId(), plan.nicId())) {
            return;
        }
        String subnetId = plan.subnetId() == null || plan.subnetId().isBlank() ? autoNetwork(plan, as) : plan.subnetId();
        ObjectNode body = Json.object();
        body.put("location", plan.location());
        body.set("tags", tags(plan));
        ObjectNode config = body.putObject("properties").putArray("ipConfigurations").addObject();
        config.put("name", "ipconfig1");
        ObjectNode cp = config.putObject("properties");
        cp.putObject("subnet").put("id", subnetId);
        cp.put("privateIPAllocationMethod", "Dynamic");
        call("PUT", plan.nicId(), NETWORK_API, as, body);
    }

    /**
     * The default subnet of the item's own recovery network, created on first use (10.0.0.0/16, tagged with the job
     * that made it and the item). A later failover of the same item reuses it; one with the name but without the
     * item's tag is the user's and stops the failover.
     */
    private String autoNetwork(Plan plan, Principal as) {
        String id = plan.autoNetworkId();
        Optional<ObjectNode> existing = find(id, NETWORK_API, as);
        if (existing.isPresent() && !plan.itemName().equals(existing.get().path("tags").path(ITEM_TAG).asText())) {
            throw ArmException.conflict("FailoverResourceExists", "'" + id + "' exists already and was not created for "
                    + "'" + plan.itemName() + "'. Delete or rename it, or enable replication with a target network.");
        }
        if (existing.isEmpty()) {
            ObjectNode body = Json.object();
            body.put("location", plan.location());
            body.set("tags", tags(plan));
            ObjectNode p = body.putObject("properties");
            p.putObject("addressSpace").putArray("addressPrefixes").add("10.0.0.0/16");
            ObjectNode subnet = p.putArray("subnets").addObject();
            subnet.put("name", "default");
            subnet.putObject("properties").put("addressPrefix", "10.0.0.0/24");
            call("PUT", id, NETWORK_API, as, body);
        }
        return id + "/subnets/default";
    }

    /** Creates (and so starts) the VM over the recovered disks and the NIC. */
    public ObjectNode createVm(Plan plan, Principal as) {
        Optional<ObjectNode> existing = find(plan.vmId(), COMPUTE_API, as);
        if (ours(existing, plan.jobId(), plan.vmId())) {
            return existing.get();
        }
        ObjectNode body = Json.object();
        body.put("location", plan.location());
        body.set("tags", tags(plan));
        ObjectNode p = body.putObject("properties");
        p.putObject("hardwareProfile").put("vmSize", plan.vmSize());
        ObjectNode storage = p.putObject("storageProfile");
        ObjectNode os = storage.putObject("osDisk");
        os.put("createOption", "Attach");
        os.put("osType", plan.osType());
        os.put("deleteOption", "Detach");
        os.putObject("managedDisk").put("id", plan.managedDiskId(plan.disks().getFirst()));
        ArrayNode data = storage.putArray("dataDisks");
        for (int i = 1; i < plan.disks().size(); i++) {
            ObjectNode d = data.addObject();
            d.put("lun", i - 1);
            d.put("createOption", "Attach");
            d.put("deleteOption", "Detach");
            d.putObject("managedDisk").put("id", plan.managedDiskId(plan.disks().get(i)));
        }
        ObjectNode nic = p.putObject("networkProfile").putArray("networkInterfaces").addObject();
        nic.put("id", plan.nicId());
        nic.putObject("properties").put("primary", true);
        return (ObjectNode) call("PUT", plan.vmId(), COMPUTE_API, as, body).body();
    }

    // ---- teardown ----

    /**
     * Deletes what this plan's job created (VM, NIC, disks, staging files), leaving anything not tagged with the
     * job alone. Returns the ids it deleted.
     */
    public List<String> delete(Plan plan, Principal as) throws IOException {
        List<String> deleted = new java.util.ArrayList<>();
        deleteIfOurs(plan.vmId(), COMPUTE_API, plan.jobId(), as, deleted);
        deleteIfOurs(plan.nicId(), NETWORK_API, plan.jobId(), as, deleted);
        deleteIfOurs(plan.autoNetworkId(), NETWORK_API, plan.jobId(), as, deleted);
        for (Plan.Disk disk : plan.disks()) {
            deleteIfOurs(plan.managedDiskId(disk), DISK_API, plan.jobId(), as, deleted);
        }
        deleteStaging(plan.jobId());
        return deleted;
    }

    /**
     * Deletes a committed failover's VM, NIC and disks (a failback was committed: the data is back on the primary
     * machine). The job tag is gone since the commit; the item tag must still name this plan's item.
     */
    public List<String> deleteReleased(Plan plan, Principal as) {
        List<String> deleted = new java.util.ArrayList<>();
        List<String[]> targets = new java.util.ArrayList<>();
        targets.add(new String[] {plan.vmId(), COMPUTE_API});
        targets.add(new String[] {plan.nicId(), NETWORK_API});
        plan.disks().forEach(d -> targets.add(new String[] {plan.managedDiskId(d), DISK_API}));
        for (String[] t : targets) {
            Optional<ObjectNode> found = find(t[0], t[1], as);
            if (found.isPresent() && plan.itemName().equals(found.get().path("tags").path(ITEM_TAG).asText())) {
                call("DELETE", t[0], t[1], as, null);
                deleted.add(t[0]);
            }
        }
        return deleted;
    }

    /** Removes the job's tag from what it built: the resources are the user's from now on (failover commit). */
    public void release(Plan plan, Principal as) {
        for (String id : List.of(plan.vmId(), plan.nicId())) {
            untag(id, id.contains("/Microsoft.Compute/") ? COMPUTE_API : NETWORK_API, plan.jobId(), as);
        }
        plan.disks().forEach(d -> untag(plan.managedDiskId(d), DISK_API, plan.jobId(), as));
    }

    private void untag(String id, String api, String jobId, Principal as) {
        Optional<ObjectNode> found = find(id, api, as);
        if (found.isEmpty() || !jobId.equals(found.get().path("tags").path(JOB_TAG).asText())) {
            return;
        }
        ObjectNode tags = found.get().path("tags").deepCopy();
        tags.remove(JOB_TAG);
        if (id.contains("/Microsoft.Network/")) { // NICs have no PATCH: PUT the body back with the new tags
            ObjectNode body = found.get().deepCopy();
            body.set("tags", tags);
            call("PUT", id, api, as, body);
        } else {
            ObjectNode patch = Json.object();
            patch.set("tags", tags);
            call("PATCH", id, api, as, patch);
        }
    }

    private void deleteIfOurs(String id, String api, String jobId, Principal as, List<String> deleted) {
        Optional<ObjectNode> found = find(id, api, as);
        if (found.isPresent() && jobId.equals(found.get().path("tags").path(JOB_TAG).asText())) {
            call("DELETE", id, api, as, null);
            deleted.add(id);
        }
    }

    private void deleteStaging(String jobId) throws IOException {
        Path dir = stagingRoot.resolve(jobId);
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    // ---- ARM plumbing ----

    private static ObjectNode tags(Plan plan) {
        ObjectNode tags = Json.object();
        tags.put(JOB_TAG, plan.jobId());
        tags.put(ITEM_TAG, plan.itemName());
        return tags;
    }

    /** True when the resource exists and this job made it; 409 when it exists and is somebody else's. */
    private static boolean ours(Optional<ObjectNode> resource, String jobId, String id) {
        if (resource.isEmpty()) {
            return false;
        }
        if (jobId.equals(resource.get().path("tags").path(JOB_TAG).asText())) {
            return true;
        }
        throw ArmException.conflict("FailoverResourceExists", "'" + id + "' exists already and was not created by this "
                + "failover. Delete or rename it, or recover the VM under another name (recoveryAzureVMName), then retry.");
    }

    private Optional<ObjectNode> find(String id, String api, Principal as) {
        try {
            return Optional.of((ObjectNode) call("GET", id, api, as, null).body());
        } catch (ArmException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private ArmResponse call(String method, String id, String api, Principal as, JsonNode body) {
        return arm.call(method.toUpperCase(Locale.ROOT), id, Map.of("api-version", api), as, body, BASE_URL);
    }
}
