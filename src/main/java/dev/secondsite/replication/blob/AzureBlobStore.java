package dev.secondsite.replication.blob;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

import com.azure.core.http.HttpClient;
import com.azure.core.util.BinaryData;
import com.azure.core.util.Context;
import com.azure.core.util.HttpClientOptions;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.BlobErrorCode;
import com.azure.storage.blob.models.BlobItem;
import com.azure.storage.blob.models.BlobProperties;
import com.azure.storage.blob.models.BlobRequestConditions;
import com.azure.storage.blob.models.BlobStorageException;
import com.azure.storage.blob.models.DeleteSnapshotsOptionType;
import com.azure.storage.blob.models.ListBlobsOptions;
import com.azure.storage.blob.models.ParallelTransferOptions;
import com.azure.storage.blob.options.BlobParallelUploadOptions;
import com.azure.storage.common.StorageSharedKeyCredential;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;

/**
 * A blob store in one Azure Blob Storage container (or an emulator such as Azurite): blob "a/b/c" is the
 * block blob "a/b/c" in the container. See ADR 0006.
 *
 * <p>Contract mapping ({@link BlobStore}):
 * <ul>
 *   <li>{@code put} uploads a block blob and returns when the service has acknowledged it (HTTP 201),
 *       which for Azure Storage means it is committed and durable. Up to
 *       {@link Settings#singleUploadBytesMax} the content goes in one Put Blob request; larger content is
 *       staged as blocks and published by one Put Block List. Either way the blob appears whole or not at
 *       all, and replaces the previous one atomically. A stream that ends before its announced length
 *       aborts the upload, so nothing is stored.</li>
 *   <li>"Not found" ({@code BlobNotFound}) maps to empty / false, as a missing file does in
 *       {@link FileBlobStore}. A missing <em>container</em> is a failure (someone deleted it), not an empty
 *       store.</li>
 *   <li>Every other failure, including a service that cannot be reached within the bounded retries of
 *       {@link Settings}, is an IOException "&lt;action&gt; on azure container &lt;name&gt; failed for
 *       &lt;blob&gt;: &lt;cause&gt;".</li>
 *   <li>{@link #touch} re-sets the blob's own metadata (Azure has no "set last-modified"): any write to a
 *       blob's properties or metadata advances its Last-Modified time.</li>
 *   <li>{@link #list} and {@link #usedBytes} ignore blobs whose names are not valid {@link BlobNames}
 *       (written into the container by something else).</li>
 * </ul>
 *
 * <p>Thread-safe (the SDK clients are); concurrent writers of one name: the last commit wins.
 */
public final class AzureBlobStore implements BlobStore {
    private static final Pattern CONTAINER_NAME = Pattern.compile("[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]");

