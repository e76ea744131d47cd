package dev.secondsite.replication.blob;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.BlobProperties;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The shared contract ({@link BlobStoreContractTest}) against Azurite, plus Azure specifics: container
 * creation, staged (multi-block) uploads, error mapping, and an emulator outage in the middle of a run.
 * Every test gets its own container in one Azurite started for the class.
 */
class AzureBlobStoreTest extends BlobStoreContractTest {
    /** Bounded so that an outage costs seconds: 3 tries of at most 10 s, 100-500 ms back-off. */
    static final AzureBlobStore.Settings TEST_SETTINGS = AzureBlobStore.Settings.DEFAULT
            .withTries(3, Duration.ofSeconds(10))
            .withRetryDelays(Duration.ofMillis(100), Duration.ofMillis(500));
    private static final AtomicInteger CONTAINERS = new AtomicInteger();

    @TempDir
    static Path azuriteData;
    static Azurite azurite;

    @BeforeAll
    static void startAzurite() throws IOException {
        azurite = Azurite.start(azuriteData);
    }

    @AfterAll
    static void stopAzurite() throws IOException {
        if (azurite != null) {
            azurite.close();
        }
    }

    @Override
    protected AzureBlobStore newStore() throws IOException {
        return AzureBlobStore.fromConnectionString(azurite.connectionString(), newContainerName(), TEST_SETTINGS);
    }

    private static String newContainerName() {
        return "test-" + CONTAINERS.incrementAndGet() + "-" + Long.toHexString(System.nanoTime());
    }

    private static BlobContainerClient rawContainer(String name) {
        return new BlobServiceClientBuilder().connectionString(azurite.connectionString()).buildClient()
                .getBlobContainerClient(name);
    }

