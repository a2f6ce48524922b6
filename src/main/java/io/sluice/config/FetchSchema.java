package io.sluice.config;

import static io.sluice.config.Key.key;

import io.sluice.config.ConfigSchema.Section;
import io.sluice.config.SluiceConfig.FetchSettings;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/** A sync's {@code fetch} section: which services its function may call, and how much of them (docs/functions.md). */
final class FetchSchema {
    private FetchSchema() {}

    /** host, *.host, an IPv4 literal or a bracketed IPv6 literal, each optionally with :port. */
    private static final Pattern HOST_ENTRY = Pattern.compile(
            "(\\*\\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\\d{1,5})?|\\[[0-9a-f:.]+](:\\d{1,5})?");

    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

    static final Key<List<String>> ALLOW_HOSTS = key(
            "allowHosts",
            Kind.STRING_LIST,
            "",
            "Hosts the sync's function may fetch from: host, *.host (its subdomains) or host:port (only that port;"
                    + " without a port, 80 and 443). Empty: fetch is disabled. Loopback and private addresses only as"
                    + " listed literally (127.0.0.1:9000) or through allowPrivate.");
    static final Key<List<String>> METHODS_KEY =
            key("methods", Kind.STRING_LIST, "GET", "HTTP methods the function may use.");
    static final Key<Duration> TIMEOUT =
            key("timeout", Kind.DURATION, "2s", "Longest one call may take, redirects included.");
    static final Key<Duration> BATCH_TIMEOUT = key(
            "batchTimeout",
            Kind.DURATION,
            "30s",
            "Longest the function may wait on calls for one batch; then the batch waits and is retried (the service is too slow).");
    static final Key<Integer> CONCURRENCY = key(
            "concurrency",
            Kind.POSITIVE_INT,
            "16",
            "Calls in flight for this sync, over all its batches in this process.");
    static final Key<Long> MAX_RESPONSE_SIZE =
            key("maxResponseSize", Kind.SIZE, "1MB", "A larger response body fails the call (the event's failure).");
    static final Key<Integer> MAX_REDIRECTS =
            key("maxRedirects", Kind.POSITIVE_INT, "3", "Redirects followed per call, each only to an allowed host.");
    static final Key<List<Cidr>> ALLOW_PRIVATE = key(
            "allowPrivate",
            Kind.CIDR_LIST,
            "",
            "Private, loopback or link-local networks that allowed hosts may resolve to (e.g. 10.1.0.0/16 for an internal service).");
    static final Key<Duration> CACHE_TTL =
            key("ttl", Kind.DURATION, "0s", "How long GET responses are kept (per sync); 0s: no cache.");
    static final Key<Integer> CACHE_MAX_ENTRIES =
            key("maxEntries", Kind.POSITIVE_INT, "1000", "Most responses kept; the least recently used go first.");
    static final Section CACHE = Section.of("cache", CACHE_TTL, CACHE_MAX_ENTRIES);
    static final Section SECTION = Section.of(
            "fetch",
            ALLOW_HOSTS,
            METHODS_KEY,
            TIMEOUT,
            BATCH_TIMEOUT,
            CONCURRENCY,
            MAX_RESPONSE_SIZE,
            MAX_REDIRECTS,
            ALLOW_PRIVATE,
            CACHE);

    static FetchSettings read(Values v) {
        List<String> hosts =
                v.get(ALLOW_HOSTS).stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
        for (String host : hosts) {
            if (!HOST_ENTRY.matcher(host).matches())
                throw new ConfigException(
                        v.path(ALLOW_HOSTS),
                        "'" + host + "' is not a host, *.host or host:port (no scheme, path or other wildcard)");
        }
        List<String> methods =
                v.get(METHODS_KEY).stream().map(m -> m.toUpperCase(Locale.ROOT)).toList();
        for (String method : methods) {
            if (!METHODS.contains(method))
                throw new ConfigException(v.path(METHODS_KEY), "'" + method + "' is not one of " + METHODS);
        }
        Values cache = v.in(CACHE);
        FetchSettings fetch = new FetchSettings(
                hosts,
                methods,
                v.get(TIMEOUT),
                v.get(BATCH_TIMEOUT),
                v.get(CONCURRENCY),
                v.get(MAX_RESPONSE_SIZE),
                v.get(MAX_REDIRECTS),
                v.get(ALLOW_PRIVATE),
                cache.get(CACHE_TTL),
                cache.get(CACHE_MAX_ENTRIES));
        return fetch;
    }
}
