package io.sluice.privacy;

import io.sluice.config.SluiceConfig;
import io.sluice.privacy.PrivacyRequest.Target;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Taking a privacy request (CLI, admin API, console): checks it and stores it with the targets it must reach. A
 * deletion's destination targets are due {@link #SETTLE} after the request, once every worker has read the
 * request and discards the people's older events (workers refresh every {@link PrivacyExecutor#INTERVAL}), so no
 * batch delivered in between brings rows back.
 */
public final class PrivacyRequests {
    public static final Duration SETTLE = Duration.ofSeconds(5);

    private final PrivacyStore store;
    private final List<String> destinationIds;
    private final Clock clock;

    /** A request refused for its content (HTTP 400, CLI exit code 2). */
    public static final class Invalid extends IllegalArgumentException {
        public Invalid(String message) {
            super(message);
        }
    }

    public PrivacyRequests(PrivacyStore store, SluiceConfig config, Clock clock) {
        this.store = store;
        this.destinationIds = config.destinations().stream()
                .map(SluiceConfig.DestinationSettings::id)
                .toList();
        this.clock = clock;
    }

    public PrivacyStore store() {
        return store;
    }

    /**
     * Stores a request for these ids (duplicates count once).
     *
     * @param by  who asks (the audit's "who")
     * @param key the client's idempotency key, or null
     */
    public PrivacyStore.Created submit(String kindText, Collection<String> ids, String by, String key)
            throws SQLException {
        PrivacyKind kind = PrivacyKind.parse(kindText);
        if (kind == null) throw new Invalid("type must be suppress, unsuppress or delete, got '" + kindText + "'");
        if (ids == null || ids.isEmpty()) throw new Invalid("name at least one userId or anonymousId");
        if (ids.size() > PrivacyStore.MAX_IDS) {
            throw new Invalid("at most " + PrivacyStore.MAX_IDS + " ids per request, got " + ids.size()
                    + "; split the list into several requests");
        }
        Set<String> unique = new LinkedHashSet<>();
        for (String id : ids) {
            if (id == null || id.isEmpty()) throw new Invalid("ids must be non-empty strings");
            unique.add(id);
        }
        if (key != null && (key.isBlank() || key.length() > 200))
            throw new Invalid("an idempotency key has 1 to 200 characters");
        Instant now = clock.instant();
        List<PrivacyStore.NewTarget> targets = new ArrayList<>();
        if (kind == PrivacyKind.DELETE) {
            targets.add(new PrivacyStore.NewTarget(Target.QUEUE, now));
            for (String destination : destinationIds)
                targets.add(new PrivacyStore.NewTarget(Target.DESTINATION + destination, now.plus(SETTLE)));
        } else {
            targets.add(new PrivacyStore.NewTarget(Target.SUPPRESSION, now));
        }
        return store.create(kind, unique, by, key, now, targets);
    }
}
