package io.sluice.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterKind;
import io.sluice.queue.QueueStore;
import io.sluice.queue.RetryEvent;
import io.sluice.queue.SyncCounts;
import io.sluice.queue.SyncCounts.Column;
import io.sluice.worker.DeliveryDecision.Dead;
import io.sluice.worker.DeliveryDecision.WaitAsRow;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/**
 * The worker's part of the delivery accounting ({@link SyncCounts}, docs/console.md): what each recorded outcome
 * did, counted only once it is recorded (an abandoned, fenced claim counts nothing; its new owner counts), and
 * added to the queue database by {@link #flush} once per heartbeat, in one transaction for everything gathered.
 */
final class DeliveryTallies {
    private final SyncCounts counts = new SyncCounts();
    private final QueueStore store;

    /** @param store where the counts are added; null: nothing is kept */
    DeliveryTallies(QueueStore store) {
        this.store = store;
    }

    /** A batch's recorded outcome. */
    void batch(BatchDelivery.Outcome outcome, Instant now) {
        String sync = outcome.sync().id();
        delivered(sync, outcome.delivered(), now);
        counts.add(sync, now, Column.FUNCTION_DROPPED, outcome.functionDrops());
        counts.add(sync, now, Column.DISCARDED, outcome.privacyDiscards());
        DeliveryException whole = null;
        switch (outcome.decision()) {
            case WaitAsRow wait
            when wait.wholeBatch() -> {
                if (wait.countsAttempt())
                    failed(sync, classOf(wait.reason()), outcome.stay().size(), now);
            }
            case Dead dead -> whole = dead.reason(); // why its dead letters failed
            default -> {}
        }
        deadLettered(sync, outcome.dead(), whole, now);
        for (RetryEvent retry : outcome.toRetry()) {
            if (retry.attempts() > 0) failed(sync, classOf(retry.statusCode(), null), 1, now); // not those queued
        }
    }

    /**
     * A batch recorded dead by {@link OutcomeFallback} because its outcome could not be recorded: what it delivered,
     * dropped and discarded, and its {@code dead} undelivered events as dead-lettered (the outcome's own decision was
     * never recorded, so it counts nothing else).
     */
    void fallback(String sync, BatchDelivery.Outcome outcome, int dead, Instant now) {
        delivered(sync, outcome.delivered(), now);
        counts.add(sync, now, Column.FUNCTION_DROPPED, outcome.functionDrops());
        counts.add(sync, now, Column.DISCARDED, outcome.privacyDiscards());
        counts.add(sync, now, Column.DEAD_LETTERED, dead);
    }

    /** A retry chain's recorded outcome. */
    void chain(String sync, List<ObjectNode> delivered, List<DeadLetter> dead, Instant now) {
        delivered(sync, delivered, now);
        deadLettered(sync, dead, null, now);
    }

    /** A retry chain's failed attempt at one event (it stays in the retry queue, or became a dead letter). */
    void chainFailure(String sync, Integer statusCode, DeliveryException error, Instant now) {
        failed(sync, classOf(statusCode, error), 1, now);
    }

    /** The events' count and latencies, gathered per batch: one tally update, not one per event. */
    private void delivered(String sync, List<ObjectNode> events, Instant now) {
        if (events.isEmpty()) return;
        counts.add(sync, now, Column.DELIVERED, events.size());
        long[] perBucket = new long[SyncCounts.LATENCY_BOUNDS_MS.length + 1];
        long nowMillis = now.toEpochMilli();
        boolean any = false;
        for (ObjectNode event : events) {
            long at = WorkerMetrics.receivedAtMicros(event);
            if (at == WorkerMetrics.NO_TIME) continue;
            perBucket[SyncCounts.bucketOf(Math.max(0, nowMillis - Math.floorDiv(at, 1000)))]++;
            any = true;
        }
        if (any) counts.latencies(sync, now, perBucket);
    }

    private void deadLettered(String sync, List<DeadLetter> dead, DeliveryException why, Instant now) {
        counts.add(sync, now, Column.DEAD_LETTERED, dead.size());
        for (DeadLetter letter : dead) {
            if (letter.kind() == DeadLetterKind.DELIVERY) failed(sync, classOf(letter.statusCode(), why), 1, now);
        }
    }

    private void failed(String sync, Column column, int events, Instant now) {
        if (column != null) counts.add(sync, now, column, events);
    }

    /** 4xx and 5xx by the destination's status; without one, by the failure's class (null: not a failure). */
    static Column classOf(Integer statusCode, DeliveryException error) {
        if (statusCode != null) return statusCode >= 500 ? Column.FAILED_5XX : Column.FAILED_4XX;
        return error == null ? Column.FAILED_NETWORK : classOf(error);
    }

    static Column classOf(DeliveryException error) {
        FailureClass failure = error.failureClass();
        return switch (failure) {
            case NOT_SENT -> null;
            case RESPONSIVE_ERROR, BACKPRESSURE -> Column.FAILED_5XX;
            case PERMANENT, EVENT_DATA, CONFLICT -> Column.FAILED_4XX;
            case UNREACHABLE, UNRESPONSIVE, INTERNAL -> Column.FAILED_NETWORK;
        };
    }

    /** Adds what was gathered to the queue database; on failure it is kept for the next flush. */
    void flush() throws SQLException {
        if (store != null) store.addCounts(counts);
    }
}
