package dev.secondsite.disk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/**
 * A VHDX header ([MS-VHDX] 2.2.2): a 4 KiB little-endian structure stored twice (at 64 KiB and
 * 128 KiB). The valid copy with the larger sequence number is current.
 * <pre>
 *   0 signature "head"   4 checksum (CRC-32C over 4 KiB)   8 sequence number
 *  16 FileWriteGuid     32 DataWriteGuid                  48 LogGuid
 *  64 log version (0)   66 version (1)   68 log length   72 log offset   80 reserved
 * </pre>
 */
record VhdxHeader(long sequenceNumber, UUID fileWriteGuid, UUID dataWriteGuid, UUID logGuid, int logVersion,
                  int version, long logLength, long logOffset) {

    static final int SIZE = 4096;
    static final int SIGNATURE = 0x64616568; // "head"
    static final int CHECKSUM_AT = 4;

    /** Why this 4 KiB is not a valid header, or null if it is one. */
    static String problem(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (buf.getInt(0) != SIGNATURE) {
            return "signature \"head\" missing";
        }
        if (!MsGuid.crcValid(b, 0, SIZE, CHECKSUM_AT)) {
            return "CRC-32C mismatch";
        }
        if ((buf.getShort(66) & 0xFFFF) != 1) {
            return "version " + (buf.getShort(66) & 0xFFFF) + " (need 1)";
        }
        return null;
    }

    static VhdxHeader decode(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        return new VhdxHeader(buf.getLong(8), MsGuid.read(buf, 16), MsGuid.read(buf, 32), MsGuid.read(buf, 48),
                buf.getShort(64) & 0xFFFF, buf.getShort(66) & 0xFFFF, buf.getInt(68) & 0xFFFFFFFFL,
                buf.getLong(72));
    }

    byte[] encode() {
        byte[] b = new byte[SIZE];
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(0, SIGNATURE);
        buf.putLong(8, sequenceNumber);
        MsGuid.write(buf, 16, fileWriteGuid);
        MsGuid.write(buf, 32, dataWriteGuid);
        MsGuid.write(buf, 48, logGuid);
        buf.putShort(64, (short) logVersion);
        buf.putShort(66, (short) version);
        buf.putInt(68, (int) logLength);
        buf.putLong(72, logOffset);
        MsGuid.putCrc(b, 0, SIZE, CHECKSUM_AT);
        return b;
    }

    VhdxHeader next(UUID fileWrite, UUID dataWrite, UUID log) {
        return new VhdxHeader(sequenceNumber + 1, fileWrite, dataWrite, log, logVersion, version, logLength,
                logOffset);
    }
}
