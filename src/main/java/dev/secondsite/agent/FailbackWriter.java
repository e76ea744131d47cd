package dev.secondsite.agent;

import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import dev.secondsite.Plural;
import dev.secondsite.disk.DiskImage;
import dev.secondsite.disk.DiskImages;
import dev.secondsite.io.AtomicFiles;
import dev.secondsite.replication.chunk.ChunkDigest;
import dev.secondsite.replication.chunk.DiskGeometry;

/**
 * Failback write-back (agent-protocol §7): writes the server's content of a disk back onto the local disk,
 * transferring only the chunks whose content differs (the old disk survived the failover, so most of it is
 * usually still right).
 *
 * <p>For each disk of a request the server's chunk digests are fetched in batches and compared with the
 * digest of the local chunk <em>as read now</em> (not with the {@link DiskLedger}: that records what the
 * server's replica held, and the disk may have changed since). A differing chunk is downloaded, checked
 * against its digest and written; a chunk the server says is zero is written as zeros without a download.
 * Then the disk is fsynced and its ledger is rewritten to the written digests, so forward replication
 * resumes as a delta from the failed-back content.
 *
 * <h2>Outcomes and restarts</h2>
 * The outcome of a request is recorded in {@code <state-dir>/failback.json} (atomically) and reported in
 * every heartbeat body until the server's answer stops carrying the request. A recorded request, Completed or
 * Failed, is never written again: retrying is the server's decision (a new requestId; cheap, since chunks
 * already written then match). A failback cut short by a stop or a crash, or by a server that stayed
 * unreachable through the retries, is not recorded and starts over the next time the request is seen;
 * that redo is a delta too.
 *
 * <h2>Failures</h2>
 * Every disk is checked (known name, valid geometry, local disk at least {@code sizeBytes}, writable) before
 * anything is written, so those failures write nothing. A downloaded chunk whose content is not named by its digest,
 * a refusal by the server or a local I/O error stops the request at once: chunks before it stay written
 * (fsynced), nothing after it is written, later disks are not touched, and the outcome is Failed.
 *
 * <p>Single writer: the agent calls this from its one loop thread, after closing its replicators, and runs
 * no replication pass while a request is present.
 */
final class FailbackWriter {
    static final String RECORD_FILE = "failback.json";
    static final String COMPLETED = "Completed";
    static final String FAILED = "Failed";
    /** Digests per GET (the protocol's bound). */
    static final int DIGESTS_PER_CALL = 4096;
    /** Ranges per ledger journal batch when the written digests are recorded. */
    static final int LEDGER_BATCH_RANGES = 1 << 16;

    /** {@code failback.json}: the last request's outcome; {@code closed} once the server dropped the request. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Outcome(String requestId, String status, String message, long chunksWritten, long bytesWritten,
                   String finishedAt, boolean closed) {
        AgentClient.FailbackReport report() {
            return new AgentClient.FailbackReport(requestId, status, message, chunksWritten, bytesWritten);
        }

        Outcome closed(boolean value) {
            return new Outcome(requestId, status, message, chunksWritten, bytesWritten, finishedAt, value);
        }
    }

    /** Ends a request as Failed with a message for the server (and the user). */
    static final class FailedException extends Exception {
        FailedException(String message) {
            super(message);
        }
    }

    /** The server gave no answer even after retries: the request is tried again later, not failed. */
    static final class ServerUnreachableException extends IOException {
        ServerUnreachableException(String message, IOException cause) {
            super(message, cause);
        }
    }

    private record Plan(AgentClient.FailbackDisk disk, UUID diskId, DiskSource.Description local) {
    }

    private final AgentClient client;
    private final Retry retry;
    private final StateDir state;
    private final Clock clock;
    private final PrintStream out;
    private Outcome outcome;
    private boolean loaded;
    private boolean running;
    private long chunksWritten;
    private long bytesWritten;

    FailbackWriter(AgentClient client, Retry retry, StateDir state, Clock clock, PrintStream out) {
        this.client = client;
        this.retry = retry;
        this.state = state;
        this.clock = clock;
        this.out = out;
    }

    /** What heartbeat bodies carry: the recorded outcome while the server still asks; null otherwise. */
    AgentClient.FailbackReport report() throws IOException {
        Outcome last = outcome();
        return running || last == null || last.closed() ? null : last.report();
    }

