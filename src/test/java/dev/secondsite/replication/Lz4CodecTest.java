package dev.secondsite.replication;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class Lz4CodecTest {
    private static final int CHUNK = 64 * 1024;

    @Test
    void compressibleBlocksRoundTripSmaller() {
        byte[] content = new byte[CHUNK];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i % 251 < 200 ? 'a' : i);
        }
        byte[] compressed = new byte[Lz4Codec.compressedBytesMax(CHUNK)];
        int stored = Lz4Codec.compress(content, 0, CHUNK, compressed);
        assertThat(stored).isPositive().isLessThan(CHUNK / 4);
        byte[] back = new byte[CHUNK];
        assertThat(Lz4Codec.decompressExactly(compressed, 0, stored, back, 0, CHUNK)).isTrue();
        assertThat(back).isEqualTo(content);
    }

    @Test
    void compressingAfterAPrefixGivesTheSameBlockOrNullForRaw() {
        byte[] content = new byte[CHUNK];
        Arrays.fill(content, 1000, 2000, (byte) 9);
        byte[] file = Lz4Codec.compressAfter(40, content, 0, CHUNK);
        byte[] buffer = new byte[Lz4Codec.compressedBytesMax(CHUNK)];
        int stored = Lz4Codec.compress(content, 0, CHUNK, buffer);
        assertThat(file).hasSize(40 + stored);
        assertThat(Arrays.copyOf(file, 40)).containsOnly(0);
        assertThat(Arrays.copyOfRange(file, 40, file.length)).isEqualTo(Arrays.copyOf(buffer, stored));
        byte[] back = new byte[CHUNK];
        assertThat(Lz4Codec.decompressExactly(file, 40, stored, back, 0, CHUNK)).isTrue();
        assertThat(back).isEqualTo(content);
        assertThat(Lz4Codec.compressAfter(40, random(CHUNK), 0, CHUNK)).isNull();
        assertThat(Lz4Codec.compressAfter(0, random(100), 0, 100)).isNull();
    }

    @Test
    void randomBlocksAreLeftRaw() {
        byte[] content = random(CHUNK);
        assertThat(Lz4Codec.compress(content, 0, CHUNK, new byte[Lz4Codec.compressedBytesMax(CHUNK)])).isEqualTo(-1);
    }

    @Test
    void aLongBlockWhoseProbeDoesNotShrinkIsLeftRawUntried() {
        // Random probe, zeros after it: compressing the whole would save most of it; the early abort gives up.
        byte[] content = Arrays.copyOf(random(Lz4Codec.PROBE_BYTES), CHUNK);
        assertThat(Lz4Codec.compress(content, 0, CHUNK, new byte[Lz4Codec.compressedBytesMax(CHUNK)])).isEqualTo(-1);
        // Past the probe, the rest decides: compressible at the start is compressed whole.
        byte[] reversed = new byte[CHUNK];
        System.arraycopy(random(Lz4Codec.PROBE_BYTES), 0, reversed, CHUNK - Lz4Codec.PROBE_BYTES, Lz4Codec.PROBE_BYTES);
        assertThat(Lz4Codec.compress(reversed, 0, CHUNK, new byte[Lz4Codec.compressedBytesMax(CHUNK)]))
                .isPositive().isLessThan(Lz4Codec.PROBE_BYTES + 1024);
    }

    @Test
    void aShortBlockIsAlwaysTriedWhole() {
        int length = 2 * Lz4Codec.PROBE_BYTES;
        byte[] content = Arrays.copyOf(random(Lz4Codec.PROBE_BYTES), length);
        int stored = Lz4Codec.compress(content, 0, length, new byte[Lz4Codec.compressedBytesMax(length)]);
        assertThat(stored).isPositive().isLessThan(length);
    }

    private static byte[] random(int length) {
        byte[] bytes = new byte[length];
        new Random(length).nextBytes(bytes);
        return bytes;
    }
}
