package io.sluice.collector;

import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SourceSettings;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Write key → source, held in memory so that the request path never waits on a database. Lookup goes by the
 * SHA-256 of the key and ends with a constant-time comparison, so response timing reveals nothing about keys.
 */
public final class Sources {
    private final Map<String, SourceSettings> byKeyDigest;

    public Sources(List<SourceSettings> sources) {
        this.byKeyDigest =
                sources.stream().collect(Collectors.toUnmodifiableMap(SourceSettings::writeKeyDigest, s -> s));
    }

    /** The source for this write key, or null. */
    public SourceSettings authenticate(String writeKey) {
        if (writeKey == null || writeKey.isEmpty()) return null;
        String digest = SluiceConfig.sha256Hex(writeKey);
        SourceSettings candidate = byKeyDigest.get(digest);
        byte[] expected = candidate == null ? new byte[0] : candidate.writeKey().getBytes(StandardCharsets.UTF_8);
        boolean equal = MessageDigest.isEqual(expected, writeKey.getBytes(StandardCharsets.UTF_8));
        return candidate != null && equal ? candidate : null;
    }
}
