package io.sluice.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.Destination;
import io.sluice.function.FunctionFailure;
import io.sluice.function.FunctionResult;
import io.sluice.function.Functions;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterKind;
import io.sluice.queue.RetryEvent;
import io.sluice.queue.RetryStore;
import io.sluice.queue.SyncFilter;
import io.sluice.retry.RetryPolicy;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What happens to one claimed batch between the claim and its completion: read back from Kafka, the sync's function,
 * events of users still waiting in the retry queue queued behind them, delivery, and the sorting of single-event
 * failures into retries and dead letters by the destination's {@link RetryPolicy}. Whole-batch failures are thrown.
 */
final class BatchDelivery {
    private static final Set<FailureClass> DESTINATION_FAILURES = EnumSet.of(
            FailureClass.UNREACHABLE, FailureClass.UNRESPONSIVE, FailureClass.BACKPRESSURE, FailureClass.NOT_SENT);
    private final Map<String, SyncSettings> syncs;
    private final Map<String, SyncFilter> filters;
    private final Map<String, Destination> destinations;
    private final Map<String, RetryPolicy> policies;
    private final Functions functions;
    private final RetryStore retries;
    private final BatchReader reader;
    private final Clock clock;

    /**
     * What a delivered batch leaves behind, completed in one transaction; or, when {@code deferredBy} is not null, the
     * failure that decides the retry of a batch the destination refused altogether (see {@link #refusedAltogether}),
     * which is retried as a whole and leaves nothing behind.
     */
    record Outcome(
            SyncSettings sync,
            List<ObjectNode> events,
            List<RetryEvent> toRetry,
            List<DeadLetter> dead,
            DeliveryReport.EventFailure deferredBy) {}

    BatchDelivery(
            List<SyncSettings> syncs,
            Map<String, Destination> destinations,
            Map<String, RetryPolicy> policies,
            Functions functions,
            RetryStore retries,
            BatchReader reader,
            Clock clock) {
        this.syncs = syncs.stream().collect(Collectors.toUnmodifiableMap(SyncSettings::id, Function.identity()));
        this.filters = syncs.stream().collect(Collectors.toUnmodifiableMap(SyncSettings::id, SyncFilter::new));
        this.destinations = destinations;
        this.policies = policies;
        this.functions = functions;
        this.retries = retries;
        this.reader = reader;
        this.clock = clock;
    }

    Map<String, SyncSettings> syncs() {
        return syncs;
    }

    Outcome deliver(ClaimedBatch batch) throws Exception {
        SyncSettings sync = syncs.get(batch.syncId());
        if (sync == null)
            throw DeliveryException.permanent("sync " + batch.syncId() + " is no longer configured", null);
        List<ObjectNode> events = reader.read(batch, filters.get(sync.id()));
        Destination destination = destinations.get(sync.destination());
        List<RetryEvent> toRetry = new ArrayList<>();
        List<DeadLetter> dead = new ArrayList<>();
        if (functions != null && sync.hasFunction()) {
            FunctionResult transformed = functions.apply(sync.id(), events);
            for (FunctionFailure failure : transformed.failures()) {
                dead.add(DeadLetter.of(
                        sync.id(), failure.event(), DeadLetterKind.FUNCTION, failure.error(), null, 1, batch.id()));
            }
            events = transformed.output();
        }
        List<ObjectNode> now = queueBehindWaitingUsers(sync, destination, events, toRetry);
        DeliveryReport report = destination.deliver(new DeliveryBatch(
                sync.id(), sync.source(), batch.id(), batch.partition(), batch.firstOffset(), batch.lastOffset(), now));
        Instant at = clock.instant();
        RetryPolicy policy = policies.get(sync.destination());
        if (refusedAltogether(now, report)) {
            DeliveryReport.EventFailure decisive = BatchOutcomes.decisive(report.failures());
            // Unless waiting as a whole would exhaust the batch: then its events take the retry queue and dead
            // letters one by one, which keep each event and can be replayed (a dead batch cannot).
            if (!policy.exhausted(BatchOutcomes.attemptsAfter(batch, decisive.error()), batch.createdAt(), at))
                return new Outcome(sync, events, List.of(), List.of(), decisive);
        }
        for (DeliveryReport.EventFailure failure : report.failures()) {
            if (failure.error().isRetriable()) {
                // Backpressure, an open circuit and events held behind another are parked without using up an attempt.
                int attempts = failure.error().usesAttempt() ? 1 : 0;
                toRetry.add(RetryEvent.of(
                        sync.id(),
                        failure.event(),
                        attempts,
                        RetryChains.nextAttempt(policy, failure, attempts, at),
                        at,
                        Worker.describe(failure.error()),
                        failure.statusCode()));
            } else {
                dead.add(DeadLetter.of(
                        sync.id(),
                        failure.event(),
                        DeadLetterKind.DELIVERY,
                        Worker.describe(failure.error()),
                        failure.statusCode(),
                        1,
                        batch.id()));
            }
        }
        return new Outcome(sync, events, toRetry, dead, null);
    }

    /**
     * True when the destination took none of the events it was sent, each for a reason that is the destination's, not
     * the event's: unreachable, unresponsive, backpressure, or never sent (circuit open, Retry-After, slots busy).
     * Then the batch row waits as a whole (its successors behind it, so per-user order holds) instead of parking each
     * event in the retry queue: per-event rows would put one queue-database row per event on a destination that takes
     * nothing, and every later event of those users behind them, so its catch-up would go one event at a time through
     * the database. Responsive errors (a 5xx answer) stay per event, retried with backoff: that is the event's failure
     * until the error rate opens the circuit. What the batch left for the retry queue or dead letters (users already
     * waiting, function failures) is decided again when it is retried.
     */
    private static boolean refusedAltogether(List<ObjectNode> sent, DeliveryReport report) {
        if (sent.isEmpty() || report.failures().size() < sent.size()) return false;
        return report.failures().stream()
                .allMatch(f -> DESTINATION_FAILURES.contains(f.error().failureClass()));
    }

    /**
     * For destinations that fail single events: events of users who still have events in the retry queue are queued
     * behind them (per-user order); the rest are returned for delivery now.
     */
    private List<ObjectNode> queueBehindWaitingUsers(
            SyncSettings sync, Destination destination, List<ObjectNode> events, List<RetryEvent> toRetry)
            throws Exception {
        if (retries == null || !destination.deliversEventByEvent() || events.isEmpty()) return events;
        Set<String> waiting = retries.waitingUsers(
                sync.id(), events.stream().map(RetryEvent::userKey).collect(Collectors.toSet()));
        if (waiting.isEmpty()) return events;
        Instant now = clock.instant();
        List<ObjectNode> deliverNow = new ArrayList<>();
        for (ObjectNode event : events) {
            if (waiting.contains(RetryEvent.userKey(event))) {
                toRetry.add(RetryEvent.of(
                        sync.id(), event, 0, now, now, "waiting behind an earlier event of the same user", null));
            } else {
                deliverNow.add(event);
            }
        }
        return deliverNow;
    }
}
