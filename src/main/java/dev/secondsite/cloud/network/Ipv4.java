package dev.secondsite.cloud.network;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * IPv4 addresses as unsigned 32-bit numbers held in a long, so ranges are plain arithmetic.
 * Only dotted-quad text is accepted, without leading zeros ("010.0.0.1" would be octal to some tools).
 */
public final class Ipv4 {
    private static final Pattern QUAD = Pattern.compile("^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})$");

    private Ipv4() {}

    /** The address, or empty when the text is not a dotted-quad IPv4 address. */
    public static Optional<Long> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = QUAD.matcher(text.strip());
        if (!m.matches()) {
            return Optional.empty();
        }
        long value = 0;
        for (int i = 1; i <= 4; i++) {
            String octet = m.group(i);
            if (octet.length() > 1 && octet.startsWith("0")) {
                return Optional.empty();
            }
            int v = Integer.parseInt(octet);
            if (v > 255) {
                return Optional.empty();
            }
            value = (value << 8) | v;
        }
        return Optional.of(value);
    }

    public static String format(long address) {
        return ((address >>> 24) & 0xff) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "."
                + (address & 0xff);
    }

    /** RFC 1918 private ranges: 10/8, 172.16/12, 192.168/16. */
    public static boolean isPrivate(long address) {
        return Cidr.of("10.0.0.0/8").contains(address) || Cidr.of("172.16.0.0/12").contains(address)
                || Cidr.of("192.168.0.0/16").contains(address);
    }
}
