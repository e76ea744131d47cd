package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

/**
 * The VHDX region table ([MS-VHDX] 2.2.3): 64 KiB at 192 KiB, copied at 256 KiB. A 16-byte header
 * (signature "regi", CRC-32C over the 64 KiB, entry count) then 32-byte entries (GUID, file offset,
 * length, required bit) locating the BAT and the metadata region.
 */
record VhdxRegionTable(long batOffset, long batLength, long metadataOffset, long metadataLength) {

    static final long TABLE1_AT = 192 * 1024;
    static final long TABLE2_AT = 256 * 1024;
    static final int SIZE = 64 * 1024;
    static final int SIGNATURE = 0x69676572; // "regi"
    /** The specification's limit on region table entries. */
    static final int REGION_ENTRIES_MAX = 2047;
    static final UUID BAT = UUID.fromString("2dc27766-f623-4200-9d64-115e9bfd4a08");
    static final UUID METADATA = UUID.fromString("8b7ca206-4790-4b9a-b8fe-575f050f886e");
    static final long MIB = 1 << 20;

    /** Reads table 1, or table 2 if table 1 is damaged, and checks every region against the file. */
    static VhdxRegionTable read(ImageFile file) throws IOException {
        byte[] t1 = Vhd.bytes(file.read(TABLE1_AT, SIZE, "region table 1"));
        String p1 = problem(t1);
        if (p1 == null) {
            return parse(file, t1, TABLE1_AT);
        }
        byte[] t2 = Vhd.bytes(file.read(TABLE2_AT, SIZE, "region table 2"));
        String p2 = problem(t2);
        if (p2 == null) {
            return parse(file, t2, TABLE2_AT);
        }
        throw file.corrupt("both region tables are invalid (table 1: " + p1 + "; table 2: " + p2 + ")", TABLE1_AT);
    }

    private static String problem(byte[] t) {
        ByteBuffer buf = ByteBuffer.wrap(t).order(ByteOrder.LITTLE_ENDIAN);
        if (buf.getInt(0) != SIGNATURE) {
            return "signature \"regi\" missing";
        }
        if (!MsGuid.crcValid(t, 0, SIZE, 4)) {
            return "CRC-32C mismatch";
        }
        long count = buf.getInt(8) & 0xFFFFFFFFL;
        if (count > REGION_ENTRIES_MAX) {
            return "entry count " + count + " exceeds " + REGION_ENTRIES_MAX;
        }
        return null;
    }

    private static VhdxRegionTable parse(ImageFile file, byte[] t, long tableAt) throws DiskFormatException {
        ByteBuffer buf = ByteBuffer.wrap(t).order(ByteOrder.LITTLE_ENDIAN);
        int count = buf.getInt(8);
        long batOffset = -1;
        long batLength = 0;
        long metaOffset = -1;
        long metaLength = 0;
        Set<UUID> seen = new HashSet<>();
        for (int i = 0; i < count; i++) {
            int at = 16 + 32 * i;
            long entryAt = tableAt + at;
            UUID id = MsGuid.read(buf, at);
            long offset = buf.getLong(at + 16);
            long length = buf.getInt(at + 24) & 0xFFFFFFFFL;
            boolean required = (buf.getInt(at + 28) & 1) != 0;
            if (!seen.add(id)) {
                throw file.corrupt("region " + id + " listed twice", entryAt);
            }
            if (!id.equals(BAT) && !id.equals(METADATA)) {
                if (required) {
                    throw file.corrupt("unsupported required region " + id, entryAt);
                }
                continue;
            }
            String name = id.equals(BAT) ? "BAT region" : "metadata region";
            if (offset < MIB || offset % MIB != 0 || length == 0 || length % MIB != 0) {
                throw file.corrupt(name + " at " + offset + " length " + length
                        + " is not 1 MiB-aligned past the header section", entryAt);
            }
            if (offset > file.size() || length > file.size() - offset) {
                throw file.corrupt(name + " (" + offset + ".." + (offset + length)
                        + ") extends past the end of the file (" + file.size() + " bytes)", entryAt);
            }
            if (id.equals(BAT)) {
                batOffset = offset;
                batLength = length;
            } else {
                metaOffset = offset;
                metaLength = length;
            }
        }
        if (batOffset < 0 || metaOffset < 0) {
            throw file.corrupt("region table lacks the " + (batOffset < 0 ? "BAT" : "metadata") + " region", tableAt);
        }
        if (VhdDynamicImage.overlaps(batOffset, batLength, metaOffset, metaLength)) {
            throw file.corrupt("BAT and metadata regions overlap", tableAt);
        }
        return new VhdxRegionTable(batOffset, batLength, metaOffset, metaLength);
    }

    byte[] encode() {
        byte[] t = new byte[SIZE];
        ByteBuffer buf = ByteBuffer.wrap(t).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(0, SIGNATURE);
        buf.putInt(8, 2);
        MsGuid.write(buf, 16, BAT);
        buf.putLong(32, batOffset);
        buf.putInt(40, (int) batLength);
        buf.putInt(44, 1);
        MsGuid.write(buf, 48, METADATA);
        buf.putLong(64, metadataOffset);
        buf.putInt(72, (int) metadataLength);
        buf.putInt(76, 1);
        MsGuid.putCrc(t, 0, SIZE, 4);
        return t;
    }
}
