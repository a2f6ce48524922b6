package io.sluice.queue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Puts dead letters back into normal delivery, in chunks: each chunk moves to the retry queue and is marked
 * replayed in one transaction, so an interrupted replay can simply be run again. Shared by the CLI and admin API.
 */
public final class DeadLetterReplay {
    private static final int CHUNK = 500;

    private final DeadLetterStore deadLetters;
    private final RetryStore retries;
    private final Clock clock;

    public DeadLetterReplay(DeadLetterStore deadLetters, RetryStore retries, Clock clock) {
        this.deadLetters = deadLetters;
        this.retries = retries;
        this.clock = clock;
    }

    /**
     * Replays the dead letters selected by ids (if any) or by sync and time, calling {@code progress} with the running
     * total after each chunk. Returns how many were replayed.
     */
    public int replay(String syncId, Instant since, List<Long> ids, IntConsumer progress) throws Exception {
        int total = 0;
        if (ids != null && !ids.isEmpty()) {
            for (int i = 0; i < ids.size(); i += CHUNK) {
                List<DeadLetter> chunk = deadLetters.byIds(ids.subList(i, Math.min(ids.size(), i + CHUNK))).stream()
                        .filter(d -> d.replayedAt() == null).toList();
                retries.replay(chunk, clock.instant());
                total += chunk.size();
                progress.accept(total);
            }
            return total;
        }
        while (true) {
            List<DeadLetter> chunk = deadLetters.list(syncId, since, false, CHUNK);
            if (chunk.isEmpty()) return total;
            retries.replay(chunk, clock.instant());
            total += chunk.size();
            progress.accept(total);
        }
    }

    /** "2026-05-01T10:00:00Z" or a look-back such as "2h" or "30m". */
    public static Instant parseSince(String text, Clock clock) {
        if (text == null || text.isBlank()) return null;
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException notAnInstant) {
            String t = text.trim().toLowerCase(java.util.Locale.ROOT);
            try {
                return clock.instant().minus(t.endsWith("d") ? Duration.ofDays(Long.parseLong(t.substring(0, t.length() - 1)))
                        : Duration.parse("PT" + t.toUpperCase(java.util.Locale.ROOT)));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("--since must be an ISO instant (2026-05-01T10:00:00Z) or a look-back such as 2h, got '" + text + "'");
            }
        }
    }
}
