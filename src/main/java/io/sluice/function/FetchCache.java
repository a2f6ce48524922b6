package io.sluice.function;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A sync's cache of GET responses ({@code fetch.cache}): at most {@code maxEntries}, each for {@code ttl}, the least
 * recently used dropped first, so a hot lookup (the same CRM record for every event of a user) calls the service
 * once per ttl. Only answers that say something about the resource are kept (2xx, 404, 410): never a failure.
 */
final class FetchCache {
    private record Stored(FetchClient.Response response, Instant expires) {}

    private final Duration ttl;
    private final Clock clock;
    private final Map<String, Stored> entries;

    FetchCache(Duration ttl, int maxEntries, Clock clock) {
        this.ttl = ttl;
        this.clock = clock;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Stored> eldest) {
                return size() > maxEntries;
            }
        };
    }

    static boolean cacheable(FetchClient.Request request, FetchClient.Response response) {
        int s = response.status();
        return request.method().equals("GET") && ((s >= 200 && s < 300) || s == 404 || s == 410);
    }

    synchronized FetchClient.Response get(String key) {
        Stored stored = entries.get(key);
        if (stored == null) return null;
        if (!clock.instant().isBefore(stored.expires())) {
            entries.remove(key);
            return null;
        }
        return stored.response();
    }

    synchronized void put(String key, FetchClient.Response response) {
        entries.put(key, new Stored(response, clock.instant().plus(ttl)));
    }

    synchronized int size() {
        return entries.size();
    }
}
