package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The VHDX metadata log ([MS-VHDX] 2.3): a circular buffer of 4 KiB sectors holding entries. An entry
 * is a 64-byte header ("loge", CRC-32C over the whole entry, length, tail, sequence number, descriptor
 * count, LogGuid, FlushedFileOffset, LastFileOffset), 32-byte descriptors packed after it ("desc":
 * one 4 KiB sector of data, "zero": a zero-filled range), then one "data" sector per data descriptor
 * (4084 payload bytes framed by the sequence number; the sector's first 8 and last 4 bytes live in the
 * descriptor).
 *
 * <p>Replay finds the active sequence: a run of valid entries, each following the previous in the
 * buffer with the next sequence number, whose newest (head) entry's Tail names an entry of the run.
 * Of all such runs the one with the largest head sequence number wins, and its entries from the tail
 * to the head are applied in order. A valid entry matches the header's LogGuid, has a correct
 * checksum, well-formed descriptors and data sectors carrying its sequence number.
 *
 * <p>Every loop is bounded by the log length: the scan advances at least one sector per step and a
 * run never spans more than the whole buffer.
 */
final class VhdxLog {

    static final int SECTOR = 4096;
    static final int ENTRY_SIGNATURE = 0x65676F6C; // "loge"
    static final int DATA_DESCRIPTOR = 0x63736564; // "desc"
    static final int ZERO_DESCRIPTOR = 0x6F72657A; // "zero"
    static final int DATA_SECTOR = 0x61746164; // "data"
    static final int HEADER_BYTES = 64;
    static final int DESCRIPTOR_BYTES = 32;
    /** Largest file a log may describe (LastFileOffset); well past a 64 TiB disk plus metadata. */
    static final long FILE_SIZE_MAX = 1L << 48;

    /** One validated entry: where it starts in the log and what its header says. */
    record Entry(long position, long sequence, long length, long tail, int descriptors, long flushedFileOffset,
                 long lastFileOffset) {
    }

    /** One write the log asks for: 4 KiB of data, or (data == null) length zero bytes. */
    record Write(long fileOffset, long length, byte[] data) {
    }

    private final ImageFile file;
    private final long logOffset;
    private final long logLength;
    private final UUID logGuid;
    private final byte[] sector = new byte[SECTOR];

    VhdxLog(ImageFile file, long logOffset, long logLength, UUID logGuid) {
        this.file = file;
        this.logOffset = logOffset;
        this.logLength = logLength;
        this.logGuid = logGuid;
    }

    /** The entries to replay, oldest first; empty when the log holds no active sequence. */
    List<Entry> activeSequence() throws IOException {
        List<Entry> best = List.of();
        long pos = 0;
        while (pos < logLength) {
            Entry first = entryAt(pos);
            if (first == null) {
                pos += SECTOR;
                continue;
            }
            List<Entry> run = new ArrayList<>();
            run.add(first);
            long consumed = first.length();
            while (consumed < logLength) {
                Entry next = entryAt((pos + consumed) % logLength);
                if (next == null || next.sequence() != run.getLast().sequence() + 1
                        || consumed + next.length() > logLength) {
                    break;
                }
                run.add(next);
                consumed += next.length();
            }
            Entry head = run.getLast();
            for (int i = 0; i < run.size(); i++) {
                if (run.get(i).position() == head.tail()) {
                    if (best.isEmpty() || head.sequence() > best.getLast().sequence()) {
                        best = List.copyOf(run.subList(i, run.size()));
                    }
                    break;
                }
            }
            pos += consumed;
        }
        return best;
    }

    /** The writes of the given entries, in order. Caller bounds the total data (see VhdxImage). */
    List<Write> writes(List<Entry> entries, long overlayBytesMax) throws IOException {
        List<Write> writes = new ArrayList<>();
        long dataBytes = 0;
        for (Entry e : entries) {
            long descSectors = descriptorSectors(e.descriptors());
            int dataIndex = 0;
            for (int d = 0; d < e.descriptors(); d++) {
                ByteBuffer desc = readLog(e.position() + HEADER_BYTES + (long) DESCRIPTOR_BYTES * d, DESCRIPTOR_BYTES);
                if (desc.getInt(0) == ZERO_DESCRIPTOR) {
                    writes.add(new Write(desc.getLong(16), desc.getLong(8), null));
                    continue;
                }
                dataBytes += SECTOR;
                if (dataBytes > overlayBytesMax) {
                    throw file.corrupt("log holds more than " + overlayBytesMax
                            + " bytes of data to replay; open the image writable to replay it",
                            logOffset + e.position());
                }
                ByteBuffer data = readLog(e.position() + (descSectors + dataIndex++) * SECTOR, SECTOR);
                byte[] b = new byte[SECTOR];
                ByteBuffer out = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                out.putLong(0, desc.getLong(8));
                data.get(8, b, 8, SECTOR - 12);
                out.putInt(SECTOR - 4, desc.getInt(4));
                writes.add(new Write(desc.getLong(16), SECTOR, b));
            }
        }
        return writes;
    }

