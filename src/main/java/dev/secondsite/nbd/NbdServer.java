package dev.secondsite.nbd;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import static dev.secondsite.nbd.NbdProtocol.*;

/**
 * Serves {@link NbdExport}s over the NBD protocol (fixed newstyle), so qemu ({@code -drive
 * file=nbd://host:port/name}), {@code qemu-io}, {@code qemu-img} or the kernel's {@code nbd-client} can
 * use a disk through us. Handles options GO, INFO, EXPORT_NAME, LIST and ABORT (anything else is
 * answered NBD_REP_ERR_UNSUP: no TLS, no structured replies, no metadata contexts) and the commands
 * READ, WRITE, FLUSH, WRITE_ZEROES, TRIM (a no-op: the protocol lets a server discard nothing) and DISC.
 * The empty export name means the first export.
 *
 * <p>One platform thread per connection, requests handled in order, replies flushed when no further
 * request is already waiting (so pipelined clients get batched replies). Malformed traffic (bad magic,
 * oversized write) ends the connection, as the protocol allows; a request out of the export's bounds
 * gets EINVAL and the connection goes on.
 */
public final class NbdServer implements Closeable {
    /** Most connections served at once; more are closed right after accept. */
    public static final int CONNECTIONS_MAX = 16;

    private final ServerSocket socket;
    private final Map<String, NbdExport> exports;
    private final Consumer<String> log;
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile boolean closed;

    private NbdServer(ServerSocket socket, Map<String, NbdExport> exports, Consumer<String> log) {
        this.socket = socket;
        this.exports = exports;
        this.log = log;
        this.acceptor = Thread.ofPlatform().name("nbd-accept").daemon(true).unstarted(this::acceptLoop);
    }

    /** Listens on {@code address} (port 0: any free port) and serves {@code exports}, by name. */
    public static NbdServer start(InetSocketAddress address, List<? extends NbdExport> exports, Consumer<String> log)
            throws IOException {
        if (exports.isEmpty()) {
            throw new IllegalArgumentException("an NBD server needs at least one export");
        }
        Map<String, NbdExport> byName = new LinkedHashMap<>();
        for (NbdExport export : exports) {
            if (byName.putIfAbsent(export.name(), export) != null) {
                throw new IllegalArgumentException("two NBD exports are named '" + export.name() + "'");
            }
        }
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        try {
            socket.bind(address);
        } catch (IOException e) {
            socket.close();
            throw new IOException("cannot listen for NBD on " + address + ": " + e.getMessage(), e);
        }
        NbdServer server = new NbdServer(socket, byName, log);
        server.acceptor.start();
        return server;
    }

