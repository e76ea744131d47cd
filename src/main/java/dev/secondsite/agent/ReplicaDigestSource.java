package dev.secondsite.agent;

import java.io.IOException;
import java.util.Optional;
import java.util.UUID;

/**
 * Where a resync learns what the replica holds: {@code GET /agent/v1/disks/{diskId}/digests}
 * (agent-protocol §4a). With it a resync or full resend sends only the chunks whose digest differs.
 */
@FunctionalInterface
interface ReplicaDigestSource {
    /** The server cannot say (tests, or an older server without the endpoint): everything is sent. */
    ReplicaDigestSource NONE = (diskId, first, count) -> Optional.empty();

    /** Digests of chunks [first, first + count), or empty if the server does not offer them. */
    Optional<Page> fetch(UUID diskId, long first, int count) throws IOException;

    /**
     * One answer: {@code digests} holds 32 bytes per chunk from {@code first} (all zero: a ZERO chunk; all
     * 0xFF: unknown, which the ledger reads as "resend"), as of the replica after {@code appliedSequence}.
     */
    record Page(int chunkBytes, long appliedSequence, long nextSequence, long first, byte[] digests) {
    }
}
