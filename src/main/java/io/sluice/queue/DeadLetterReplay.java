package io.sluice.queue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.db.WritePermits;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Puts dead letters back into normal delivery, in chunks: each chunk moves to the retry queue and is marked
 * replayed in one transaction, so an interrupted replay can simply be run again. Shared by the CLI and admin API.
 */
public final class DeadLetterReplay {
    private static final int CHUNK = 500;

    /** A sync's function applied to one event: its outputs (none: dropped), or an exception saying why it failed. */
    @FunctionalInterface
    public interface Transform {
        List<ObjectNode> apply(String syncId, ObjectNode event) throws Exception;
    }

    private final DeadLetterStore deadLetters;
    private final RetryStore retries;
    private final Clock clock;
    private final Transform transform;

    /** @param transform runs a sync's (current) function, for dead letters that failed in it; null: none configured */
    public DeadLetterReplay(DeadLetterStore deadLetters, RetryStore retries, Clock clock, Transform transform) {
        this.deadLetters = deadLetters;
        this.retries = retries;
        this.clock = clock;
        this.transform = transform;
    }

    /**
     * What a replay did: {@code rerun} dead letters were put back into delivery or, for those that failed in the
     * sync's function, run through it again; {@code failedAgain} of those failed in their function again at once and
     * stay dead letters (attempts counted up). {@code ids}: the dead letters rerun, in order (at most
     * {@link #MAX_IDS}), to follow what becomes of them ({@link DeadLetterSummary#outcome}).
     */
    public record Result(int rerun, int failedAgain, List<Long> ids) {
        public int handedBack() {
            return rerun - failedAgain;
        }
    }

    /** At most this many ids are returned by {@link #run}. */
    public static final int MAX_IDS = 10_000;

    /**
     * Replays the dead letters selected by ids (if any) or by sync and time, calling {@code progress} with the running
     * total after each chunk. Returns how many were rerun (handed back, or run through their function again).
     */
    public int replay(String syncId, Instant since, List<Long> ids, IntConsumer progress) throws Exception {
        return run(syncId, since, ids, progress).rerun();
    }

    /** As {@link #replay}, saying how many failed again at once and which were rerun. */
    public Result run(String syncId, Instant since, List<Long> ids, IntConsumer progress) throws Exception {
        Tally tally = new Tally();
        if (ids != null && !ids.isEmpty()) {
            for (int i = 0; i < ids.size(); i += CHUNK) {
                replayChunk(
                        deadLetters.byIds(ids.subList(i, Math.min(ids.size(), i + CHUNK))).stream()
                                .filter(d -> d.replayedAt() == null)
                                .toList(),
                        tally);
                progress.accept(tally.rerun);
            }
            return tally.result();
        }
        Set<Long> seen = new HashSet<>(); // a letter that fails in its function again comes back unreplayed
        while (true) {
            List<DeadLetter> chunk = deadLetters.list(syncId, since, false, CHUNK).stream()
                    .filter(d -> seen.add(d.id()))
                    .toList();
            if (chunk.isEmpty()) return tally.result();
            replayChunk(chunk, tally);
            progress.accept(tally.rerun);
        }
    }

    private static final class Tally {
        int rerun;
        int failedAgain;
        final List<Long> ids = new ArrayList<>();

        void rerun(DeadLetter letter) {
            rerun++;
            if (ids.size() < MAX_IDS) ids.add(letter.id());
        }

        Result result() {
            return new Result(rerun, failedAgain, List.copyOf(ids));
        }
    }

    private void replayChunk(List<DeadLetter> chunk, Tally tally) throws Exception {
        // One permit for the whole chunk: the process counts as writing until the chunk is over, and a paused gate
        // refuses the chunk before anything of it is written (WriteHeldException: nothing replayed, run again later).
        try (var permit = retries.gate().enter(WritePermits.Work.NEW)) {
            replayChunkAdmitted(chunk, tally);
        }
    }

    private void replayChunkAdmitted(List<DeadLetter> chunk, Tally tally) throws Exception {
        List<DeadLetter> plain = new ArrayList<>();
        for (DeadLetter letter : chunk) {
            if (transform == null || letter.kind() != DeadLetterKind.FUNCTION) {
                plain.add(letter);
                continue;
            }
            List<ObjectNode> outputs;
            try {
                outputs = transform.apply(letter.syncId(), letter.event());
            } catch (Exception e) {
                deadLetters.add(
                        List.of(DeadLetter.of(
                                letter.syncId(),
                                letter.event(),
                                DeadLetterKind.FUNCTION,
                                e.getMessage(),
                                null,
                                1,
                                letter.batchId())),
                        clock.instant());
                tally.rerun(letter); // rerun, and failed again: still a dead letter, one attempt more
                tally.failedAgain++;
                continue;
            }
            retries.replayTransformed(letter, outputs, clock.instant());
            tally.rerun(letter);
        }
        retries.replay(plain, clock.instant());
        plain.forEach(tally::rerun);
    }

    /** "2026-05-01T10:00:00Z" or a look-back such as "2h" or "30m". */
    public static Instant parseSince(String text, Clock clock) {
        if (text == null || text.isBlank()) return null;
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException notAnInstant) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            try {
                return clock.instant()
                        .minus(
                                t.endsWith("d")
                                        ? Duration.ofDays(Long.parseLong(t.substring(0, t.length() - 1)))
                                        : Duration.parse("PT" + t.toUpperCase(Locale.ROOT)));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        "--since must be an ISO instant (2026-05-01T10:00:00Z) or a look-back such as 2h, got '" + text
                                + "'");
            }
        }
    }
}
