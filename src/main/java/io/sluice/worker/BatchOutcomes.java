package io.sluice.worker;

import io.sluice.config.SluiceConfig.WorkerSettings;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.delivery.Failures;
import io.sluice.destination.DeliveryReport;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.FencedException;
import io.sluice.queue.QueueStore;
import io.sluice.retry.RetryPolicy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records how a claimed batch ended — done, retried later, or dead — every update fenced by owner and epoch. A
 * failed batch follows its destination's {@link RetryPolicy}; a database hiccup while recording is retried within
 * half a lease (so nobody else can hold the batch meanwhile), by the same policy type.
 */
final class BatchOutcomes {
    private static final Logger log = LoggerFactory.getLogger(BatchOutcomes.class);
    /** The destination's reasons for not taking an event: unreachable, unresponsive, backpressure, never sent. */
    private static final Set<FailureClass> DESTINATION_FAILURES = EnumSet.of(
            FailureClass.UNREACHABLE, FailureClass.UNRESPONSIVE, FailureClass.BACKPRESSURE, FailureClass.NOT_SENT);
    /** See {@link #rest}. */
    static final int ROUNDS_WITHOUT_PROGRESS = 3;

    private final QueueStore store;
    private final Map<String, String> destinationOfSync;
    private final Map<String, RetryPolicy> policies;
    private final RetryPolicy recording;
    private final RetryPolicy workerDefaults;
    private final Predicate<ClaimedBatch> fenced;
    private final WorkerMetrics metrics;
    private final Clock clock;