    /** Whether the last request's recorded outcome is Completed. */
    boolean completed() throws IOException {
        Outcome last = outcome();
        return last != null && COMPLETED.equals(last.status());
    }

    /** The recorded outcome of the last request (null if none). */
    Outcome outcome() throws IOException {
        if (!loaded) {
            try {
                outcome = AgentClient.JSON.readValue(Files.readAllBytes(state.root().resolve(RECORD_FILE)),
                        Outcome.class);
            } catch (NoSuchFileException e) {
                outcome = null;
            } catch (IOException e) {
                // Written atomically, so this is damage from outside; forgetting it costs at most a redo, which
                // is a delta (the chunks already written match).
                System.err.println("secondsite agent: warning: ignoring unreadable " + RECORD_FILE + ": " + e.getMessage());
                outcome = null;
            }
            loaded = true;
        }
        return outcome;
    }

    /**
     * Acts on one heartbeat answer's {@code failback} (null when absent). Returns false when there is no
     * request: replicate as usual. Otherwise returns true and the caller must not replicate this cycle;
     * a request not seen before is carried out first ({@code stopReplication} runs before any disk is
     * opened, {@code tick} after every chunk, {@code reportNow} once the outcome is recorded).
     *
     * @throws Retry.StopRequested if the agent is stopping (nothing recorded)
     * @throws ServerUnreachableException if the server stayed unreachable (nothing recorded)
     */
    boolean handle(AgentClient.FailbackRequest request, Map<String, DiskSource.Description> disks,
                   Runnable stopReplication, Replicator.Tick tick, Replicator.Tick reportNow) throws IOException {
        Outcome last = outcome();
        if (request == null || request.requestId() == null || request.requestId().isEmpty()) {
            if (last != null && !last.closed()) {
                save(last.closed(true)); // the server has the outcome: stop reporting it
            }
            return false;
        }
        if (last != null && request.requestId().equals(last.requestId())) {
            if (last.closed()) {
                save(last.closed(false)); // asked again: report again, but never write again
            }
            return true;
        }
        stopReplication.run();
        running = true;
        chunksWritten = 0;
        bytesWritten = 0;
        Outcome result;
        try {
            String summary = write(request, disks, tick);
            result = outcome(request, COMPLETED, summary);
        } catch (FailedException e) {
            result = outcome(request, FAILED, e.getMessage());
        } catch (Retry.StopRequested | ServerUnreachableException e) {
            throw e;
        } catch (AgentApiException e) {
            result = outcome(request, FAILED, "the server refused: " + e.getMessage());
        } catch (IOException e) {
            result = outcome(request, FAILED, "local I/O error: " + Retry.describe(e));
        } catch (RuntimeException e) {
            // A malformed request (e.g. a null disk entry) must not end the agent or be retried forever.
            result = outcome(request, FAILED, "unexpected error: " + e);
        } finally {
            running = false;
        }
        save(result);
        out.println("secondsite agent: failback " + result.requestId() + " " + result.status().toLowerCase(Locale.ROOT)
                + ": " + result.message() + " (" + Plural.of(result.chunksWritten(), "chunk") + ", "
                + Plural.of(result.bytesWritten(), "byte") + " written)");
        try {
            reportNow.run();
        } catch (IOException e) {
            // The next heartbeat carries it.
        }
        return true;
    }

    private Outcome outcome(AgentClient.FailbackRequest request, String status, String message) {
        return new Outcome(request.requestId(), status, message, chunksWritten, bytesWritten,
                clock.instant().toString(), false);
    }

    private void save(Outcome value) throws IOException {
        AtomicFiles.write(state.root().resolve(RECORD_FILE),
                AgentClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(value));
        outcome = value;
        loaded = true;
    }

    // ---------------------------------------------------------------------------------------------

    private String write(AgentClient.FailbackRequest request, Map<String, DiskSource.Description> disks,
                         Replicator.Tick tick) throws IOException, FailedException {
        // Every disk is checked before any is written: a request that cannot be carried out writes nothing.
        List<Plan> plans = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (AgentClient.FailbackDisk disk : request.disks()) {
            plans.add(check(disk, disks, names));
        }
        List<String> done = new ArrayList<>();
        for (Plan plan : plans) {
            long before = chunksWritten;
            writeDisk(request.requestId(), plan, tick);
            done.add(plan.disk().name() + ": " + (chunksWritten - before) + " of "
                    + Math.ceilDiv(plan.disk().sizeBytes(), (long) plan.disk().chunkBytes()) + " chunks differed");
        }
        return done.isEmpty() ? "the request lists no disks" : "written back; " + String.join(", ", done);
    }

