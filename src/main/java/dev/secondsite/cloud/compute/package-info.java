/**
 * The compute of the local cloud (design item 4): VM sizes, vCPU quotas, managed disks, snapshots and VMs,
 * ARM-shaped after Microsoft.Compute (VMs 2024-03-01, disks 2023-10-02) and Microsoft.Quota.
 *
 * <h2>Shape</h2>
 * <ul>
 *   <li>{@link dev.secondsite.cloud.compute.Compute} wires everything; {@code ApiRoutes.compute} lists the ARM
 *       routes, {@link dev.secondsite.cloud.compute.Compute#registerSasRoutes} the disk SAS URLs.</li>
 *   <li>{@link dev.secondsite.cloud.compute.VmSizes} is the size catalogue (real Azure figures); its sizes convert
 *       to {@link dev.secondsite.rules.VmSize}, so seed 004's same-or-closest size ({@code rules.TargetSizes}) picks
 *       from it ({@link dev.secondsite.cloud.compute.VmSizes#closest}).</li>
 *   <li>VMs, disks and snapshots are rows of {@code resources}; table {@code compute_quota_limits} holds quota
 *       limits set through Microsoft.Quota, {@code compute_disk_access} the SAS grants, {@code compute_operations}
 *       the long-running operations, {@code compute_locks} one row per (subscription, region).</li>
 *   <li>Disk bytes are sparse fixed VHD files: {@code <data-dir>/cloud/disks/<uniqueId>.vhd} and
 *       {@code cloud/snapshots/…} ({@link dev.secondsite.cloud.compute.DiskFiles}). Snapshots and copies are
 *       reflinks where the filesystem can, else copies of the data extents only
 *       ({@link dev.secondsite.cloud.compute.SparseFiles}, libc through FFM with a pure-Java fallback).</li>
 * </ul>
 *
 * <h2>Decisions</h2>
 * <ul>
 *   <li><b>Atomic changes.</b> Every VM/disk change runs in {@link dev.secondsite.cloud.compute.RegionLocks}: a
 *       per-(subscription, region) lock and one transaction (ResourceStore joins it: Jdbi binds the handle to the
 *       thread). A VM beyond quota, or one that fails halfway (a taken disk name, a NIC in use), leaves no VM, no
 *       disk row and no disk file (files it created are deleted on the way out). Over PostgreSQL the region's
 *       {@code compute_locks} row is held FOR UPDATE, so API nodes take turns.</li>
 *   <li><b>Quota counts allocated VMs.</b> Running and stopped (powered-off) VMs hold their vCPUs; deallocated
 *       ones do not, and starting one claims its vCPUs again (refused with Azure's quota error when there is no
 *       room). Resizing an allocated VM checks the difference. Defaults: 20 vCPUs per family, 40 per region;
 *       raising or lowering is {@code PUT …/locations/{loc}/providers/Microsoft.Quota/quotas/{family|cores}};
 *       a limit below current usage is refused (409 QuotaLimitBelowUsage).</li>
 *   <li><b>Operations.</b> Power actions, beginGetAccess and endAccess answer 202 with Azure-AsyncOperation
 *       ({@code {resource}/operations/{id}}: status, properties.output) and Location
 *       ({@code {resource}/operationResults/{id}}: the result, e.g. {@code {accessSAS}}). The URLs sit under the
 *       resource (Azure uses {@code locations/{loc}/operations}) so a caller whose role is scoped to a group can
 *       poll them. The work is done before the 202. PUT answers 200/201 with provisioningState Succeeded.</li>
 *   <li><b>SAS URLs.</b> {@code /sas/disks/{grantId}?sv=…&sr=b&sp=r|rw&se=…&sig=…}: an HMAC-SHA256 (key in the
 *       settings table, shared by API nodes) over grant id, permission and expiry; the grant row names the disk.
 *       endAccess deletes the disk's grants, revoking every URL. Served as a page blob (GET with Range, HEAD,
 *       comp=pagelist, PUT comp=page update/clear, 512-aligned, at most 4 MiB, fsync'd before 201); the
 *       IP-style path (account "sas", container "disks") is what the Storage SDKs parse.</li>
 *   <li><b>Upload.</b> uploadSizeBytes is the fixed VHD's size (data, a multiple of 512, plus the 512-byte
 *       footer), 20 MiB + 512 to 32 TiB + 512 as Azure. endAccess checks the footer (cookie, checksum, fixed type,
 *       size); a bad one is 400 InvalidVhd and the upload stays open to be fixed. Exports and uploads whose URLs
 *       all expired end by themselves (the reconciler).</li>
 *   <li><b>Deleted groups.</b> Deleting a resource group deletes its rows through ResourceStore, not files: the
 *       reconciler (every 2 s) deletes files no disk or snapshot references (unreferenced in two passes in a
 *       row, never while being created), drops attachments to VMs that are gone and frees their NICs.</li>
 *   <li><b>Trusted launch.</b> Azure's own rules at create/update (codes VmSizeDoesNotSupportTrustedLaunch,
 *       VmSizeDoesNotSupportHyperVGeneration, TrustedLaunchRequiresGeneration2, UefiSettingsRequireTrustedLaunch,
 *       TrustedLaunchDiskRequiresTrustedLaunchVm); secure boot and vTPM default on. Converting a VM to trusted
 *       launch runs the seed-000 rule through {@code RuleCatalogue.enforce(UPDATE_VM, …)}: a VM is "protected by
 *       Site Recovery" while any replicationProtectedItems resource mentions its id
 *       ({@link dev.secondsite.cloud.compute.ProtectedVms}). Changing the security type needs the VM deallocated.</li>
 *   <li><b>Networks.</b> NICs are cloud/network's; a VM checks they exist, are in its region and free, then
 *       {@code NetworkInterfaces.attach} sets their {@code virtualMachine.id} (in the same transaction). A VM may
 *       have no NIC (Azure requires one; the local cloud runs no guest).</li>
 *   <li><b>Images.</b> There is no image gallery: an OS disk created FromImage is an empty disk of the asked size;
 *       its OS type comes from osDisk.osType, the OS profile or the image's publisher/offer, its generation from
 *       trusted launch or an image SKU ending in gen2/-g2.</li>
 * </ul>
 */
package dev.secondsite.cloud.compute;