    /**
     * Retry and timeout bounds. Every SDK call makes at most {@code maxTries} attempts, each cancelled after
     * {@code tryTimeout}, so an unreachable or hung service turns into an IOException after roughly
     * {@code maxTries * tryTimeout} plus the back-off delays, never a hang.
     *
     * @param maxTries              attempts per request, first one included (>= 1)
     * @param tryTimeout            per attempt, the whole request and response included; must allow the
     *                              largest single request ({@code singleUploadBytesMax} or a block) to be sent
     * @param retryDelay            back-off before the first retry (exponential after that)
     * @param maxRetryDelay         longest back-off
     * @param connectTimeout        TCP connect timeout
     * @param singleUploadBytesMax  largest content sent in one Put Blob; larger puts are staged in blocks
     * @param blockBytes            block size for staged puts
     */
    public record Settings(int maxTries, Duration tryTimeout, Duration retryDelay, Duration maxRetryDelay,
                           Duration connectTimeout, long singleUploadBytesMax, long blockBytes) {
        /** 3 tries of at most 30 s each; one request up to 32 MiB, 8 MiB blocks above that. */
        public static final Settings DEFAULT = new Settings(3, Duration.ofSeconds(30), Duration.ofMillis(500),
                Duration.ofSeconds(5), Duration.ofSeconds(10), 32L << 20, 8L << 20);

        public Settings {
            if (maxTries < 1) {
                throw new IllegalArgumentException("maxTries must be >= 1, got " + maxTries);
            }
            for (Duration duration : new Duration[] {tryTimeout, retryDelay, maxRetryDelay, connectTimeout}) {
                if (duration == null || duration.isNegative() || duration.isZero()) {
                    throw new IllegalArgumentException("timeouts and delays must be positive, got " + duration);
                }
            }
            if (retryDelay.compareTo(maxRetryDelay) > 0) {
                throw new IllegalArgumentException("retryDelay " + retryDelay + " exceeds maxRetryDelay " + maxRetryDelay);
            }
            if (blockBytes < 1 || singleUploadBytesMax < 1) {
                throw new IllegalArgumentException("upload sizes must be >= 1 byte");
            }
        }

        public Settings withTries(int tries, Duration timeoutPerTry) {
            return new Settings(tries, timeoutPerTry, retryDelay, maxRetryDelay, connectTimeout, singleUploadBytesMax,
                    blockBytes);
        }

        public Settings withRetryDelays(Duration first, Duration max) {
            return new Settings(maxTries, tryTimeout, first, max, connectTimeout, singleUploadBytesMax, blockBytes);
        }
    }

    private final String containerName;
    private final Settings settings;
    private final BlobContainerClient container;

    private AzureBlobStore(BlobServiceClientBuilder builder, String containerName, Settings settings) throws IOException {
        this.containerName = containerName;
        this.settings = settings;
        HttpClient httpClient = HttpClient.createDefault(new HttpClientOptions()
                .setConnectTimeout(settings.connectTimeout())
                .setWriteTimeout(settings.tryTimeout())
                .setResponseTimeout(settings.tryTimeout())
                .setReadTimeout(settings.tryTimeout()));
        BlobServiceClient service = builder
                .httpClient(httpClient)
                .retryOptions(new RequestRetryOptions(RetryPolicyType.EXPONENTIAL, settings.maxTries(),
                        settings.tryTimeout(), settings.retryDelay(), settings.maxRetryDelay(), null))
                .buildClient();
        this.container = service.getBlobContainerClient(containerName);
        try {
            container.createIfNotExists();
        } catch (RuntimeException e) {
            throw failure("open", "<container>", e);
        }
    }

    /**
     * Opens (creating it if missing) {@code container} in the account a connection string names, e.g.
     * {@code DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net}, or
     * for Azurite {@code ...;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1}. Uses {@link Settings#DEFAULT}.
     */
    public static AzureBlobStore fromConnectionString(String connectionString, String container) throws IOException {
        return fromConnectionString(connectionString, container, Settings.DEFAULT);
    }

    public static AzureBlobStore fromConnectionString(String connectionString, String container, Settings settings)
            throws IOException {
        Objects.requireNonNull(connectionString, "connectionString");
        checkContainerName(container);
        BlobServiceClientBuilder builder;
        try {
            builder = new BlobServiceClientBuilder().connectionString(connectionString);
        } catch (RuntimeException e) {
            // The SDK's messages name the missing/invalid part, never the key.
            throw new IllegalArgumentException("invalid Azure Storage connection string for container " + container
                    + ": " + e.getMessage(), e);
        }
        return new AzureBlobStore(builder, container, Objects.requireNonNull(settings, "settings"));
    }

