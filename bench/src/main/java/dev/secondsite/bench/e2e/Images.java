package dev.secondsite.bench.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** The test image and file-system helpers. */
final class Images {
    static final int BLOCK = 1 << 20;

    private Images() {
    }

    /**
     * Writes a raw image of {@code bytes}: each 1 MiB block is, with probability 1/2 (seeded), random data,
     * else zeros - written out (not holes), like {@code dd} of a used disk, then fsynced. Returns the number
     * of non-zero bytes.
     */
    static long make(Path image, long bytes, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] data = new byte[BLOCK];
        byte[] zeros = new byte[BLOCK];
        long nonZero = 0;
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long offset = 0; offset < bytes; offset += BLOCK) {
                int length = (int) Math.min(BLOCK, bytes - offset);
                byte[] block = zeros;
                if (random.nextBoolean()) {
                    fillRandom(data, 0, length, random);
                    block = data;
                    nonZero += length;
                }
                ByteBuffer buffer = ByteBuffer.wrap(block, 0, length);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }
            channel.force(true);
        }
        return nonZero;
    }

    static void fillRandom(byte[] bytes, int offset, int length, SplittableRandom random) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
        while (buffer.remaining() >= 8) {
            buffer.putLong(random.nextLong());
        }
        while (buffer.hasRemaining()) {
            buffer.put((byte) random.nextInt());
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        byte[] buffer = new byte[4 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
                sha256.update(buffer, 0, read);
            }
        }
        return HexFormat.of().formatHex(sha256.digest());
    }

    /** Sum of the sizes of the regular files under {@code root} (0 if it does not exist). */
    static long treeBytes(Path root) throws IOException {
        if (!Files.exists(root)) {
            return 0;
        }
        long[] total = new long[1];
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) {
                    total[0] += attrs.size();
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
                return FileVisitResult.CONTINUE; // a temp file renamed away under us
            }
        });
        return total[0];
    }

    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            System.err.println("[e2e] warning: could not remove " + root + ": " + e.getMessage());
        }
    }
}