    private Plan check(AgentClient.FailbackDisk disk, Map<String, DiskSource.Description> disks, Set<String> names)
            throws IOException, FailedException {
        DiskSource.Description local = disks.get(disk.name());
        if (local == null) {
            throw new FailedException("this agent has no disk named '" + disk.name() + "' (it has "
                    + disks.keySet() + "); nothing was written");
        }
        if (!names.add(disk.name())) {
            throw new FailedException("disk '" + disk.name() + "' is listed twice; nothing was written");
        }
        UUID diskId;
        try {
            diskId = UUID.fromString(String.valueOf(disk.diskId()));
            new DiskGeometry(disk.sizeBytes(), disk.chunkBytes());
        } catch (IllegalArgumentException e) {
            throw new FailedException("disk '" + disk.name() + "': unusable diskId or geometry (" + e.getMessage()
                    + "); nothing was written");
        }
        long localBytes;
        try (DiskTarget target = DiskTarget.open(Path.of(local.path()))) {
            localBytes = target.sizeBytes();
        } catch (IOException | RuntimeException e) {
            throw new FailedException("cannot open disk '" + disk.name() + "' (" + local.path() + ") for writing: "
                    + e.getMessage() + "; nothing was written");
        }
        if (localBytes < disk.sizeBytes()) {
            throw new FailedException("disk '" + disk.name() + "' (" + local.path() + ") is " + localBytes
                    + " bytes, smaller than the " + disk.sizeBytes() + " bytes to write back; nothing was written");
        }
        return new Plan(disk, diskId, local);
    }

    private void writeDisk(String requestId, Plan plan, Replicator.Tick tick) throws IOException, FailedException {
        String name = plan.disk().name();
        long sizeBytes = plan.disk().sizeBytes();
        int chunkBytes = plan.disk().chunkBytes();
        long chunkCount = Math.ceilDiv(sizeBytes, (long) chunkBytes);
        DigestPages written = new DigestPages(chunkCount);
        byte[] buffer = new byte[chunkBytes];
        long localBytes;
        try (DiskTarget target = DiskTarget.open(Path.of(plan.local().path()));
             DiskLedger ledger = forgetLedger(plan, target.sizeBytes())) {
            localBytes = target.sizeBytes();
            for (long from = 0; from < chunkCount; from += DIGESTS_PER_CALL) {
                int count = (int) Math.min(DIGESTS_PER_CALL, chunkCount - from);
                List<String> digests = digests(requestId, plan, from, count);
                for (int k = 0; k < count; k++) {
                    long index = from + k;
                    byte[] expected = parseDigest(digests.get(k), name, index);
                    long offset = index * chunkBytes;
                    int length = (int) Math.min(chunkBytes, sizeBytes - offset);
                    target.read(offset, buffer, length);
                    Arrays.fill(buffer, length, chunkBytes, (byte) 0); // the last chunk hashes zero-padded
                    if (!holds(buffer, expected)) {
                        if (Arrays.equals(expected, DiskLedger.ZERO)) {
                            Arrays.fill(buffer, (byte) 0);
                        } else {
                            download(requestId, plan, index, length, expected, buffer);
                        }
                        target.write(offset, buffer, length);
                        chunksWritten++;
                        bytesWritten += length;
                    }
                    // What the ledger will record: ZERO for zeros, as the replicator and the recovery store do.
                    written.set(index, isZero(buffer) ? DiskLedger.ZERO : expected);
                    tick.run(); // per chunk: downloads can be slow, and heartbeats and stop must not wait
                }
            }
            target.flush(); // fsync: the content is durable before the ledger says the disk is the server's
            recordLedger(ledger, written, sizeBytes, localBytes);
        }
    }

