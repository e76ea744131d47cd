package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dynamic VHD: the virtual disk is cut into blocks (2 MiB by default); the block allocation table
 * (BAT) maps each block to a file sector or to 0xFFFFFFFF (never written, reads as zeros). Each
 * allocated block starts with a sector bitmap (one bit per 512-byte sector, most significant bit
 * first, padded to a sector) followed by the block's data. A sector whose bit is clear reads as zeros.
 *
 * <p><b>Allocation and crash safety.</b> New blocks go where the footer is, and the footer moves to
 * the new end. The writes happen in this order:
 * <ol>
 * <li>the footer at the new end of the file, so the file ends in a valid footer at every instant;</li>
 * <li>the block's bitmap (over the old footer; all sectors marked present, since the data area is
 *     freshly extended file space that reads as zeros) and the written data;</li>
 * <li>a force, so the block is durable ...</li>
 * <li>... before the BAT entry that points at it is written.</li>
 * </ol>
 * A crash therefore leaves either the old BAT entry (the block is leaked space past the last block,
 * never read) or the new one pointing at a complete block. Writes into a block that has clear bitmap
 * bits (written by other tools) write whole sectors, force, then set the bits, so a bit is never set
 * before its sector's data is durable.
 */
final class VhdDynamicImage extends AbstractImage {

    /** Largest block size accepted (the specification's default is 2 MiB). */
    static final long BLOCK_SIZE_MAX = 256L << 20;
    /** Most BAT entries held in memory (4 bytes each): 2040 GiB in 2 MiB blocks needs 1,044,480. */
    static final long BAT_ENTRIES_MAX = 1L << 24;
    static final int UNUSED = 0xFFFFFFFF;
    private static final int BAT_READ_CHUNK_BYTES = 1 << 20;

    private final VhdFooter footer;
    private final byte[] footerBytes;
    private final long tableOffset;
    private final long blockSize;
    private final int bitmapBytes;
    private final int[] bat;
    /** Where the footer is now; new blocks start here. */
    private long footerOffset;
    private long cachedBitmapBlock = -1;
    private byte[] cachedBitmap;

    private VhdDynamicImage(ImageFile file, VhdFooter footer, VhdDynamicHeader header, int[] bat,
                            int bitmapBytes, long footerOffset) {
        super(file);
        this.footer = footer;
        this.footerBytes = footer.encode();
        this.tableOffset = header.tableOffset();
        this.blockSize = header.blockSize();
        this.bitmapBytes = bitmapBytes;
        this.bat = bat;
        this.footerOffset = footerOffset;
    }

    /**
     * @param footerOffset where the trailing footer is, or -1 if it is missing (the copy at offset 0
     *                     was used); a writable open then writes a new trailing footer
     */
    static VhdDynamicImage open(ImageFile file, VhdFooter footer, long footerAt, long footerOffset)
            throws IOException {
        long headerAt = footer.dataOffset();
        file.checkRange(headerAt, VhdDynamicHeader.SIZE, "dynamic header");
        if (headerAt < VhdFooter.SIZE) {
            throw file.corrupt("dynamic header offset " + headerAt + " overlaps the footer copy", footerAt + 16);
        }
        byte[] hb = Vhd.bytes(file.read(headerAt, VhdDynamicHeader.SIZE, "dynamic header"));
        String problem = VhdDynamicHeader.problem(hb);
        if (problem != null) {
            throw file.corrupt(problem, headerAt);
        }
        VhdDynamicHeader header = VhdDynamicHeader.decode(hb);
        if ((header.headerVersion() >>> 16) != 1) {
            throw file.corrupt(String.format("unsupported dynamic header version 0x%08x", header.headerVersion()),
                    headerAt + 24);
        }
        long blockSize = header.blockSize();
        if (blockSize < 512 || blockSize % 512 != 0 || blockSize > BLOCK_SIZE_MAX) {
            throw file.corrupt("block size " + blockSize + " is not a multiple of 512 between 512 and "
                    + BLOCK_SIZE_MAX, headerAt + 32);
        }
        long entries = header.maxTableEntries();
        long needed = (footer.currentSize() + blockSize - 1) / blockSize;
        if (entries > BAT_ENTRIES_MAX) {
            throw file.corrupt("max table entries " + entries + " exceeds BAT_ENTRIES_MAX (" + BAT_ENTRIES_MAX
                    + ")", headerAt + 28);
        }
        if (entries < needed) {
            throw file.corrupt("max table entries " + entries + " cannot map a disk of " + footer.currentSize()
                    + " bytes in " + blockSize + "-byte blocks (needs " + needed + ")", headerAt + 28);
        }
        long tableAt = header.tableOffset();
        long tableBytes = entries * 4;
        file.checkRange(tableAt, tableBytes, "block allocation table");
        if (overlaps(tableAt, tableBytes, 0, VhdFooter.SIZE)
                || overlaps(tableAt, tableBytes, headerAt, VhdDynamicHeader.SIZE)) {
            throw file.corrupt("block allocation table overlaps the footer copy or the dynamic header", tableAt);
        }
        int[] bat = new int[(int) entries];
        for (long done = 0; done < tableBytes; ) {
            int n = (int) Math.min(BAT_READ_CHUNK_BYTES, tableBytes - done);
            ByteBuffer chunk = file.read(tableAt + done, n, "block allocation table").order(ByteOrder.BIG_ENDIAN);
            chunk.asIntBuffer().get(bat, (int) (done / 4), n / 4);
            done += n;
        }
        int bitmapBytes = (int) Vhd.roundUp((blockSize / 512 + 7) / 8, 512);
        long dataEnd = footerOffset >= 0 ? footerOffset : file.size();
        checkBlocks(file, bat, tableAt, tableBytes, headerAt, blockSize + bitmapBytes, dataEnd);

        if (footerOffset < 0 && file.writable()) {
            footerOffset = Vhd.roundUp(file.size(), 512);
            file.write(footerOffset, ByteBuffer.wrap(footer.encode()));
            file.force();
        }
        return new VhdDynamicImage(file, footer, header, bat, bitmapBytes,
                footerOffset >= 0 ? footerOffset : Vhd.roundUp(file.size(), 512));
    }

