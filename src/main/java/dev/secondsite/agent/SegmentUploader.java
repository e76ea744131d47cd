package dev.secondsite.agent;

import java.io.IOException;
import java.util.UUID;

/** Where a pass sends its sealed segments: {@code PUT /agent/v1/disks/{diskId}/segments/{sequence}}. */
@FunctionalInterface
interface SegmentUploader {
    /**
     * Uploads one sealed segment and returns only once the server has acknowledged it (201, or 200 for a
     * sequence it already holds): the acknowledgement point after which the agent may forget the changes.
     * Returns the acknowledging HTTP status.
     *
     * @throws AgentApiException the server refused it (e.g. 409 SequenceGap, 404 UnknownDisk)
     * @throws IOException no acknowledgement could be obtained (retries exhausted or stopping)
     */
    int upload(UUID diskId, long sequence, byte[] segment, int length) throws IOException;

    /** Told after an acknowledged segment was recorded in the ledger (logging, crash tests). */
    @FunctionalInterface
    interface Acknowledged {
        Acknowledged NONE = (diskId, sequence, length, status) -> { };

        void recorded(UUID diskId, long sequence, int length, int status) throws IOException;
    }
}
