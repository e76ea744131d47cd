package dev.secondsite.cloud.network;

import dev.secondsite.arm.ArmException;

import java.util.List;

/**
 * An IPv4 CIDR block such as 10.0.0.0/16.
 *
 * @param base         the first address (host bits are zero)
 * @param prefixLength 0 to 32
 */
public record Cidr(long base, int prefixLength) {

    public Cidr {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length " + prefixLength);
        }
        if ((base & hostMask(prefixLength)) != 0) {
            throw new IllegalArgumentException(Ipv4.format(base) + "/" + prefixLength + " has host bits set");
        }
    }

    /** A known-good literal, e.g. {@code Cidr.of("10.0.0.0/8")}. */
    public static Cidr of(String text) {
        String[] parts = text.split("/");
        return new Cidr(Ipv4.parse(parts[0]).orElseThrow(), Integer.parseInt(parts[1]));
    }

    /**
     * Parses an address prefix of a request, with Azure's errors naming the field: InvalidAddressPrefixFormat
     * when it is not a.b.c.d/n, InvalidCIDRNotation when host bits are set (the message gives the right prefix),
     * InvalidAddressPrefix when the length is outside [minLength, maxLength].
     */
    public static Cidr parse(String text, String field, int minLength, int maxLength) {
        String t = text == null ? "" : text.strip();
        int slash = t.indexOf('/');
        var address = slash < 0 ? java.util.Optional.<Long>empty() : Ipv4.parse(t.substring(0, slash));
        String length = slash < 0 ? "" : t.substring(slash + 1);
        if (address.isEmpty() || !length.matches("\\d{1,2}") || Integer.parseInt(length) > 32) {
            throw error(400, "InvalidAddressPrefixFormat", field, "Address prefix '" + text
                    + "' is not formatted correctly: use an IPv4 CIDR block such as 10.0.0.0/16.");
        }
        int prefix = Integer.parseInt(length);
        long base = address.get() & networkMask(prefix);
        if (base != address.get()) {
            throw error(400, "InvalidCIDRNotation", field, "The address prefix " + t + " has an invalid CIDR notation. "
                    + "For the given prefix length, the address prefix should be " + Ipv4.format(base) + "/" + prefix + ".");
        }
        if (prefix < minLength || prefix > maxLength) {
            throw error(400, "InvalidAddressPrefix", field, "Address prefix " + t + " is not supported: the prefix length "
                    + "must be between /" + minLength + " and /" + maxLength + ".");
        }
        return new Cidr(base, prefix);
    }

    public long size() {
        return 1L << (32 - prefixLength);
    }

    public long last() {
        return base + size() - 1;
    }

    public boolean contains(long address) {
        return address >= base && address <= last();
    }

    public boolean contains(Cidr other) {
        return other.base >= base && other.last() <= last();
    }

    public boolean overlaps(Cidr other) {
        return base <= other.last() && other.base <= last();
    }

    /** Azure reserves the first four addresses and the last one of every subnet prefix. */
    public long firstUsable() {
        return base + 4;
    }

    public long lastUsable() {
        return last() - 1;
    }

    public long usableCount() {
        return Math.max(0, lastUsable() - firstUsable() + 1);
    }

    public boolean isReserved(long address) {
        return contains(address) && (address < firstUsable() || address > lastUsable());
    }

    @Override
    public String toString() {
        return Ipv4.format(base) + "/" + prefixLength;
    }

    /** The first prefix of the list that contains the address, or null. */
    public static Cidr containing(List<Cidr> prefixes, long address) {
        for (Cidr c : prefixes) {
            if (c.contains(address)) {
                return c;
            }
        }
        return null;
    }

    private static long hostMask(int prefix) {
        return (1L << (32 - prefix)) - 1;
    }

    private static long networkMask(int prefix) {
        return 0xffffffffL & ~hostMask(prefix);
    }

    static ArmException error(int status, String code, String field, String message) {
        return new ArmException(status, code, message + " (field '" + field + "')", field, List.of());
    }
}