    static long descriptorSectors(long descriptors) {
        return (HEADER_BYTES + DESCRIPTOR_BYTES * descriptors + SECTOR - 1) / SECTOR;
    }

    /** Reads len bytes (within one sector) at a log position, wrapping at the end of the buffer. */
    private ByteBuffer readLog(long position, int len) throws IOException {
        return file.read(logOffset + position % logLength, len, "log");
    }

    /** The valid entry starting at a sector of the log, or null. */
    Entry entryAt(long pos) throws IOException {
        byte[] s = sector;
        file.readInto(logOffset + pos, ByteBuffer.wrap(s), "log entry");
        ByteBuffer h = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN);
        if (h.getInt(0) != ENTRY_SIGNATURE) {
            return null;
        }
        int storedCrc = h.getInt(4);
        long length = h.getInt(8) & 0xFFFFFFFFL;
        long tail = h.getInt(12) & 0xFFFFFFFFL;
        long sequence = h.getLong(16);
        long descriptors = h.getInt(24) & 0xFFFFFFFFL;
        UUID guid = MsGuid.read(h, 32);
        long flushed = h.getLong(48);
        long last = h.getLong(56);
        if (length == 0 || length % SECTOR != 0 || length > logLength || tail % SECTOR != 0 || tail >= logLength
                || sequence == 0 || !guid.equals(logGuid) || flushed < 0 || last < 0 || last > FILE_SIZE_MAX) {
            return null;
        }
        long sectors = length / SECTOR;
        long descSectors = descriptorSectors(descriptors);
        if (descSectors > sectors) {
            return null;
        }
        CRC32C crc = new CRC32C();
        h.putInt(4, 0);
        long dataDescriptors = 0;
        for (long i = 0; i < sectors; i++) {
            if (i > 0) {
                file.readInto(logOffset + (pos + i * SECTOR) % logLength, ByteBuffer.wrap(s), "log entry");
            }
            ByteBuffer b = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN);
            if (i < descSectors) {
                int from = i == 0 ? HEADER_BYTES : 0;
                for (int at = from; at + DESCRIPTOR_BYTES <= SECTOR; at += DESCRIPTOR_BYTES) {
                    long index = (i * SECTOR + at - HEADER_BYTES) / DESCRIPTOR_BYTES;
                    if (index >= descriptors) {
                        break;
                    }
                    int sig = b.getInt(at);
                    long fileOffset = b.getLong(at + 16);
                    if (b.getLong(at + 24) != sequence || fileOffset < 0 || fileOffset % SECTOR != 0) {
                        return null;
                    }
                    if (sig == DATA_DESCRIPTOR) {
                        dataDescriptors++;
                        if (fileOffset > FILE_SIZE_MAX - SECTOR) {
                            return null;
                        }
                    } else if (sig == ZERO_DESCRIPTOR) {
                        long zeroLength = b.getLong(at + 8);
                        if (zeroLength < 0 || zeroLength % SECTOR != 0 || zeroLength > FILE_SIZE_MAX
                                || fileOffset > FILE_SIZE_MAX - zeroLength) {
                            return null;
                        }
                    } else {
                        return null;
                    }
                }
                if (descSectors + dataDescriptors > sectors) {
                    return null;
                }
            } else if (i < descSectors + dataDescriptors) {
                long seqHigh = b.getInt(4) & 0xFFFFFFFFL;
                long seqLow = b.getInt(SECTOR - 4) & 0xFFFFFFFFL;
                if (b.getInt(0) != DATA_SECTOR || ((seqHigh << 32) | seqLow) != sequence) {
                    return null;
                }
            }
            crc.update(s, 0, SECTOR);
        }
        if ((int) crc.getValue() != storedCrc) {
            return null;
        }
        return new Entry(pos, sequence, length, tail, (int) Math.min(descriptors, Integer.MAX_VALUE), flushed, last);
    }
}
