package dev.secondsite.agent;

import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.secondsite.io.AtomicFiles;
import dev.secondsite.nbd.NbdServer;

/**
 * CDP mode (agent {@code --nbd-listen}): every protected disk is served over NBD as export {@code diskN} -
 * the write splitter. The machine reaches its disk through the export ({@code qemu -drive
 * file=nbd://HOST:PORT/disk0}); each write lands in the image and is marked in the disk's
 * {@link ChangeTracker}, so a pass sends exactly the written bytes instead of rescanning the disk.
 *
 * <p>At a clean stop the NBD server is closed first (no write arrives after), then every tracker is saved
 * in {@code <state-dir>/cdp/} and the images closed; the next start reloads them (see {@link ChangeTracker}
 * for what a crash costs: one scan pass).
 */
final class CdpExports implements Closeable {
    /** Scan mode: no exports. */
    static final CdpExports NONE = new CdpExports(null, Map.of(), null, null);

    private final NbdServer server;
    private final Map<String, TrackedDisk> disks;
    private final Path trackerDir;
    private final PrintStream err;

    private CdpExports(NbdServer server, Map<String, TrackedDisk> disks, Path trackerDir, PrintStream err) {
        this.server = server;
        this.disks = disks;
        this.trackerDir = trackerDir;
        this.err = err;
    }

    /**
     * Opens every disk ({@code disk0}, {@code disk1}, ... by position) for writing and serves them on
     * {@code listen}.
     *
     * @throws Agent.Fatal if a disk is a block device, in use by another process, or the address is taken
     */
    static CdpExports start(InetSocketAddress listen, List<Path> paths, Path stateRoot, PrintStream out,
                            PrintStream err) throws Agent.Fatal {
        Path trackerDir = stateRoot.resolve("cdp");
        Map<String, TrackedDisk> disks = new LinkedHashMap<>();
        try {
            AtomicFiles.ensureDirectory(trackerDir);
            for (int i = 0; i < paths.size(); i++) {
                String name = "disk" + i;
                Path path = paths.get(i);
                if (DiskSource.BlockDevice.is(path)) {
                    throw new Agent.Fatal(Agent.EXIT_USAGE, "--nbd-listen serves disk image files; " + path
                            + " is a block device (protect it in scan mode, without --nbd-listen)");
                }
                try {
                    disks.put(name, TrackedDisk.open(name, path, trackerDir.resolve(name + ".changes"),
                            message -> err.println("secondsite agent: " + name + ": " + message)));
                } catch (IOException e) {
                    throw new Agent.Fatal(Agent.EXIT_USAGE, "cannot serve disk " + path + " over NBD: "
                            + e.getMessage() + " (in CDP mode the agent owns the image: stop whatever has it"
                            + " open and point the machine at the agent's NBD export instead)");
                }
            }
            NbdServer server;
            try {
                server = NbdServer.start(listen, new ArrayList<>(disks.values()),
                        message -> err.println("secondsite agent: " + message));
            } catch (IOException e) {
                throw new Agent.Fatal(Agent.EXIT_USAGE, e.getMessage());
            }
            String host = server.address().getAddress().getHostAddress();
            for (TrackedDisk disk : disks.values()) {
                out.println("secondsite agent: CDP: " + disk.path() + " served at nbd://" + host + ":" + server.port()
                        + "/" + disk.name() + (disk.tracker().complete() ? " (changes since the last stop reloaded)"
                        : " (first pass scans the disk)"));
            }
            return new CdpExports(server, disks, trackerDir, err);
        } catch (Agent.Fatal | RuntimeException e) {
            closeAll(disks.values(), err);
            throw e;
        } catch (IOException e) {
            closeAll(disks.values(), err);
            throw new Agent.Fatal(Agent.EXIT_USAGE, "cannot prepare " + trackerDir + ": " + e.getMessage());
        }
    }

    /** The disk named {@code name} if it is served (null in scan mode). */
    TrackedDisk disk(String name) {
        return disks.get(name);
    }

    /**
     * Starts the passes of the named disks that are served (all at one instant, see
     * {@link TrackedDisk#beginPasses}); the others are absent from the answer.
     */
    Map<String, PassSnapshot> beginPasses(List<String> names) throws IOException {
        List<TrackedDisk> served = names.stream().map(disks::get).filter(java.util.Objects::nonNull).toList();
        Map<String, PassSnapshot> snapshots = new LinkedHashMap<>();
        List<PassSnapshot> started = TrackedDisk.beginPasses(served);
        for (int i = 0; i < served.size(); i++) {
            snapshots.put(served.get(i).name(), started.get(i));
        }
        return snapshots;
    }

    /** Before a failback writes the disks directly. */
    void suspend() {
        for (TrackedDisk disk : disks.values()) {
            try {
                disk.suspend();
            } catch (IOException e) {
                err.println("secondsite agent: warning: closing " + disk.path() + ": " + Retry.describe(e));
            }
        }
    }

    /** After a failback; a disk that cannot be reopened fails its passes until it can. */
    void resume() {
        for (TrackedDisk disk : disks.values()) {
            try {
                disk.resume();
            } catch (IOException e) {
                err.println("secondsite agent: warning: reopening " + disk.path() + ": " + Retry.describe(e));
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (server == null) {
            return;
        }
        server.close();
        try {
            for (TrackedDisk disk : disks.values()) {
                try {
                    disk.flush(); // the writes are durable before the tracker that names them
                } catch (IOException e) {
                    err.println("secondsite agent: warning: flushing " + disk.path() + ": " + Retry.describe(e));
                }
                disk.tracker().save(trackerDir.resolve(disk.name() + ".changes"),
                        disk.path().toAbsolutePath().normalize().toString());
            }
        } finally {
            closeAll(disks.values(), err); // flushes: the image is durable before the agent exits
        }
    }

    private static void closeAll(Iterable<TrackedDisk> disks, PrintStream err) {
        for (TrackedDisk disk : disks) {
            try {
                disk.close();
            } catch (IOException e) {
                err.println("secondsite agent: warning: closing " + disk.path() + ": " + Retry.describe(e));
            }
        }
    }
}
