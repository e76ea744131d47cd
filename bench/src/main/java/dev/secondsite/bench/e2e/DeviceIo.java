package dev.secondsite.bench.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * Bytes read from and written to the block device that holds a directory, from {@code /proc/diskstats} (sectors,
 * 512 bytes each, whatever the device's own sector size). By default the image, cache storage and the recovery
 * store share that device, so the bytes it wrote during a churn window, divided by the bytes the churn wrote, is the
 * write amplification of the whole pipeline: 1 for the image itself, plus whatever cache and store add. With
 * {@code --image-dir} on another device it is the recovery site's part alone. {@link ColdRestore} reports the bytes
 * a restore read.
 */
final class DeviceIo {
    private static final long SECTOR_BYTES = 512;

    private final int major;
    private final int minor;

    private DeviceIo(int major, int minor) {
        this.major = major;
        this.minor = minor;
    }

    /** The meter for the device of {@code dir}, or null where there is no /proc/diskstats line for it. */
    static DeviceIo of(Path dir) {
        try {
            long dev = (Long) Files.getAttribute(dir, "unix:dev");
            // glibc's gnu_dev_major / gnu_dev_minor
            int major = (int) (((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL));
            int minor = (int) ((dev & 0xff) | ((dev >>> 12) & ~0xffL));
            DeviceIo meter = new DeviceIo(major, minor);
            return meter.writtenBytes().isPresent() ? meter : null;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
    }

    /** Bytes written to the device since boot, if its line is found. */
    OptionalLong writtenBytes() {
        return sectors(9);
    }

    /** Bytes read from the device since boot, if its line is found. */
    OptionalLong readBytes() {
        return sectors(5);
    }

    /** Field {@code field} (sectors) of the device's /proc/diskstats line, in bytes. */
    private OptionalLong sectors(int field) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/diskstats"));
            for (String line : lines) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && Integer.parseInt(f[0]) == major && Integer.parseInt(f[1]) == minor) {
                    return OptionalLong.of(Long.parseLong(f[field]) * SECTOR_BYTES);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no figure
        }
        return OptionalLong.empty();
    }

    @Override
    public String toString() {
        return major + ":" + minor;
    }
}
