package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.cloud.compute.VhdFooters;
import dev.secondsite.disk.DiskFormat;
import dev.secondsite.disk.DiskImage;
import dev.secondsite.disk.DiskImages;
import dev.secondsite.tls.TlsMaterial;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code secondsite vm|disk|snapshot|compute ...}: the compute of the local cloud. {@code disk upload} and
 * {@code disk download} move bytes the way azcopy does: an Upload disk, a Write grant, page writes of 4 MiB
 * to the SAS URL (skipping all-zero pieces, which a new disk already holds), endAccess; or a Read grant and
 * one streamed GET.
 */
final class ComputeCommands {
    static final String VM_API = "2024-03-01";
    static final String DISK_API = "2023-10-02";
    static final String QUOTA_API = "2023-02-01";
    static final int PAGE_PIECE = 4 * 1024 * 1024;

    private ComputeCommands() {}

    /** Adds the four command groups. */
    static void register(CommandLine cli) {
        cli.addSubcommand(new Vm());
        cli.addSubcommand(new Disk());
        cli.addSubcommand(new Snapshot());
        cli.addSubcommand(new ComputeGroup());
    }

    static final List<Output.Column> VM_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("RESOURCE GROUP", Output::resourceGroup),
            Output.Column.at("LOCATION", "/location"),
            Output.Column.at("SIZE", "/properties/hardwareProfile/vmSize"),
            Output.Column.at("OS", "/properties/storageProfile/osDisk/osType"),
            new Output.Column("SECURITY", v -> v.at("/properties/securityProfile/securityType").asText("Standard")),
            new Output.Column("POWER STATE", v -> {
                for (JsonNode s : v.at("/properties/instanceView/statuses")) {
                    if (s.path("code").asText().startsWith("PowerState/")) {
                        return s.path("code").asText().substring("PowerState/".length());
                    }
                }
                return "";
            }),
            new Output.Column("DATA DISKS", v -> Integer.toString(v.at("/properties/storageProfile/dataDisks").size())),
            Output.Column.at("STATE", "/properties/provisioningState"));
    static final List<Output.Column> DISK_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("RESOURCE GROUP", Output::resourceGroup),
            Output.Column.at("LOCATION", "/location"),
            Output.Column.at("SKU", "/sku/name"),
            Output.Column.at("SIZE GB", "/properties/diskSizeGB"),
            Output.Column.at("OS", "/properties/osType"),
            Output.Column.at("GEN", "/properties/hyperVGeneration"),
            Output.Column.at("STATE", "/properties/diskState"),
            new Output.Column("VM", d -> {
                String vm = d.path("managedBy").asText(d.path("managedByExtended").path(0).asText(""));
                return vm.isEmpty() ? "" : vm.substring(vm.lastIndexOf('/') + 1);
            }));
    static final List<Output.Column> SNAPSHOT_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("RESOURCE GROUP", Output::resourceGroup),
            Output.Column.at("LOCATION", "/location"),
            Output.Column.at("SIZE GB", "/properties/diskSizeGB"),
            Output.Column.at("INCREMENTAL", "/properties/incremental"),
            new Output.Column("SOURCE", s -> {
                String src = s.at("/properties/creationData/sourceResourceId").asText("");
                return src.isEmpty() ? "" : src.substring(src.lastIndexOf('/') + 1);
            }),
            Output.Column.at("STATE", "/properties/diskState"));

    // ================================================================== shared plumbing

    /** Resource group and subscription of a compute resource, with the name as a positional parameter. */
    static final class Target {
        @Parameters(index = "0", paramLabel = "NAME", description = "Resource name.") String name;
        @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG", description = "Resource group.")
        String group;
        @Mixin Options.Subscription subscription;

        String groupPath(ApiClient api) {
            return subscription.path(api) + "/resourceGroups/" + ApiClient.seg(group);
        }

        String path(ApiClient api, String type, String apiVersion) {
            return ApiCommand.versioned(groupPath(api) + "/providers/Microsoft.Compute/" + type + "/"
                    + ApiClient.seg(name), apiVersion);
        }

        String actionPath(ApiClient api, String type, String action, String apiVersion) {
            return ApiCommand.versioned(groupPath(api) + "/providers/Microsoft.Compute/" + type + "/"
                    + ApiClient.seg(name) + "/" + action, apiVersion);
        }

        /** A resource id from a name (same group) or an id as given. */
        String id(ApiClient api, String type, String nameOrId) {
            if (nameOrId.startsWith("/")) {
                return nameOrId;
            }
            return "/subscriptions/" + api.subscription(subscription.id) + "/resourceGroups/" + group
                    + "/providers/" + type + "/" + nameOrId;
        }
    }

    static final class ListScope extends Options.ListScope {
        String path(ApiClient api, String type, String apiVersion) {
            return ApiCommand.versioned(path(api) + "/providers/Microsoft.Compute/" + type, apiVersion);
        }
    }

    /**
     * A compute long-running call: the final result (Location, else the status document's
     * properties.output), waiting for the operation when the answer is 202.
     */
    static JsonNode longRunning(ApiClient api, PrintWriter err, String method, String path, JsonNode body, String label) {
        ApiClient.Response response = api.send(method, path, body);
        if (response.status() != 202) {
            return response.body();
        }
        Optional<String> async = response.header("Azure-AsyncOperation");
        Optional<String> location = response.header("Location");
        Progress progress = new Progress(err, label);
        try {
            if (async.isPresent()) {
                Duration interval = Duration.ZERO;
                while (true) {
                    if (!interval.isZero()) {
                        ApiClient.sleep(interval);
                    }
                    ApiClient.Response poll = api.send("GET", async.get(), null);
                    String status = poll.body() == null ? "InProgress" : poll.body().path("status").asText("InProgress");
                    progress.update(status);
                    if (status.equalsIgnoreCase("Succeeded")) {
                        if (location.isEmpty()) {
                            return poll.body().path("properties").path("output");
                        }
                        break;
                    }
                    if (status.equalsIgnoreCase("Failed") || status.equalsIgnoreCase("Canceled")) {
                        JsonNode error = poll.body().path("error");
                        throw CliException.api(error.path("code").asText("Operation" + status),
                                error.path("message").asText("The operation ended " + status + "."));
                    }
                    interval = ApiClient.retryAfter(poll);
                }
            }
            if (location.isPresent()) {
                while (true) {
                    ApiClient.Response poll = api.send("GET", location.get(), null);
                    if (poll.status() != 202) {
                        return poll.body();
                    }
                    ApiClient.sleep(ApiClient.retryAfter(poll));
                }
            }
            return null;
        } finally {
            progress.finish();
        }
    }

    static HttpClient blobClient(ApiClient api) {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        if (api.profile().server().startsWith("https")) {
            builder.sslContext(TlsMaterial.clientContextTrusting(Path.of(api.profile().caFile())));
        }
        return builder.build();
    }

    /** Progress of a byte transfer on stderr, at most every 2 s (and at the end). */
    static final class Transfer {
        private final PrintWriter err;
        private final String label;
        private final long total;
        private long lastPrint;

        Transfer(PrintWriter err, String label, long total) {
            this.err = err;
            this.label = label;
            this.total = total;
        }

        void at(long done, boolean last) {
            long now = System.nanoTime();
            if (!last && now - lastPrint < 2_000_000_000L) {
                return;
            }
            lastPrint = now;
            err.printf(Locale.ROOT, "%s ... %d/%d MiB (%d%%)%n", label, done >> 20, total >> 20,
                    total == 0 ? 100 : done * 100 / total);
            err.flush();
        }
    }

    static boolean allZero(byte[] b, int len) {
        for (int i = 0; i < len; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Downloads a SAS URL into a file, keeping all-zero MiBs as holes; raw drops the VHD footer. The bytes go to a
     * hidden {@code .FILE.part} beside it, renamed to FILE only when complete: a failed download leaves no
     * half-written FILE (and an existing FILE as it was).
     */
    static long download(ApiClient api, PrintWriter err, String sas, Path file, boolean raw, String label) {
        return download(api, err, sas, file, raw, label, DOWNLOAD_STALL_LIMIT);
    }

    /**
     * How long a download may go without receiving a MiB before it fails: the JDK client's request timeout ends at
     * the response headers, and a server that stalls in the body would otherwise hang the command forever.
     */
    static final Duration DOWNLOAD_STALL_LIMIT = Duration.ofSeconds(60);

    static long download(ApiClient api, PrintWriter err, String sas, Path file, boolean raw, String label,
                         Duration stallLimit) {
        HttpClient http = blobClient(api);
        Path part = file.toAbsolutePath().resolveSibling("." + file.getFileName() + ".part");
        boolean done = false;
        Thread watchdog = null;
        AtomicBoolean stalled = new AtomicBoolean();
        try {
            HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(URI.create(sas)).GET()
                    .header("x-ms-version", "2021-08-06").build(), HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() != 200) {
                String body;
                try (InputStream in = response.body()) {
                    body = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                }
                throw CliException.api(response.headers().firstValue("x-ms-error-code").orElse("HttpError" + response.statusCode()),
                        "download failed: " + body);
            }
            long total = response.headers().firstValueAsLong("Content-Length").orElse(-1);
            long keep = raw && total > 0 ? total - VhdFooters.SIZE : Long.MAX_VALUE;
            Transfer progress = new Transfer(err, label, total);
            long written = 0;
            AtomicLong lastData = new AtomicLong(System.nanoTime());
            InputStream body = response.body();
            watchdog = Thread.ofVirtual().start(() -> { // closing the body ends a read that waits for bytes
                try {
                    while (System.nanoTime() - lastData.get() < stallLimit.toNanos()) {
                        Thread.sleep(Math.max(10, stallLimit.toMillis() / 10));
                    }
                    stalled.set(true);
                    body.close();
                } catch (InterruptedException | IOException e) {
                    // the download ended first, or it is ending anyway
                }
            });
            try (InputStream in = body;
                 FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                         StandardOpenOption.WRITE)) {
                byte[] buf = new byte[1 << 20];
                long pos = 0;
                while (true) {
                    int n = in.readNBytes(buf, 0, buf.length);
                    if (stalled.get()) {
                        throw new IOException("stalled"); // the message is the catch's
                    }
                    if (n <= 0) {
                        break;
                    }
                    lastData.set(System.nanoTime());
                    int useful = (int) Math.max(0, Math.min(n, keep - pos));
                    if (useful > 0 && !allZero(buf, useful)) {
                        ByteBuffer b = ByteBuffer.wrap(buf, 0, useful);
                        long p = pos;
                        while (b.hasRemaining()) {
                            p += out.write(b, p);
                        }
                    }
                    pos += n;
                    written += useful;
                    progress.at(pos, false);
                }
                out.force(true);
                progress.at(pos, true);
            }
            try (RandomAccessFile f = new RandomAccessFile(part.toFile(), "rw")) {
                f.setLength(written);
            }
            Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            done = true;
            return written;
        } catch (IOException e) {
            throw CliException.connection("download failed: " + (stalled.get() ? "the server sent less than 1 MiB in "
                    + stallLimit.toMillis() / 1000.0 + " s; try again" : e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(130, "interrupted");
        } finally {
            if (watchdog != null) {
                watchdog.interrupt();
            }
            http.close();
            if (!done) {
                try {
                    Files.deleteIfExists(part);
                } catch (IOException e) {
                    err.println("secondsite: warning: could not delete the partial download " + part);
                }
            }
        }
    }

    // ================================================================== vm

    @Command(name = "vm", description = "Manage virtual machines of the local cloud.",
            subcommands = {VmCreate.class, VmShow.class, VmList.class, VmStart.class, VmStop.class, VmDeallocate.class,
                    VmRestart.class, VmResize.class, VmDelete.class})
    static final class Vm {
        @Mixin Options.Help help;
    }

    @Command(name = "create", description = "Create a VM: a new OS disk (or --attach-os-disk), optional empty data "
            + "disks and attached disks, NICs, trusted launch.")
    static final class VmCreate extends ApiCommand {
        @Mixin Target target;
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION",
                description = "Region of the VM.") String location;
        @Option(names = "--size", required = true, paramLabel = "SIZE", description = "VM size, e.g. Standard_D2s_v3.")
        String size;
        @Option(names = "--os-type", paramLabel = "Windows|Linux", description = "OS of a new OS disk (default Linux).")
        String osType;
        @Option(names = "--os-disk-size-gb", paramLabel = "GB",
                description = "Size of a new OS disk, in GB.") Integer osDiskSizeGb;
        @Option(names = "--storage-sku", paramLabel = "SKU", description = "SKU of disks the VM creates.") String sku;
        @Option(names = "--hyper-v-generation", paramLabel = "V1|V2", description = "Generation of a new OS disk (V2 for trusted launch).")
        String generation;
        @Option(names = "--attach-os-disk", paramLabel = "DISK", description = "Boot from this existing disk (name or id).")
        String attachOsDisk;
        @Option(names = "--data-disk-sizes-gb", split = ",", paramLabel = "GB", description = "Empty data disks to create.")
        List<Integer> dataDiskSizes;
        @Option(names = "--attach-data-disks", split = ",", paramLabel = "DISK", description = "Existing disks to attach.")
        List<String> attachDataDisks;
        @Option(names = "--nics", split = ",", paramLabel = "NIC", description = "Network interfaces (ids or names in the group); the first is primary.")
        List<String> nicIds;
        @Option(names = "--security-type", paramLabel = "Standard|TrustedLaunch",
                description = "Security type of the VM: Standard or TrustedLaunch.") String securityType;
        @Option(names = "--disable-secure-boot",
                description = "Turn secure boot off (TrustedLaunch).") boolean noSecureBoot;
        @Option(names = "--disable-vtpm", description = "Turn the virtual TPM off (TrustedLaunch).") boolean noVtpm;
        @Option(names = "--computer-name",
                description = "Host name of the VM's operating system (osProfile.computerName).") String computerName;
        @Option(names = "--admin-username",
                description = "Administrator user name (osProfile.adminUsername).") String adminUsername;
        @Option(names = "--os-disk-delete-option", paramLabel = "Delete|Detach",
                description = "What deleting the VM does to its OS disk: Delete or Detach.") String osDiskDeleteOption;
        @Option(names = "--tag", paramLabel = "KEY=VALUE",
                description = "A tag KEY=VALUE (repeatable).") List<String> tags;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", location);
            body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            ObjectNode p = body.putObject("properties");
            p.putObject("hardwareProfile").put("vmSize", size);
            ObjectNode storage = p.putObject("storageProfile");
            ObjectNode os = storage.putObject("osDisk");
            if (attachOsDisk != null) {
                os.put("createOption", "Attach");
                os.putObject("managedDisk").put("id", target.id(api, "Microsoft.Compute/disks", attachOsDisk));
            } else {
                os.put("createOption", "FromImage");
                if (sku != null) {
                    os.putObject("managedDisk").put("storageAccountType", sku);
                }
                if (osDiskSizeGb != null) {
                    os.put("diskSizeGB", osDiskSizeGb);
                }
                ObjectNode image = storage.putObject("imageReference");
                boolean windows = "Windows".equalsIgnoreCase(osType);
                boolean gen2 = "V2".equalsIgnoreCase(generation) || "TrustedLaunch".equalsIgnoreCase(securityType);
                image.put("publisher", windows ? "MicrosoftWindowsServer" : "Canonical");
                image.put("offer", windows ? "WindowsServer" : "ubuntu-24_04-lts");
                image.put("sku", windows ? (gen2 ? "2022-datacenter-g2" : "2022-datacenter") : (gen2 ? "server-gen2" : "server-gen1"));
                image.put("version", "latest");
                ObjectNode osProfile = p.putObject("osProfile");
                osProfile.put("computerName", computerName != null ? computerName : target.name);
                osProfile.put("adminUsername", adminUsername != null ? adminUsername : "azureuser");
                osProfile.putObject(windows ? "windowsConfiguration" : "linuxConfiguration").put("provisionVMAgent", true);
            }
            if (osType != null) {
                os.put("osType", osType);
            }
            if (osDiskDeleteOption != null) {
                os.put("deleteOption", osDiskDeleteOption);
            }
            ArrayNode data = storage.putArray("dataDisks");
            int lun = 0;
            for (Integer gb : dataDiskSizes == null ? List.<Integer>of() : dataDiskSizes) {
                ObjectNode d = data.addObject();
                d.put("lun", lun++);
                d.put("createOption", "Empty");
                d.put("diskSizeGB", gb);
                if (sku != null) {
                    d.putObject("managedDisk").put("storageAccountType", sku);
                }
            }
            for (String disk : attachDataDisks == null ? List.<String>of() : attachDataDisks) {
                ObjectNode d = data.addObject();
                d.put("lun", lun++);
                d.put("createOption", "Attach");
                d.putObject("managedDisk").put("id", target.id(api, "Microsoft.Compute/disks", disk));
            }
            ArrayNode nics = p.putObject("networkProfile").putArray("networkInterfaces");
            boolean first = true;
            for (String nic : nicIds == null ? List.<String>of() : nicIds) {
                ObjectNode n = nics.addObject();
                n.put("id", target.id(api, "Microsoft.Network/networkInterfaces", nic));
                n.putObject("properties").put("primary", first);
                first = false;
            }
            if (securityType != null) {
                ObjectNode security = p.putObject("securityProfile");
                security.put("securityType", securityType);
                if ("TrustedLaunch".equalsIgnoreCase(securityType)) {
                    ObjectNode uefi = security.putObject("uefiSettings");
                    uefi.put("secureBootEnabled", !noSecureBoot);
                    uefi.put("vTpmEnabled", !noVtpm);
                }
            }
            String path = target.path(api, "virtualMachines", VM_API);
            api.send("PUT", path, body);
            print(output, api.get(path + "&$expand=instanceView"), VM_TABLE);
        }
    }

    @Command(name = "show", description = "Show a VM with its instance view.")
    static final class VmShow extends ApiCommand {
        @Mixin Target target;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(target.path(api, "virtualMachines", VM_API) + "&$expand=instanceView"), VM_TABLE);
        }
    }

    @Command(name = "list", description = "List VMs of a group or of the subscription, with their power state.")
    static final class VmList extends ApiCommand {
        @Mixin ListScope scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(scope.path(api, "virtualMachines", VM_API) + "&$expand=instanceView"), VM_TABLE);
        }
    }

    abstract static class VmPower extends ApiCommand {
        @Mixin Target target;
        @Mixin Options.Format output;

        abstract String action();

        @Override
        void run() {
            longRunning(api, err(), "POST", target.actionPath(api, "virtualMachines", action(), VM_API), null,
                    "VM '" + target.name + "' " + action());
            print(output, api.get(target.path(api, "virtualMachines", VM_API) + "&$expand=instanceView"), VM_TABLE);
        }
    }

    @Command(name = "start", description = "Start a VM (a deallocated VM claims its vCPU quota again).")
    static final class VmStart extends VmPower {
        String action() { return "start"; }
    }

    @Command(name = "stop", description = "Power off a VM (it keeps its hardware and quota; see deallocate).")
    static final class VmStop extends VmPower {
        String action() { return "powerOff"; }
    }

    @Command(name = "deallocate", description = "Stop a VM and release its hardware and vCPU quota.")
    static final class VmDeallocate extends VmPower {
        String action() { return "deallocate"; }
    }

    @Command(name = "restart", description = "Restart a running VM.")
    static final class VmRestart extends VmPower {
        String action() { return "restart"; }
    }

    @Command(name = "resize", description = "Change a VM's size (quota is checked when the VM holds its hardware).")
    static final class VmResize extends ApiCommand {
        @Mixin Target target;
        @Option(names = "--size", required = true, paramLabel = "SIZE",
                description = "The new VM size, e.g. Standard_D4s_v3.") String size;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.putObject("properties").putObject("hardwareProfile").put("vmSize", size);
            String path = target.path(api, "virtualMachines", VM_API);
            api.send("PATCH", path, body);
            print(output, api.get(path + "&$expand=instanceView"), VM_TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a VM: detaches its disks (deletes those with deleteOption "
            + "Delete) and NICs, and frees its quota.")
    static final class VmDelete extends ApiCommand {
        @Mixin Target target;

        @Override
        void run() {
            api.send("DELETE", target.path(api, "virtualMachines", VM_API), null);
            out().println("Deleted VM '" + target.name + "'.");
        }
    }

    // ================================================================== disk

    @Command(name = "disk", description = "Manage managed disks of the local cloud, and move their bytes.",
            subcommands = {DiskCreate.class, DiskShow.class, DiskList.class, DiskDelete.class, DiskGrantAccess.class,
                    DiskRevokeAccess.class, DiskUpload.class, DiskDownload.class})
    static final class Disk {
        @Mixin Options.Help help;
    }

    @Command(name = "create", description = "Create an empty disk (--size-gb) or a copy (--source disk or snapshot).")
    static final class DiskCreate extends ApiCommand {
        @Mixin Target target;
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION",
                description = "Region of the disk.") String location;
        @Option(names = "--size-gb", paramLabel = "GB", description = "Size of an empty disk, in GB.") Integer sizeGb;
        @Option(names = "--source", paramLabel = "ID", description = "Copy this disk or snapshot (full id, or a disk name in the group).")
        String source;
        @Mixin DiskOptions disk;
        @Option(names = "--security-type", paramLabel = "TrustedLaunch",
                description = "Security type of the disk, e.g. TrustedLaunch.") String securityType;
        @Option(names = "--max-shares", paramLabel = "N",
                description = "How many VMs may attach the disk at once (a shared disk).") Integer maxShares;
        @Option(names = "--public-network-access", paramLabel = "Enabled|Disabled",
                description = "Whether the disk may be exported or uploaded over public networks: Enabled or Disabled.") String publicNetworkAccess;
        @Mixin Options.Format output;

        @Override
        void run() {
            if ((sizeGb == null) == (source == null)) {
                throw CliException.usage("give --size-gb (an empty disk) or --source (a copy), not both or neither");
            }
            ObjectNode body = disk.body(location);
            ObjectNode p = (ObjectNode) body.path("properties");
            ObjectNode creation = p.putObject("creationData");
            if (source != null) {
                creation.put("createOption", "Copy");
                creation.put("sourceResourceId", target.id(api, "Microsoft.Compute/disks", source));
            } else {
                creation.put("createOption", "Empty");
                p.put("diskSizeGB", sizeGb);
            }
            if (securityType != null) {
                p.putObject("securityProfile").put("securityType", securityType);
            }
            if (maxShares != null) {
                p.put("maxShares", maxShares);
            }
            if (publicNetworkAccess != null) {
                p.put("publicNetworkAccess", publicNetworkAccess);
            }
            String path = target.path(api, "disks", DISK_API);
            api.send("PUT", path, body);
            print(output, api.get(path), DISK_TABLE);
        }
    }

    /** The disk options of both disk create and disk upload, and the disk body they make. */
    static final class DiskOptions {
        @Option(names = "--sku", defaultValue = "Standard_LRS", paramLabel = "SKU",
                description = "Disk SKU, e.g. Standard_LRS or Premium_LRS (default: ${DEFAULT-VALUE}).") String sku;
        @Option(names = "--os-type", paramLabel = "Windows|Linux",
                description = "OS type of an OS disk: Windows or Linux.") String osType;
        @Option(names = "--hyper-v-generation", paramLabel = "V1|V2",
                description = "Hyper-V generation of an OS disk: V1 or V2.") String generation;
        @Option(names = "--tag", paramLabel = "KEY=VALUE",
                description = "A tag KEY=VALUE (repeatable).") List<String> tags;

        ObjectNode body(String location) {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", location);
            body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            body.putObject("sku").put("name", sku);
            ObjectNode p = body.putObject("properties");
            if (osType != null) {
                p.put("osType", osType);
            }
            if (generation != null) {
                p.put("hyperVGeneration", generation);
            }
            return body;
        }
    }

    @Command(name = "show", description = "Show a disk.")
    static final class DiskShow extends ApiCommand {
        @Mixin Target target;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(target.path(api, "disks", DISK_API)), DISK_TABLE);
        }
    }

    @Command(name = "list", description = "List disks of a group or of the subscription.")
    static final class DiskList extends ApiCommand {
        @Mixin ListScope scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(scope.path(api, "disks", DISK_API)), DISK_TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a disk (it must not be attached or exported).")
    static final class DiskDelete extends ApiCommand {
        @Mixin Target target;

        @Override
        void run() {
            api.send("DELETE", target.path(api, "disks", DISK_API), null);
            out().println("Deleted disk '" + target.name + "'.");
        }
    }

    @Command(name = "grant-access", description = "Get a time-limited SAS URL to read (or, for an upload disk, write) a disk.")
    static final class DiskGrantAccess extends ApiCommand {
        @Mixin Target target;
        @Option(names = "--access", defaultValue = "Read", paramLabel = "Read|Write",
                description = "Read, or Write to upload into an upload disk (default: ${DEFAULT-VALUE}).") String accessLevel;
        @Option(names = "--duration-in-seconds", defaultValue = "3600", paramLabel = "SECONDS",
                description = "How long the SAS URL stays valid, in seconds (default: ${DEFAULT-VALUE}).") int seconds;

        @Override
        void run() {
            out().println(grant(api, err(), target, "disks", accessLevel, seconds));
        }
    }

    static String grant(ApiClient api, PrintWriter err, Target target, String type, String access, int seconds) {
        ObjectNode body = ApiClient.JSON.createObjectNode();
        body.put("access", access);
        body.put("durationInSeconds", seconds);
        JsonNode result = longRunning(api, err, "POST", target.actionPath(api, type, "beginGetAccess", DISK_API), body,
                "Grant " + access + " access to '" + target.name + "'");
        String sas = result == null ? null : result.path("accessSAS").asText(null);
        if (sas == null) {
            throw CliException.api("NoAccessSAS", "the server granted access but returned no accessSAS.");
        }
        return sas;
    }

    static void revoke(ApiClient api, PrintWriter err, Target target, String type) {
        longRunning(api, err, "POST", target.actionPath(api, type, "endAccess", DISK_API), null,
                "Revoke access to '" + target.name + "'");
    }

    @Command(name = "revoke-access", description = "End a disk's export or upload (endAccess): every SAS URL stops working.")
    static final class DiskRevokeAccess extends ApiCommand {
        @Mixin Target target;
        @Mixin Options.Format output;

        @Override
        void run() {
            revoke(api, err(), target, "disks");
            print(output, api.get(target.path(api, "disks", DISK_API)), DISK_TABLE);
        }
    }

    @Command(name = "upload", description = "Create a disk from a local image (fixed VHD as is; dynamic VHD, VHDX "
            + "or raw converted on the fly to a fixed VHD) through the Upload flow: page writes of 4 MiB to the SAS URL.")
    static final class DiskUpload extends ApiCommand {
        @Mixin Target target;
        @Parameters(index = "1", paramLabel = "FILE", description = "The image to upload.") Path file;
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION",
                description = "Region of the new disk.") String location;
        @Mixin DiskOptions disk;
        @Mixin Options.Format output;

        @Override
        void run() throws Exception {
            if (!Files.isReadable(file)) {
                throw CliException.usage("cannot read " + file);
            }
            DiskFormat format = DiskImages.detect(file);
            try (Source source = format == DiskFormat.VHD_FIXED ? Source.file(file) : Source.image(file)) {
                ObjectNode body = disk.body(location);
                ObjectNode creation = ((ObjectNode) body.path("properties")).putObject("creationData");
                creation.put("createOption", "Upload");
                creation.put("uploadSizeBytes", source.size());
                String path = target.path(api, "disks", DISK_API);
                api.send("PUT", path, body);
                String sas = grant(api, err(), target, "disks", "Write", 24 * 3600);
                HttpClient http = blobClient(api);
                try {
                    Transfer progress = new Transfer(err(), "Uploading " + file.getFileName() + " to disk '"
                            + target.name + "'", source.size());
                    byte[] buf = new byte[PAGE_PIECE];
                    for (long off = 0; off < source.size(); off += PAGE_PIECE) {
                        int n = (int) Math.min(PAGE_PIECE, source.size() - off);
                        source.read(off, buf, n);
                        if (!allZero(buf, n)) {
                            putPage(http, sas, off, buf, n);
                        }
                        progress.at(off + n, off + n >= source.size());
                    }
                } finally {
                    http.close();
                }
                revoke(api, err(), target, "disks");
                print(output, api.get(path), DISK_TABLE);
            }
        }

        private static void putPage(HttpClient http, String sas, long offset, byte[] buf, int n) throws Exception {
            HttpRequest request = HttpRequest.newBuilder(URI.create(sas + "&comp=page"))
                    .header("x-ms-page-write", "update")
                    .header("x-ms-range", "bytes=" + offset + "-" + (offset + n - 1))
                    .header("x-ms-version", "2021-08-06")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(buf, 0, n)).build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 201) {
                throw CliException.api(response.headers().firstValue("x-ms-error-code").orElse("HttpError" + response.statusCode()),
                        "page write at " + offset + " failed: " + response.body());
            }
        }
    }

    /** The bytes of a fixed VHD to upload: a fixed VHD file itself, or another image's data plus a footer. */
    interface Source extends AutoCloseable {
        long size();

        void read(long offset, byte[] buf, int n) throws IOException;

        @Override
        void close() throws IOException;

        static Source file(Path path) throws IOException {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            long size = ch.size();
            if (size % 512 != 0) {
                ch.close();
                throw CliException.usage(path + " is " + size + " bytes, not a multiple of 512: not a fixed VHD");
            }
            return new Source() {
                public long size() { return size; }

                public void read(long offset, byte[] buf, int n) throws IOException {
                    ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                    while (b.hasRemaining()) {
                        int r = ch.read(b, offset + b.position());
                        if (r < 0) {
                            throw new IOException("unexpected end of " + path);
                        }
                    }
                }

                public void close() throws IOException { ch.close(); }
            };
        }

        static Source image(Path path) throws IOException {
            DiskImage image = DiskImages.open(path, false);
            long data = (image.virtualSize() + 511) / 512 * 512;
            byte[] footer = VhdFooters.fixed(data);
            return new Source() {
                public long size() { return data + VhdFooters.SIZE; }

                public void read(long offset, byte[] buf, int n) throws IOException {
                    java.util.Arrays.fill(buf, 0, n, (byte) 0);
                    long end = offset + n;
                    long virtualEnd = Math.min(end, image.virtualSize());
                    if (offset < virtualEnd) {
                        image.readFully(offset, ByteBuffer.wrap(buf, 0, (int) (virtualEnd - offset)));
                    }
                    if (end > data) {
                        int from = (int) Math.max(0, data - offset);
                        int footerFrom = (int) Math.max(0, offset - data);
                        System.arraycopy(footer, footerFrom, buf, from, (int) (end - Math.max(offset, data)));
                    }
                }

                public void close() throws IOException { image.close(); }
            };
        }
    }

    @Command(name = "download", description = "Download a disk through a Read grant: the fixed VHD Azure serves "
            + "(or --raw: the disk's bytes without the VHD footer). All-zero MiBs stay holes in FILE.")
    static final class DiskDownload extends ApiCommand {
        @Mixin Target target;
        @Parameters(index = "1", paramLabel = "FILE",
                description = "Local file to write (its directory must exist; an existing file is replaced).") Path file;
        @Option(names = "--raw", description = "Write the raw disk (drop the 512-byte VHD footer).") boolean raw;

        @Override
        void run() {
            downloadThroughGrant(api, out(), err(), target, "disks", "disk", file, raw);
        }
    }

    /** Grants read access, downloads the bytes, and always revokes the grant again. */
    static void downloadThroughGrant(ApiClient api, PrintWriter out, PrintWriter err, Target target, String type,
                                     String label, Path file, boolean raw) {
        Output.requireDirectoryOf(file, "the " + label + " to");
        String sas = grant(api, err, target, type, "Read", 3600);
        try {
            long n = download(api, err, sas, file, raw, "Downloading " + label + " '" + target.name + "'");
            out.println("Downloaded " + n + " bytes to " + file + ".");
        } finally {
            revoke(api, err, target, type);
        }
    }

    // ================================================================== snapshot

    @Command(name = "snapshot", description = "Manage snapshots of managed disks.",
            subcommands = {SnapshotCreate.class, SnapshotShow.class, SnapshotList.class, SnapshotDelete.class,
                    SnapshotGrantAccess.class, SnapshotRevokeAccess.class, SnapshotDownload.class})
    static final class Snapshot {
        @Mixin Options.Help help;
    }

    @Command(name = "create", description = "Snapshot a disk (or copy a snapshot).")
    static final class SnapshotCreate extends ApiCommand {
        @Mixin Target target;
        @Option(names = "--source", required = true, paramLabel = "DISK", description = "Disk name in the group, or a disk/snapshot id.")
        String source;
        @Option(names = {"-l", "--location"}, paramLabel = "LOCATION", description = "Default: the source's.") String location;
        @Option(names = "--incremental", description = "Make an incremental snapshot.") boolean incremental;
        @Option(names = "--sku", paramLabel = "SKU",
                description = "Snapshot SKU, e.g. Standard_LRS (default: the server's).") String sku;
        @Option(names = "--tag", paramLabel = "KEY=VALUE",
                description = "A tag KEY=VALUE (repeatable).") List<String> tags;
        @Mixin Options.Format output;

        @Override
        void run() {
            String sourceId = target.id(api, "Microsoft.Compute/disks", source);
            String where = location;
            if (where == null) {
                where = api.get(ApiCommand.versioned(sourceId, DISK_API)).path("location").asText();
            }
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", where);
            body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            if (sku != null) {
                body.putObject("sku").put("name", sku);
            }
            ObjectNode p = body.putObject("properties");
            ObjectNode creation = p.putObject("creationData");
            creation.put("createOption", "Copy");
            creation.put("sourceResourceId", sourceId);
            p.put("incremental", incremental);
            String path = target.path(api, "snapshots", DISK_API);
            api.send("PUT", path, body);
            print(output, api.get(path), SNAPSHOT_TABLE);
        }
    }

    @Command(name = "show", description = "Show a snapshot.")
    static final class SnapshotShow extends ApiCommand {
        @Mixin Target target;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(target.path(api, "snapshots", DISK_API)), SNAPSHOT_TABLE);
        }
    }

    @Command(name = "list", description = "List snapshots.")
    static final class SnapshotList extends ApiCommand {
        @Mixin ListScope scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(scope.path(api, "snapshots", DISK_API)), SNAPSHOT_TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a snapshot.")
    static final class SnapshotDelete extends ApiCommand {
        @Mixin Target target;

        @Override
        void run() {
            api.send("DELETE", target.path(api, "snapshots", DISK_API), null);
            out().println("Deleted snapshot '" + target.name + "'.");
        }
    }

    @Command(name = "grant-access", description = "Get a time-limited SAS URL to read a snapshot.")
    static final class SnapshotGrantAccess extends ApiCommand {
        @Mixin Target target;
        @Option(names = "--duration-in-seconds", defaultValue = "3600", paramLabel = "SECONDS",
                description = "How long the SAS URL stays valid, in seconds (default: ${DEFAULT-VALUE}).") int seconds;

        @Override
        void run() {
            out().println(grant(api, err(), target, "snapshots", "Read", seconds));
        }
    }

    @Command(name = "revoke-access", description = "End a snapshot's export (endAccess).")
    static final class SnapshotRevokeAccess extends ApiCommand {
        @Mixin Target target;

        @Override
        void run() {
            revoke(api, err(), target, "snapshots");
            out().println("Revoked access to snapshot '" + target.name + "'.");
        }
    }

    @Command(name = "download", description = "Download a snapshot as a fixed VHD (or --raw).")
    static final class SnapshotDownload extends ApiCommand {
        @Mixin Target target;
        @Parameters(index = "1", paramLabel = "FILE",
                description = "Local file to write (its directory must exist; an existing file is replaced).") Path file;
        @Option(names = "--raw", description = "Write the raw disk (drop the 512-byte VHD footer).") boolean raw;

        @Override
        void run() {
            downloadThroughGrant(api, out(), err(), target, "snapshots", "snapshot", file, raw);
        }
    }

    // ================================================================== compute

    @Command(name = "compute", description = "VM sizes and vCPU quotas of the local cloud.",
            subcommands = {Sizes.class, Usage.class, Quota.class})
    static final class ComputeGroup {
        @Mixin Options.Help help;
    }

    @Command(name = "sizes", description = "List the VM sizes a region offers.")
    static final class Sizes extends ApiCommand {
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION",
                description = "Region.") String location;
        @Mixin Options.Subscription subscription;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(ApiCommand.versioned(subscription.path(api) + "/providers/Microsoft.Compute/locations/"
                    + ApiClient.seg(location) + "/vmSizes", VM_API)), List.of(
                    Output.Column.at("NAME", "/name"),
                    Output.Column.at("VCPUS", "/numberOfCores"),
                    Output.Column.at("MEMORY MB", "/memoryInMB"),
                    Output.Column.at("MAX DATA DISKS", "/maxDataDiskCount"),
                    Output.Column.at("TEMP DISK MB", "/resourceDiskSizeInMB")));
        }
    }

    @Command(name = "usage", description = "Show vCPU usage against quota in a region.")
    static final class Usage extends ApiCommand {
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION",
                description = "Region.") String location;
        @Mixin Options.Subscription subscription;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(ApiCommand.versioned(subscription.path(api) + "/providers/Microsoft.Compute/locations/"
                    + ApiClient.seg(location) + "/usages", VM_API)), List.of(
                    Output.Column.at("NAME", "/name/localizedValue"),
                    Output.Column.at("QUOTA", "/name/value"),
                    Output.Column.at("CURRENT", "/currentValue"),
                    Output.Column.at("LIMIT", "/limit"),
                    Output.Column.at("UNIT", "/unit")));
        }
    }

    @Command(name = "quota", description = "Show or set vCPU quotas (Microsoft.Quota).", subcommands = {QuotaList.class, QuotaSet.class})
    static final class Quota {
        @Mixin Options.Help help;
    }

    static final List<Output.Column> QUOTA_TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            Output.Column.at("DESCRIPTION", "/properties/name/localizedValue"),
            Output.Column.at("LIMIT", "/properties/limit/value"),
            Output.Column.at("UNIT", "/properties/unit"));

    static String quotaScope(ApiClient api, Options.Subscription subscription, String location) {
        return subscription.path(api) + "/providers/Microsoft.Compute/locations/" + ApiClient.seg(location)
                + "/providers/Microsoft.Quota/quotas";
    }

    @Command(name = "list", description = "List the vCPU quotas of a region.")
    static final class QuotaList extends ApiCommand {
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION",
                description = "Region.") String location;
        @Mixin Options.Subscription subscription;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(ApiCommand.versioned(quotaScope(api, subscription, location), QUOTA_API)), QUOTA_TABLE);
        }
    }

    @Command(name = "set", description = "Set a vCPU quota: a family (e.g. standardDSv3Family) or 'cores' (total regional).")
    static final class QuotaSet extends ApiCommand {
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION",
                description = "Region.") String location;
        @Option(names = "--name", required = true, paramLabel = "QUOTA",
                description = "The quota: a VM family, e.g. standardDSv3Family, or 'cores' (the regional total).") String name;
        @Option(names = "--limit", required = true, paramLabel = "VCPUS",
                description = "The new limit, in vCPUs.") int limit;
        @Mixin Options.Subscription subscription;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            ObjectNode p = body.putObject("properties");
            ObjectNode l = p.putObject("limit");
            l.put("limitObjectType", "LimitValue");
            l.put("value", limit);
            p.putObject("name").put("value", name);
            String path = ApiCommand.versioned(quotaScope(api, subscription, location) + "/" + ApiClient.seg(name), QUOTA_API);
            print(output, api.send("PUT", path, body).body(), QUOTA_TABLE);
        }
    }
}
