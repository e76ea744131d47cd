package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The VHDX metadata region ([MS-VHDX] 2.6): a 64 KiB table (signature "metadata", entry count, 32-byte
 * entries: item GUID, offset within the region, length, IsUser/IsVirtualDisk/IsRequired flags) and the
 * items it points at. SecondSite needs the five system items every non-differencing VHDX carries.
 */
record VhdxMetadata(long blockSize, boolean leaveBlocksAllocated, boolean hasParent, long virtualSize,
                    int logicalSectorSize, int physicalSectorSize, UUID page83) {

    static final int TABLE_SIZE = 64 * 1024;
    static final long SIGNATURE = 0x617461646174656DL; // "metadata"
    /** The specification's limit on metadata table entries. */
    static final int METADATA_ENTRIES_MAX = 2047;
    /** The specification's limit on one metadata item. */
    static final long METADATA_ITEM_BYTES_MAX = 1 << 20;
    /** The specification's limit on the virtual size of a VHDX: 64 TiB. */
    static final long VIRTUAL_SIZE_MAX = 64L << 40;
    static final long BLOCK_SIZE_MIN = 1 << 20;
    static final long BLOCK_SIZE_MAX = 256 << 20;

    static final UUID FILE_PARAMETERS = UUID.fromString("caa16737-fa36-4d43-b3b6-33f0aa44e76b");
    static final UUID VIRTUAL_DISK_SIZE = UUID.fromString("2fa54224-cd1b-4876-b211-5dbed83bf4b8");
    static final UUID PAGE_83 = UUID.fromString("beca12ab-b2e6-4523-93ef-c309e000c746");
    static final UUID LOGICAL_SECTOR_SIZE = UUID.fromString("8141bf1d-a96f-4709-ba47-f233a8faab5f");
    static final UUID PHYSICAL_SECTOR_SIZE = UUID.fromString("cda348c7-445d-4471-9cc9-e9885251c556");
    static final UUID PARENT_LOCATOR = UUID.fromString("a8d35f2d-b30b-454d-abf7-d3d84834ab0c");

    static final int FLAG_IS_USER = 1;
    static final int FLAG_IS_VIRTUAL_DISK = 2;
    static final int FLAG_IS_REQUIRED = 4;

    private record Item(long offset, long length, long entryAt) {
    }

    static VhdxMetadata read(ImageFile file, long regionAt, long regionLength) throws IOException {
        if (regionLength < TABLE_SIZE) {
            throw file.corrupt("metadata region of " + regionLength + " bytes cannot hold the 64 KiB table", regionAt);
        }
        ByteBuffer t = file.read(regionAt, TABLE_SIZE, "metadata table");
        if (t.getLong(0) != SIGNATURE) {
            throw file.corrupt("metadata table signature \"metadata\" missing", regionAt);
        }
        int count = t.getShort(10) & 0xFFFF;
        if (count > METADATA_ENTRIES_MAX) {
            throw file.corrupt("metadata entry count " + count + " exceeds METADATA_ENTRIES_MAX ("
                    + METADATA_ENTRIES_MAX + ")", regionAt + 10);
        }
        Map<UUID, Item> items = new HashMap<>();
        for (int i = 0; i < count; i++) {
            int at = 32 + 32 * i;
            long entryAt = regionAt + at;
            UUID id = MsGuid.read(t, at);
            long offset = t.getInt(at + 16) & 0xFFFFFFFFL;
            long length = t.getInt(at + 20) & 0xFFFFFFFFL;
            int flags = t.getInt(at + 24);
            boolean known = id.equals(FILE_PARAMETERS) || id.equals(VIRTUAL_DISK_SIZE) || id.equals(PAGE_83)
                    || id.equals(LOGICAL_SECTOR_SIZE) || id.equals(PHYSICAL_SECTOR_SIZE)
                    || id.equals(PARENT_LOCATOR);
            if ((flags & FLAG_IS_USER) == 0 && items.containsKey(id)) {
                throw file.corrupt("metadata item " + id + " listed twice", entryAt);
            }
            if (length > METADATA_ITEM_BYTES_MAX) {
                throw file.corrupt("metadata item " + id + " is " + length + " bytes, more than "
                        + METADATA_ITEM_BYTES_MAX, entryAt);
            }
            if (length > 0 && (offset < TABLE_SIZE || offset + length > regionLength)) {
                throw file.corrupt("metadata item " + id + " at " + offset + " length " + length
                        + " lies outside the metadata region (" + regionLength + " bytes)", entryAt);
            }
            if (!known) {
                if ((flags & FLAG_IS_REQUIRED) != 0) {
                    throw file.corrupt("unsupported required metadata item " + id, entryAt);
                }
                continue;
            }
            if ((flags & FLAG_IS_USER) == 0) {
                items.put(id, new Item(regionAt + offset, length, entryAt));
            }
        }
        ByteBuffer fp = item(file, items, FILE_PARAMETERS, "file parameters", 8, regionAt);
        long blockSize = fp.getInt(0) & 0xFFFFFFFFL;
        int fpFlags = fp.getInt(4);
        boolean leave = (fpFlags & 1) != 0;
        boolean hasParent = (fpFlags & 2) != 0;
        long fpAt = items.get(FILE_PARAMETERS).offset;
        if (hasParent) {
            throw file.corrupt("differencing disks not supported (file parameters HasParent is set)", fpAt + 4);
        }
        if (blockSize < BLOCK_SIZE_MIN || blockSize > BLOCK_SIZE_MAX || Long.bitCount(blockSize) != 1) {
            throw file.corrupt("block size " + blockSize + " is not a power of two from 1 MiB to 256 MiB", fpAt);
        }
        int logical = item(file, items, LOGICAL_SECTOR_SIZE, "logical sector size", 4, regionAt).getInt(0);
        long logicalAt = items.get(LOGICAL_SECTOR_SIZE).offset;
        if (logical != 512 && logical != 4096) {
            throw file.corrupt("logical sector size " + logical + " is neither 512 nor 4096", logicalAt);
        }
        int physical = item(file, items, PHYSICAL_SECTOR_SIZE, "physical sector size", 4, regionAt).getInt(0);
        if (physical != 512 && physical != 4096) {
            throw file.corrupt("physical sector size " + physical + " is neither 512 nor 4096",
                    items.get(PHYSICAL_SECTOR_SIZE).offset);
        }
        long size = item(file, items, VIRTUAL_DISK_SIZE, "virtual disk size", 8, regionAt).getLong(0);
        long sizeAt = items.get(VIRTUAL_DISK_SIZE).offset;
        if (size <= 0 || size > VIRTUAL_SIZE_MAX) {
            throw file.corrupt("virtual disk size " + Long.toUnsignedString(size)
                    + " is not between 1 byte and the VHDX maximum of 64 TiB", sizeAt);
        }
        if (size % logical != 0) {
            throw file.corrupt("virtual disk size " + size + " is not a multiple of the logical sector size "
                    + logical, sizeAt);
        }
        UUID page83 = MsGuid.read(item(file, items, PAGE_83, "page 83 data", 16, regionAt), 0);
        return new VhdxMetadata(blockSize, leave, false, size, logical, physical, page83);
    }

    private static ByteBuffer item(ImageFile file, Map<UUID, Item> items, UUID id, String name, int length,
                                   long regionAt) throws IOException {
        Item it = items.get(id);
        if (it == null) {
            throw file.corrupt("required metadata item " + name + " (" + id + ") is missing", regionAt);
        }
        if (it.length < length) {
            throw file.corrupt("metadata item " + name + " is " + it.length + " bytes, needs " + length, it.entryAt);
        }
        return file.read(it.offset, length, "metadata item " + name);
    }

    /** Chunk ratio: payload blocks per sector bitmap block, (2^23 * logical sector size) / block size. */
    long chunkRatio() {
        return (1L << 23) * logicalSectorSize / blockSize;
    }

    long dataBlocks() {
        return (virtualSize + blockSize - 1) / blockSize;
    }

    /** BAT entries of a non-differencing disk: payload entries with a bitmap entry after each chunk. */
    long totalBatEntries() {
        long data = dataBlocks();
        return data + (data - 1) / chunkRatio();
    }

    /** The metadata region as SecondSite writes it: the table then the five items at 64 KiB. */
    byte[] encodeRegion() {
        byte[] r = new byte[TABLE_SIZE + 64];
        ByteBuffer buf = ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(0, SIGNATURE);
        buf.putShort(10, (short) 5);
        int itemAt = TABLE_SIZE;
        itemAt = entry(buf, 0, FILE_PARAMETERS, itemAt, 8, FLAG_IS_REQUIRED);
        buf.putInt(TABLE_SIZE, (int) blockSize);
        buf.putInt(TABLE_SIZE + 4, (leaveBlocksAllocated ? 1 : 0));
        int sizeAt = itemAt;
        itemAt = entry(buf, 1, VIRTUAL_DISK_SIZE, itemAt, 8, FLAG_IS_REQUIRED | FLAG_IS_VIRTUAL_DISK);
        buf.putLong(sizeAt, virtualSize);
        int pageAt = itemAt;
        itemAt = entry(buf, 2, PAGE_83, itemAt, 16, FLAG_IS_REQUIRED | FLAG_IS_VIRTUAL_DISK);
        MsGuid.write(buf, pageAt, page83);
        int logicalAt = itemAt;
        itemAt = entry(buf, 3, LOGICAL_SECTOR_SIZE, itemAt, 4, FLAG_IS_REQUIRED | FLAG_IS_VIRTUAL_DISK);
        buf.putInt(logicalAt, logicalSectorSize);
        int physicalAt = itemAt;
        entry(buf, 4, PHYSICAL_SECTOR_SIZE, itemAt, 4, FLAG_IS_REQUIRED | FLAG_IS_VIRTUAL_DISK);
        buf.putInt(physicalAt, physicalSectorSize);
        return r;
    }

    private static int entry(ByteBuffer buf, int index, UUID id, int itemAt, int length, int flags) {
        int at = 32 + 32 * index;
        MsGuid.write(buf, at, id);
        buf.putInt(at + 16, itemAt);
        buf.putInt(at + 20, length);
        buf.putInt(at + 24, flags);
        return itemAt + length;
    }
}
