package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * A VHDX disk ([MS-VHDX]), non-differencing.
 *
 * <p><b>Opening.</b> The first megabyte holds the file identifier ("vhdxfile"), two headers and two
 * region tables. The current header (valid CRC-32C, larger sequence number) locates the log; if its
 * LogGuid is set, the log's active sequence is replayed before anything else is read, because log
 * entries rewrite the BAT and metadata. A writable open replays into the file and clears the LogGuid;
 * a read-only open replays into memory (an {@link ImageFile.Overlay}) and leaves the file untouched.
 * Then the region table locates the metadata (block size, virtual size, sector sizes) and the BAT,
 * whose entries are checked against the file before any is used.
 *
 * <p><b>Block allocation table.</b> After every chunkRatio payload entries comes one sector-bitmap
 * entry (unused by non-differencing disks), so payload block b lives at entry b + b / chunkRatio,
 * where chunkRatio = 2^23 * logical sector size / block size. FULLY_PRESENT blocks are read from the
 * file; NOT_PRESENT, UNDEFINED, ZERO and UNMAPPED blocks read as zeros; PARTIALLY_PRESENT belongs to
 * differencing disks and is rejected.
 *
 * <p><b>Writing without the log.</b> SecondSite never writes log entries; it orders its writes so a
 * crash is harmless without one. Before the first change after an open, both headers are rewritten
 * (one at a time, each forced) with a higher sequence number, a new FileWriteGuid and a new
 * DataWriteGuid, and a zero LogGuid. A write into a block that is not FULLY_PRESENT allocates a new
 * block at the end of the file (1 MiB aligned): the data is written and the file extended to the
 * block's end, forced, and only then is the 8-byte BAT entry written. A crash before the BAT write
 * leaves unreferenced space at the end of the file; a crash after it leaves a complete block. The
 * space of ZERO/UNMAPPED blocks that kept a file offset is not reused.
 */
final class VhdxImage extends AbstractImage {

    static final long MIB = 1 << 20;
    static final long HEADER_SECTION = MIB;
    static final long HEADER1_AT = 64 * 1024;
    static final long HEADER2_AT = 128 * 1024;
    static final byte[] FILE_SIGNATURE = "vhdxfile".getBytes(StandardCharsets.US_ASCII);
    /** Most BAT entries held in memory (8 bytes each): 64 TiB in 4 MiB blocks needs about 2^24. */
    static final long BAT_ENTRIES_MAX = 1L << 24;
    /** Most log data a read-only open replays in memory. */
    static final long LOG_OVERLAY_BYTES_MAX = 64 * MIB;
    /**
     * Most a log replay may grow the file (LastFileOffset or a descriptor past the end): a writer only
     * outruns its last flush by the blocks it allocated since, nowhere near this.
     */
    static final long LOG_FILE_GROWTH_MAX = 1L << 40;
    static final long DEFAULT_BLOCK_SIZE = 32 * MIB;
    static final long DEFAULT_LOG_LENGTH = MIB;
    private static final int BAT_READ_CHUNK_BYTES = 1 << 20;

    static final int PAYLOAD_NOT_PRESENT = 0;
    static final int PAYLOAD_UNDEFINED = 1;
    static final int PAYLOAD_ZERO = 2;
    static final int PAYLOAD_UNMAPPED = 3;
    /** UNMAPPED as numbered by pre-1.0 drafts of the specification; still found in old files. */
    static final int PAYLOAD_UNMAPPED_V095 = 5;
    static final int PAYLOAD_FULLY_PRESENT = 6;
    static final int PAYLOAD_PARTIALLY_PRESENT = 7;

    private VhdxHeader header;
    private int headerSlot;
    private boolean fileWriteGuidChanged;
    private boolean dataWriteGuidChanged;
    private VhdxRegionTable regions;
    private VhdxMetadata meta;
    private long chunkRatio;
    private long[] bat;
    private boolean logReplayed;

    private VhdxImage(ImageFile file) {
        super(file);
    }

    static VhdxImage open(ImageFile file) throws IOException {
        VhdxImage img = new VhdxImage(file);
        img.load();
        return img;
    }

