package dev.secondsite.agent;

import java.io.IOException;

/**
 * The server answered, and refused: an HTTP error status with the ARM error body's code and message.
 * Distinct from a plain {@link IOException} (no answer at all), which is worth retrying.
 */
final class AgentApiException extends IOException {
    private final int status;
    private final String code;
    private final String serverMessage;

    AgentApiException(int status, String code, String serverMessage) {
        super("HTTP " + status + " " + code + ": " + serverMessage);
        this.status = status;
        this.code = code;
        this.serverMessage = serverMessage;
    }

    int status() {
        return status;
    }

    /** The ARM error code, e.g. {@code SequenceGap}; {@code "HttpStatus" + status} if the body had none. */
    String code() {
        return code;
    }

    String serverMessage() {
        return serverMessage;
    }

    /** Worth retrying unchanged later: the server is busy, restarting or out of cache space. */
    boolean transientFailure() {
        return status >= 500 || status == 429 || status == 408;
    }
}
