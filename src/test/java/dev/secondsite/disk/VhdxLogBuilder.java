package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.UUID;

/** Writes VHDX log entries by hand, per [MS-VHDX] 2.3, for replay tests. */
final class VhdxLogBuilder {

    private VhdxLogBuilder() {
    }

    /** A data descriptor (one 4 KiB sector) or a zero descriptor. */
    record Desc(long fileOffset, byte[] sector, long zeroLength) {
        static Desc data(long fileOffset, byte[] sector4k) {
            return new Desc(fileOffset, sector4k, 0);
        }

        static Desc zero(long fileOffset, long length) {
            return new Desc(fileOffset, null, length);
        }
    }

    static byte[] entry(long seq, long tail, UUID logGuid, long flushedFileOffset, long lastFileOffset,
                        List<Desc> descs) {
        int descSectors = (64 + 32 * descs.size() + 4095) / 4096;
        int dataSectors = (int) descs.stream().filter(d -> d.sector() != null).count();
        byte[] e = new byte[(descSectors + dataSectors) * 4096];
        ByteBuffer b = ByteBuffer.wrap(e).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, VhdxLog.ENTRY_SIGNATURE);
        b.putInt(8, e.length);
        b.putInt(12, (int) tail);
        b.putLong(16, seq);
        b.putInt(24, descs.size());
        MsGuid.write(b, 32, logGuid);
        b.putLong(48, flushedFileOffset);
        b.putLong(56, lastFileOffset);
        int data = 0;
        for (int i = 0; i < descs.size(); i++) {
            Desc d = descs.get(i);
            int at = 64 + 32 * i;
            if (d.sector() == null) {
                b.putInt(at, VhdxLog.ZERO_DESCRIPTOR);
                b.putLong(at + 8, d.zeroLength());
            } else {
                ByteBuffer s = ByteBuffer.wrap(d.sector()).order(ByteOrder.LITTLE_ENDIAN);
                b.putInt(at, VhdxLog.DATA_DESCRIPTOR);
                b.putInt(at + 4, s.getInt(4092));
                b.putLong(at + 8, s.getLong(0));
                int ds = (descSectors + data++) * 4096;
                b.putInt(ds, VhdxLog.DATA_SECTOR);
                b.putInt(ds + 4, (int) (seq >>> 32));
                System.arraycopy(d.sector(), 8, e, ds + 8, 4084);
                b.putInt(ds + 4092, (int) seq);
            }
            b.putLong(at + 16, d.fileOffset());
            b.putLong(at + 24, seq);
        }
        MsGuid.putCrc(e, 0, e.length, 4);
        return e;
    }

    /** Writes an entry at a log position, wrapping at the end of the log. */
    static void writeEntry(Path vhdx, long logOffset, long logLength, long position, byte[] entry) throws IOException {
        try (FileChannel ch = FileChannel.open(vhdx, StandardOpenOption.WRITE)) {
            for (int s = 0; s < entry.length; s += 4096) {
                ch.write(ByteBuffer.wrap(entry, s, 4096), logOffset + (position + s) % logLength);
            }
        }
    }

    /** Makes the header current with the given LogGuid (written into the non-current slot). */
    static VhdxHeader setLogGuid(Path vhdx, UUID logGuid) throws IOException {
        try (FileChannel ch = FileChannel.open(vhdx, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            byte[] h1 = new byte[4096];
            byte[] h2 = new byte[4096];
            ch.read(ByteBuffer.wrap(h1), VhdxImage.HEADER1_AT);
            ch.read(ByteBuffer.wrap(h2), VhdxImage.HEADER2_AT);
            VhdxHeader a = VhdxHeader.problem(h1) == null ? VhdxHeader.decode(h1) : null;
            VhdxHeader c = VhdxHeader.problem(h2) == null ? VhdxHeader.decode(h2) : null;
            boolean firstCurrent = c == null || (a != null && a.sequenceNumber() > c.sequenceNumber());
            VhdxHeader cur = firstCurrent ? a : c;
            VhdxHeader next = cur.next(cur.fileWriteGuid(), cur.dataWriteGuid(), logGuid);
            ch.write(ByteBuffer.wrap(next.encode()), firstCurrent ? VhdxImage.HEADER2_AT : VhdxImage.HEADER1_AT);
            return next;
        }
    }

    static byte[] sector(int fill) {
        byte[] s = new byte[4096];
        for (int i = 0; i < s.length; i++) {
            s[i] = (byte) (fill + i * 7);
        }
        return s;
    }
}
