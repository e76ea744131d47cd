package dev.secondsite.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A job as stored: an ASR job record and the state of the long-running operation that started it.
 * {@code tasks} and {@code errors} are the ASR JSON arrays, kept as they are shown.
 */
public record Job(String id, String vaultId, String scenario, String friendlyName, String targetId,
                  String targetName, String targetType, JobState state, String stateDescription, ObjectNode input,
                  ArrayNode tasks, ArrayNode errors, String resultId, boolean cancelRequested, String createdBy,
                  long createdAt, Long startTime, Long endTime, int attempts) {

    public String armId() {
        return vaultId + "/replicationJobs/" + id;
    }
}
