package dev.secondsite.bench.e2e;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A small NBD client (https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md): fixed newstyle
 * handshake, {@code NBD_OPT_GO} (falling back to {@code NBD_OPT_EXPORT_NAME} when the server answers
 * {@code NBD_REP_ERR_UNSUP}), then simple replies only (no structured replies are negotiated).
 *
 * <p>Writes are pipelined: up to {@link #maxInFlight} requests are sent before the client waits for a reply;
 * replies may come in any order and are matched by cookie. An error reply to a write surfaces as an
 * {@link IOException} from the call that reads it (a later {@code pwrite}, or {@code flush}/{@code drain}).
 * Reads wait for every earlier request first, so a read reply never competes with write requests for the socket.
 * Not thread-safe beyond the {@code synchronized} methods: one writer at a time.
 */
final class NbdClient implements AutoCloseable {
    // Handshake
    static final long NBDMAGIC = 0x4e42444d41474943L; // "NBDMAGIC"
    static final long IHAVEOPT = 0x49484156454F5054L; // "IHAVEOPT"
    static final long REPLY_MAGIC = 0x3e889045565a9L;
    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 2;
    static final int CLIENT_FLAG_FIXED_NEWSTYLE = 1;
    static final int CLIENT_FLAG_NO_ZEROES = 2;
    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_GO = 7;
    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_FLAG_ERROR = 1 << 31;
    static final int INFO_EXPORT = 0;

    // Transmission
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;
    static final short CMD_READ = 0;
    static final short CMD_WRITE = 1;
    static final short CMD_DISC = 2;
    static final short CMD_FLUSH = 3;
    static final short CMD_TRIM = 4;
    static final short CMD_WRITE_ZEROES = 6;
    static final int CMD_FLAG_FUA = 1;
    static final int TFLAG_HAS_FLAGS = 1;
    static final int TFLAG_READ_ONLY = 1 << 1;
    static final int TFLAG_SEND_FLUSH = 1 << 2;
    static final int TFLAG_SEND_FUA = 1 << 3;
    static final int TFLAG_SEND_TRIM = 1 << 5;
    static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;

    /** Largest request payload this client sends in one command (32 MiB, the usual server maximum). */
    static final int MAX_PAYLOAD = 32 << 20;

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final String export;
    private final long size;
    private final int transmissionFlags;
    private final int maxInFlight;
    /** Cookie -> what the request was (for error messages) of every request sent and not yet answered. */
    private final Map<Long, String> inFlight = new HashMap<>();
    private long nextCookie = 1;
    private boolean closed;

    private NbdClient(Socket socket, DataInputStream in, DataOutputStream out, String export, long size,
                      int transmissionFlags, int maxInFlight) {
        this.socket = socket;
        this.in = in;
        this.out = out;
        this.export = export;
        this.size = size;
        this.transmissionFlags = transmissionFlags;
        this.maxInFlight = maxInFlight;
    }

    /** Connects to {@code host:port} and opens export {@code name}; up to {@code maxInFlight} (>= 1) requests in flight. */
    static NbdClient connect(String host, int port, String name, int maxInFlight) throws IOException {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be >= 1");
        }
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(120_000); // a stuck server fails the run instead of hanging it
            socket.connect(new InetSocketAddress(host, port), 10_000);
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 << 10));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 128 << 10));
            long[] negotiated = handshake(in, out, name);
            return new NbdClient(socket, in, out, name, negotiated[0], (int) negotiated[1], maxInFlight);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Returns {size, transmission flags}. */
    private static long[] handshake(DataInputStream in, DataOutputStream out, String name) throws IOException {
        long magic = in.readLong();
        if (magic != NBDMAGIC) {
            throw new IOException(String.format(Locale.ROOT, "not an NBD server: magic 0x%016x", magic));
        }
        long style = in.readLong();
        if (style != IHAVEOPT) {
            throw new IOException(String.format(Locale.ROOT,
                    "NBD server does not speak newstyle negotiation (0x%016x; oldstyle is not supported)", style));
        }
        int handshakeFlags = in.readUnsignedShort();
        if ((handshakeFlags & FLAG_FIXED_NEWSTYLE) == 0) {
            throw new IOException("NBD server does not offer fixed newstyle negotiation (flags " + handshakeFlags + ")");
        }
        boolean noZeroes = (handshakeFlags & FLAG_NO_ZEROES) != 0;
        out.writeInt(CLIENT_FLAG_FIXED_NEWSTYLE | (noZeroes ? CLIENT_FLAG_NO_ZEROES : 0));

        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        // NBD_OPT_GO: name length, name, number of information requests (none: NBD_INFO_EXPORT always comes).
        ByteBuffer go = ByteBuffer.allocate(4 + nameBytes.length + 2);
        go.putInt(nameBytes.length).put(nameBytes).putShort((short) 0);
        sendOption(out, OPT_GO, go.array());
        long size = -1;
        int flags = -1;
        while (true) {
            long replyMagic = in.readLong();
            if (replyMagic != REPLY_MAGIC) {
                throw new IOException(String.format(Locale.ROOT, "bad NBD option reply magic 0x%016x", replyMagic));
            }
            int option = in.readInt();
            int type = in.readInt();
            int length = in.readInt();
            if (option != OPT_GO) {
                throw new IOException("NBD option reply for option " + option + ", expected NBD_OPT_GO");
            }
            if (length < 0 || length > (1 << 20)) {
                throw new IOException("NBD option reply of " + Integer.toUnsignedString(length) + " bytes");
            }
            byte[] data = new byte[length];
            in.readFully(data);
            if ((type & REP_FLAG_ERROR) != 0) {
                if (type == (REP_FLAG_ERROR | 1) && size < 0) {
                    // NBD_REP_ERR_UNSUP: a server without NBD_OPT_GO; NBD_OPT_EXPORT_NAME is the fallback.
                    return exportName(in, out, nameBytes, noZeroes);
                }
                abortQuietly(out);
                throw new IOException("NBD_OPT_GO for export '" + name + "' refused: " + replyName(type)
                        + (data.length == 0 ? "" : " (" + new String(data, StandardCharsets.UTF_8) + ")"));
            }
            switch (type) {
                case REP_INFO -> {
                    if (length < 2) {
                        throw new IOException("NBD_REP_INFO of " + length + " bytes");
                    }
                    ByteBuffer info = ByteBuffer.wrap(data);
                    int infoType = info.getShort() & 0xffff;
                    if (infoType == INFO_EXPORT) {
                        if (length != 12) {
                            throw new IOException("NBD_INFO_EXPORT of " + length + " bytes, expected 12");
                        }
                        size = info.getLong();
                        flags = info.getShort() & 0xffff;
                    }
                    // Other information (name, description, block size) is not needed here.
                }
                case REP_ACK -> {
                    if (size < 0) {
                        throw new IOException("NBD server acknowledged NBD_OPT_GO without NBD_INFO_EXPORT");
                    }
                    return new long[] {size, flags};
                }
                default -> throw new IOException("unexpected NBD option reply " + replyName(type) + " to NBD_OPT_GO");
            }
        }
    }

    /** NBD_OPT_EXPORT_NAME: no reply header; size, flags and (unless NO_ZEROES) 124 zero bytes, or a closed socket. */
    private static long[] exportName(DataInputStream in, DataOutputStream out, byte[] name, boolean noZeroes)
            throws IOException {
        sendOption(out, OPT_EXPORT_NAME, name);
        try {
            long size = in.readLong();
            int flags = in.readUnsignedShort();
            if (!noZeroes) {
                in.readFully(new byte[124]);
            }
            return new long[] {size, flags};
        } catch (EOFException e) {
            throw new IOException("NBD server closed the connection on NBD_OPT_EXPORT_NAME '"
                    + new String(name, StandardCharsets.UTF_8) + "' (no such export?)", e);
        }
    }

    private static void sendOption(DataOutputStream out, int option, byte[] data) throws IOException {
        out.writeLong(IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    private static void abortQuietly(DataOutputStream out) {
        try {
            sendOption(out, OPT_ABORT, new byte[0]); // the server's reply to ABORT is optional; not read
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    static String replyName(int type) {
        return switch (type) {
            case REP_ACK -> "NBD_REP_ACK";
            case REP_SERVER -> "NBD_REP_SERVER";
            case REP_INFO -> "NBD_REP_INFO";
            case REP_FLAG_ERROR | 1 -> "NBD_REP_ERR_UNSUP";
            case REP_FLAG_ERROR | 2 -> "NBD_REP_ERR_POLICY";
            case REP_FLAG_ERROR | 3 -> "NBD_REP_ERR_INVALID";
            case REP_FLAG_ERROR | 4 -> "NBD_REP_ERR_PLATFORM";
            case REP_FLAG_ERROR | 5 -> "NBD_REP_ERR_TLS_REQD";
            case REP_FLAG_ERROR | 6 -> "NBD_REP_ERR_UNKNOWN";
            case REP_FLAG_ERROR | 7 -> "NBD_REP_ERR_SHUTDOWN";
            case REP_FLAG_ERROR | 8 -> "NBD_REP_ERR_BLOCK_SIZE_REQD";
            case REP_FLAG_ERROR | 9 -> "NBD_REP_ERR_TOO_BIG";
            default -> String.format(Locale.ROOT, "reply type 0x%08x", type);
        };
    }

    static String errnoName(int error) {
        return switch (error) {
            case 1 -> "EPERM";
            case 5 -> "EIO";
            case 12 -> "ENOMEM";
            case 22 -> "EINVAL";
            case 28 -> "ENOSPC";
            case 75 -> "EOVERFLOW";
            case 95 -> "ENOTSUP";
            case 108 -> "ESHUTDOWN";
            default -> "errno " + Integer.toUnsignedString(error);
        };
    }

    // ---------------------------------------------------------------------------------------------

    /** The export's size in bytes. */
    long size() {
        return size;
    }

    int transmissionFlags() {
        return transmissionFlags;
    }

    String export() {
        return export;
    }

    /** Writes {@code data} (its remaining bytes) at {@code offset}; the buffer is consumed. */
    synchronized void pwrite(long offset, ByteBuffer data) throws IOException {
        checkRange(offset, data.remaining());
        if ((transmissionFlags & TFLAG_READ_ONLY) != 0) {
            throw new IOException("NBD export '" + export + "' is read-only");
        }
        while (data.hasRemaining()) {
            int length = Math.min(data.remaining(), MAX_PAYLOAD);
            sendHeader(0, CMD_WRITE, offset, length, "WRITE " + offset + "+" + length);
            if (data.hasArray()) {
                out.write(data.array(), data.arrayOffset() + data.position(), length);
                data.position(data.position() + length);
            } else {
                byte[] copy = new byte[length];
                data.get(copy);
                out.write(copy);
            }
            sent();
            offset += length;
        }
    }

    void pwrite(long offset, byte[] data) throws IOException {
        pwrite(offset, ByteBuffer.wrap(data));
    }

    /** Reads {@code length} bytes at {@code offset}, after every earlier request has been answered. */
    synchronized byte[] pread(long offset, int length) throws IOException {
        checkRange(offset, length);
        if (length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("read of " + length + " bytes: at most " + MAX_PAYLOAD);
        }
        drain();
        long cookie = sendHeader(0, CMD_READ, offset, length, "READ " + offset + "+" + length);
        out.flush();
        byte[] data = new byte[length];
        readReply(cookie, data);
        return data;
    }

    /**
     * NBD_CMD_FLUSH after every earlier request has been answered: when it returns, every write so far is
     * durable on the server. Throws if the server does not offer flush (NBD_FLAG_SEND_FLUSH).
     */
    synchronized void flush() throws IOException {
        if ((transmissionFlags & TFLAG_SEND_FLUSH) == 0) {
            throw new IOException("NBD export '" + export + "' does not support FLUSH (no NBD_FLAG_SEND_FLUSH)");
        }
        drain();
        long cookie = sendHeader(0, CMD_FLUSH, 0, 0, "FLUSH");
        out.flush();
        readReply(cookie, null);
    }

    /** Waits for the replies to every request sent so far (writes acknowledged by the server, not necessarily durable). */
    synchronized void drain() throws IOException {
        ensureOpen();
        out.flush();
        while (!inFlight.isEmpty()) {
            readReply(-1, null);
        }
    }

    /** Waits for outstanding replies, sends NBD_CMD_DISC and closes the socket (the socket is closed in any case). */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            drain();
            sendHeader(0, CMD_DISC, 0, 0, "DISC"); // no reply
            out.flush();
        } finally {
            closed = true;
            socket.close();
        }
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > size) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside the export ("
                    + size + " bytes)");
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("NBD client closed");
        }
    }

    private long sendHeader(int flags, short type, long offset, int length, String what) throws IOException {
        ensureOpen();
        long cookie = nextCookie++;
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt(length);
        if (type != CMD_DISC) {
            inFlight.put(cookie, what);
        }
        return cookie;
    }

    /** After a request went into the buffer: sends it and, with the window full, waits for one reply. */
    private void sent() throws IOException {
        out.flush();
        while (inFlight.size() >= maxInFlight) {
            readReply(-1, null);
        }
    }

    /**
     * Reads one simple reply. {@code expected} >= 0: it must be that request's (callers drain first), with
     * {@code readData} receiving a READ's payload; -1: any in-flight request's (no payload).
     */
    private void readReply(long expected, byte[] readData) throws IOException {
        int magic = in.readInt();
        if (magic == STRUCTURED_REPLY_MAGIC) {
            throw new IOException("NBD server sent a structured reply, which was not negotiated");
        }
        if (magic != SIMPLE_REPLY_MAGIC) {
            throw new IOException(String.format(Locale.ROOT, "bad NBD reply magic 0x%08x", magic));
        }
        int error = in.readInt();
        long cookie = in.readLong();
        String what = inFlight.remove(cookie);
        if (what == null) {
            throw new IOException("NBD reply for unknown cookie " + cookie);
        }
        if (expected >= 0 && cookie != expected) {
            throw new IOException("NBD reply for cookie " + cookie + " (" + what + "), expected " + expected);
        }
        if (error != 0) {
            // A failed READ carries no payload in a simple reply.
            throw new IOException("NBD " + what + " on export '" + export + "' failed: " + errnoName(error));
        }
        if (readData != null) {
            in.readFully(readData);
        }
    }
}
