package dev.secondsite.replication.blob;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Ranged reads of files through read-only memory mappings, kept for the most recently read files.
 *
 * <p>Why: the chunk store reads one chunk out of a pack (a file of up to tens of MB) for every small write it
 * applies, and often the chunk's delta base too. Opening the file, reading through the JDK's temporary buffer
 * and closing it cost more than copying the 64 KiB itself; a mapping costs one {@code stat} and one copy.
 *
 * <p>Never stale: every read first looks the file up ({@code stat}) and uses a mapping only if it maps that same
 * file (same file key, i.e. device and inode, and size); a file replaced by a rename, or grown, is mapped anew,
 * and a deleted one reads as absent, exactly like an unmapped read. A mapping is closed when it is evicted or its
 * name is {@linkplain #drop dropped}, once no read is still copying from it (a count of readers), so a read is
 * never cut off and a deleted file's space is given back as soon as nothing reads it.
 *
 * <p>Thread-safe.
 */
final class MappedRanges {
    /** Mappings kept open; with 32 MiB packs this maps at most 2 GiB of address space, not of memory. */
    static final int MAPPINGS_MAX = 64;

    private static final class Mapping {
        final Object fileKey;
        final Arena arena;
        final MemorySegment segment;
        int readers;
        boolean dropped;

        Mapping(Object fileKey, Arena arena, MemorySegment segment) {
            this.fileKey = fileKey;
            this.arena = arena;
            this.segment = segment;
        }
    }

    private final Map<String, Mapping> mappings = new LinkedHashMap<>(16, 0.75f, true);

    /**
     * Up to {@code length} bytes of the file from {@code offset} (fewer if it ends sooner), or empty if there is no
     * such file.
     */
    Optional<byte[]> read(String name, Path path, long offset, int length) throws IOException {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("a range needs offset >= 0 and length >= 0, got " + offset + ", " + length);
        }
        Mapping mapping;
        try {
            mapping = acquire(name, path);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            long end = Math.min(mapping.segment.byteSize(), offset + length);
            byte[] bytes = new byte[(int) Math.max(0, end - offset)];
            if (bytes.length > 0) {
                MemorySegment.copy(mapping.segment, ValueLayout.JAVA_BYTE, offset, bytes, 0, bytes.length);
            }
            return Optional.of(bytes);
        } finally {
            release(mapping);
        }
    }

    /** Closes the name's mapping (once no read uses it): the store put a new file under the name, or deleted it. */
    void drop(String name) {
        synchronized (mappings) {
            Mapping mapping = mappings.remove(name);
            if (mapping != null) {
                retire(mapping);
            }
        }
    }

    /** Closes every mapping (once no read uses it). */
    void dropAll() {
        synchronized (mappings) {
            mappings.values().forEach(this::retire);
            mappings.clear();
        }
    }

    /** A mapping of the file the name holds now, counted as in use until {@link #release}. */
    private Mapping acquire(String name, Path path) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        Object fileKey = attributes.fileKey();
        synchronized (mappings) {
            Mapping mapping = mappings.get(name);
            if (mapping != null && fileKey != null && fileKey.equals(mapping.fileKey)
                    && mapping.segment.byteSize() == attributes.size()) {
                mapping.readers++;
                return mapping;
            }
        }
        Mapping fresh = map(path, fileKey);
        synchronized (mappings) {
            fresh.readers++;
            Mapping replaced = mappings.put(name, fresh);
            if (replaced != null) {
                retire(replaced);
            }
            if (mappings.size() > MAPPINGS_MAX) {
                var eldest = mappings.entrySet().iterator();
                retire(eldest.next().getValue());
                eldest.remove();
            }
        }
        return fresh;
    }

    /** Maps the whole file (a file looked up by key and then replaced is simply mapped again at the next read). */
    private static Mapping map(Path path, Object fileKey) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return new Mapping(fileKey, arena, channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private void release(Mapping mapping) {
        synchronized (mappings) {
            mapping.readers--;
            if (mapping.dropped && mapping.readers == 0) {
                mapping.arena.close();
            }
        }
    }

    /** Caller holds the lock. */
    private void retire(Mapping mapping) {
        mapping.dropped = true;
        if (mapping.readers == 0) {
            mapping.arena.close();
        }
    }
}
