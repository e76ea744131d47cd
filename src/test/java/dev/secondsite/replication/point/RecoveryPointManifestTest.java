package dev.secondsite.replication.point;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.secondsite.replication.ConsistencyType;
import dev.secondsite.replication.DiskState;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.DiskGeometry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RecoveryPointManifestTest {
    private static final UUID DISK = UUID.fromString("a1b2c3d4-0000-4000-8000-0000000000aa");
    private static final ChunkDigest ROOT = ChunkDigest.of("root".getBytes(StandardCharsets.UTF_8));
    private static final RecoveryPointManifest POINT = new RecoveryPointManifest(DISK, new DiskGeometry(64L << 30, 65536),
            ROOT, ConsistencyType.APP_CONSISTENT, Instant.parse("2025-11-23T11:40:00.123Z"), 42, "sql vss=ok\nline 2 ✓");

    @Test
    void manifestsHaveATimeOrderedNameAndACheckedTextForm() throws CorruptManifestException {
        assertThat(POINT.blobName()).isEqualTo("points/" + DISK + "/20251123T114000.123Z-00000000000000000042.manifest");
        String text = new String(POINT.encode(), StandardCharsets.UTF_8);
        assertThat(text).startsWith("""
                secondsite-recovery-point=1
                disk-id=a1b2c3d4-0000-4000-8000-0000000000aa
                virtual-bytes=68719476736
                chunk-bytes=65536
                root=%s
                consistency=APP_CONSISTENT
                created-at=2025-11-23T11:40:00.123Z
                segment-sequence=42
                tag=sql+vss%%3Dok%%0Aline+2+%%E2%%9C%%93
                checksum-crc32c=""".formatted(ROOT.hex()));
        assertThat(RecoveryPointManifest.decode(POINT.blobName(), POINT.encode())).isEqualTo(POINT);
    }

    @Test
    void damagedOrMisplacedManifestsAreRejected() {
        byte[] bytes = POINT.encode();
        byte[] flipped = bytes.clone();
        flipped[60] ^= 1;
        assertThatThrownBy(() -> RecoveryPointManifest.decode(POINT.blobName(), flipped))
                .isInstanceOf(CorruptManifestException.class).hasMessageContaining("checksum mismatch");
        assertThatThrownBy(() -> RecoveryPointManifest.decode("points/x/other.manifest", bytes))
                .isInstanceOf(CorruptManifestException.class).hasMessageContaining("not itself");
        assertThatThrownBy(() -> RecoveryPointManifest.decode(POINT.blobName(), new byte[5000]))
                .isInstanceOf(CorruptManifestException.class).hasMessageContaining("larger than 4096");
        assertThatThrownBy(() -> RecoveryPointManifest.decode(POINT.blobName(), "x=1\n".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(CorruptManifestException.class);
    }

    @Test
    void diskStateRoundTripsAndDetectsDamage() {
        DiskState state = new DiskState(DISK, new DiskGeometry(1L << 40, 65536), ROOT, 77);
        byte[] bytes = state.encode();
        assertThat(bytes).hasSize(DiskState.STATE_BYTES);
        assertThat(DiskState.decode(bytes)).isEqualTo(state);
        for (int i = 0; i < bytes.length; i++) {
            byte[] damaged = bytes.clone();
            damaged[i] ^= 0x20;
            assertThatThrownBy(() -> DiskState.decode(damaged)).as("flip at %d", i).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
