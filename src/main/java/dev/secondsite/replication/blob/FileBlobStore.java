package dev.secondsite.replication.blob;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A blob store in a local directory: blob "a/b/c" is the file {@code root/a/b/c}.
 *
 * <p>Durability protocol for {@code put} (the acknowledgement point): write a temporary file
 * {@code .c.<random>.tmp} in the target's directory, fsync it, rename it over the target atomically,
 * then fsync the directory so the rename itself survives a power loss. A crash before the rename
 * leaves only a hidden temporary file (invisible to {@link #list}, removed by
 * {@link #removeStaleTempFiles}); a crash after it leaves the complete new blob. Directories created on
 * the way are fsynced into their parents the same way.
 *
 * <p>Thread-safe: concurrent writers of one name each rename their own complete temporary file; the
 * last rename wins.
 */
public final class FileBlobStore implements BlobStore {
    private static final String TEMP_SUFFIX = ".tmp";
    /** Bytes copied per write when a blob is put from a stream. */
    private static final int COPY_BUFFER_BYTES = 1 << 20;

    /** Blobs at least this large are read through a mapping ({@link MappedFileInputStream}), smaller ones buffered. */
    static final long MAPPED_READ_MIN_BYTES = 1 << 20;
    private static final int READ_BUFFER_BYTES = 64 << 10;

    /** Direct write buffers kept for reuse: about as many as puts run at once (the apply thread and uploads). */
    private static final int WRITE_BUFFERS_KEPT = 4;

    private final Path root;
    private final SecureRandom random = new SecureRandom();
    private final ConcurrentLinkedQueue<ByteBuffer> writeBuffers = new ConcurrentLinkedQueue<>();

    public FileBlobStore(Path root) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw failure("open", "root directory", e);
        }
    }

    public Path root() {
        return root;
    }

    @Override
    public void put(String name, byte[] data) throws IOException {
        put(name, List.of(ByteBuffer.wrap(data)));
    }

    @Override
    public void put(String name, List<ByteBuffer> parts) throws IOException {
        Path target = resolve(name);
        Path temp = null;
        try {
            ensureDirectory(target.getParent());
            temp = tempFileFor(target);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                // Through a direct buffer of 1 MiB: the JDK would copy each heap array into a temporary direct
                // buffer anyway, and this one gathers a pack's many small chunk files into few writes and stays
                // in the CPU cache for the kernel's copy (a segment or pack is tens of MB).
                ByteBuffer buffer = takeBuffer();
                try {
                    for (ByteBuffer part : parts) {
                        for (int at = part.position(); at < part.limit(); ) {
                            int length = Math.min(buffer.remaining(), part.limit() - at);
                            buffer.put(buffer.position(), part, at, length).position(buffer.position() + length);
                            at += length;
                            if (!buffer.hasRemaining()) {
                                writeFully(channel, buffer);
                            }
                        }
                    }
                    writeFully(channel, buffer);
                } finally {
                    returnBuffer(buffer);
                }
                channel.force(true);
            }
            publish(temp, target);
            temp = null;
        } catch (IOException e) {
            throw failure("put", name, e);
        } finally {
            deleteQuietly(temp);
        }
    }

    /** A write buffer from the pool, or a new one (allocating and zeroing native memory per put costs too much). */
    private ByteBuffer takeBuffer() {
        ByteBuffer buffer = writeBuffers.poll();
        return buffer != null ? buffer : ByteBuffer.allocateDirect(COPY_BUFFER_BYTES);
    }

    private void returnBuffer(ByteBuffer buffer) {
        buffer.clear();
        if (writeBuffers.size() < WRITE_BUFFERS_KEPT) {
            writeBuffers.offer(buffer);
        }
    }

    /** Writes what the buffer holds and empties it. */
    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
    }

    @Override
    public void put(String name, InputStream data, long lengthBytes) throws IOException {
        if (lengthBytes < 0) {
            throw new IllegalArgumentException("put on " + this + " failed for " + name + ": negative length " + lengthBytes);
        }
        Path target = resolve(name);
        Path temp = null;
        try {
            ensureDirectory(target.getParent());
            temp = tempFileFor(target);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                byte[] buffer = new byte[(int) Math.min(COPY_BUFFER_BYTES, Math.max(1, lengthBytes))];
                long remaining = lengthBytes;
                while (remaining > 0) {
                    int read = data.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                    if (read < 0) {
                        throw new IOException("stream ended after " + (lengthBytes - remaining) + " of "
                                + lengthBytes + " bytes");
                    }
                    ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, read);
                    while (chunk.hasRemaining()) {
                        channel.write(chunk);
                    }
                    remaining -= read;
                }
                channel.force(true);
            }
            publish(temp, target);
            temp = null;
        } catch (IOException e) {
            throw failure("put", name, e);
        } finally {
            deleteQuietly(temp);
        }
    }

    @Override
    public Optional<byte[]> get(String name) throws IOException {
        Path path = resolve(name);
        try {
            return Optional.of(Files.readAllBytes(path));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | OutOfMemoryError e) {
            throw failure("get", name, e);
        }
    }

    @Override
    public Optional<InputStream> open(String name) throws IOException {
        Path path = resolve(name);
        try {
            return Optional.of(Files.size(path) >= MAPPED_READ_MIN_BYTES ? MappedFileInputStream.open(path)
                    : new BufferedInputStream(Files.newInputStream(path), READ_BUFFER_BYTES));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw failure("open", name, e);
        }
    }

    @Override
    public Optional<byte[]> readRange(String name, long offset, int length) throws IOException {
        Path path = resolve(name);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(length);
            while (buffer.hasRemaining() && channel.read(buffer, offset + buffer.position()) >= 0) {
                // positional reads until full or at the end of the file
            }
            return Optional.of(buffer.position() == length ? buffer.array()
                    : java.util.Arrays.copyOf(buffer.array(), buffer.position()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw failure("readRange", name, e);
        }
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        BlobNames.validatePrefix(prefix);
        int slash = prefix.lastIndexOf('/');
        Path base = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
        if (!Files.isDirectory(base)) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        try {
            forEachFile(base, (file, attributes) -> {
                String name = nameOf(file);
                if (name != null && name.startsWith(prefix)) {
                    names.add(name);
                }
            });
        } catch (IOException e) {
            throw failure("list", prefix.isEmpty() ? "<all>" : prefix, e);
        }
        names.sort(null);
        return names;
    }

    @Override
    public Optional<BlobInfo> stat(String name) throws IOException {
        Path path = resolve(name);
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            if (!attributes.isRegularFile()) {
                return Optional.empty();
            }
            return Optional.of(new BlobInfo(name, attributes.size(), attributes.lastModifiedTime().toInstant()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw failure("stat", name, e);
        }
    }

    @Override
    public boolean touch(String name) throws IOException {
        Path path = resolve(name);
        try {
            Files.setLastModifiedTime(path, FileTime.from(Instant.now()));
            return true;
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw failure("touch", name, e);
        }
    }

    @Override
    public boolean delete(String name) throws IOException {
        return delete(name, true);
    }

    @Override
    public boolean deleteWithoutSync(String name) throws IOException {
        return delete(name, false);
    }

    private boolean delete(String name, boolean durably) throws IOException {
        Path path = resolve(name);
        try {
            boolean deleted = Files.deleteIfExists(path);
            if (deleted && durably) {
                fsyncDirectory(path.getParent());
            }
            return deleted;
        } catch (IOException e) {
            throw failure("delete", name, e);
        }
    }

    @Override
    public long usedBytes() throws IOException {
        long[] bytes = {0};
        try {
            forEachFile(root, (file, attributes) -> {
                if (nameOf(file) != null) {
                    bytes[0] += attributes.size();
                }
            });
        } catch (IOException e) {
            throw failure("usedBytes", "<all>", e);
        }
        return bytes[0];
    }

    /**
     * Visits every regular file under {@code dir}. A file or directory that vanishes during the walk is
     * skipped, not an error: writers rename their temp files and the collector deletes blobs while others list.
     */
    private static void forEachFile(Path dir, java.util.function.BiConsumer<Path, BasicFileAttributes> action)
            throws IOException {
        Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                if (attributes.isRegularFile()) {
                    action.accept(file, attributes);
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public java.nio.file.FileVisitResult postVisitDirectory(Path directory, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * Removes temporary files left by writers that crashed before their rename, if older than
     * {@code olderThan} (younger ones may belong to a put in progress). Returns how many were removed.
     */
    public int removeStaleTempFiles(Duration olderThan) throws IOException {
        Instant cutoff = Instant.now().minus(olderThan);
        int removed = 0;
        List<Path> temps = new ArrayList<>();
        try {
            forEachFile(root, (file, attributes) -> {
                String fileName = file.getFileName().toString();
                if (fileName.startsWith(".") && fileName.endsWith(TEMP_SUFFIX)) {
                    temps.add(file);
                }
            });
        } catch (IOException e) {
            throw failure("removeStaleTempFiles", "<all>", e);
        }
        for (Path temp : temps) {
            try {
                if (Files.getLastModifiedTime(temp).toInstant().isBefore(cutoff) && Files.deleteIfExists(temp)) {
                    removed++;
                }
            } catch (NoSuchFileException gone) {
                // finished (renamed) or removed by another cleaner meanwhile
            }
        }
        return removed;
    }

    @Override
    public String toString() {
        return "file blob store " + root;
    }

    private Path resolve(String name) {
        BlobNames.validate(name);
        Path path = root.resolve(name).normalize();
        assert path.startsWith(root) && !path.equals(root) : "validated name escapes the root: " + name;
        return path;
    }

    /** The blob name of a file under the root, or null for files that are not blobs (temporary files). */
    private String nameOf(Path file) {
        Path relative = root.relativize(file);
        StringBuilder name = new StringBuilder();
        for (Path part : relative) {
            String segment = part.toString();
            if (segment.startsWith(".")) {
                return null;
            }
            if (!name.isEmpty()) {
                name.append('/');
            }
            name.append(segment);
        }
        return name.toString();
    }

    private Path tempFileFor(Path target) {
        byte[] nonce = new byte[8];
        random.nextBytes(nonce);
        return target.resolveSibling("." + target.getFileName() + "." + HexFormat.of().formatHex(nonce) + TEMP_SUFFIX);
    }

    private void publish(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the filesystem under " + root + " cannot rename atomically", e);
        }
        fsyncDirectory(target.getParent());
    }

    /** Creates the directory (and missing parents up to the root), making each creation durable. */
    private void ensureDirectory(Path directory) throws IOException {
        if (Files.isDirectory(directory)) {
            return;
        }
        assert directory.startsWith(root);
        Path current = root;
        for (Path part : root.relativize(directory)) {
            Path next = current.resolve(part);
            if (!Files.isDirectory(next)) {
                try {
                    Files.createDirectory(next);
                    fsyncDirectory(current);
                } catch (FileAlreadyExistsException raced) {
                    if (!Files.isDirectory(next)) {
                        throw raced;
                    }
                }
            }
            current = next;
        }
    }

    private static void fsyncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static void deleteQuietly(Path temp) {
        if (temp != null) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // a stale temporary file is harmless; removeStaleTempFiles collects it later
            }
        }
    }

    private IOException failure(String action, String name, Throwable cause) {
        return new IOException(action + " on " + this + " failed for " + name + ": " + cause, cause);
    }
}