    private void load() throws IOException {
        if (file.size() < HEADER_SECTION) {
            throw file.corrupt("file of " + file.size() + " bytes is smaller than the 1 MiB header section", 0);
        }
        byte[] sig = Vhd.bytes(file.read(0, 8, "file identifier"));
        if (!Arrays.equals(sig, FILE_SIGNATURE)) {
            throw file.corrupt("file identifier signature \"vhdxfile\" missing", 0);
        }
        readHeaders();
        replayLog();
        regions = VhdxRegionTable.read(file);
        if (header.logLength() > 0) {
            if (VhdDynamicImage.overlaps(header.logOffset(), header.logLength(), regions.batOffset(),
                    regions.batLength()) || VhdDynamicImage.overlaps(header.logOffset(), header.logLength(),
                    regions.metadataOffset(), regions.metadataLength())) {
                throw file.corrupt("log overlaps the BAT or metadata region", header.logOffset());
            }
        }
        meta = VhdxMetadata.read(file, regions.metadataOffset(), regions.metadataLength());
        chunkRatio = meta.chunkRatio();
        loadBat();
    }

    private void readHeaders() throws IOException {
        byte[] h1 = Vhd.bytes(file.read(HEADER1_AT, VhdxHeader.SIZE, "header 1"));
        byte[] h2 = Vhd.bytes(file.read(HEADER2_AT, VhdxHeader.SIZE, "header 2"));
        String p1 = VhdxHeader.problem(h1);
        String p2 = VhdxHeader.problem(h2);
        if (p1 != null && p2 != null) {
            throw file.corrupt("both headers are invalid (header 1: " + p1 + "; header 2: " + p2 + ")", HEADER1_AT);
        }
        if (p2 != null) {
            headerSlot = 0;
        } else if (p1 != null) {
            headerSlot = 1;
        } else {
            int cmp = Long.compareUnsigned(VhdxHeader.decode(h1).sequenceNumber(),
                    VhdxHeader.decode(h2).sequenceNumber());
            if (cmp == 0 && !Arrays.equals(h1, h2)) {
                throw file.corrupt("headers 1 and 2 differ but have the same sequence number", HEADER1_AT);
            }
            headerSlot = cmp >= 0 ? 0 : 1;
        }
        header = VhdxHeader.decode(headerSlot == 0 ? h1 : h2);
        long at = headerSlot == 0 ? HEADER1_AT : HEADER2_AT;
        if (header.logVersion() != 0) {
            throw file.corrupt("unsupported log version " + header.logVersion() + " (need 0)", at + 64);
        }
        long logOffset = header.logOffset();
        long logLength = header.logLength();
        if (logLength > 0) {
            if (logLength % MIB != 0 || logOffset < HEADER_SECTION || logOffset % MIB != 0) {
                throw file.corrupt("log at " + logOffset + " length " + logLength
                        + " is not 1 MiB-aligned past the header section", at + 68);
            }
            file.checkRange(logOffset, logLength, "log");
        }
    }

    /** Replays the log's active sequence, into the file if writable, else into memory. */
    private void replayLog() throws IOException {
        if (header.logGuid().equals(MsGuid.ZERO) || header.logLength() == 0) {
            return;
        }
        VhdxLog log = new VhdxLog(file, header.logOffset(), header.logLength(), header.logGuid());
        List<VhdxLog.Entry> entries = log.activeSequence();
        if (entries.isEmpty()) {
            return;
        }
        VhdxLog.Entry head = entries.getLast();
        if (head.flushedFileOffset() > file.physicalSize()) {
            throw file.corrupt("log entry " + head.sequence() + " needs a file of at least "
                    + head.flushedFileOffset() + " bytes (FlushedFileOffset) but the file has "
                    + file.physicalSize() + " (truncated)", header.logOffset() + head.position());
        }
        long overlayMax = file.writable() ? Long.MAX_VALUE : LOG_OVERLAY_BYTES_MAX;
        List<VhdxLog.Write> writes = log.writes(entries, overlayMax);
        long logicalEnd = head.lastFileOffset();
        for (VhdxLog.Write w : writes) {
            logicalEnd = Math.max(logicalEnd, w.fileOffset() + w.length());
        }
        if (logicalEnd - file.physicalSize() > LOG_FILE_GROWTH_MAX) {
            throw file.corrupt("log replay would grow the file from " + file.physicalSize() + " to " + logicalEnd
                    + " bytes, more than LOG_FILE_GROWTH_MAX (" + LOG_FILE_GROWTH_MAX + ")",
                    header.logOffset() + head.position());
        }
        if (!file.writable()) {
            file.setOverlay(new LogOverlay(writes, logicalEnd));
            return;
        }
        // The spec asks for a new FileWriteGuid before any change, log playback included; the LogGuid
        // stays until every write of the log is durable.
        updateHeaders(UUID.randomUUID(), header.dataWriteGuid(), header.logGuid());
        fileWriteGuidChanged = true;
        long physical = file.physicalSize();
        for (VhdxLog.Write w : writes) {
            if (w.data() != null) {
                file.write(w.fileOffset(), ByteBuffer.wrap(w.data()));
            } else if (w.fileOffset() < physical) {
                // Past the end of the file a range already reads as zeros once the file is extended.
                file.writeZeros(w.fileOffset(), Math.min(w.length(), physical - w.fileOffset()));
            }
        }
        if (file.physicalSize() < logicalEnd) {
            file.write(logicalEnd - 1, ByteBuffer.allocate(1));
        }
        file.force();
        updateHeaders(header.fileWriteGuid(), header.dataWriteGuid(), MsGuid.ZERO);
        logReplayed = true;
    }

