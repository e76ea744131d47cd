package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Opens and creates VHD files (fixed and dynamic); the format classes do the per-request work. */
final class Vhd {

    private Vhd() {
    }

    /**
     * Reads and validates the footer (falling back to the copy at offset 0 for a dynamic disk whose
     * trailing footer is missing or damaged) and opens the disk as fixed or dynamic.
     */
    static AbstractImage open(ImageFile file) throws IOException {
        long fileSize = file.size();
        if (fileSize < VhdFooter.SIZE) {
            throw file.corrupt("file of " + fileSize + " bytes is too small to hold a 512-byte VHD footer", 0);
        }
        long tailAt = fileSize - VhdFooter.SIZE;
        byte[] tail = bytes(file.read(tailAt, VhdFooter.SIZE, "footer"));
        String tailProblem = VhdFooter.problem(tail);
        VhdFooter footer;
        long footerAt;
        boolean footerAtEnd = tailProblem == null;
        if (footerAtEnd) {
            footer = VhdFooter.decode(tail);
            footerAt = tailAt;
        } else {
            byte[] head = bytes(file.read(0, VhdFooter.SIZE, "footer copy"));
            if (VhdFooter.problem(head) != null || VhdFooter.decode(head).diskType() != VhdFooter.TYPE_DYNAMIC) {
                throw file.corrupt(tailProblem, tailAt);
            }
            // The trailing footer is gone (e.g. a crash of another writer while it moved the footer):
            // the copy at offset 0 of a dynamic disk carries the same fields.
            footer = VhdFooter.decode(head);
            footerAt = 0;
        }
        checkFooter(file, footer, footerAt);
        if (footer.diskType() == VhdFooter.TYPE_FIXED) {
            if (footer.currentSize() > tailAt) {
                throw file.corrupt("fixed disk of " + footer.currentSize() + " bytes needs a file of "
                        + (footer.currentSize() + VhdFooter.SIZE) + " bytes but the file has " + fileSize
                        + " (truncated)", tailAt);
            }
            return new VhdFixedImage(file, footer);
        }
        return VhdDynamicImage.open(file, footer, footerAt, footerAtEnd ? tailAt : -1);
    }

    private static void checkFooter(ImageFile file, VhdFooter footer, long at) throws DiskFormatException {
        if ((footer.formatVersion() >>> 16) != 1) {
            throw file.corrupt(String.format("unsupported file format version 0x%08x (need 1.x)",
                    footer.formatVersion()), at + 12);
        }
        switch (footer.diskType()) {
            case VhdFooter.TYPE_FIXED, VhdFooter.TYPE_DYNAMIC -> {
            }
            case VhdFooter.TYPE_DIFFERENCING -> throw file.corrupt(
                    "differencing disks not supported (disk type 4 needs a parent disk)",
                    at + VhdFooter.DISK_TYPE_OFFSET);
            default -> throw file.corrupt("unknown disk type " + footer.diskType(),
                    at + VhdFooter.DISK_TYPE_OFFSET);
        }
        long size = footer.currentSize();
        if (size < 0 || size > VhdFooter.VIRTUAL_SIZE_MAX) {
            throw file.corrupt("current size " + Long.toUnsignedString(size) + " exceeds the VHD maximum of "
                    + VhdFooter.VIRTUAL_SIZE_MAX + " bytes (2040 GiB)", at + VhdFooter.CURRENT_SIZE_OFFSET);
        }
        if (size % 512 != 0) {
            throw file.corrupt("current size " + size + " is not a multiple of 512",
                    at + VhdFooter.CURRENT_SIZE_OFFSET);
        }
    }

    static byte[] bytes(ByteBuffer buf) {
        byte[] b = new byte[buf.remaining()];
        buf.get(b);
        return b;
    }

    /** Formats an empty, existing file as a fixed VHD: a sparse data area then the footer. */
    static void formatFixed(Path path, long virtualSize) throws IOException {
        checkCreateSize(virtualSize);
        VhdFooter footer = VhdFooter.create(VhdFooter.TYPE_FIXED, virtualSize, VhdFooter.DATA_OFFSET_NONE);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            writeFully(ch, virtualSize, footer.encode());
            ch.force(true);
        }
    }

    /**
     * Formats an empty, existing file as a dynamic VHD: footer copy at 0, dynamic header at 512, BAT at
     * 1536 (all entries unused), footer right after the BAT.
     */
    static void formatDynamic(Path path, long virtualSize, long blockSize) throws IOException {
        checkCreateSize(virtualSize);
        if (blockSize < 512 || blockSize > VhdDynamicImage.BLOCK_SIZE_MAX || Long.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("VHD block size must be a power of two from 512 bytes to "
                    + VhdDynamicImage.BLOCK_SIZE_MAX + ", got " + blockSize);
        }
        long entries = Math.max(1, (virtualSize + blockSize - 1) / blockSize);
        if (entries > VhdDynamicImage.BAT_ENTRIES_MAX) {
            throw new IllegalArgumentException("a " + virtualSize + "-byte VHD with " + blockSize
                    + "-byte blocks needs " + entries + " BAT entries, more than BAT_ENTRIES_MAX ("
                    + VhdDynamicImage.BAT_ENTRIES_MAX + "); use larger blocks");
        }
        long headerAt = VhdFooter.SIZE;
        long tableAt = headerAt + VhdDynamicHeader.SIZE;
        long tableBytes = roundUp(entries * 4, 512);
        VhdFooter footer = VhdFooter.create(VhdFooter.TYPE_DYNAMIC, virtualSize, headerAt);
        VhdDynamicHeader header = new VhdDynamicHeader(tableAt, VhdDynamicHeader.HEADER_VERSION_1_0, entries,
                blockSize);
        byte[] table = new byte[(int) tableBytes];
        java.util.Arrays.fill(table, (byte) 0xFF);
        byte[] foot = footer.encode();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            writeFully(ch, tableAt, table);
            writeFully(ch, headerAt, header.encode());
            writeFully(ch, tableAt + tableBytes, foot);
            writeFully(ch, 0, foot);
            ch.force(true);
        }
    }

    private static void checkCreateSize(long virtualSize) {
        if (virtualSize <= 0 || virtualSize % 512 != 0 || virtualSize > VhdFooter.VIRTUAL_SIZE_MAX) {
            throw new IllegalArgumentException("VHD virtual size must be a positive multiple of 512 up to "
                    + VhdFooter.VIRTUAL_SIZE_MAX + " bytes (2040 GiB), got " + virtualSize);
        }
    }

    static void writeFully(FileChannel ch, long pos, byte[] b) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            pos += ch.write(buf, pos);
        }
    }

    static long roundUp(long value, long unit) {
        return (value + unit - 1) / unit * unit;
    }
}