    /** Every allocated block must lie inside the file, clear of the headers and BAT, and of each other. */
    private static void checkBlocks(ImageFile file, int[] bat, long tableAt, long tableBytes, long headerAt,
                                    long blockSpan, long dataEnd) throws DiskFormatException {
        long[] sorted = new long[bat.length];
        int used = 0;
        for (int i = 0; i < bat.length; i++) {
            if (bat[i] == UNUSED) {
                continue;
            }
            long start = (bat[i] & 0xFFFFFFFFL) * 512;
            long entryAt = tableAt + 4L * i;
            if (start + blockSpan > dataEnd) {
                throw file.corrupt("BAT entry " + i + " points past the end of the file (block at " + start
                        + ".." + (start + blockSpan) + ", data ends at " + dataEnd + ")", entryAt);
            }
            if (overlaps(start, blockSpan, 0, VhdFooter.SIZE) || overlaps(start, blockSpan, headerAt,
                    VhdDynamicHeader.SIZE) || overlaps(start, blockSpan, tableAt, tableBytes)) {
                throw file.corrupt("BAT entry " + i + " points into the footer copy, dynamic header or BAT "
                        + "(block at " + start + ")", entryAt);
            }
            sorted[used++] = ((bat[i] & 0xFFFFFFFFL) << 32) | i;
        }
        Arrays.sort(sorted, 0, used);
        for (int k = 1; k < used; k++) {
            long prevStart = (sorted[k - 1] >>> 32) * 512;
            long start = (sorted[k] >>> 32) * 512;
            if (start < prevStart + blockSpan) {
                int i = (int) sorted[k];
                throw file.corrupt("BAT entries " + (int) sorted[k - 1] + " and " + i + " point at overlapping "
                        + "blocks (" + prevStart + " and " + start + ")", tableAt + 4L * i);
            }
        }
    }

    static boolean overlaps(long aStart, long aLen, long bStart, long bLen) {
        return aStart < bStart + bLen && bStart < aStart + aLen;
    }

    @Override
    public DiskFormat format() {
        return DiskFormat.VHD_DYNAMIC;
    }

    @Override
    public long virtualSize() {
        return footer.currentSize();
    }

    long blockSize() {
        return blockSize;
    }

    private long dataStart(long block) {
        return (bat[(int) block] & 0xFFFFFFFFL) * 512 + bitmapBytes;
    }

    private byte[] bitmap(long block) throws IOException {
        if (cachedBitmapBlock != block) {
            long at = (bat[(int) block] & 0xFFFFFFFFL) * 512;
            cachedBitmap = Vhd.bytes(file.read(at, bitmapBytes, "sector bitmap of block " + block));
            cachedBitmapBlock = block;
        }
        return cachedBitmap;
    }

    private static boolean bit(byte[] bitmap, int sector) {
        return (bitmap[sector >>> 3] & (0x80 >>> (sector & 7))) != 0;
    }

