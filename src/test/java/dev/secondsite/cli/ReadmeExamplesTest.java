package dev.secondsite.cli;

import dev.secondsite.Main;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's examples against the real CLI: its curl subscription is the CLI's, its commands parse. */
class ReadmeExamplesTest {
    private static final Pattern SH_BLOCK = Pattern.compile("```sh\\n(.*?)```", Pattern.DOTALL);
    /** What the examples' shell variables stand for, enough for the command line to parse. */
    private static final Map<String, String> VARIABLES = Map.of(
            "$AGENT", "./secondsite agent --once --server https://127.0.0.1:18643 --data-dir d --state-dir s --disk d",
            "$V", "-g rg-demo --vault vault-demo",
            "$D", "/tmp/demo",
            "$POINT", "p1",
            "...", "x");

    private static String readme() throws Exception {
        return Files.readString(Path.of("README.md"));
    }

    @Test
    void theCurlExampleUsesTheSubscriptionTheCliUses() throws Exception {
        Matcher s = Pattern.compile("(?m)^S=(\\S+)").matcher(readme());
        assertThat(s.find()).as("the curl example sets S").isTrue();
        assertThat(s.group(1)).isEqualTo(Profile.DEFAULT_SUBSCRIPTION);
    }

    @Test
    void everySecondsiteCommandInTheExamplesParses() throws Exception {
        List<String> lines = new ArrayList<>();
        Matcher block = SH_BLOCK.matcher(readme());
        while (block.find()) {
            for (String line : block.group(1).replace("\\\n", " ").split("\n")) {
                String command = line.replaceAll("\\s+#.*$", "").replaceAll("\\s*[>&].*$", "").strip();
                for (Map.Entry<String, String> v : VARIABLES.entrySet()) {
                    command = command.replace(v.getKey(), v.getValue());
                }
                if (command.startsWith("./secondsite ")) {
                    lines.add(command.substring("./secondsite ".length()));
                }
            }
        }
        assertThat(lines).hasSizeGreaterThan(20);
        for (String line : lines) {
            List<String> args = words(line);
            args.add("--help"); // checks option names and values without needing the required ones
            try {
                Main.commandLine().parseArgs(args.toArray(String[]::new));
            } catch (CommandLine.ParameterException e) {
                throw new AssertionError("README: secondsite " + line + ": " + e.getMessage(), e);
            }
        }
    }

    /** A command line's words; "..." and '...' quote. */
    private static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        Matcher m = Pattern.compile("\"([^\"]*)\"|'([^']*)'|(\\S+)").matcher(line);
        while (m.find()) {
            words.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
        }
        return words;
    }
}