    /** The log's writes laid over file reads, in log order (later writes win). */
    private record LogOverlay(List<VhdxLog.Write> writes, long logicalSize) implements ImageFile.Overlay {
        @Override
        public void patch(long position, byte[] buf, int off, int len) {
            for (VhdxLog.Write w : writes) {
                long from = Math.max(position, w.fileOffset());
                long to = Math.min(position + len, w.fileOffset() + w.length());
                if (from >= to) {
                    continue;
                }
                int dst = off + (int) (from - position);
                int n = (int) (to - from);
                if (w.data() == null) {
                    Arrays.fill(buf, dst, dst + n, (byte) 0);
                } else {
                    System.arraycopy(w.data(), (int) (from - w.fileOffset()), buf, dst, n);
                }
            }
        }
    }

    private void loadBat() throws IOException {
        long total = meta.totalBatEntries();
        if (total > BAT_ENTRIES_MAX) {
            throw file.corrupt("disk needs " + total + " BAT entries, more than BAT_ENTRIES_MAX ("
                    + BAT_ENTRIES_MAX + ")", regions.batOffset());
        }
        if (total * 8 > regions.batLength()) {
            throw file.corrupt("BAT region of " + regions.batLength() + " bytes cannot hold " + total
                    + " entries", regions.batOffset());
        }
        bat = new long[(int) total];
        long bytes = total * 8;
        for (long done = 0; done < bytes; ) {
            int n = (int) Math.min(BAT_READ_CHUNK_BYTES, bytes - done);
            file.read(regions.batOffset() + done, n, "BAT").asLongBuffer().get(bat, (int) (done / 8), n / 8);
            done += n;
        }
        long blockSize = meta.blockSize();
        long[] present = new long[bat.length];
        int used = 0;
        for (int i = 0; i < bat.length; i++) {
            if (i % (chunkRatio + 1) == chunkRatio) {
                continue; // sector bitmap entry: only differencing disks use these
            }
            long entryAt = regions.batOffset() + 8L * i;
            int state = (int) (bat[i] & 7);
            switch (state) {
                case PAYLOAD_NOT_PRESENT, PAYLOAD_UNDEFINED, PAYLOAD_ZERO, PAYLOAD_UNMAPPED, PAYLOAD_UNMAPPED_V095 -> {
                }
                case PAYLOAD_FULLY_PRESENT -> {
                    long start = (bat[i] >>> 20) * MIB;
                    if (start < HEADER_SECTION) {
                        throw file.corrupt("BAT entry " + i + " points into the header section (offset " + start
                                + ")", entryAt);
                    }
                    if (start > file.size() - blockSize) {
                        throw file.corrupt("BAT entry " + i + " points past the end of the file (block at " + start
                                + ".." + (start + blockSize) + ", file has " + file.size() + " bytes)", entryAt);
                    }
                    if (VhdDynamicImage.overlaps(start, blockSize, regions.batOffset(), regions.batLength())
                            || VhdDynamicImage.overlaps(start, blockSize, regions.metadataOffset(),
                            regions.metadataLength()) || VhdDynamicImage.overlaps(start, blockSize,
                            header.logOffset(), header.logLength())) {
                        throw file.corrupt("BAT entry " + i + " points into the log, BAT or metadata region "
                                + "(block at " + start + ")", entryAt);
                    }
                    present[used++] = ((bat[i] >>> 20) << 24) | i;
                }
                case PAYLOAD_PARTIALLY_PRESENT -> throw file.corrupt("BAT entry " + i
                        + " is PARTIALLY_PRESENT, which only differencing disks use", entryAt);
                default -> throw file.corrupt("BAT entry " + i + " has invalid payload block state " + state, entryAt);
            }
        }
        Arrays.sort(present, 0, used);
        long blockMib = blockSize / MIB;
        for (int k = 1; k < used; k++) {
            if ((present[k] >>> 24) < (present[k - 1] >>> 24) + blockMib) {
                int i = (int) (present[k] & 0xFFFFFF);
                throw file.corrupt("BAT entries " + (int) (present[k - 1] & 0xFFFFFF) + " and " + i
                        + " point at overlapping blocks", regions.batOffset() + 8L * i);
            }
        }
    }

