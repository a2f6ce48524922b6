package io.sluice.worker;

import io.sluice.config.SluiceConfig.WorkerSettings;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.Failures;
import io.sluice.function.DependencyFailure;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.Completion;
import io.sluice.queue.FencedException;
import io.sluice.queue.QueueStore;
import io.sluice.retry.RetryPolicy;
import io.sluice.worker.DeliveryDecision.Claim;
import io.sluice.worker.DeliveryDecision.Dead;
import io.sluice.worker.DeliveryDecision.Decision;
import io.sluice.worker.DeliveryDecision.Rules;
import io.sluice.worker.DeliveryDecision.WaitAsRow;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records what {@link DeliveryDecision} decided for a claimed batch — done (and the next batch handed on), waiting as
 * its row, or dead with every undelivered event a dead letter — every update fenced by owner and epoch. A database
 * hiccup while recording is retried within half a lease (so nobody else can hold the batch meanwhile); an outcome
 * the queue database refuses for its events' content is recorded dead instead ({@link OutcomeFallback}), so a batch
 * never reruns forever because of what it carries.
 */
final class BatchOutcomes {
    private static final Logger log = LoggerFactory.getLogger(BatchOutcomes.class);

    private final QueueStore store;
    private final Map<String, String> destinationOfSync;
    private final Map<String, RetryPolicy> policies;
    private final RetryPolicy recording;
    private final RetryPolicy workerDefaults;
    private final HeldBatches held;
    private final Duration lease;
    private final WorkerMetrics metrics;
    private final Clock clock;
    private final CompletionGroups completions;

    BatchOutcomes(
            QueueStore store,
            Map<String, String> destinationOfSync,
            Map<String, RetryPolicy> policies,
            WorkerSettings settings,
            HeldBatches held,
            WorkerMetrics metrics,
            Clock clock) {
        this.store = store;
        this.destinationOfSync = destinationOfSync;
        this.policies = policies;
        this.workerDefaults = RetryPolicies.workerDefaults(settings);
        Duration halfLease = settings.leaseDuration().dividedBy(2);
        this.recording = new RetryPolicy(
                Duration.ofMillis(100), maxOf(Duration.ofMillis(100), halfLease.dividedBy(4)), 8, halfLease);
        this.held = held;
        this.lease = settings.leaseDuration();
        this.metrics = metrics;
        this.clock = clock;
        this.completions = new CompletionGroups(store, held::size, lease, CompletionGroups.WINDOW);
    }

    /**
     * The batch could not be delivered because something before the destination failed (reading it back, a sync no
     * longer configured, a service its function calls): the decision on the whole-batch failure is recorded, not
     * earlier than a called service's Retry-After. Never throws.
     */
    void failed(ClaimedBatch batch, DeliveryException failure) {
        Instant now = clock.instant();
        Claim claim = Claim.batch(batch.attempts(), batch.createdAt(), 0, DeliveryDecision.PROMPT_CONFLICT_RETRIES);
        Decision decision = DeliveryDecision.ofFailure(
                claim, failure, DependencyFailure.retryAfter(failure, now), new Rules(policyOf(batch), true), now);
        record(batch, new BatchDelivery.Outcome(null, decision, List.of(), List.of(), List.of(), List.of(), null), 0);
    }

    /**
     * Records {@code outcome}; a finished batch is completed and, when {@code handOnRun} is above 0, up to that many of
     * the sync's next due batches are claimed in the same transaction and returned. Never throws: a batch taken over is abandoned, one whose outcome
     * the queue database would not take is left to its lease (or recorded dead when its content is why).
     */
    Recorded record(ClaimedBatch batch, BatchDelivery.Outcome outcome, int handOnRun) {
        Instant now = clock.instant();
        try {
            switch (outcome.decision()) {
                case WaitAsRow wait -> {
                    waitAsRow(batch, outcome, wait, now);
                    return Recorded.DONE;
                }
                case Dead dead -> {
                    String error = Worker.describe(dead.reason());
                    log.error(
                            "{} failed {}; its {} undelivered events moved to dead letters: {}",
                            batch,
                            dead.reason().isRetriable() ? "too often" : "permanently",
                            outcome.dead().size(),
                            error);
                    retryingHiccups(
                            batch, () -> store.deadLetter(batch, error, now, outcome.toRetry(), outcome.dead()));
                    metrics.deadLettered(batch.syncId());
                    return Recorded.DONE;
                }
                default -> {
                    // Grouped with the completions of other partitions that finish at about the same time.
                    Completion completion =
                            new Completion(batch, now, outcome.toRetry(), outcome.dead(), Math.max(0, handOnRun));
                    Optional<ClaimedBatch> next = recordReturning(batch, () -> completions.complete(completion));
                    return new Recorded(true, next.orElse(null));
                }
            }
        } catch (FencedException e) {
            log.warn("Abandoning {}: {}", batch, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            new OutcomeFallback(store, clock, metrics).recordDeadInstead(batch, outcome, e, this::retryingHiccups);
        }
        return Recorded.NOT;
    }

    /** Whether the outcome was recorded as decided, and the batch handed on with it (or null). */
    record Recorded(boolean recorded, ClaimedBatch handedOn) {
        static final Recorded DONE = new Recorded(true, null);
        static final Recorded NOT = new Recorded(false, null);
    }

    private void waitAsRow(ClaimedBatch batch, BatchDelivery.Outcome outcome, WaitAsRow wait, Instant now)
            throws Exception {
        String error = Worker.describe(wait.reason());
        long inMillis = Duration.between(now, wait.nextAttempt()).toMillis();
        if (wait.countsAttempt() && outcome.delivered().isEmpty()) {
            log.warn("{} failed (retriable), retrying in {} ms: {}", batch, inMillis, error);
        } else {
            // Held back, or partly delivered: the destination logs its own state changes, once each.
            log.debug(
                    "{}: {} delivered, the rest retried in {} ms: {}",
                    batch,
                    outcome.delivered().size(),
                    inMillis,
                    error);
        }
        if (wait.wholeBatch()) {
            retryingHiccups(batch, () -> store.retryLater(batch, wait.nextAttempt(), error, now, wait.countsAttempt()));
        } else {
            retryingHiccups(
                    batch,
                    () -> store.retryRest(
                            batch,
                            wait.nextAttempt(),
                            error,
                            now,
                            wait.attempts(),
                            outcome.settled(),
                            outcome.toRetry(),
                            outcome.dead()));
        }
        metrics.retried(batch.syncId());
    }

    /** Runs a state change of a held batch, retrying database hiccups; a fenced batch is refused at once. */
    void retryingHiccups(ClaimedBatch batch, SqlAction action) throws Exception {
        recordReturning(batch, () -> {
            action.run();
            return null;
        });
    }

    /** As {@link #retryingHiccups}, for a state change that returns something (a batch handed on). */
    <T> T recordReturning(ClaimedBatch batch, SqlCall<T> call) throws Exception {
        return recording.call(
                clock,
                RetryPolicy.Sleeper.THREAD,
                e -> !(e instanceof FencedException) && Failures.isRetriable(e),
                attempt -> {
                    if (held.isFenced(batch)) throw new FencedException(batch + " lost its lease");
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