    BatchOutcomes(
            QueueStore store,
            Map<String, String> destinationOfSync,
            Map<String, RetryPolicy> policies,
            WorkerSettings settings,
            Predicate<ClaimedBatch> fenced,
            WorkerMetrics metrics,
            Clock clock) {
        this.store = store;
        this.destinationOfSync = destinationOfSync;
        this.policies = policies;
        this.workerDefaults = RetryPolicies.workerDefaults(settings);
        Duration halfLease = settings.leaseDuration().dividedBy(2);
        this.recording = new RetryPolicy(
                Duration.ofMillis(100), maxOf(Duration.ofMillis(100), halfLease.dividedBy(4)), 8, halfLease);
        this.fenced = fenced;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** The batch failed as a whole: retry it later or move it to the dead batches. Never throws. */
    void failed(ClaimedBatch batch, DeliveryException failure) {
        failed(batch, failure, null);
    }

    /**
     * The destination failed some of the batch's events retriably (see {@link BatchDelivery.Outcome#retryBy()}): the
     * batch waits as its row for the rest, and what it handed to the retry queue or the dead letters is written with
     * it. Never throws.
     */
    void retryRest(ClaimedBatch batch, BatchDelivery.Outcome outcome) {
        Instant now = clock.instant();
        DeliveryReport.EventFailure by = outcome.retryBy();
        String error = Worker.describe(by.error());
        Instant next = policyOf(batch).nextAttempt(Math.max(1, outcome.attempts()), by.retryAfter(), now);
        long inMillis = Duration.between(now, next).toMillis();
        int delivered = outcome.events().size();
        if (by.error().usesAttempt() && delivered == 0) {
            log.warn("{} failed (retriable), retrying in {} ms: {}", batch, inMillis, error);
        } else {
            // Held back, or partly delivered: the destination logs its own state changes, once each.
            log.debug("{}: {} delivered, the rest retried in {} ms: {}", batch, delivered, inMillis, error);
        }
        recordOrAbandon(batch, "the retry", () -> {
            record(
                    batch,
                    () -> store.retryRest(
                            batch,
                            next,
                            error,
                            now,
                            outcome.attempts(),
                            outcome.settled(),
                            outcome.toRetry(),
                            outcome.dead()));
            metrics.retried(batch.syncId());
        });
    }

    /** What becomes of the rest of a batch whose events the destination failed retriably: see {@link #rest}. */
    enum Rest {
        /** The batch waits as its row, the rest to be sent by its next attempt. */
        WAIT,
        /** The events that failed on their own go to the retry queue; the batch waits with those held behind them. */
        PARK_FAILED,
        /** Every failed event goes to the retry queue or, once it used up its attempts, the dead letters. */
        PER_EVENT
    }

    /**
     * Whether a batch whose events the destination failed retriably waits as its one row (its successors behind it,
     * so per-user order holds) for another attempt with the rest, rather than parking those events one by one in the
     * retry queue, which puts a queue-database row per event and every later event of those users behind them.
     *
     * <p>It waits, unless the policy is exhausted (then per event, each a replayable dead letter when its attempts are
     * used up). One exception: when the destination answered with an error, {@link #ROUNDS_WITHOUT_PROGRESS}
     * attempts in a row settled nothing, and the destination {@code takesMost} of what it is sent, the events that
     * failed are likely ones it will never take: they go to the retry queue, so one user's bad event stops holding
     * up the other users of its sync and partition. A destination that takes nothing keeps its batches as rows.
     */
    static Rest rest(
            RetryPolicy policy,
            ClaimedBatch batch,
            DeliveryException decisive,
            int attempts,
            Instant now,
            boolean takesMost) {
        if (policy.exhausted(attempts, batch.createdAt(), now)) return Rest.PER_EVENT;
        if (DESTINATION_FAILURES.contains(decisive.failureClass()) || attempts < ROUNDS_WITHOUT_PROGRESS)
            return Rest.WAIT;
        return takesMost ? Rest.PARK_FAILED : Rest.WAIT;
    }

    /** The failure that decides a batch's retry: one that uses up an attempt if any did, else the longest Retry-After. */
    static DeliveryReport.EventFailure decisive(List<DeliveryReport.EventFailure> failures) {
        return failures.stream()
                .filter(f -> f.error().usesAttempt())
                .findFirst()
                .orElseGet(() -> failures.stream()
                        .max(Comparator.comparing(f -> f.retryAfter() == null ? Duration.ZERO : f.retryAfter()))
                        .orElseThrow());
    }

    /** The batch's attempts once {@code failure} is recorded: backpressure and unsent give the claim's attempt back. */
    static int attemptsAfter(ClaimedBatch batch, DeliveryException failure) {
        return attemptsAfter(batch, failure, false);
    }

    /**
     * As {@link #attemptsAfter(ClaimedBatch, DeliveryException)}; when the attempt {@code progressed} (settled some of
     * the rest), the count starts again from it: the attempts of a row count the tries of what is left.
     */
    static int attemptsAfter(ClaimedBatch batch, DeliveryException failure, boolean progressed) {
        if (progressed) return failure.usesAttempt() ? 1 : 0;
        return failure.usesAttempt() ? batch.attempts() : batch.attempts() - 1;
    }

    /**
     * Retries (after the backoff, or the destination's {@code retryAfter} if later) or dead-letters a failed batch.
     * Backpressure and requests never sent give the claim's attempt back: only {@code retry.maxAge} bounds them.
     */
    private void failed(ClaimedBatch batch, DeliveryException failure, Duration retryAfter) {
        Instant now = clock.instant();
        String error = Worker.describe(failure);
        RetryPolicy policy = policyOf(batch);
        boolean counts = failure.usesAttempt();
        int attempts = attemptsAfter(batch, failure);
        boolean exhausted = policy.exhausted(attempts, batch.createdAt(), now);
        recordOrAbandon(batch, "the failure", () -> {
            if (failure.isRetriable() && !exhausted) {
                Instant next = policy.nextAttempt(Math.max(1, attempts), retryAfter, now);
                long inMillis = Duration.between(now, next).toMillis();
                if (counts) {
                    log.warn("{} failed (retriable), retrying in {} ms: {}", batch, inMillis, error);
                } else {
                    // Held back, not failed: the destination logs its own state changes, once each.
                    log.debug("{} held back, retrying in {} ms: {}", batch, inMillis, error);
                }
                record(batch, () -> store.retryLater(batch, next, error, now, counts));
                metrics.retried(batch.syncId());
            } else {
                log.error(
                        "{} failed {}; moved to dead letters: {}",
                        batch,
                        failure.isRetriable() ? "too often" : "permanently",
                        error);
                record(batch, () -> store.deadLetter(batch, error, now));
                metrics.deadLettered(batch.syncId());
            }
        });
    }

    /**
     * Runs {@code recording} (which records {@code what} of a held batch); a batch taken over is abandoned, and one
     * the queue database would not take is left to its lease, after which it is retried. Never throws.
     */
    private static void recordOrAbandon(ClaimedBatch batch, String what, SqlAction recording) {
        try {
            recording.run();
        } catch (FencedException e) {
            log.warn("Abandoning {}: {}", batch, e.getMessage());
        } catch (Exception e) {
            log.warn(
                    "Could not record {} of {} ({}); its lease will expire and it will be retried",
                    what,
                    batch,
                    Failures.describeQueueDatabaseFailure(e));
        }
    }

    /** Runs a state change of a held batch, retrying database hiccups; a fenced batch is refused at once. */
    void record(ClaimedBatch batch, SqlAction action) throws Exception {
        recordReturning(batch, () -> {
            action.run();
            return null;
        });
    }

    /** As {@link #record(ClaimedBatch, SqlAction)}, for a state change that returns something (a batch handed on). */
    <T> T recordReturning(ClaimedBatch batch, SqlCall<T> call) throws Exception {
        return recording.call(
                clock,
                RetryPolicy.Sleeper.THREAD,
                e -> !(e instanceof FencedException) && Failures.isRetriable(e),
                attempt -> {
                    if (fenced.test(batch)) throw new FencedException(batch + " lost its lease");
                    return call.run();
                });
    }

    private RetryPolicy policyOf(ClaimedBatch batch) {
        String destination = destinationOfSync.get(batch.syncId());
        RetryPolicy policy = destination == null ? null : policies.get(destination);
        return policy != null ? policy : workerDefaults; // a sync no longer configured: its failure is permanent anyway
    }

    private static Duration maxOf(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    @FunctionalInterface
    interface SqlAction {
        void run() throws Exception;
    }

    @FunctionalInterface
    interface SqlCall<T> {
        T run() throws Exception;
    }
}
