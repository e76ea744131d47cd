package dev.secondsite.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secondsite.Main;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Runs `secondsite …` commands in this JVM, as picocli parses them, with a profile of the test's own. */
public final class CliRunner {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONFIG_PROPERTY = "secondsite.config";

    private CliRunner() {}

    /** What one command did: exit code, stdout, stderr. */
    public record Run(int exit, String out, String err) {
        public JsonNode json() throws Exception {
            return JSON.readTree(out);
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** One command; only what it writes to picocli's writers is captured. */
    public static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** One command; System.out/err are captured too (the agent and server print there). */
    public static Run runCapturingSystemStreams(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ByteArrayOutputStream sysOut = new ByteArrayOutputStream();
        ByteArrayOutputStream sysErr = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        synchronized (CliRunner.class) {
            System.setOut(new PrintStream(sysOut, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(sysErr, true, StandardCharsets.UTF_8));
            try {
                CommandLine cli = Main.commandLine();
                cli.setOut(new PrintWriter(out, true));
                cli.setErr(new PrintWriter(err, true));
                int exit = cli.execute(args);
                return new Run(exit, out + sysOut.toString(StandardCharsets.UTF_8),
                        err + sysErr.toString(StandardCharsets.UTF_8));
            } finally {
                System.setOut(oldOut);
                System.setErr(oldErr);
            }
        }
    }

    /**
     * Points the CLI at {@code profile} (so `login` does not touch the user's own) and returns the setting it
     * replaced, for {@link #restoreProfile}.
     */
    public static String useProfile(Path profile) {
        String previous = System.getProperty(CONFIG_PROPERTY);
        System.setProperty(CONFIG_PROPERTY, profile.toString());
        return previous;
    }

    /** Puts back what {@link #useProfile} replaced. */
    public static void restoreProfile(String previous) {
        if (previous == null) {
            System.clearProperty(CONFIG_PROPERTY);
        } else {
            System.setProperty(CONFIG_PROPERTY, previous);
        }
    }
}