    @Override
    protected void readAt(long offset, ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            long block = offset / blockSize;
            int inBlock = (int) (offset % blockSize);
            int n = (int) Math.min(dst.remaining(), blockSize - inBlock);
            ByteBuffer part = dst.slice(dst.position(), n);
            if (bat[(int) block] == UNUSED) {
                zero(part);
            } else {
                readBlock(block, inBlock, part);
            }
            dst.position(dst.position() + n);
            offset += n;
        }
    }

    private void readBlock(long block, int inBlock, ByteBuffer part) throws IOException {
        byte[] bitmap = bitmap(block);
        long dataStart = dataStart(block);
        int end = inBlock + part.remaining();
        int pos = inBlock;
        while (pos < end) {
            int sector = pos / 512;
            boolean present = bit(bitmap, sector);
            int runEnd = Math.min(end, (sector + 1) * 512);
            while (runEnd < end && bit(bitmap, runEnd / 512) == present) {
                runEnd = Math.min(end, (runEnd / 512 + 1) * 512);
            }
            ByteBuffer run = part.slice(pos - inBlock, runEnd - pos);
            if (present) {
                file.readInto(dataStart + pos, run, "data of block " + block);
            } else {
                zero(run);
            }
            pos = runEnd;
        }
    }

    private static final byte[] ZEROS = new byte[64 * 1024];

    /** Fills the rest of b with zeros. */
    static void zero(ByteBuffer b) {
        while (b.hasRemaining()) {
            b.put(ZEROS, 0, Math.min(ZEROS.length, b.remaining()));
        }
    }

    @Override
    protected void writeAt(long offset, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            long block = offset / blockSize;
            int inBlock = (int) (offset % blockSize);
            int n = (int) Math.min(src.remaining(), blockSize - inBlock);
            ByteBuffer part = src.slice(src.position(), n);
            if (bat[(int) block] == UNUSED) {
                allocate(block, inBlock, part);
            } else {
                writeBlock(block, inBlock, part);
            }
            src.position(src.position() + n);
            offset += n;
        }
    }

    private void allocate(long block, int inBlock, ByteBuffer part) throws IOException {
        long blockStart = Vhd.roundUp(footerOffset, 512);
        long newFooterOffset = blockStart + bitmapBytes + blockSize;
        if (blockStart / 512 >= 0xFFFFFFFFL) {
            throw file.corrupt("no room for block " + block + ": BAT entries address at most 2 TiB of file",
                    blockStart);
        }
        byte[] fullBitmap = new byte[bitmapBytes];
        Arrays.fill(fullBitmap, (byte) 0xFF);
        file.write(newFooterOffset, ByteBuffer.wrap(footerBytes));
        file.write(blockStart, ByteBuffer.wrap(fullBitmap));
        file.write(blockStart + bitmapBytes + inBlock, part);
        file.force();
        ByteBuffer entry = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(0, (int) (blockStart / 512));
        file.write(tableOffset + 4 * block, entry);
        bat[(int) block] = (int) (blockStart / 512);
        footerOffset = newFooterOffset;
        cachedBitmapBlock = block;
        cachedBitmap = fullBitmap;
    }

    private void writeBlock(long block, int inBlock, ByteBuffer part) throws IOException {
        byte[] bitmap = bitmap(block);
        int end = inBlock + part.remaining();
        int first = inBlock / 512;
        int last = (end - 1) / 512;
        boolean allPresent = true;
        for (int s = first; s <= last && allPresent; s++) {
            allPresent = bit(bitmap, s);
        }
        long dataStart = dataStart(block);
        if (allPresent) {
            file.write(dataStart + inBlock, part);
            return;
        }
        // Some sectors were never written: their bytes in the file are undefined, so a partly covered
        // one is written whole (zeros around the new bytes), and bits are set only after a force.
        int headPartial = inBlock % 512;
        if (headPartial != 0 || (end - inBlock) < 512) {
            writeMergedSector(block, bitmap, first, dataStart, inBlock, part);
        }
        int fullFrom = headPartial == 0 ? inBlock : (first + 1) * 512;
        int fullTo = (end / 512) * 512;
        if (fullTo > fullFrom) {
            file.write(dataStart + fullFrom, part.slice(fullFrom - inBlock, fullTo - fullFrom));
        }
        if (end % 512 != 0 && last != first) {
            writeMergedSector(block, bitmap, last, dataStart, inBlock, part);
        }
        file.force();
        for (int s = first; s <= last; s++) {
            bitmap[s >>> 3] |= (byte) (0x80 >>> (s & 7));
        }
        long bitmapAt = (bat[(int) block] & 0xFFFFFFFFL) * 512;
        file.write(bitmapAt + first / 8, ByteBuffer.wrap(bitmap, first / 8, last / 8 - first / 8 + 1));
    }

    /** Writes sector s whole: its old bytes if present, else zeros, with part's bytes laid over. */
    private void writeMergedSector(long block, byte[] bitmap, int s, long dataStart, int inBlock, ByteBuffer part)
            throws IOException {
        byte[] sector = new byte[512];
        long sectorAt = dataStart + s * 512L;
        if (bit(bitmap, s)) {
            file.readInto(sectorAt, ByteBuffer.wrap(sector), "data of block " + block);
        }
        int from = Math.max(inBlock, s * 512);
        int to = Math.min(inBlock + part.remaining(), (s + 1) * 512);
        part.get(from - inBlock, sector, from - s * 512, to - from);
        file.write(sectorAt, ByteBuffer.wrap(sector));
    }

    @Override
    protected Extent extentAtChecked(long offset) {
        long block = offset / blockSize;
        boolean allocated = bat[(int) block] != UNUSED;
        long lastBlock = (virtualSize() - 1) / blockSize;
        long b = block + 1;
        while (b <= lastBlock && (bat[(int) b] != UNUSED) == allocated) {
            b++;
        }
        long end = Math.min(virtualSize(), b * blockSize);
        return new Extent(offset, end - offset, allocated);
    }
}
