package dev.secondsite.cli;

/**
 * A failure the CLI reports as one line on stderr ({@code secondsite: <message>}) and an exit code,
 * never as a stack trace.
 */
final class CliException extends RuntimeException {
    static final int API_ERROR = 1;
    static final int USAGE = 2;
    static final int CONNECTION = 3;
    static final int NOT_LOGGED_IN = 4;

    private final int exitCode;

    CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }

    /** An ARM error: {@code <code>: <message>}, exit code 1. */
    static CliException api(String code, String message) {
        return new CliException(API_ERROR, code + ": " + message);
    }

    static CliException usage(String message) {
        return new CliException(USAGE, message);
    }

    static CliException notLoggedIn(String message) {
        return new CliException(NOT_LOGGED_IN, message);
    }

    static CliException connection(String message) {
        return new CliException(CONNECTION, message);
    }
}
