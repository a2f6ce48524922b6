package io.sluice.privacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.event.IsoTimestamps;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ids of every deletion request with the request's time, in memory for the worker (refreshed from the queue
 * database by {@link PrivacyExecutor}). The worker discards an event read back for delivery whose {@code userId} or
 * {@code anonymousId} was deleted by a request made at or after the event's {@code receivedAt}: deleted data is not
 * delivered again, by live batches, retries of batches, backfills or replays. Discards are counted
 * ({@code sluice_worker_privacy_discarded_events_total}) and logged with the reason.
 */
public final class ErasedUsers {
    private static final Logger log = LoggerFactory.getLogger(ErasedUsers.class);
    public static final String REASON = "deleted by privacy request";
    /** How far back a refresh looks again for requests committed after a later-numbered one. */
    private static final Duration LATE_COMMITS = Duration.ofMinutes(1);

    private final Map<String, Instant> deletedAt = new ConcurrentHashMap<>();
    private final Map<String, Counter> discarded = new ConcurrentHashMap<>();
    private final MeterRegistry registry;
    private final Clock clock;
    private volatile long lastRequestId;

    public ErasedUsers(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
    }

    /** Reads the deletions made since the last refresh. */
    void refresh(PrivacyStore store) throws SQLException {
        long last = lastRequestId;
        for (PrivacyStore.Deletion d : store.deletions(last, clock.instant().minus(LATE_COMMITS))) {
            deletedAt.merge(d.userId(), d.requestedAt(), (a, b) -> a.isAfter(b) ? a : b);
            last = Math.max(last, d.requestId());
        }
        lastRequestId = last;
    }

    /** When this id was last deleted, or null. */
    public Instant deletedAt(String id) {
        return deletedAt.get(id);
    }

    /** The events to deliver: those of deleted people, received at or before their deletion, are discarded. */
    public List<ObjectNode> keep(String syncId, List<ObjectNode> events) {
        if (deletedAt.isEmpty() || events.isEmpty()) return events;
        List<ObjectNode> kept = null;
        for (int i = 0; i < events.size(); i++) {
            ObjectNode event = events.get(i);
            if (erased(event)) {
                if (kept == null) kept = new ArrayList<>(events.subList(0, i));
            } else if (kept != null) {
                kept.add(event);
            }
        }
        if (kept == null) return events;
        int count = events.size() - kept.size();
        discarded
                .computeIfAbsent(
                        syncId,
                        s -> Counter.builder("sluice.worker.privacy.discarded.events")
                                .description("Events not delivered: " + REASON)
                                .tag("sync", s)
                                .register(registry))
                .increment(count);
        log.info("Sync {}: discarded {} event(s), {}", syncId, count, REASON);
        return kept;
    }

    private boolean erased(ObjectNode event) {
        Instant at = deletedAtOrNull(text(event.get("userId")));
        Instant anonymous = deletedAtOrNull(text(event.get("anonymousId")));
        if (at == null || (anonymous != null && anonymous.isAfter(at))) at = anonymous;
        if (at == null) return false;
        Instant received = receivedAt(event.get("receivedAt"));
        return received == null || !received.isAfter(at);
    }

    private Instant deletedAtOrNull(String id) {
        return id == null ? null : deletedAt.get(id);
    }

    private static String text(JsonNode node) {
        if (node == null || node.isNull() || !node.isValueNode()) return null;
        String text = node.asText();
        return text.isEmpty() ? null : text;
    }

    private static Instant receivedAt(JsonNode node) {
        if (node == null || !node.isTextual()) return null;
        Instant common = IsoTimestamps.parseCommon(node.textValue());
        if (common != null) return common;
        try {
            return Instant.parse(node.textValue());
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
