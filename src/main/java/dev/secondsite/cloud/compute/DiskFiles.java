package dev.secondsite.cloud.compute;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The bytes of managed disks and snapshots: {@code <data-dir>/cloud/disks/<uniqueId>.vhd} and
 * {@code <data-dir>/cloud/snapshots/<uniqueId>.vhd}, each a sparse fixed VHD (the disk's bytes, then a
 * 512-byte footer), the same bytes Azure serves from a disk's SAS URL. A new file is built under a temporary
 * name and renamed into place, so a final name never holds half a copy.
 *
 * <p>Files whose resource is gone (a deleted resource group takes its disks' rows with it) are removed by
 * {@link #sweep}: a file must be unreferenced in two sweeps in a row, and files being created by this process
 * are never touched, so a file is never swept between its creation and its resource's write.
 */
public final class DiskFiles {
    /** Where a file lives: disks and snapshots have their own directories. */
    public enum Kind { DISK, SNAPSHOT }

    private static final Pattern FINAL_NAME = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.vhd");
    private static final Duration STALE_TEMP = Duration.ofHours(1);

    private final Path disks;
    private final Path snapshots;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final Set<Path> unreferencedLastSweep = ConcurrentHashMap.newKeySet();

    public DiskFiles(Path dataDir) {
        this.disks = dataDir.resolve("cloud").resolve("disks");
        this.snapshots = dataDir.resolve("cloud").resolve("snapshots");
        try {
            Files.createDirectories(disks);
            Files.createDirectories(snapshots);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + disks, e);
        }
    }

    public Path path(Kind kind, String uniqueId) {
        return (kind == Kind.DISK ? disks : snapshots).resolve(UUID.fromString(uniqueId) + ".vhd");
    }

    /** Marks a file as being created until the returned handle is closed (after its resource is written). */
    public AutoCloseable creating(String uniqueId) {
        inFlight.add(uniqueId);
        return () -> inFlight.remove(uniqueId);
    }

    /** A new empty disk: dataBytes of zeros (a hole) and a fixed VHD footer. */
    public void createEmpty(Kind kind, String uniqueId, long dataBytes) throws IOException {
        Path target = path(kind, uniqueId);
        Path tmp = temp(target);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(ch, ByteBuffer.wrap(VhdFooters.fixed(dataBytes, UUID.fromString(uniqueId))), dataBytes);
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A disk awaiting upload: totalBytes of zeros; the uploader writes the data and the VHD footer. */
    public void createForUpload(Kind kind, String uniqueId, long totalBytes) throws IOException {
        Path target = path(kind, uniqueId);
        Path tmp = temp(target);
        try {
            Files.createFile(tmp);
            SparseFiles.setLength(tmp, totalBytes);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * A copy of another disk or snapshot (a reflink or a sparse copy), grown to newDataBytes when that is
     * larger than the source (the footer moves to the new end and records the new size).
     */
    public void copy(Kind fromKind, String fromId, Kind kind, String uniqueId, long newDataBytes) throws IOException {
        Path source = path(fromKind, fromId);
        Path target = path(kind, uniqueId);
        Path tmp = temp(target);
        try {
            Files.deleteIfExists(tmp);
            SparseFiles.copy(source, tmp);
            long dataBytes = Files.size(tmp) - VhdFooters.SIZE;
            if (newDataBytes > dataBytes) {
                grow(tmp, dataBytes, newDataBytes);
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * A disk whose bytes come from a fixed VHD file made elsewhere (an exported recovery point): a reflink or
     * sparse copy of it, checked to be a fixed VHD before it becomes the disk's file. Returns the data bytes.
     */
    public long importFixedVhd(Path source, Kind kind, String uniqueId) throws IOException {
        Path target = path(kind, uniqueId);
        Path tmp = temp(target);
        try {
            Files.deleteIfExists(tmp);
            SparseFiles.copy(source, tmp);
            long dataBytes = Files.size(tmp) - VhdFooters.SIZE;
            String problem;
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer footer = ByteBuffer.allocate(VhdFooters.SIZE);
                SparseFiles.readFully(ch, footer, Math.max(0, dataBytes));
                problem = dataBytes <= 0 ? "the file is smaller than a VHD footer" : VhdFooters.problem(footer.array(), dataBytes);
                ch.force(true);
            }
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return dataBytes;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Grows a disk in place: the old footer's bytes become zeros of the disk, a new footer goes at the end. */
    public void resize(Kind kind, String uniqueId, long newDataBytes) throws IOException {
        Path file = path(kind, uniqueId);
        grow(file, Files.size(file) - VhdFooters.SIZE, newDataBytes);
    }

    private static void grow(Path file, long oldDataBytes, long newDataBytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer old = ByteBuffer.allocate(VhdFooters.SIZE);
            SparseFiles.readFully(ch, old, oldDataBytes);
            byte[] footer = VhdFooters.resized(old.array(), newDataBytes);
            SparseFiles.zero(ch, file, oldDataBytes, VhdFooters.SIZE);
            writeFully(ch, ByteBuffer.wrap(footer), newDataBytes);
            ch.force(true);
        }
    }

    /** The footer-validity problem of an uploaded disk (null: a fixed VHD of the right size). */
    public String uploadProblem(Kind kind, String uniqueId) throws IOException {
        Path file = path(kind, uniqueId);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer footer = ByteBuffer.allocate(VhdFooters.SIZE);
            SparseFiles.readFully(ch, footer, size - VhdFooters.SIZE);
            return VhdFooters.problem(footer.array(), size - VhdFooters.SIZE);
        }
    }

    public void delete(Kind kind, String uniqueId) {
        try {
            Files.deleteIfExists(path(kind, uniqueId));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Deletes files no resource references: those unreferenced now and at the previous sweep, and not being
     * created; and temporary files left by a crash (older than an hour). Returns how many files were deleted.
     */
    public int sweep(Set<String> referencedDisks, Set<String> referencedSnapshots) throws IOException {
        Set<Path> unreferenced = new HashSet<>();
        int deleted = 0;
        for (Kind kind : Kind.values()) {
            Set<String> referenced = kind == Kind.DISK ? referencedDisks : referencedSnapshots;
            try (DirectoryStream<Path> files = Files.newDirectoryStream(kind == Kind.DISK ? disks : snapshots)) {
                for (Path file : files) {
                    String name = file.getFileName().toString();
                    if (!FINAL_NAME.matcher(name).matches()) {
                        if (name.startsWith(".") && Files.getLastModifiedTime(file).toInstant()
                                .isBefore(Instant.now().minus(STALE_TEMP))) {
                            deleted += Files.deleteIfExists(file) ? 1 : 0;
                        }
                        continue;
                    }
                    String id = name.substring(0, name.length() - 4);
                    if (referenced.contains(id) || inFlight.contains(id)) {
                        continue;
                    }
                    if (unreferencedLastSweep.contains(file)) {
                        deleted += Files.deleteIfExists(file) ? 1 : 0;
                    } else {
                        unreferenced.add(file);
                    }
                }
            }
        }
        unreferencedLastSweep.clear();
        unreferencedLastSweep.addAll(unreferenced);
        return deleted;
    }

    private static Path temp(Path target) {
        return target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            position += ch.write(buf, position);
        }
    }
}