    /**
     * Before the first write the disk's ledger becomes all-UNKNOWN (keeping its last acknowledged sequence):
     * if the failback never completes, nobody knows what the server's replica will be taken to hold, and
     * UNKNOWN makes any later replication resend everything, which is right whatever it holds.
     */
    private DiskLedger forgetLedger(Plan plan, long localBytes) throws IOException {
        Path dir = state.diskDir(plan.diskId());
        long lastAcked = 0;
        Optional<DiskLedger> old = DiskLedger.open(dir, plan.diskId());
        if (old.isPresent()) {
            lastAcked = old.get().lastAckedSequence();
            old.get().close();
        }
        if (plan.disk().nextSequence() != null && plan.disk().nextSequence() > 0) {
            // The server's replica is at this sequence and holds what is written now (its last reverse point), so
            // replication resumes from there with a delta instead of treating the jump as lost state.
            lastAcked = plan.disk().nextSequence() - 1;
        }
        // disk.json names the disk, so a later protection of it under another diskId cleans this up.
        state.saveDisk(new StateDir.DiskRecord(plan.diskId().toString(), plan.disk().name(), plan.local().path(),
                localBytes, plan.disk().chunkBytes()));
        return DiskLedger.create(dir, plan.diskId(), localBytes, plan.disk().chunkBytes(), lastAcked,
                DiskLedger.UNKNOWN);
    }

    /**
     * Records the written digests in fsynced journal batches (coalescing equal neighbours, mostly zero runs).
     * A crash half-way leaves the rest UNKNOWN: resent later, never trusted wrongly. On a local disk larger
     * than the server's, chunks past {@code sizeBytes} (and a last chunk shared with them) stay UNKNOWN.
     */
    private static void recordLedger(DiskLedger ledger, DigestPages written, long sizeBytes, long localBytes)
            throws IOException {
        long chunks = written.count();
        if (localBytes > sizeBytes && sizeBytes % ledger.chunkBytes() != 0) {
            chunks--;
        }
        List<DiskLedger.Range> batch = new ArrayList<>();
        long runStart = 0;
        for (long i = 1; i <= chunks; i++) {
            if (i < chunks && written.same(i, runStart)) {
                continue;
            }
            batch.add(new DiskLedger.Range(runStart, i - runStart, written.get(runStart)));
            runStart = i;
            if (batch.size() == LEDGER_BATCH_RANGES || i == chunks) {
                ledger.acknowledge(ledger.lastAckedSequence(), batch);
                batch = new ArrayList<>();
            }
        }
    }

    /** Whether the local chunk (zero-padded in {@code chunk}) already has the {@code expected} content. */
    private static boolean holds(byte[] chunk, byte[] expected) {
        if (Arrays.equals(expected, DiskLedger.ZERO)) {
            return isZero(chunk);
        }
        return Arrays.equals(ChunkDigest.of(chunk).toBytes(), expected);
    }

    /** Downloads chunk {@code index} into {@code buffer}, verified against {@code expected}. */
    private void download(String requestId, Plan plan, long index, int length, byte[] expected, byte[] buffer)
            throws IOException, FailedException {
        byte[] content = call("chunk " + index + " of failback disk " + plan.disk().name(),
                () -> client.failbackChunk(requestId, plan.diskId(), index));
        if (content.length != length) {
            throw new FailedException("disk '" + plan.disk().name() + "' chunk " + index + ": the server sent "
                    + content.length + " bytes, expected " + length + "; nothing after it was written");
        }
        System.arraycopy(content, 0, buffer, 0, length);
        Arrays.fill(buffer, length, buffer.length, (byte) 0);
        byte[] digest = ChunkDigest.of(buffer).toBytes();
        if (!Arrays.equals(digest, expected)) {
            throw new FailedException("disk '" + plan.disk().name() + "' chunk " + index + ": downloaded content has"
                    + " digest " + HexFormat.of().formatHex(digest) + ", the server's digest is "
                    + HexFormat.of().formatHex(expected) + "; not written, nor anything after it");
        }
    }

    private List<String> digests(String requestId, Plan plan, long from, int count)
            throws IOException, FailedException {
        AgentClient.FailbackDigests batch = call("digests of failback disk " + plan.disk().name(),
                () -> client.failbackDigests(requestId, plan.diskId(), from, count));
        if (batch.from() != from || batch.chunkBytes() != plan.disk().chunkBytes() || batch.digests() == null
                || batch.digests().size() != count) {
            throw new FailedException("disk '" + plan.disk().name() + "': asked for " + count + " digests from chunk "
                    + from + " of " + plan.disk().chunkBytes() + " bytes, the server answered " + (batch.digests() == null
                    ? 0 : batch.digests().size()) + " from " + batch.from() + " of " + batch.chunkBytes() + " bytes");
        }
        return batch.digests();
    }

