package dev.secondsite.bench.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.SplittableRandom;

/** Seeded test data and temporary directories shared by the JMH kernels. */
final class BenchData {
    static final int KIB = 1024;
    static final int MIB = 1024 * 1024;
    private static final String[] WORDS = ("the replication engine applies segments in sequence order and every marker"
            + " becomes a recovery point GET PUT POST 200 201 409 INFO WARN ERROR disk chunk tree node manifest"
            + " 2026-11-23T12:00:00Z user=svc-backup host=web01 latency_ms= bytes= status= request_id=").split(" ");

    private BenchData() {
    }

    /** Incompressible bytes (LZ4 stores them raw). */
    static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        fillRandom(bytes, 0, length, new SplittableRandom(seed));
        return bytes;
    }

    static void fillRandom(byte[] bytes, int offset, int length, SplittableRandom random) {
        int i = offset;
        int end = offset + length;
        for (; i + 8 <= end; i += 8) {
            long v = random.nextLong();
            bytes[i] = (byte) v;
            bytes[i + 1] = (byte) (v >>> 8);
            bytes[i + 2] = (byte) (v >>> 16);
            bytes[i + 3] = (byte) (v >>> 24);
            bytes[i + 4] = (byte) (v >>> 32);
            bytes[i + 5] = (byte) (v >>> 40);
            bytes[i + 6] = (byte) (v >>> 48);
            bytes[i + 7] = (byte) (v >>> 56);
        }
        for (; i < end; i++) {
            bytes[i] = (byte) random.nextInt();
        }
    }

    /** Log-like text: words and numbers from a small vocabulary; LZ4 shrinks it about 2-3x. */
    static byte[] compressible(int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder text = new StringBuilder(length + 64);
        while (text.length() < length) {
            text.append(WORDS[random.nextInt(WORDS.length)]);
            if (random.nextInt(4) == 0) {
                text.append(random.nextInt(100_000));
            }
            text.append(random.nextInt(12) == 0 ? '\n' : ' ');
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.US_ASCII);
        return java.util.Arrays.copyOf(bytes, length);
    }

    /** A fresh directory under -Dbench.tmp (default java.io.tmpdir). */
    static Path tempDir(String prefix) throws IOException {
        Path parent = Path.of(System.getProperty("bench.tmp", System.getProperty("java.io.tmpdir")));
        Files.createDirectories(parent);
        return Files.createTempDirectory(parent, prefix);
    }

    static void deleteTree(Path root) throws IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
