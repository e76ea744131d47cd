package dev.secondsite.rules;

import java.util.Objects;

/**
 * A network adapter of a protected VM.
 *
 * @param ipv4Address the guest's IPv4 address, or null when it has none yet
 * @param ipv6        the guest uses IPv6 on this adapter
 * @param teamed      the adapter is part of a NIC team inside the guest
 */
public record NicFacts(String name, String ipv4Address, boolean ipv6, boolean teamed) {
    public NicFacts {
        Objects.requireNonNull(name, "name");
    }

    public static NicFacts ipv4(String name, String address) {
        return new NicFacts(name, address, false, false);
    }

    /** Automatic Private IP Addressing: the guest gave itself 169.254.0.0/16 because no DHCP answered. */
    public boolean apipa() {
        return ipv4Address != null && ipv4Address.strip().startsWith("169.254.");
    }
}
