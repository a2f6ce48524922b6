package io.sluice.config;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * Where a new sync's live lane starts planning a partition it has no position for (key {@code syncs[].startFrom}):
 * the oldest retained event, the end of the topic when the planner first takes the partition, or the first event
 * published at or after an instant. Once a position is recorded it is kept; earlier history is a backfill's job
 * (docs/replay.md).
 */
public record StartFrom(Instant at, boolean latest) {
    public static final StartFrom EARLIEST = new StartFrom(null, false);
    public static final StartFrom LATEST = new StartFrom(null, true);

    public static StartFrom parse(String raw) {
        String text = raw.strip();
        if (text.isEmpty() || text.equals("earliest")) return EARLIEST;
        if (text.equals("latest")) return LATEST;
        try {
            return new StartFrom(Instant.parse(text), false);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("must be earliest, latest or an ISO-8601 instant such as "
                    + "2026-05-01T00:00:00Z, not '" + raw + "'");
        }
    }

    public boolean earliest() {
        return at == null && !latest;
    }

    @Override
    public String toString() {
        return latest ? "latest" : at == null ? "earliest" : at.toString();
    }
}
