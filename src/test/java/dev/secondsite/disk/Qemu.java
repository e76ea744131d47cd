package dev.secondsite.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/** qemu-img and qemu-io (Debian qemu-utils) as a test oracle. Never used by main code. */
final class Qemu {

    private static final long TIMEOUT_SECONDS = 30;
    private static Boolean available;

    private Qemu() {
    }

    record Result(int exitCode, String output) {
    }

    static synchronized boolean available() {
        if (available == null) {
            try {
                available = run(List.of("qemu-img", "--version")).exitCode() == 0
                        && run(List.of("qemu-io", "--version")).exitCode() == 0;
            } catch (IOException e) {
                available = false;
            }
        }
        return available;
    }

    static void assumeAvailable() {
        Assumptions.assumeTrue(available(),
                "qemu-img/qemu-io not installed (apt-get install qemu-utils): skipping qemu oracle test");
    }

    static Result run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + command);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + command, e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.exitValue(), out);
    }

    static String ok(String... command) throws IOException {
        Result r = run(List.of(command));
        assertThat(r.exitCode()).as("%s\n%s", String.join(" ", command), r.output()).isZero();
        return r.output();
    }

    static String qemuFormat(DiskFormat f) {
        return switch (f) {
            case RAW -> "raw";
            case VHD_FIXED, VHD_DYNAMIC -> "vpc";
            case VHDX -> "vhdx";
        };
    }

    /** qemu-img create with -o options (may be empty). */
    static void create(Path file, String format, String options, long size) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", format));
        if (!options.isEmpty()) {
            cmd.add("-o");
            cmd.add(options);
        }
        cmd.add(file.toString());
        cmd.add(Long.toString(size));
        ok(cmd.toArray(String[]::new));
    }

    /** qemu-io -c for each command, e.g. "write -P 0x5a 1M 64k". */
    static void io(Path file, String format, String... commands) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", format));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(file.toString());
        String out = ok(cmd.toArray(String[]::new));
        assertThat(out).as("qemu-io %s", List.of(commands)).doesNotContain("failed");
    }

    /** The disk's bytes as qemu reads them. */
    static byte[] toRaw(Path image, String format, Path scratch) throws IOException {
        Path out = scratch.resolve("qemu-raw-" + System.nanoTime() + ".raw");
        ok("qemu-img", "convert", "-f", format, "-O", "raw", image.toString(), out.toString());
        try {
            return Files.readAllBytes(out);
        } finally {
            Files.delete(out);
        }
    }

    /**
     * qemu-img check must be clean. qemu has no checker for vpc and raw, so those only have to open
     * in qemu, and VHDs also pass {@link #checkVhdLayout}.
     */
    static void checkClean(Path image, String format) throws IOException {
        Result r = run(List.of("qemu-img", "check", "-f", format, image.toString()));
        if (format.equals("vpc") || format.equals("raw")) {
            if (format.equals("vpc")) {
                checkVhdLayout(image);
            }
            assertThat(r.output()).as("qemu-img check %s", image).contains("does not support checks");
            ok("qemu-img", "info", "-f", format, image.toString());
            return;
        }
        assertThat(r.exitCode()).as("qemu-img check %s:\n%s", image, r.output()).isZero();
        assertThat(r.output()).contains("No errors were found");
    }

    /**
     * What qemu cannot check for VHD: the footer at the end is valid, a dynamic disk's copy at 0 is
     * identical, and blocks are packed with nothing between the last block and the footer.
     */
    static void checkVhdLayout(Path image) throws IOException {
        byte[] file = Files.readAllBytes(image);
        byte[] tail = java.util.Arrays.copyOfRange(file, file.length - 512, file.length);
        assertThat(VhdFooter.problem(tail)).as("trailing footer of %s", image).isNull();
        VhdFooter footer = VhdFooter.decode(tail);
        if (footer.diskType() != VhdFooter.TYPE_DYNAMIC) {
            assertThat((long) file.length).isEqualTo(footer.currentSize() + 512);
            return;
        }
        assertThat(java.util.Arrays.copyOf(file, 512)).as("footer copy at 0").isEqualTo(tail);
        byte[] hb = java.util.Arrays.copyOfRange(file, (int) footer.dataOffset(), (int) footer.dataOffset() + 1024);
        assertThat(VhdDynamicHeader.problem(hb)).isNull();
        VhdDynamicHeader h = VhdDynamicHeader.decode(hb);
        var bat = java.nio.ByteBuffer.wrap(file, (int) h.tableOffset(), (int) h.maxTableEntries() * 4);
        long bitmap = ((h.blockSize() / 512 + 7) / 8 + 511) / 512 * 512;
        long end = (h.tableOffset() + h.maxTableEntries() * 4 + 511) / 512 * 512;
        for (int i = 0; i < h.maxTableEntries(); i++) {
            int e = bat.getInt();
            if (e != -1) {
                end = Math.max(end, (e & 0xFFFFFFFFL) * 512 + bitmap + h.blockSize());
            }
        }
        assertThat((long) file.length).as("file ends right after the last block").isEqualTo(end + 512);
    }

    /** qemu-img compare must report identical contents. */
    static void assertIdentical(Path a, String fa, Path b, String fb) throws IOException {
        Result r = run(List.of("qemu-img", "compare", "-f", fa, "-F", fb, a.toString(), b.toString()));
        assertThat(r.exitCode()).as("qemu-img compare %s %s:\n%s", a, b, r.output()).isZero();
        assertThat(r.output()).contains("Images are identical");
    }

    static long virtualSize(Path image, String format) throws IOException {
        String json = ok("qemu-img", "info", "--output=json", "-f", format, image.toString());
        var m = java.util.regex.Pattern.compile("\"virtual-size\":\\s*(\\d+)").matcher(json);
        assertThat(m.find()).as(json).isTrue();
        return Long.parseLong(m.group(1));
    }
}
