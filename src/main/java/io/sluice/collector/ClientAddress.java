package io.sluice.collector;

import io.sluice.config.Cidr;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * The client's IP: the connection's peer, unless that peer is a trusted proxy, in which case X-Forwarded-For is
 * read from the right, skipping trusted proxies, and the first untrusted hop is the client.
 */
final class ClientAddress {
    private final List<Cidr> trustedProxies;

    ClientAddress(List<Cidr> trustedProxies) {
        this.trustedProxies = trustedProxies;
    }

    String resolve(String peer, String forwardedFor) {
        if (trustedProxies.isEmpty() || forwardedFor == null || !isTrusted(peer)) return peer;
        String[] hops = forwardedFor.split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = hops[i].trim();
            if (hop.isEmpty()) continue;
            if (!isTrusted(hop)) return hop;
        }
        return peer;
    }

    private boolean isTrusted(String address) {
        InetAddress parsed = literal(address);
        if (parsed == null) return false;
        for (Cidr cidr : trustedProxies) {
            if (cidr.contains(parsed)) return true;
        }
        return false;
    }

    /** Parses only IP literals, so a forged header can never trigger a DNS lookup. */
    private static InetAddress literal(String address) {
        if (address == null || !(address.matches("[0-9.]+") || address.matches("[0-9a-fA-F:.]+"))) return null;
        try {
            return InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
