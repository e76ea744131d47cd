package dev.secondsite.rules;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Windows Server or System Center Virtual Machine Manager release, in release order. Both product lines
 * share the year naming ("2012 R2", "2019"), which is all the seed-002 tables compare.
 */
public enum ServerRelease {
    R2008("2008"), R2008_R2("2008 R2"), R2012("2012"), R2012_R2("2012 R2"), R2016("2016"),
    R2019("2019"), R2022("2022"), R2025("2025");

    private static final Pattern RELEASE = Pattern.compile("\\b(2008|2012|2016|2019|2022|2025)(\\s*R2)?\\b");

    private final String label;

    ServerRelease(String label) {
        this.label = label;
    }

    public String label() { return label; }

    /** Finds the release in a product name: "Windows Server 2012 R2 Datacenter" → R2012_R2. */
    public static Optional<ServerRelease> parse(String productName) {
        if (productName == null) return Optional.empty();
        Matcher m = RELEASE.matcher(productName.toUpperCase(Locale.ROOT));
        if (!m.find()) return Optional.empty();
        String label = m.group(1) + (m.group(2) != null ? " R2" : "");
        for (ServerRelease r : values()) {
            if (r.label.equals(label)) return Optional.of(r);
        }
        return Optional.empty();
    }
}
