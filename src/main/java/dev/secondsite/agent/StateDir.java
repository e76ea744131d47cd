package dev.secondsite.agent;

import dev.secondsite.io.AtomicFiles;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * The agent's state directory ({@code --state-dir}, default {@code ./agent-state}), owner-only:
 * <pre>
 * agent.lock                      held while an agent runs: one agent per state directory
 * agent.json                      identity: agentId, agentSecret, server, machine name (0600, atomic)
 * shutdown.json                   the shutdown request this machine has handled and its outcome (atomic)
 * disks/{diskId}/disk.json        which local disk this diskId is (name, path, size), informational
 * disks/{diskId}/ledger.snapshot  chunk hashes acknowledged by the server (see DiskLedger)
 * disks/{diskId}/ledger.journal   acknowledgements since the snapshot
 * spool/                          segments of an app-consistent pass awaiting upload (emptied at start)
 * </pre>
 * Every file is written atomically or as fsynced journal appends, and only after the server acknowledged
 * what it records; losing the whole directory costs a full resend (and a new registration), never a
 * wrong replica.
 */
final class StateDir implements Closeable {
    static final String IDENTITY_FILE = "agent.json";
    static final String LOCK_FILE = "agent.lock";
    static final String SHUTDOWN_FILE = "shutdown.json";

    /** agent.json. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Identity(String agentId, String agentSecret, String server, String machineName, String vaultId,
                    String fabricId, String registeredAt, String azureRegion) {
    }

    /** disk.json. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record DiskRecord(String diskId, String name, String path, long sizeBytes, int chunkBytes) {
    }

    private final Path root;
    private FileChannel lockChannel;
    private FileLock lock;

    private StateDir(Path root) {
        this.root = root;
    }

    /** Creates (0700) and locks the directory. */
    static StateDir open(Path root) throws IOException {
        AtomicFiles.ensureDirectory(root);
        StateDir dir = new StateDir(root.toAbsolutePath());
        dir.lockChannel = FileChannel.open(root.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        try {
            dir.lock = dir.lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            dir.lock = null;
        }
        if (dir.lock == null) {
            dir.lockChannel.close();
            throw new IOException("another agent is using the state directory " + root.toAbsolutePath());
        }
        dir.cleanSpool();
        return dir;
    }

    Path root() {
        return root;
    }

    Path spool() {
        return root.resolve("spool");
    }

    Path diskDir(UUID diskId) {
        return root.resolve("disks").resolve(diskId.toString());
    }

    Optional<Identity> identity() throws IOException {
        try {
            return Optional.of(AgentClient.JSON.readValue(Files.readAllBytes(root.resolve(IDENTITY_FILE)),
                    Identity.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    void saveIdentity(Identity identity) throws IOException {
        AtomicFiles.write(root.resolve(IDENTITY_FILE),
                AgentClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(identity));
    }

    /**
     * The handled shutdown request (agent-protocol §3.1), kept so that an agent restarted while the request
     * stands neither replicates again nor redoes the final pass, and reports the same outcome.
     */
    Optional<AgentClient.ShutdownReport> shutdown() throws IOException {
        try {
            return Optional.of(AgentClient.JSON.readValue(Files.readAllBytes(root.resolve(SHUTDOWN_FILE)),
                    AgentClient.ShutdownReport.class)).filter(report -> report.requestId() != null);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    void saveShutdown(AgentClient.ShutdownReport report) throws IOException {
        AtomicFiles.write(root.resolve(SHUTDOWN_FILE),
                AgentClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(report));
    }

    /** The request was withdrawn (failover rolled back): replicate again, also after a restart. */
    void clearShutdown() throws IOException {
        if (Files.deleteIfExists(root.resolve(SHUTDOWN_FILE))) {
            AtomicFiles.syncDirectory(root);
        }
    }

    void saveDisk(DiskRecord disk) throws IOException {
        Path dir = AtomicFiles.ensureDirectory(diskDir(UUID.fromString(disk.diskId())));
        AtomicFiles.write(dir.resolve("disk.json"),
                AgentClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(disk));
    }

    Optional<DiskRecord> disk(UUID diskId) throws IOException {
        try {
            return Optional.of(AgentClient.JSON.readValue(Files.readAllBytes(diskDir(diskId).resolve("disk.json")),
                    DiskRecord.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Removes the state of disks named {@code name} other than {@code keep} (a disk re-protected anew). */
    void forgetOtherDisks(String name, UUID keep) throws IOException {
        Path disks = root.resolve("disks");
        if (!Files.isDirectory(disks)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(disks)) {
            for (Path entry : entries) {
                UUID id;
                try {
                    id = UUID.fromString(entry.getFileName().toString());
                } catch (IllegalArgumentException e) {
                    continue;
                }
                if (id.equals(keep)) {
                    continue;
                }
                Optional<DiskRecord> record = disk(id);
                if (record.isPresent() && record.get().name().equals(name)) {
                    deleteTree(entry);
                }
            }
        }
    }

    private void cleanSpool() throws IOException {
        if (Files.isDirectory(spool())) {
            deleteTree(spool());
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (lock != null) {
            lock.release();
            lock = null;
        }
        if (lockChannel != null) {
            lockChannel.close();
            lockChannel = null;
        }
    }
}
