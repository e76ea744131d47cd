package dev.secondsite.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.secondsite.testing.Qemu;

/**
 * The NBD server against real clients: qemu-img and qemu-io (qemu-utils) over loopback, and hand-written
 * protocol bytes for what qemu never sends (out-of-bounds requests, bad magic).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class NbdServerTest {
    static final int MIB = 1 << 20;

    @TempDir
    Path tmp;
    MemoryExport disk;
    MemoryExport readOnly;
    NbdServer server;

    @BeforeEach
    void start() throws IOException {
        Qemu.assumeAvailable();
        disk = new MemoryExport("disk0", 8 * MIB, false);
        new Random(7).nextBytes(disk.bytes);
        readOnly = new MemoryExport("golden", MIB, true);
        Arrays.fill(readOnly.bytes, (byte) 0x11);
        server = NbdServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), List.of(disk, readOnly),
                message -> { });
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    String url(String export) {
        return "nbd://127.0.0.1:" + server.port() + "/" + export;
    }

    @Test
    void qemuSeesTheSizeReadsWhatTheExportHoldsAndItsWritesLandInTheExport() throws IOException {
        assertThat(Qemu.ok("qemu-img", "info", "--output=json", url("disk0"))).contains("\"virtual-size\": " + 8 * MIB);

        Path copy = tmp.resolve("copy.raw");
        Qemu.ok("qemu-img", "convert", "-f", "raw", "-O", "raw", url("disk0"), copy.toString());
        assertThat(Files.readAllBytes(copy)).isEqualTo(disk.bytes);

        Qemu.ok("qemu-io", "-f", "raw", url("disk0"), "-c", "write -P 0x5a 1M 64k", "-c", "read -P 0x5a 1M 64k",
                "-c", "write -P 0x3c 3000 1000", "-c", "flush");
        byte[] expected = Files.readAllBytes(copy);
        Arrays.fill(expected, MIB, MIB + (64 << 10), (byte) 0x5a);
        Arrays.fill(expected, 3000, 4000, (byte) 0x3c);
        assertThat(disk.bytes).isEqualTo(expected);
        assertThat(disk.flushes.get()).as("flushes reached the export").isPositive();
    }

    @Test
    void writeZeroesZeroesTheRangeAndTheEmptyNameIsTheFirstExport() throws IOException {
        byte[] before = disk.bytes.clone();
        Qemu.ok("qemu-io", "-f", "raw", "nbd://127.0.0.1:" + server.port(), "-c", "discard 5M 64k");
        assertThat(disk.bytes).as("a discard (TRIM) is accepted and discards nothing").isEqualTo(before);
        Qemu.ok("qemu-io", "-f", "raw", "nbd://127.0.0.1:" + server.port(), "-c", "write -z 2M 1M");
        for (int i = 2 * MIB; i < 3 * MIB; i++) {
            assertThat(disk.bytes[i]).as("byte %d", i).isZero();
        }
        assertThat(disk.bytes[2 * MIB - 1] | disk.bytes[3 * MIB]).as("random bytes around the range (seeded)").isNotZero();
    }

    @Test
    void anUnknownExportOrAWriteToAReadOnlyExportFailsAndChangesNothing() throws IOException {
        byte[] before = disk.bytes.clone();
        Qemu.Result unknown = Qemu.run("qemu-io", "-f", "raw", url("nope"), "-c", "write -P 1 0 4k");
        assertThat(unknown.exitCode()).as(unknown.output()).isNotZero();
        assertThat(unknown.output()).contains("nope");

        Qemu.Result refused = Qemu.run("qemu-io", "-f", "raw", url("golden"), "-c", "write -P 1 0 4k");
        assertThat(refused.exitCode() != 0 || refused.output().toLowerCase().contains("read-only")
                || refused.output().contains("Permission denied")).as(refused.output()).isTrue();
        assertThat(readOnly.bytes[0]).isEqualTo((byte) 0x11);
        assertThat(Qemu.ok("qemu-io", "-r", "-f", "raw", url("golden"), "-c", "read -P 0x11 0 1M")).doesNotContain("Pattern verification failed");
        assertThat(disk.bytes).isEqualTo(before);
    }

    @Test
    void exportsAreListed() throws IOException {
        Qemu.Result list = Qemu.run("qemu-nbd", "--list", "-b", "127.0.0.1", "-p", String.valueOf(server.port()));
        assertThat(list.exitCode()).as(list.output()).isZero();
        assertThat(list.output()).contains("disk0").contains("golden");
    }

    @Test
    void anOutOfBoundsRequestGetsEinvalAndTheConnectionGoesOnButBadMagicEndsIt() throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            socket.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            assertThat(in.readLong()).isEqualTo(NbdProtocol.NBDMAGIC);
            assertThat(in.readLong()).isEqualTo(NbdProtocol.IHAVEOPT);
            assertThat(in.readUnsignedShort() & NbdProtocol.FLAG_FIXED_NEWSTYLE).isNotZero();
            out.writeInt(NbdProtocol.CLIENT_FIXED_NEWSTYLE | NbdProtocol.CLIENT_NO_ZEROES);
            byte[] name = "disk0".getBytes(StandardCharsets.UTF_8);
            out.writeLong(NbdProtocol.IHAVEOPT);
            out.writeInt(NbdProtocol.OPT_GO);
            out.writeInt(4 + name.length + 2);
            out.writeInt(name.length);
            out.write(name);
            out.writeShort(0);
            out.flush();
            long size = -1;
            while (true) {
                assertThat(in.readLong()).isEqualTo(NbdProtocol.OPTION_REPLY_MAGIC);
                assertThat(in.readInt()).isEqualTo(NbdProtocol.OPT_GO);
                int type = in.readInt();
                byte[] data = new byte[in.readInt()];
                in.readFully(data);
                if (type == NbdProtocol.REP_ACK) {
                    break;
                }
                assertThat(type).isEqualTo(NbdProtocol.REP_INFO);
                if (data[0] == 0 && data[1] == NbdProtocol.INFO_EXPORT) {
                    size = java.nio.ByteBuffer.wrap(data, 2, 8).getLong();
                }
            }
            assertThat(size).isEqualTo(8L * MIB);

            request(out, NbdProtocol.CMD_READ, 1, 8L * MIB - 512, 1024); // passes the end
            assertThat(reply(in, 1)).isEqualTo(NbdProtocol.EINVAL);
            request(out, NbdProtocol.CMD_READ, 2, 100, 16);
            assertThat(reply(in, 2)).isZero();
            byte[] data = new byte[16];
            in.readFully(data);
            assertThat(data).isEqualTo(Arrays.copyOfRange(disk.bytes, 100, 116));

            out.writeInt(0xdeadbeef); // not a request
            out.write(new byte[24]);
            out.flush();
            assertThat(in.read()).as("the server closed the connection").isEqualTo(-1);
        }
        // and still serves others
        Qemu.ok("qemu-io", "-r", "-f", "raw", url("disk0"), "-c", "read 0 4k");
    }

    private static void request(DataOutputStream out, int type, long cookie, long offset, int length) throws IOException {
        out.writeInt(NbdProtocol.REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt(length);
        out.flush();
    }

    private static int reply(DataInputStream in, long cookie) throws IOException {
        assertThat(in.readInt()).isEqualTo(NbdProtocol.SIMPLE_REPLY_MAGIC);
        int error = in.readInt();
        assertThat(in.readLong()).isEqualTo(cookie);
        return error;
    }

    /** An export over a byte array. */
    static final class MemoryExport implements NbdExport {
        final String name;
        final byte[] bytes;
        final boolean readOnly;
        final AtomicInteger flushes = new AtomicInteger();

        MemoryExport(String name, int size, boolean readOnly) {
            this.name = name;
            this.bytes = new byte[size];
            this.readOnly = readOnly;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public long sizeBytes() {
            return bytes.length;
        }

        @Override
        public boolean readOnly() {
            return readOnly;
        }

        @Override
        public synchronized void read(long offset, byte[] dst, int from, int length) {
            System.arraycopy(bytes, (int) offset, dst, from, length);
        }

        @Override
        public synchronized void write(long offset, byte[] src, int from, int length) {
            System.arraycopy(src, from, bytes, (int) offset, length);
        }

        @Override
        public synchronized void writeZeroes(long offset, long length) {
            Arrays.fill(bytes, (int) offset, (int) (offset + length), (byte) 0);
        }

        @Override
        public void flush() {
            flushes.incrementAndGet();
        }
    }
}
