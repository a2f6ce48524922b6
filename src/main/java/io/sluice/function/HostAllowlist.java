package io.sluice.function;

import io.sluice.config.Cidr;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Which URLs a sync's function may fetch ({@code fetch.allowHosts}) and which addresses they may resolve to. An
 * entry is {@code host}, {@code *.host} (its subdomains, not itself) or either with {@code :port}; without a port,
 * only 80 (http) and 443 (https). Loopback, private, link-local and unspecified addresses are refused unless the
 * entry that allowed the URL is that very address (e.g. {@code 127.0.0.1:9000}, not {@code localhost}) or the address lies in
 * {@code fetch.allowPrivate}: the check runs on every address the host resolves to, at connection time
 * ({@link FetchClient}'s resolver), so neither DNS nor a redirect can lead a call elsewhere.
 */
final class HostAllowlist {
    /** One allowlist entry; {@code port} -1: 80 and 443. */
    record Entry(String text, String host, boolean wildcard, int port) {
        boolean matches(String candidateHost, int candidatePort) {
            boolean hostMatches = wildcard ? candidateHost.endsWith("." + host) : candidateHost.equals(host);
            return hostMatches && (port < 0 ? candidatePort == 80 || candidatePort == 443 : candidatePort == port);
        }
    }

    private final List<Entry> entries;
    private final List<Cidr> allowPrivate;

    HostAllowlist(List<String> allowHosts, List<Cidr> allowPrivate) {
        this.entries = allowHosts.stream().map(HostAllowlist::parse).toList();
        this.allowPrivate = List.copyOf(allowPrivate);
    }

    static Entry parse(String text) {
        String entry = text.toLowerCase(Locale.ROOT);
        int port = -1;
        int colon = entry.lastIndexOf(':');
        if (colon > 0 && entry.indexOf(']') < colon) {
            port = Integer.parseInt(entry.substring(colon + 1));
            entry = entry.substring(0, colon);
        }
        if (entry.startsWith("[") && entry.endsWith("]")) entry = entry.substring(1, entry.length() - 1);
        boolean wildcard = entry.startsWith("*.");
        return new Entry(text, wildcard ? entry.substring(2) : entry, wildcard, port);
    }

    /** The entry that allows this URL (http or https, no user info), or null. */
    Entry match(URI url) {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) return null;
        if (url.getRawUserInfo() != null || url.getHost() == null) return null;
        String host = hostOf(url);
        int port = portOf(url);
        for (Entry entry : entries) {
            if (entry.matches(host, port)) return entry;
        }
        return null;
    }

    /** Whether a connection to {@code host:port} may go to {@code address}. */
    boolean permitsAddress(String host, int port, InetAddress address) {
        if (!isInternal(address)) return true;
        for (Cidr network : allowPrivate) {
            if (network.contains(address)) return true;
        }
        String literal = address.getHostAddress().toLowerCase(Locale.ROOT);
        int zone = literal.indexOf('%');
        if (zone > 0) literal = literal.substring(0, zone);
        for (Entry entry : entries) {
            // an entry written as this very address (127.0.0.1:9000) is the operator's explicit permission
            if (!entry.wildcard()
                    && isLiteral(entry.host())
                    && sameAddress(entry.host(), literal)
                    && entry.matches(host, port)) return true;
        }
        return false;
    }

    /** Loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local, CGNAT (100.64/10), unspecified, multicast. */
    static boolean isInternal(InetAddress address) {
        if (address.isLoopbackAddress()
                || address.isSiteLocalAddress()
                || address.isLinkLocalAddress()
                || address.isAnyLocalAddress()
                || address.isMulticastAddress()) return true;
        byte[] b = address.getAddress();
        if (address instanceof Inet6Address) return (b[0] & 0xfe) == 0xfc; // unique local fc00::/7
        return (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64; // carrier-grade NAT 100.64.0.0/10
    }

    static String hostOf(URI url) {
        String host = url.getHost().toLowerCase(Locale.ROOT);
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    static int portOf(URI url) {
        if (url.getPort() >= 0) return url.getPort();
        return "https".equalsIgnoreCase(url.getScheme()) ? 443 : 80;
    }

    private static boolean isLiteral(String host) {
        return host.matches("[0-9.]+") || host.contains(":");
    }

    private static boolean sameAddress(String entryHost, String literal) {
        if (entryHost.equals(literal)) return true;
        try {
            // both are literals: no DNS lookup (IPv6 spellings differ: ::1 and 0:0:0:0:0:0:0:1)
            return InetAddress.getByName(entryHost).equals(InetAddress.getByName(literal));
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    List<Entry> entries() {
        return entries;
    }
}
