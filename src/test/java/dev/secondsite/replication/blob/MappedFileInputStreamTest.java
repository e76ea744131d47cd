package dev.secondsite.replication.blob;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MappedFileInputStreamTest {
    @TempDir
    Path dir;

    private byte[] file(Path path, int size) throws IOException {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        Files.write(path, data);
        return data;
    }

    @Test
    void readsTheWholeFileInPiecesOfAnySize() throws IOException {
        Path path = dir.resolve("seg");
        byte[] data = file(path, 3 * (1 << 20) + 17);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = MappedFileInputStream.open(path)) {
            assertThat(in.read()).isEqualTo(data[0] & 0xff);
            out.write(data[0]);
            byte[] piece = new byte[70_001];
            Random sizes = new Random(3);
            for (int n = in.read(piece, 0, 1 + sizes.nextInt(piece.length)); n >= 0;
                 n = in.read(piece, 0, 1 + sizes.nextInt(piece.length))) {
                out.write(piece, 0, n);
            }
            assertThat(in.read()).isEqualTo(-1);
            assertThat(in.read(piece, 0, 0)).isZero();
        }
        assertThat(Arrays.equals(out.toByteArray(), data)).isTrue();
    }

    @Test
    void skipMarkResetAndAvailable() throws IOException {
        Path path = dir.resolve("seg");
        byte[] data = file(path, 100_000);
        try (InputStream in = MappedFileInputStream.open(path)) {
            assertThat(in.available()).isEqualTo(100_000);
            assertThat(in.skip(99_990)).isEqualTo(99_990);
            in.mark(0);
            assertThat(in.readNBytes(20)).isEqualTo(Arrays.copyOfRange(data, 99_990, 100_000));
            in.reset();
            assertThat(in.read()).isEqualTo(data[99_990] & 0xff);
            assertThat(in.skip(100)).isEqualTo(9);
            assertThat(in.available()).isZero();
        }
    }

    @Test
    void aDeletedFileStaysReadableAndAClosedStreamIsNot() throws IOException {
        Path path = dir.resolve("seg");
        byte[] data = file(path, 2 << 20);
        InputStream in = MappedFileInputStream.open(path);
        Files.delete(path); // what apply's cache delete may do to a segment another reader has open
        assertThat(in.readAllBytes()).isEqualTo(data);
        in.close();
        in.close();
        assertThatThrownBy(in::read).isInstanceOf(IOException.class).hasMessageContaining("is closed");
    }

    @Test
    void fileStoreReadsLargeBlobsThroughAMappingAndSmallOnesBuffered() throws IOException {
        FileBlobStore store = new FileBlobStore(dir.resolve("store"));
        byte[] large = new byte[(int) FileBlobStore.MAPPED_READ_MIN_BYTES];
        new Random(1).nextBytes(large);
        store.put("large", large);
        store.put("small", new byte[] {1, 2, 3});
        try (InputStream in = store.open("large").orElseThrow()) {
            assertThat(in).isInstanceOf(MappedFileInputStream.class);
            assertThat(in.readAllBytes()).isEqualTo(large);
        }
        try (InputStream in = store.open("small").orElseThrow()) {
            assertThat(in).isNotInstanceOf(MappedFileInputStream.class);
            assertThat(in.readAllBytes()).containsExactly(1, 2, 3);
        }
    }
}
