package io.sluice.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 network in CIDR notation, used to decide which proxies' X-Forwarded-For to believe. */
public record Cidr(byte[] network, int prefixLength, String text) {

    public static Cidr parse(String text) {
        String[] parts = text.split("/", 2);
        if (!looksLikeAddress(parts[0]))
            throw new IllegalArgumentException("'" + text + "' is not a CIDR such as 10.0.0.0/8");
        byte[] address;
        try {
            address = InetAddress.getByName(parts[0]).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR such as 10.0.0.0/8");
        }
        int maxBits = address.length * 8;
        int prefix;
        try {
            prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : maxBits;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' has a bad prefix length");
        }
        if (prefix < 0 || prefix > maxBits)
            throw new IllegalArgumentException("'" + text + "' has a bad prefix length");
        return new Cidr(address, prefix, text);
    }

    /** Only literal addresses: never trigger a DNS lookup while parsing configuration. */
    private static boolean looksLikeAddress(String s) {
        return s.matches("[0-9.]+") || (s.contains(":") && s.matches("[0-9a-fA-F:.]+"));
    }

    public boolean contains(InetAddress candidate) {
        byte[] bytes = candidate.getAddress();
        if (bytes.length != network.length) return false;
        int fullBytes = prefixLength / 8;
        for (int i = 0; i < fullBytes; i++) {
            if (bytes[i] != network[i]) return false;
        }
        int rest = prefixLength % 8;
        if (rest == 0) return true;
        int mask = (0xff << (8 - rest)) & 0xff;
        return (bytes[fullBytes] & mask) == (network[fullBytes] & mask);
    }

    @Override
    public String toString() {
        return text;
    }
}
