package dev.secondsite.cloud.compute;

import dev.secondsite.auth.Rbac;
import dev.secondsite.cloud.network.NetworkInterfaces;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.store.Settings;
import dev.secondsite.vault.VaultScope;
import io.javalin.Javalin;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The compute of the local cloud, wired: VM sizes, quotas, managed disks, snapshots, VMs, the disk SAS
 * endpoint, and a background reconciler. Build with {@link #start}, add the ARM routes through
 * {@code ApiRoutes.compute}, the SAS routes with {@link #registerSasRoutes}, and {@link #close} on shutdown.
 *
 * <p>The reconciler runs every {@value #RECONCILE_SECONDS} s: it deletes disk files whose resource is gone
 * (deleting a resource group deletes its disks' rows, not their files), ends exports and uploads whose URLs
 * all expired, drops attachments to VMs that no longer exist, frees NICs of deleted VMs, and prunes old
 * operation records and grants.
 */
public final class Compute implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Compute.class);
    static final long RECONCILE_SECONDS = 2;

    public final SizesApi sizes;
    public final Quotas quotas;
    public final Disks disks;
    public final Snapshots snapshots;
    public final VirtualMachines vms;
    public final ComputeOperations operations;
    private final SasEndpoint sas;
    private final ResourceStore resources;
    private final DiskFiles files;
    private final DiskAccess access;
    private final RegionLocks locks;
    private final NetworkInterfaces nics;
    private final ScheduledExecutorService reconciler;

    private Compute(Jdbi jdbi, ResourceStore resources, VaultScope scope, Rbac rbac, NetworkInterfaces nics,
                    Path dataDir, boolean embedded) {
        this.resources = resources;
        this.nics = nics;
        this.files = new DiskFiles(dataDir);
        this.locks = new RegionLocks(jdbi, !embedded);
        this.access = new DiskAccess(jdbi, new Settings(jdbi));
        this.operations = new ComputeOperations(jdbi);
        this.sizes = new SizesApi();
        this.quotas = new Quotas(jdbi, resources, locks);
        this.disks = new Disks(resources, scope, locks, files, access, operations, rbac,
                dataDir.resolve("exports"));
        this.snapshots = new Snapshots(resources, scope, locks, files, access, disks);
        this.vms = new VirtualMachines(resources, scope, locks, quotas, disks, files, access, operations, rbac, nics);
        this.sas = new SasEndpoint(access, resources, files);
        this.reconciler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "compute-reconciler");
            t.setDaemon(true);
            return t;
        });
    }

    /** Builds compute over the store and starts its reconciler. */
    public static Compute start(Jdbi jdbi, ResourceStore resources, VaultScope scope, Rbac rbac, NetworkInterfaces nics,
                                Path dataDir, boolean embedded) {
        Compute compute = new Compute(jdbi, resources, scope, rbac, nics, dataDir, embedded);
        compute.reconciler.scheduleWithFixedDelay(compute::reconcileQuietly, 0, RECONCILE_SECONDS, TimeUnit.SECONDS);
        return compute;
    }

    /** The disk SAS URLs (no bearer token; the URL's signature is the credential). */
    /** The file holding a managed disk's bytes: a fixed VHD, the disk's data then the 512-byte footer. */
    public java.nio.file.Path diskFile(com.fasterxml.jackson.databind.JsonNode diskBody) {
        return files.path(DiskFiles.Kind.DISK, DiskModel.uniqueId(diskBody));
    }

    public void registerSasRoutes(Javalin app) {
        app.get(SasEndpoint.PATH, sas::get);
        app.head(SasEndpoint.PATH, sas::head);
        app.put(SasEndpoint.PATH, sas::put);
    }

    private void reconcileQuietly() {
        try {
            reconcile();
        } catch (RuntimeException | java.io.IOException e) {
            LOG.warn("compute reconcile failed: {}", e.toString());
        }
    }

    /** One reconcile pass (see the class comment). */
    void reconcile() throws java.io.IOException {
        Set<String> diskIds = new HashSet<>();
        Set<String> snapshotIds = new HashSet<>();
        Set<String> vmIds = new HashSet<>();
        resources.allOfType(ComputeTypes.VM).forEach(vm -> vmIds.add(ResourceStore.key(vm.id())));
        for (StoredResource disk : resources.allOfType(ComputeTypes.DISK)) {
            diskIds.add(DiskModel.uniqueId(disk.body()));
            if (needsSettling(disk, vmIds)) {
                String[] parts = disk.id().split("/");
                locks.inRegion(parts[2], disk.body().path("location").asText(), () -> {
                    resources.find(disk.id()).ifPresent(disks::settleAndSave);
                    return null;
                });
            }
        }
        for (StoredResource snapshot : resources.allOfType(ComputeTypes.SNAPSHOT)) {
            snapshotIds.add(DiskModel.uniqueId(snapshot.body()));
            if (DiskModel.ACTIVE_SAS.equals(DiskModel.state(snapshot.body())) && access.live(snapshot.id()).isEmpty()) {
                locks.inRegion(snapshot.id().split("/")[2], snapshot.body().path("location").asText(), () -> {
                    resources.find(snapshot.id()).ifPresent(disks::settleAndSave);
                    return null;
                });
            }
        }
        int deleted = files.sweep(diskIds, snapshotIds);
        if (deleted > 0) {
            LOG.info("deleted {} disk file(s) whose disk or snapshot no longer exists", deleted);
        }
        for (StoredResource nic : resources.allOfType(ComputeTypes.NIC)) {
            String vm = nic.properties().path("virtualMachine").path("id").asText("");
            if (!vm.isEmpty() && ComputeTypes.typeOf(vm).equalsIgnoreCase(ComputeTypes.VM)
                    && !vmIds.contains(ResourceStore.key(vm)) && resources.find(vm).isEmpty()) {
                nics.detach(nic.id(), vm);
            }
        }
        operations.prune();
        access.prune();
    }

    /** A disk whose export or upload URLs all expired, or which names a VM that no longer exists. */
    private boolean needsSettling(StoredResource disk, Set<String> vmIds) {
        String state = DiskModel.state(disk.body());
        if ((state.equals(DiskModel.ACTIVE_SAS) || state.equals(DiskModel.ACTIVE_UPLOAD)) && access.live(disk.id()).isEmpty()) {
            return true;
        }
        for (String vm : DiskModel.attachedTo(disk.body())) {
            if (!vmIds.contains(ResourceStore.key(vm))) {
                return true; // settling re-reads the VM under the lock before dropping anything
            }
        }
        return false;
    }

    @Override
    public void close() {
        reconciler.shutdownNow();
        try {
            reconciler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