    public int port() {
        return socket.getLocalPort();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** Stops accepting, closes every connection and waits for their threads (no request is mid-way after). */
    @Override
    public void close() throws IOException {
        closed = true;
        socket.close();
        for (Socket connection : List.copyOf(connections)) {
            connection.close();
        }
        try {
            acceptor.join();
            synchronized (this) {
                while (!connections.isEmpty()) {
                    wait(100);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket connection;
            try {
                connection = socket.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.accept("NBD accept failed: " + e.getMessage());
                }
                return;
            }
            if (connections.size() >= CONNECTIONS_MAX || closed) {
                log.accept("NBD: refusing a connection from " + connection.getRemoteSocketAddress() + " (at most "
                        + CONNECTIONS_MAX + " at once)");
                closeQuietly(connection);
                continue;
            }
            connections.add(connection);
            Thread.ofPlatform().name("nbd-" + connection.getPort()).daemon(true).start(() -> serve(connection));
        }
    }

    private void serve(Socket connection) {
        try (connection) {
            connection.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(connection.getInputStream(), 1 << 16));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(connection.getOutputStream(), 1 << 16));
            NbdExport export = handshake(in, out);
            if (export != null) {
                transmission(export, in, out);
            }
        } catch (EOFException | SocketException e) {
            // the client went away (or close() closed the socket): nothing to report
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                log.accept("NBD connection from " + connection.getRemoteSocketAddress() + " ended: " + e);
            }
        } finally {
            connections.remove(connection);
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /** Option haggling; returns the export to serve, or null when the client aborted or asked for none. */
    private NbdExport handshake(DataInputStream in, DataOutputStream out) throws IOException {
        out.writeLong(NBDMAGIC);
        out.writeLong(IHAVEOPT);
        out.writeShort(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
        out.flush();
        int clientFlags = in.readInt();
        boolean noZeroes = (clientFlags & CLIENT_NO_ZEROES) != 0;
        while (true) {
            if (in.readLong() != IHAVEOPT) {
                throw new IOException("option without the IHAVEOPT magic");
            }
            int option = in.readInt();
            int length = in.readInt();
            if (length < 0 || length > OPTION_BYTES_MAX) {
                throw new IOException("option " + option + " of " + Integer.toUnsignedString(length) + " bytes");
            }
            byte[] data = new byte[length];
            in.readFully(data);
            switch (option) {
                case OPT_EXPORT_NAME -> {
                    NbdExport export = find(new String(data, StandardCharsets.UTF_8));
                    if (export == null) {
                        return null; // the protocol's only answer to an unknown name here: close
                    }
                    out.writeLong(export.sizeBytes());
                    out.writeShort(transmissionFlags(export));
                    if (!noZeroes) {
                        out.write(new byte[124]);
                    }
                    out.flush();
                    return export;
                }
                case OPT_GO, OPT_INFO -> {
                    NbdExport export = info(option, data, out);
                    if (export != null && option == OPT_GO) {
                        return export;
                    }
                }
                case OPT_LIST -> {
                    if (length != 0) {
                        reply(out, option, REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                        continue;
                    }
                    for (String name : exports.keySet()) {
                        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
                        out.writeLong(OPTION_REPLY_MAGIC);
                        out.writeInt(option);
                        out.writeInt(REP_SERVER);
                        out.writeInt(4 + bytes.length);
                        out.writeInt(bytes.length);
                        out.write(bytes);
                    }
                    reply(out, option, REP_ACK, null);
                }
                case OPT_ABORT -> {
                    reply(out, option, REP_ACK, null);
                    return null;
                }
                default -> reply(out, option, REP_ERR_UNSUP, "option " + option + " is not supported");
            }
        }
    }

    /** NBD_OPT_GO / NBD_OPT_INFO: the export's information, or an error reply (then null). */
    private NbdExport info(int option, byte[] data, DataOutputStream out) throws IOException {
        if (data.length < 6) {
            reply(out, option, REP_ERR_INVALID, "option data too short");
            return null;
        }
        int nameLength = ((data[0] & 0xff) << 24) | ((data[1] & 0xff) << 16) | ((data[2] & 0xff) << 8) | (data[3] & 0xff);
        if (nameLength < 0 || 4 + (long) nameLength + 2 > data.length) {
            reply(out, option, REP_ERR_INVALID, "export name length " + nameLength + " passes the option's data");
            return null;
        }
        int requests = ((data[4 + nameLength] & 0xff) << 8) | (data[5 + nameLength] & 0xff);
        if (6 + nameLength + 2 * requests != data.length) {
            reply(out, option, REP_ERR_INVALID, "information request count does not match the option's length");
            return null;
        }
        String name = new String(data, 4, nameLength, StandardCharsets.UTF_8);
        NbdExport export = find(name);
        if (export == null) {
            reply(out, option, REP_ERR_UNKNOWN, "no export named '" + name + "' (exports: "
                    + String.join(", ", exports.keySet()) + ")");
            return null;
        }
        out.writeLong(OPTION_REPLY_MAGIC);
        out.writeInt(option);
        out.writeInt(REP_INFO);
        out.writeInt(12);
        out.writeShort(INFO_EXPORT);
        out.writeLong(export.sizeBytes());
        out.writeShort(transmissionFlags(export));
        // Always announced (a minimum of 1 binds no client): the largest request we take.
        out.writeLong(OPTION_REPLY_MAGIC);
        out.writeInt(option);
        out.writeInt(REP_INFO);
        out.writeInt(14);
        out.writeShort(INFO_BLOCK_SIZE);
        out.writeInt(1);
        out.writeInt(PREFERRED_BLOCK_BYTES);
        out.writeInt(REQUEST_BYTES_MAX);
        reply(out, option, REP_ACK, null);
        return export;
    }

    private NbdExport find(String name) {
        return name.isEmpty() ? exports.values().iterator().next() : exports.get(name);
    }

    private static int transmissionFlags(NbdExport export) {
        return TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_SEND_FUA
                | (export.readOnly() ? TFLAG_READ_ONLY : TFLAG_SEND_WRITE_ZEROES | TFLAG_SEND_TRIM);
    }

    private static void reply(DataOutputStream out, int option, int type, String message) throws IOException {
        byte[] bytes = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        out.writeLong(OPTION_REPLY_MAGIC);
        out.writeInt(option);
        out.writeInt(type);
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }

    private void transmission(NbdExport export, DataInputStream in, DataOutputStream out) throws IOException {
        byte[] buffer = new byte[1 << 20];
        while (true) {
            if (in.readInt() != REQUEST_MAGIC) {
                throw new IOException("request without the NBD request magic");
            }
            int flags = in.readUnsignedShort();
            int type = in.readUnsignedShort();
            long cookie = in.readLong();
            long offset = in.readLong();
            long length = Integer.toUnsignedLong(in.readInt());
            boolean inBounds = offset >= 0 && offset + length <= export.sizeBytes();
            int error = 0;
            byte[] payload = null;
            switch (type) {
                case CMD_READ -> {
                    if (!inBounds || length > REQUEST_BYTES_MAX) {
                        error = EINVAL;
                    } else {
                        byte[] into = length <= buffer.length ? buffer : new byte[(int) length];
                        error = run(() -> export.read(offset, into, 0, (int) length));
                        payload = into;
                    }
                }
                case CMD_WRITE -> {
                    if (length > REQUEST_BYTES_MAX) {
                        throw new IOException("write of " + length + " bytes (at most " + REQUEST_BYTES_MAX + ")");
                    }
                    byte[] data = length <= buffer.length ? buffer : new byte[(int) length];
                    in.readFully(data, 0, (int) length);
                    error = export.readOnly() ? EPERM : !inBounds ? EINVAL
                            : run(() -> {
                                export.write(offset, data, 0, (int) length);
                                if ((flags & CMD_FLAG_FUA) != 0) {
                                    export.flush();
                                }
                            });
                }
                case CMD_WRITE_ZEROES -> error = export.readOnly() ? EPERM : !inBounds ? EINVAL
                        : run(() -> {
                            export.writeZeroes(offset, length);
                            if ((flags & CMD_FLAG_FUA) != 0) {
                                export.flush();
                            }
                        });
                case CMD_FLUSH -> error = run(export::flush);
                case CMD_TRIM -> error = inBounds ? 0 : EINVAL;
                case CMD_DISC -> {
                    run(export::flush);
                    out.flush();
                    return;
                }
                default -> error = EINVAL;
            }
            out.writeInt(SIMPLE_REPLY_MAGIC);
            out.writeInt(error);
            out.writeLong(cookie);
            if (type == CMD_READ && error == 0) {
                out.write(payload, 0, (int) length);
            }
            if (in.available() == 0) {
                out.flush();
            }
        }
    }

    @FunctionalInterface
    private interface Io {
        void run() throws IOException;
    }

    /** Runs one export call; its failure becomes the request's error (the connection goes on). */
    private int run(Io call) {
        try {
            call.run();
            return 0;
        } catch (IOException e) {
            log.accept("NBD request failed: " + e.getMessage());
            return e.getMessage() != null && e.getMessage().contains("No space left") ? ENOSPC : EIO;
        } catch (IllegalArgumentException | IllegalStateException e) {
            log.accept("NBD request refused: " + e.getMessage());
            return EINVAL;
        }
    }

    private static void closeQuietly(Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException ignored) {
            // closing a refused connection
        }
    }

    /** For log messages. */
    @Override
    public String toString() {
        List<String> names = new ArrayList<>(exports.keySet());
        return "NBD server on " + address() + " exporting " + names;
    }
}