    /**
     * Opens (creating it if missing) {@code container} at a blob service endpoint
     * ({@code https://ACCOUNT.blob.core.windows.net}, or {@code http://127.0.0.1:PORT/devstoreaccount1} for
     * Azurite) with a shared account key.
     */
    public static AzureBlobStore fromAccountKey(String endpoint, String account, String accountKey, String container,
                                                Settings settings) throws IOException {
        Objects.requireNonNull(endpoint, "endpoint");
        checkContainerName(container);
        BlobServiceClientBuilder builder;
        try {
            builder = new BlobServiceClientBuilder().endpoint(endpoint)
                    .credential(new StorageSharedKeyCredential(account, accountKey));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid Azure Storage endpoint or account for container " + container
                    + ": " + e.getMessage(), e);
        }
        return new AzureBlobStore(builder, container, Objects.requireNonNull(settings, "settings"));
    }

    public String containerName() {
        return containerName;
    }

    /** The container's URL (no credentials). */
    public String containerUrl() {
        return container.getBlobContainerUrl();
    }

    public Settings settings() {
        return settings;
    }

    @Override
    public void put(String name, byte[] data) throws IOException {
        BlobClient blob = blob(name);
        Objects.requireNonNull(data, "data");
        try {
            upload(blob, new BlobParallelUploadOptions(BinaryData.fromBytes(data)));
        } catch (RuntimeException e) {
            throw failure("put", name, e);
        }
    }

    /** The parts as they are (duplicates, so their positions stay): no array of the whole blob is built. */
    @Override
    public void put(String name, List<ByteBuffer> parts) throws IOException {
        BlobClient blob = blob(name);
        List<ByteBuffer> views = parts.stream().map(ByteBuffer::duplicate).toList();
        try {
            upload(blob, new BlobParallelUploadOptions(BinaryData.fromListByteBuffer(views)));
        } catch (RuntimeException e) {
            throw failure("put", name, e);
        }
    }

    @Override
    public void put(String name, InputStream data, long lengthBytes) throws IOException {
        if (lengthBytes < 0) {
            throw new IllegalArgumentException("put on " + this + " failed for " + name + ": negative length " + lengthBytes);
        }
        BlobClient blob = blob(name);
        Objects.requireNonNull(data, "data");
        try {
            upload(blob, new BlobParallelUploadOptions(new ExactLengthInputStream(data, lengthBytes), lengthBytes));
        } catch (RuntimeException e) {
            throw failure("put", name, e);
        }
    }

    private void upload(BlobClient blob, BlobParallelUploadOptions options) {
        // No request conditions: overwrite whatever is there. The SDK uses Put Blob up to
        // singleUploadBytesMax, else Put Block (random block ids) + Put Block List; both commit atomically.
        options.setParallelTransferOptions(new ParallelTransferOptions()
                .setMaxSingleUploadSizeLong(settings.singleUploadBytesMax())
                .setBlockSizeLong(settings.blockBytes())
                .setMaxConcurrency(2));
        blob.uploadWithResponse(options, null, Context.NONE);
    }

    @Override
    public Optional<byte[]> get(String name) throws IOException {
        BlobClient blob = blob(name);
        try {
            return Optional.of(blob.downloadContent().toBytes());
        } catch (RuntimeException e) {
            if (blobNotFound(e)) {
                return Optional.empty();
            }
            throw failure("get", name, e);
        } catch (OutOfMemoryError e) {
            throw failure("get", name, e);
        }
    }

    /** One ranged GET (a chunk out of a pack); past the end the service answers 416, which reads as no bytes. */
    @Override
    public Optional<byte[]> readRange(String name, long offset, int length) throws IOException {
        BlobClient blob = blob(name);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(length);
        try {
            blob.downloadStreamWithResponse(out, new com.azure.storage.blob.models.BlobRange(offset, (long) length),
                    null, null, false, null, Context.NONE);
            return Optional.of(out.toByteArray());
        } catch (RuntimeException e) {
            if (blobNotFound(e)) {
                return Optional.empty();
            }
            if (e instanceof BlobStorageException storage && storage.getStatusCode() == 416) {
                return Optional.of(new byte[0]);
            }
            throw failure("readRange", name, e);
        }
    }

    /**
     * The stream reads the blob in ranged requests pinned to the ETag seen when it was opened: if the blob is
     * replaced meanwhile, reading fails with an IOException instead of mixing two versions.
     */
    @Override
    public Optional<InputStream> open(String name) throws IOException {
        BlobClient blob = blob(name);
        try {
            return Optional.of(blob.openInputStream());
        } catch (RuntimeException e) {
            if (blobNotFound(e)) {
                return Optional.empty();
            }
            throw failure("open", name, e);
        }
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        BlobNames.validatePrefix(prefix);
        List<String> names = new ArrayList<>();
        try {
            for (BlobItem item : container.listBlobs(listOptions(prefix), null)) {
                if (isBlobName(item)) {
                    names.add(item.getName());
                }
            }
        } catch (RuntimeException e) {
            throw failure("list", prefix.isEmpty() ? "<all>" : prefix, e);
        }
        names.sort(null); // the service lists in UTF-8 byte order, which for our ASCII names is String order
        return names;
    }

    @Override
    public Optional<BlobInfo> stat(String name) throws IOException {
        BlobClient blob = blob(name);
        try {
            BlobProperties properties = blob.getProperties();
            return Optional.of(new BlobInfo(name, properties.getBlobSize(), properties.getLastModified().toInstant()));
        } catch (RuntimeException e) {
            if (blobNotFound(e)) {
                return Optional.empty();
            }
            throw failure("stat", name, e);
        }
    }

    @Override
    public boolean touch(String name) throws IOException {
        BlobClient blob = blob(name);
        try {
            BlobProperties properties = blob.getProperties();
            Map<String, String> metadata = properties.getMetadata() == null ? Map.of() : new HashMap<>(properties.getMetadata());
            blob.setMetadataWithResponse(metadata, new BlobRequestConditions().setIfMatch(properties.getETag()), null,
                    Context.NONE);
            return true;
        } catch (RuntimeException e) {
            if (blobNotFound(e)) {
                return false;
            }
            if (e instanceof BlobStorageException storage && storage.getStatusCode() == 412) {
                // Replaced between our read and our write: the new blob's Last-Modified is already newer than
                // this touch began, which is all a touch promises.
                return true;
            }
            throw failure("touch", name, e);
        }
    }

    @Override
    public boolean delete(String name) throws IOException {
        BlobClient blob = blob(name);
        try {
            return blob.deleteIfExistsWithResponse(DeleteSnapshotsOptionType.INCLUDE, null, null, Context.NONE).getValue();
        } catch (RuntimeException e) {
            if (blobNotFound(e)) {
                return false;
            }
            throw failure("delete", name, e);
        }
    }

    @Override
    public long usedBytes() throws IOException {
        long total = 0;
        try {
            for (BlobItem item : container.listBlobs(listOptions(""), null)) {
                if (isBlobName(item) && item.getProperties().getContentLength() != null) {
                    total += item.getProperties().getContentLength();
                }
            }
        } catch (RuntimeException e) {
            throw failure("usedBytes", "<all>", e);
        }
        return total;
    }

    @Override
    public String toString() {
        return "azure container " + containerName;
    }

    private BlobClient blob(String name) {
        return container.getBlobClient(BlobNames.validate(name));
    }

    private static ListBlobsOptions listOptions(String prefix) {
        ListBlobsOptions options = new ListBlobsOptions().setMaxResultsPerPage(5000);
        return prefix.isEmpty() ? options : options.setPrefix(prefix);
    }

    private static boolean isBlobName(BlobItem item) {
        if (Boolean.TRUE.equals(item.isPrefix()) || Boolean.TRUE.equals(item.isDeleted())) {
            return false;
        }
        try {
            BlobNames.validate(item.getName());
            return true;
        } catch (IllegalArgumentException foreign) {
            return false;
        }
    }

    /** A 404 about the blob; a 404 about the container (ContainerNotFound) is a real failure. */
    private static boolean blobNotFound(Throwable e) {
        return e instanceof BlobStorageException storage && storage.getStatusCode() == 404
                && !BlobErrorCode.CONTAINER_NOT_FOUND.equals(storage.getErrorCode());
    }

    private static void checkContainerName(String container) {
        if (container == null || !CONTAINER_NAME.matcher(container).matches()) {
            throw new IllegalArgumentException("invalid azure container name '" + container + "': 3-63 characters of"
                    + " [a-z0-9-], starting and ending with a letter or digit, no '--'");
        }
    }

    private IOException failure(String action, String name, Throwable cause) {
        IOException shortStream = find(cause, ShortStreamException.class);
        String why;
        if (shortStream != null) {
            why = shortStream.getMessage();
        } else if (find(cause, BlobStorageException.class) instanceof BlobStorageException storage) {
            why = "HTTP " + storage.getStatusCode() + (storage.getErrorCode() != null ? " " + storage.getErrorCode() : "");
        } else {
            // Transport failures (refused, reset, timed out) are what the retry policy retries.
            why = describe(cause) + " (" + settings.maxTries() + (settings.maxTries() == 1 ? " try)" : " tries)");
        }
        return new IOException(action + " on " + this + " failed for " + name + ": " + why, cause);
    }

    /**
     * The innermost informative exception as "SimpleName: message", skipping the wrappers that the SDK's
     * reactive core adds (ReactiveException, UncheckedIOException, RuntimeException(cause)).
     */
    static String describe(Throwable e) {
        Throwable current = e;
        for (int depth = 0; depth < 20 && current.getCause() != null && current.getCause() != current; depth++) {
            Throwable cause = current.getCause();
            boolean wrapper = current.getMessage() == null || current.getMessage().equals(cause.toString())
                    || current instanceof java.io.UncheckedIOException
                    || current.getClass().getName().equals("reactor.core.Exceptions$ReactiveException");
            if (!wrapper) {
                break;
            }
            current = cause;
        }
        String message = current.getMessage();
        return firstLine(current.getClass().getSimpleName() + (message == null ? "" : ": " + message));
    }

    private static String firstLine(String text) {
        int newline = text.indexOf('\n');
        String line = newline < 0 ? text : text.substring(0, newline);
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }

    private static <T extends Throwable> T find(Throwable e, Class<T> type) {
        for (int depth = 0; e != null && depth < 20; depth++, e = e.getCause()) {
            if (type.isInstance(e)) {
                return type.cast(e);
            }
            for (Throwable suppressed : e.getSuppressed()) {
                if (type.isInstance(suppressed)) {
                    return type.cast(suppressed);
                }
            }
        }
        return null;
    }

    /** The source stream ended before the announced length. */
    private static final class ShortStreamException extends IOException {
        ShortStreamException(long read, long expected) {
            super("stream ended after " + read + " of " + expected + " bytes");
        }
    }

    /**
     * Exactly {@code length} bytes of the source: never reads past them (the caller's stream stays positioned
     * after the blob), and fails if the source ends sooner so the upload aborts instead of committing a short
     * blob.
     */
    private static final class ExactLengthInputStream extends FilterInputStream {
        private final long length;
        private long remaining;

        ExactLengthInputStream(InputStream in, long length) {
            super(in);
            this.length = length;
            this.remaining = length;
        }

        @Override
        public int read() throws IOException {
            if (remaining == 0) {
                return -1;
            }
            int b = in.read();
            if (b < 0) {
                throw new ShortStreamException(length - remaining, length);
            }
            remaining--;
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int count) throws IOException {
            Objects.checkFromIndexSize(offset, count, buffer.length);
            if (count == 0) {
                return 0;
            }
            if (remaining == 0) {
                return -1;
            }
            int read = in.read(buffer, offset, (int) Math.min(count, remaining));
            if (read < 0) {
                throw new ShortStreamException(length - remaining, length);
            }
            remaining -= read;
            return read;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] scratch = new byte[(int) Math.min(8192, Math.max(1, n))];
            long skipped = 0;
            while (skipped < n) {
                int read = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
                if (read < 0) {
                    break;
                }
                skipped += read;
            }
            return skipped;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(in.available(), remaining);
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        @Override
        public synchronized void mark(int limit) {
        }

        @Override
        public synchronized void reset() throws IOException {
            throw new IOException("mark/reset not supported");
        }

        @Override
        public void close() {
            // the caller owns the source stream
        }
    }
}