    private void updateHeaders(UUID fileWrite, UUID dataWrite, UUID log) throws IOException {
        for (int i = 0; i < 2; i++) {
            VhdxHeader next = header.next(fileWrite, dataWrite, log);
            int slot = 1 - headerSlot;
            file.write(slot == 0 ? HEADER1_AT : HEADER2_AT, ByteBuffer.wrap(next.encode()));
            file.force();
            header = next;
            headerSlot = slot;
        }
    }

    /** Before the first change of this session: new FileWriteGuid and DataWriteGuid, LogGuid cleared. */
    private void beginUserWrite() throws IOException {
        if (fileWriteGuidChanged && dataWriteGuidChanged && header.logGuid().equals(MsGuid.ZERO)) {
            return;
        }
        updateHeaders(fileWriteGuidChanged ? header.fileWriteGuid() : UUID.randomUUID(),
                dataWriteGuidChanged ? header.dataWriteGuid() : UUID.randomUUID(), MsGuid.ZERO);
        fileWriteGuidChanged = true;
        dataWriteGuidChanged = true;
    }

    @Override
    public DiskFormat format() {
        return DiskFormat.VHDX;
    }

    @Override
    public long virtualSize() {
        return meta.virtualSize();
    }

    @Override
    public int logicalSectorSize() {
        return meta.logicalSectorSize();
    }

    long blockSize() {
        return meta.blockSize();
    }

    VhdxHeader currentHeader() {
        return header;
    }

    boolean logReplayed() {
        return logReplayed;
    }

    VhdxRegionTable regions() {
        return regions;
    }

    /** File offset holding a virtual offset's byte, or -1 if its block is not FULLY_PRESENT. */
    long fileOffsetOf(long offset) {
        long entry = bat[entryIndex(offset / meta.blockSize())];
        return (entry & 7) == PAYLOAD_FULLY_PRESENT ? (entry >>> 20) * MIB + offset % meta.blockSize() : -1;
    }

    /** Payload block state of the block holding virtual offset. */
    int blockState(long offset) {
        return (int) (bat[entryIndex(offset / meta.blockSize())] & 7);
    }

    private int entryIndex(long block) {
        return (int) (block + block / chunkRatio);
    }

    @Override
    protected void readAt(long offset, ByteBuffer dst) throws IOException {
        long blockSize = meta.blockSize();
        while (dst.hasRemaining()) {
            long block = offset / blockSize;
            long inBlock = offset % blockSize;
            int n = (int) Math.min(dst.remaining(), blockSize - inBlock);
            ByteBuffer part = dst.slice(dst.position(), n);
            long entry = bat[entryIndex(block)];
            if ((entry & 7) == PAYLOAD_FULLY_PRESENT) {
                file.readInto((entry >>> 20) * MIB + inBlock, part, "payload block " + block);
            } else {
                VhdDynamicImage.zero(part);
            }
            dst.position(dst.position() + n);
            offset += n;
        }
    }

    @Override
    protected void writeAt(long offset, ByteBuffer src) throws IOException {
        beginUserWrite();
        long blockSize = meta.blockSize();
        while (src.hasRemaining()) {
            long block = offset / blockSize;
            long inBlock = offset % blockSize;
            int n = (int) Math.min(src.remaining(), blockSize - inBlock);
            ByteBuffer part = src.slice(src.position(), n);
            int index = entryIndex(block);
            long entry = bat[index];
            if ((entry & 7) == PAYLOAD_FULLY_PRESENT) {
                file.write((entry >>> 20) * MIB + inBlock, part);
            } else {
                allocate(block, index, inBlock, part);
            }
            src.position(src.position() + n);
            offset += n;
        }
    }

