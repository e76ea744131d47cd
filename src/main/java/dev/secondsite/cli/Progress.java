package dev.secondsite.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The progress of a long-running operation on stderr: {@code Create replication policy 'p1' ... InProgress (3s)}.
 * On a terminal the line is rewritten in place; otherwise a plain line is printed whenever the status
 * changes (and every 10 s while it does not), so logs stay short.
 */
final class Progress {
    private static final long QUIET_SECONDS = 10;
    private static final boolean STDERR_IS_TERMINAL = stderrIsTerminal();

    private final PrintWriter err;
    private final String label;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private String lastStatus;
    private long lastPrintedSeconds;
    private int lastWidth;

    Progress(PrintWriter err, String label) {
        this.err = err;
        this.label = label;
        this.terminal = STDERR_IS_TERMINAL;
    }

    long elapsedSeconds() {
        return (System.nanoTime() - start) / 1_000_000_000L;
    }

    void update(String status) {
        long seconds = elapsedSeconds();
        String line = label + " ... " + status + " (" + seconds + "s)";
        if (terminal) {
            err.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
            lastWidth = line.length();
            err.flush();
        } else if (!status.equals(lastStatus) || seconds - lastPrintedSeconds >= QUIET_SECONDS) {
            err.println(line);
            err.flush();
            lastPrintedSeconds = seconds;
        }
        lastStatus = status;
    }

    /** Ends the in-place line so whatever follows starts on a fresh one. */
    void finish() {
        if (terminal && lastWidth > 0) {
            err.println();
            err.flush();
            lastWidth = 0;
        }
    }

    /** Linux: fd 2 is a tty. Elsewhere: the JDK's own idea of an interactive console. */
    private static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception | LinkageError e) {
            java.io.Console console = System.console();
            return console != null && console.isTerminal();
        }
    }
}
