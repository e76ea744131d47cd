package dev.secondsite.agent;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.zip.CRC32C;

import dev.secondsite.io.AtomicFiles;

/**
 * The pages of one disk written through the agent's NBD export since the last acknowledged pass: the
 * write splitter's memory for continuous data protection (CDP). A pass {@link #take}s the set, reads only
 * those pages, and on success drops them; a failed pass {@link #giveBack gives them back}.
 *
 * <h2>Why a pass may trust it</h2>
 * A write marks its pages <em>after</em> it reached the image, so a page taken by a pass was either read
 * by that pass after the write, or is marked again in the new set: no write escapes both. The set is
 * <b>complete</b> - it names every page that differs from the replica - only while the agent has tracked
 * every write since a pass that read the whole disk, or since a clean stop {@link #save saved} it. After a
 * crash (kill -9) the in-memory set is lost: the agent starts incomplete, runs one full scan pass (chunk
 * hashes against the replica's), and is complete again once that pass is acknowledged.
 *
 * <p>One bit per page of {@link #pageBytes()} (4 KiB, larger for disks past 8 TiB so page numbers stay
 * ints): 32 KiB of memory per GiB of disk at most.
 */
final class ChangeTracker {
    static final int PAGE_BYTES_MIN = 4096;
    private static final int FILE_MAGIC = 0x53534354; // "SSCT"
    private static final int FILE_VERSION = 1;

    /** Pages taken by one pass; {@code complete}: the tracker was complete when they were taken. */
    record Taken(BitSet pages, int pageBytes, boolean complete) {
        long bytes() {
            return (long) pages.cardinality() * pageBytes;
        }
    }

    private final long sizeBytes;
    private final int pageBytes;
    private BitSet dirty = new BitSet();
    private boolean complete;

    ChangeTracker(long sizeBytes) {
        this.sizeBytes = sizeBytes;
        long pages = Math.ceilDiv(sizeBytes, PAGE_BYTES_MIN);
        int bytes = PAGE_BYTES_MIN;
        while (pages > Integer.MAX_VALUE) {
            bytes <<= 1;
            pages = Math.ceilDiv(sizeBytes, bytes);
        }
        this.pageBytes = bytes;
    }

    int pageBytes() {
        return pageBytes;
    }

    /** {@code [offset, offset + length)} was written (call after the write reached the image). */
    synchronized void mark(long offset, long length) {
        if (length <= 0) {
            return;
        }
        dirty.set((int) (offset / pageBytes), (int) ((offset + length - 1) / pageBytes) + 1);
    }

    /** Hands every page marked so far to a pass and starts a new, empty set. */
    synchronized Taken take() {
        Taken taken = new Taken(dirty, pageBytes, complete);
        dirty = new BitSet();
        return taken;
    }

    /** A pass that took {@code taken} failed: its pages are still to be sent. */
    synchronized void giveBack(Taken taken) {
        dirty.or(taken.pages());
    }

    /** A pass that read the whole disk after tracking began was acknowledged. */
    synchronized void markComplete() {
        complete = true;
    }

    /** Something wrote the disk behind the tracker's back (a failback write-back): scan before trusting it. */
    synchronized void markIncomplete() {
        complete = false;
    }

    synchronized boolean complete() {
        return complete;
    }

    /** Pages marked and not yet taken, in bytes. */
    synchronized long pendingBytes() {
        return (long) dirty.cardinality() * pageBytes;
    }

    /**
     * At a clean stop (no write can arrive any more, no pass holds pages): records the set for the next
     * start, if it is complete. An incomplete set is not worth saving: the next start scans anyway.
     */
    synchronized void save(Path file, String diskPath) throws IOException {
        if (!complete) {
            Files.deleteIfExists(file);
            return;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(FILE_MAGIC);
        out.writeInt(FILE_VERSION);
        out.writeUTF(diskPath);
        out.writeLong(sizeBytes);
        out.writeInt(pageBytes);
        byte[] bits = dirty.toByteArray();
        out.writeInt(bits.length);
        out.write(bits);
        CRC32C crc = new CRC32C();
        crc.update(bytes.toByteArray());
        out.writeInt((int) crc.getValue());
        AtomicFiles.write(file, bytes.toByteArray());
    }

    /**
     * The tracker for a disk at start: the saved set if {@code file} holds one for this disk (then the file
     * is deleted, durably, before any write is accepted: a crash from now on must not find it again), else
     * an empty, incomplete one.
     */
    static ChangeTracker load(Path file, String diskPath, long sizeBytes, java.util.function.Consumer<String> log)
            throws IOException {
        ChangeTracker tracker = new ChangeTracker(sizeBytes);
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return tracker;
        }
        try {
            CRC32C crc = new CRC32C();
            crc.update(content, 0, content.length - 4);
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(content));
            if (content.length < 4 || in.readInt() != FILE_MAGIC || in.readInt() != FILE_VERSION) {
                throw new IOException("not a change-tracker file");
            }
            String path = in.readUTF();
            long size = in.readLong();
            int pages = in.readInt();
            byte[] bits = new byte[in.readInt()];
            in.readFully(bits);
            int stored = in.readInt();
            if (stored != (int) crc.getValue()) {
                throw new IOException("checksum mismatch");
            }
            if (!path.equals(diskPath) || size != sizeBytes || pages != tracker.pageBytes) {
                log.accept("saved changes are for " + path + " (" + size + " bytes), not this disk; scanning it");
            } else {
                tracker.dirty = BitSet.valueOf(bits);
                tracker.complete = true;
            }
        } catch (IOException | RuntimeException e) {
            log.accept("cannot read saved changes " + file + " (" + e.getMessage() + "); scanning the disk");
        }
        Files.delete(file);
        AtomicFiles.syncDirectory(file.getParent());
        return tracker;
    }
}