    private void allocate(long block, int index, long inBlock, ByteBuffer part) throws IOException {
        long blockSize = meta.blockSize();
        long start = Vhd.roundUp(file.physicalSize(), MIB);
        if (start + blockSize > VhdxLog.FILE_SIZE_MAX) {
            throw file.corrupt("no room for block " + block + " below the file size limit", start);
        }
        long end = start + inBlock + part.remaining();
        file.write(start + inBlock, part);
        if (end < start + blockSize) {
            file.write(start + blockSize - 1, ByteBuffer.allocate(1));
        }
        file.force();
        long entry = start | PAYLOAD_FULLY_PRESENT;
        file.write(regions.batOffset() + 8L * index,
                ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, entry));
        bat[index] = entry;
    }

    @Override
    protected Extent extentAtChecked(long offset) {
        long blockSize = meta.blockSize();
        long block = offset / blockSize;
        boolean allocated = blockState(offset) == PAYLOAD_FULLY_PRESENT;
        long lastBlock = (virtualSize() - 1) / blockSize;
        long b = block + 1;
        while (b <= lastBlock && ((bat[entryIndex(b)] & 7) == PAYLOAD_FULLY_PRESENT) == allocated) {
            b++;
        }
        return new Extent(offset, Math.min(virtualSize(), b * blockSize) - offset, allocated);
    }

    /**
     * Formats an empty, existing file: header section, 1 MiB log at 1 MiB, metadata region at 2 MiB,
     * BAT at 3 MiB (every block NOT_PRESENT).
     */
    static void format(Path path, long virtualSize, long blockSize, int logicalSectorSize, int physicalSectorSize)
            throws IOException {
        if (logicalSectorSize != 512 && logicalSectorSize != 4096) {
            throw new IllegalArgumentException("VHDX logical sector size must be 512 or 4096, got " + logicalSectorSize);
        }
        if (physicalSectorSize != 512 && physicalSectorSize != 4096) {
            throw new IllegalArgumentException("VHDX physical sector size must be 512 or 4096, got "
                    + physicalSectorSize);
        }
        if (virtualSize <= 0 || virtualSize > VhdxMetadata.VIRTUAL_SIZE_MAX || virtualSize % logicalSectorSize != 0) {
            throw new IllegalArgumentException("VHDX virtual size must be a positive multiple of the logical sector "
                    + "size (" + logicalSectorSize + ") up to 64 TiB, got " + virtualSize);
        }
        if (blockSize < VhdxMetadata.BLOCK_SIZE_MIN || blockSize > VhdxMetadata.BLOCK_SIZE_MAX
                || Long.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("VHDX block size must be a power of two from 1 MiB to 256 MiB, got "
                    + blockSize);
        }
        VhdxMetadata meta = new VhdxMetadata(blockSize, false, false, virtualSize, logicalSectorSize,
                physicalSectorSize, UUID.randomUUID());
        long entries = meta.totalBatEntries();
        if (entries > BAT_ENTRIES_MAX) {
            throw new IllegalArgumentException("a " + virtualSize + "-byte VHDX with " + blockSize
                    + "-byte blocks needs " + entries + " BAT entries, more than BAT_ENTRIES_MAX ("
                    + BAT_ENTRIES_MAX + "); use larger blocks");
        }
        long logAt = MIB;
        long metaAt = 2 * MIB;
        long batAt = 3 * MIB;
        long batLength = Vhd.roundUp(entries * 8, MIB);
        VhdxRegionTable regions = new VhdxRegionTable(batAt, batLength, metaAt, MIB);
        byte[] ident = new byte[8 + 512];
        System.arraycopy(FILE_SIGNATURE, 0, ident, 0, 8);
        byte[] creator = "SecondSite".getBytes(StandardCharsets.UTF_16LE);
        System.arraycopy(creator, 0, ident, 8, creator.length);
        UUID fileWrite = UUID.randomUUID();
        UUID dataWrite = UUID.randomUUID();
        VhdxHeader h1 = new VhdxHeader(1, fileWrite, dataWrite, MsGuid.ZERO, 0, 1, DEFAULT_LOG_LENGTH, logAt);
        VhdxHeader h2 = h1.next(fileWrite, dataWrite, MsGuid.ZERO);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            Vhd.writeFully(ch, batAt + batLength - 1, new byte[1]);
            Vhd.writeFully(ch, metaAt, meta.encodeRegion());
            Vhd.writeFully(ch, VhdxRegionTable.TABLE1_AT, regions.encode());
            Vhd.writeFully(ch, VhdxRegionTable.TABLE2_AT, regions.encode());
            Vhd.writeFully(ch, HEADER1_AT, h1.encode());
            Vhd.writeFully(ch, HEADER2_AT, h2.encode());
            Vhd.writeFully(ch, 0, ident);
            ch.force(true);
        }
    }
}