    private static byte[] parseDigest(String hex, String disk, long index) throws FailedException {
        if (hex == null) {
            return DiskLedger.ZERO;
        }
        try {
            return ChunkDigest.parse(hex).toBytes();
        } catch (IllegalArgumentException e) {
            throw new FailedException("disk '" + disk + "' chunk " + index + ": " + e.getMessage());
        }
    }

    /** A server call with the agent's retries; no answer at all after them is {@link ServerUnreachableException}. */
    private <T> T call(String what, Retry.Call<T> call) throws IOException {
        try {
            return retry.call(what, call);
        } catch (AgentApiException | Retry.StopRequested e) {
            throw e;
        } catch (IOException e) {
            throw new ServerUnreachableException(what + ": " + Retry.describe(e), e);
        }
    }

    private static boolean isZero(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** The written digests: 32 bytes per chunk (as much as the ledger itself) in pages of 2^20 digests. */
    private static final class DigestPages {
        private static final int PAGE = 1 << 20;
        private final long count;
        private final byte[][] pages;

        DigestPages(long count) {
            this.count = count;
            this.pages = new byte[(int) Math.ceilDiv(count, (long) PAGE)][];
            for (int p = 0; p < pages.length; p++) {
                pages[p] = new byte[(int) Math.min(PAGE, count - (long) p * PAGE) * ChunkDigest.BYTES];
            }
        }

        long count() {
            return count;
        }

        void set(long index, byte[] digest) {
            System.arraycopy(digest, 0, pages[(int) (index / PAGE)], (int) (index % PAGE) * ChunkDigest.BYTES,
                    ChunkDigest.BYTES);
        }

        byte[] get(long index) {
            int at = (int) (index % PAGE) * ChunkDigest.BYTES;
            return Arrays.copyOfRange(pages[(int) (index / PAGE)], at, at + ChunkDigest.BYTES);
        }

        boolean same(long a, long b) {
            int atA = (int) (a % PAGE) * ChunkDigest.BYTES;
            int atB = (int) (b % PAGE) * ChunkDigest.BYTES;
            return Arrays.equals(pages[(int) (a / PAGE)], atA, atA + ChunkDigest.BYTES,
                    pages[(int) (b / PAGE)], atB, atB + ChunkDigest.BYTES);
        }
    }

    /** A local disk opened for reading and writing: an image through its format, or a block device raw. */
    interface DiskTarget extends Closeable {
        long sizeBytes();

        void read(long offset, byte[] dst, int length) throws IOException;

        void write(long offset, byte[] src, int length) throws IOException;

        /** Forces every write to stable storage. */
        void flush() throws IOException;

        static DiskTarget open(Path path) throws IOException {
            if (DiskSource.BlockDevice.is(path)) {
                long size;
                try (DiskSource.BlockDevice device = DiskSource.BlockDevice.open(path)) {
                    size = device.sizeBytes();
                }
                return new Device(FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE), size);
            }
            DiskImage image = DiskImages.open(path, true);
            return new DiskTarget() {
                @Override
                public long sizeBytes() {
                    return image.virtualSize();
                }

                @Override
                public void read(long offset, byte[] dst, int length) throws IOException {
                    image.readFully(offset, ByteBuffer.wrap(dst, 0, length));
                }

                @Override
                public void write(long offset, byte[] src, int length) throws IOException {
                    image.write(offset, ByteBuffer.wrap(src, 0, length));
                }

                @Override
                public void flush() throws IOException {
                    image.flush();
                }

                @Override
                public void close() throws IOException {
                    image.close();
                }
            };
        }
    }

    private record Device(FileChannel channel, long sizeBytes) implements DiskTarget {
        @Override
        public void read(long offset, byte[] dst, int length) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(dst, 0, length);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, offset + buffer.position()) < 0) {
                    throw new java.io.EOFException("device ended at " + (offset + buffer.position()));
                }
            }
        }

        @Override
        public void write(long offset, byte[] src, int length) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(src, 0, length);
            while (buffer.hasRemaining()) {
                channel.write(buffer, offset + buffer.position());
            }
        }

        @Override
        public void flush() throws IOException {
            channel.force(true);
        }

        @Override
        public void close() throws IOException {
            try (channel) {
                channel.force(true); // also what a failed request wrote before it stopped
            }
        }
    }
}