    @Test
    void containerIsCreatedIfMissingAndReopenedWithItsBlobs() throws IOException {
        String container = newContainerName();
        assertThat(rawContainer(container).exists()).isFalse();

        AzureBlobStore first = AzureBlobStore.fromConnectionString(azurite.connectionString(), container);
        assertThat(rawContainer(container).exists()).isTrue();
        assertThat(first).hasToString("azure container " + container);
        assertThat(first.containerName()).isEqualTo(container);
        assertThat(first.containerUrl()).isEqualTo(azurite.blobEndpoint() + "/" + container);
        assertThat(first.settings()).isEqualTo(AzureBlobStore.Settings.DEFAULT);
        first.put("seg/1", bytes("one"));

        AzureBlobStore second = AzureBlobStore.fromAccountKey(azurite.blobEndpoint(), Azurite.ACCOUNT,
                Azurite.ACCOUNT_KEY, container, TEST_SETTINGS);
        assertThat(second.list("")).containsExactly("seg/1");
        assertThat(second.get("seg/1")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("one")));
        assertThat(rawContainer(container).getBlobClient("seg/1").downloadContent().toString()).isEqualTo("one");
    }

    @Test
    void invalidContainerNamesAndConnectionStringsAreRejected() {
        for (String bad : new String[] {"", "ab", "Upper", "a--b", "-ab", "ab-", "a_b", "x".repeat(64), null}) {
            assertThatThrownBy(() -> AzureBlobStore.fromConnectionString(azurite.connectionString(), bad))
                    .as("container name %s", bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("invalid azure container name");
        }
        assertThatThrownBy(() -> AzureBlobStore.fromConnectionString("AccountName=x;nonsense", "cache"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid Azure Storage connection string for container cache");
    }

    @Test
    void wrongKeyIsAnIOExceptionNamingTheContainer() {
        String wrongKey = Azurite.ACCOUNT_KEY.replace("Eby8", "AAAA");
        String container = newContainerName();
        assertThatThrownBy(() -> AzureBlobStore.fromAccountKey(azurite.blobEndpoint(), Azurite.ACCOUNT, wrongKey,
                container, TEST_SETTINGS))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("open on azure container " + container + " failed for <container>: HTTP 403");
    }

    @Test
    void deletedContainerIsAFailureNotAnEmptyStore() throws IOException {
        AzureBlobStore store = newStore();
        store.put("a", bytes("x"));
        rawContainer(store.containerName()).delete();
        String prefix = " on azure container " + store.containerName() + " failed for ";
        assertThatThrownBy(() -> store.get("a")).isInstanceOf(IOException.class)
                .hasMessage("get" + prefix + "a: HTTP 404 ContainerNotFound");
        assertThatThrownBy(() -> store.exists("a")).isInstanceOf(IOException.class)
                .hasMessageStartingWith("stat" + prefix + "a: HTTP 404");
        assertThatThrownBy(() -> store.list("")).isInstanceOf(IOException.class)
                .hasMessage("list" + prefix + "<all>: HTTP 404 ContainerNotFound");
        assertThatThrownBy(() -> store.put("b", bytes("y"))).isInstanceOf(IOException.class)
                .hasMessage("put" + prefix + "b: HTTP 404 ContainerNotFound");
    }

    @Test
    void foreignBlobNamesAreIgnoredByListAndUsedBytes() throws IOException {
        AzureBlobStore store = newStore();
        store.put("ours", bytes("12"));
        rawContainer(store.containerName()).getBlobClient("not ours").upload(BinaryData.fromString("12345"));
        rawContainer(store.containerName()).getBlobClient("x/.hidden").upload(BinaryData.fromString("123"));
        assertThat(store.list("")).containsExactly("ours");
        assertThat(store.usedBytes()).isEqualTo(2);
    }

    @Test
    void touchAdvancesLastModifiedAndKeepsContentAndMetadata() throws IOException, InterruptedException {
        AzureBlobStore store = newStore();
        store.put("chunk/ab", bytes("content"));
        var raw = rawContainer(store.containerName()).getBlobClient("chunk/ab");
        raw.setMetadata(Map.of("owner", "someone"));
        BlobProperties before = raw.getProperties();
        Thread.sleep(1100); // Last-Modified has one-second resolution
        assertThat(store.touch("chunk/ab")).isTrue();
        BlobProperties after = raw.getProperties();
        assertThat(after.getLastModified()).isAfter(before.getLastModified());
        assertThat(store.stat("chunk/ab").orElseThrow().lastModified()).isEqualTo(after.getLastModified().toInstant());
        assertThat(after.getMetadata()).containsEntry("owner", "someone");
        assertThat(store.get("chunk/ab")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("content")));
    }

    @Test
    void contentAboveTheSingleUploadLimitIsStagedInBlocksAndCommittedWhole() throws IOException {
        AzureBlobStore.Settings small = new AzureBlobStore.Settings(3, Duration.ofSeconds(10), Duration.ofMillis(100),
                Duration.ofMillis(500), Duration.ofSeconds(5), 1 << 20, 256 << 10);
        AzureBlobStore store = AzureBlobStore.fromConnectionString(azurite.connectionString(), newContainerName(), small);
        byte[] data = new byte[(3 << 20) + 12345];
        new Random(5).nextBytes(data);

        store.put("big/bytes", data);
        store.put("big/stream", new ByteArrayInputStream(data), data.length);
        assertThat(Arrays.equals(store.get("big/bytes").orElseThrow(), data)).isTrue();
        try (InputStream in = store.open("big/stream").orElseThrow()) {
            assertThat(Arrays.equals(in.readAllBytes(), data)).isTrue();
        }
        var blocks = rawContainer(store.containerName()).getBlobClient("big/stream").getBlockBlobClient()
                .listBlocks(com.azure.storage.blob.models.BlockListType.COMMITTED).getCommittedBlocks();
        assertThat(blocks).as("staged as 256 KiB blocks").hasSizeGreaterThan(4);

        // A stream that ends early in the middle of the staged blocks commits nothing.
        store.put("big/kept", bytes("previous"));
        assertThatThrownBy(() -> store.put("big/kept", new ByteArrayInputStream(data), data.length + 1L))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("put on azure container " + store.containerName() + " failed for big/kept: ")
                .hasMessageContaining("stream ended after " + data.length + " of " + (data.length + 1L) + " bytes");
        assertThat(store.get("big/kept")).hasValueSatisfying(kept -> assertThat(kept).isEqualTo(bytes("previous")));
        assertThat(store.list("big/")).containsExactly("big/bytes", "big/kept", "big/stream");
    }

    @Test
    void aHungServiceTimesOutInsteadOfHanging() throws IOException {
        AzureBlobStore store = AzureBlobStore.fromConnectionString(azurite.connectionString(), newContainerName(),
                TEST_SETTINGS.withTries(2, Duration.ofSeconds(1)));
        store.put("a", bytes("before"));
        azurite.freeze();
        long start = System.nanoTime();
        try {
            assertThatThrownBy(() -> store.put("b", bytes("while hung")))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("put on azure container " + store.containerName() + " failed for b: ")
                    .hasMessageContaining("Timeout")
                    .hasMessageEndingWith("(2 tries)");
            assertThatThrownBy(() -> store.get("a")).isInstanceOf(IOException.class);
        } finally {
            azurite.thaw();
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("2 tries of 1 s each, twice").isLessThan(Duration.ofSeconds(10));
        assertThat(store.get("a")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("before")));
    }

    @Test
    void anOutageFailsCallsPromptlyAndTheStoreRecoversWhenAzuriteIsBack() throws IOException {
        AzureBlobStore store = newStore();
        store.put("before/outage", bytes("safe"));
        String container = store.containerName();
        azurite.awaitPersisted(Duration.ofSeconds(15), container, "before/outage");
        try {
            azurite.kill(); // SIGKILL: a crash, not a shutdown

            long start = System.nanoTime();
            assertThatThrownBy(() -> store.put("during/outage", bytes("lost")))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("put on azure container " + container + " failed for during/outage: ")
                    .hasMessageContaining("Connection refused")
                    .hasMessageEndingWith("(3 tries)");
            Duration putTook = Duration.ofNanos(System.nanoTime() - start);
            assertThat(putTook).as("bounded retries, no hang").isLessThan(Duration.ofSeconds(20));

            assertThatThrownBy(() -> store.get("before/outage")).as("unreachable is not 'not found'")
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("get on azure container " + container + " failed for before/outage: ");
            assertThatThrownBy(() -> store.exists("before/outage")).isInstanceOf(IOException.class);
            assertThatThrownBy(() -> store.list("")).isInstanceOf(IOException.class)
                    .hasMessageStartingWith("list on azure container " + container + " failed for <all>: ");
            assertThatThrownBy(() -> store.put("during/stream", new ByteArrayInputStream(bytes("lost")), 4))
                    .isInstanceOf(IOException.class);
        } finally {
            azurite.restart();
        }

        assertThat(store.get("before/outage")).as("written before the crash")
                .hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("safe")));
        store.put("after/outage", bytes("back"));
        assertThat(store.get("after/outage")).hasValueSatisfying(data -> assertThat(data).isEqualTo(bytes("back")));
        assertThat(store.exists("during/outage")).isFalse();
        assertThat(store.list("after/")).containsExactly("after/outage");
    }
}
