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
import io.sluice.queue.SettledEvents;
import io.sluice.queue.SyncFilter;
import io.sluice.retry.RetryPolicy;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What happens to one claimed batch between the claim and its completion: read back from Kafka, the sync's function,
 * events of users still waiting in the retry queue queued behind them, delivery, and what the failures leave: a batch
 * with events the destination failed retriably waits as its one row for the rest ({@link BatchOutcomes#rest});
 * otherwise its failed events go to the retry queue and the dead letters by the destination's {@link RetryPolicy}.
 * Whole-batch failures are thrown.
 */
final class BatchDelivery {
    private final Map<String, SyncSettings> syncs;
    private final Map<String, SyncFilter> filters;
    private final Map<String, Destination> destinations;
    private final Map<String, RetryPolicy> policies;
    private final Functions functions;
    private final RetryStore retries;
    private final BatchReader reader;
    private final Clock clock;
    /** How much of what each destination was sent by this worker it took lately (see {@link #takesMost}). */
    private final Map<String, Double> takeRate = new ConcurrentHashMap<>();

    /**
     * What a delivered batch leaves behind: {@code events} delivered (all of them when it is complete), and events for
     * the retry queue and the dead letters, recorded in one transaction. When {@code retryBy} is not null the batch is
     * not complete: it waits as its row, with {@code attempts} and what is {@code settled} (null: nothing to record),
     * and {@code retryBy} is the failure that decides when it is tried again.
     */
    record Outcome(
            SyncSettings sync,
            List<ObjectNode> events,
            List<RetryEvent> toRetry,
            List<DeadLetter> dead,
            DeliveryReport.EventFailure retryBy,
            SettledEvents settled,
            int attempts) {

        static Outcome complete(
                SyncSettings sync, List<ObjectNode> events, List<RetryEvent> toRetry, List<DeadLetter> dead) {
            return new Outcome(sync, events, toRetry, dead, null, null, 0);
        }
    }

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
            throw DeliveryException.of(
                    FailureClass.PERMANENT, "sync " + batch.syncId() + " is no longer configured", null);
        List<ObjectNode> events = reader.read(batch, filters.get(sync.id()));
        Destination destination = destinations.get(sync.destination());
        SettledEvents before = batch.settled();
        List<DeadLetter> dead = new ArrayList<>();
        if (functions != null && sync.hasFunction()) {
            FunctionResult transformed = functions.apply(sync.id(), events);
            // An attempt that recorded what it settled also wrote these; they are not written twice.
            if (before == null) {
                for (FunctionFailure failure : transformed.failures()) {
                    dead.add(DeadLetter.of(
                            sync.id(), failure.event(), DeadLetterKind.FUNCTION, failure.error(), null, 1, batch.id()));
                }
            }
            events = transformed.output();
        }
        List<SettledEvents.Key> keys = before == null ? null : SettledEvents.keysOf(events);
        List<ObjectNode> rest = before == null ? events : unsettled(events, keys, before);
        List<RetryEvent> toRetry = new ArrayList<>();
        List<ObjectNode> now = queueBehindWaitingUsers(sync, destination, rest, toRetry);
        String part = now.size() == events.size() ? null : SettledEvents.digest(now);
        DeliveryReport report = destination.deliver(new DeliveryBatch(
                sync.id(),
                sync.source(),
                batch.id(),
                batch.partition(),
                batch.firstOffset(),
                batch.lastOffset(),
                now,
                part));
        Instant at = clock.instant();
        RetryPolicy policy = policies.get(sync.destination());
        List<ObjectNode> delivered = delivered(now, report);
        recordTakeRate(sync.destination(), delivered.size(), report);
        Set<ObjectNode> failedRetriably = Collections.newSetFromMap(new IdentityHashMap<>());
        List<DeliveryReport.EventFailure> retriable = new ArrayList<>();
        for (DeliveryReport.EventFailure failure : report.failures()) {
            if (failure.error().isRetriable() && failedRetriably.add(failure.event())) retriable.add(failure);
        }
        if (!retriable.isEmpty()) {
            boolean progressed = failedRetriably.size() < rest.size(); // delivered, parked or dead: settled now
            DeliveryReport.EventFailure decisive = BatchOutcomes.decisive(retriable);
            int attempts = BatchOutcomes.attemptsAfter(batch, decisive.error(), progressed);
            BatchOutcomes.Rest rule =
                    BatchOutcomes.rest(policy, batch, decisive.error(), attempts, at, takesMost(sync.destination()));
            if (rule == BatchOutcomes.Rest.PARK_FAILED) {
                // The events that failed on their own go to the retry queue (their users' later events will queue
                // behind them there); the events held behind them stay in the row, and the next attempt parks those
                // behind their users and sends the other users' events.
                for (DeliveryReport.EventFailure failure : retriable) {
                    if (!failure.error().usesAttempt()) continue;
                    toRetry.add(retryEvent(sync, failure, batch.attempts(), policy, at));
                    failedRetriably.remove(failure.event());
                }
                progressed = true;
                attempts = 0;
                if (failedRetriably.isEmpty()) rule = BatchOutcomes.Rest.PER_EVENT; // nothing left to wait
            }
            if (rule != BatchOutcomes.Rest.PER_EVENT) {
                for (DeliveryReport.EventFailure failure : report.failures()) {
                    if (!failure.error().isRetriable()) dead.add(deadLetter(sync, failure, 1, batch));
                }
                SettledEvents settled = before;
                if (progressed || !dead.isEmpty() || before != null) {
                    if (keys == null) keys = SettledEvents.keysOf(events);
                    settled = settled(before, events, keys, failedRetriably);
                }
                return new Outcome(sync, delivered, toRetry, dead, decisive, settled, attempts);
            }
        }
        for (DeliveryReport.EventFailure failure : report.failures()) {
            if (!failedRetriably.contains(failure.event()) && failure.error().isRetriable()) continue; // parked above
            // What waited as a row takes its attempts along; backpressure, an open circuit and events held behind
            // another are parked without using up an attempt.
            int attempts = failure.error().usesAttempt()
                    ? Math.max(1, BatchOutcomes.attemptsAfter(batch, failure.error(), false))
                    : 0;
            boolean exhausted = attempts > 0 && policy.exhausted(attempts, batch.createdAt(), at);
            if (failure.error().isRetriable() && !exhausted) {
                toRetry.add(retryEvent(sync, failure, attempts, policy, at));
            } else {
                dead.add(deadLetter(sync, failure, Math.max(1, attempts), batch));
            }
        }
        return Outcome.complete(sync, delivered, toRetry, dead);
    }

    private static RetryEvent retryEvent(
            SyncSettings sync, DeliveryReport.EventFailure failure, int attempts, RetryPolicy policy, Instant at) {
        return RetryEvent.of(
                sync.id(),
                failure.event(),
                attempts,
                RetryChains.nextAttempt(policy, failure, attempts, at),
                at,
                Worker.describe(failure.error()),
                failure.statusCode());
    }

    /**
     * Whether the destination lately took most of the events it was sent (an average over this worker's attempts):
     * then a row that keeps failing on an answered error holds events it refuses, not a destination that refuses
     * everything (whose batches would only move the whole traffic into the retry queue).
     */
    private boolean takesMost(String destination) {
        return takeRate.getOrDefault(destination, 1.0) >= 0.5;
    }

    /** Delivered over delivered plus failed (not counting what was never sent), averaged with weight 0.3 on the newest. */
    private void recordTakeRate(String destination, int delivered, DeliveryReport report) {
        long failed =
                report.failures().stream().filter(f -> f.error().usesAttempt()).count();
        if (delivered + failed == 0) return;
        double rate = (double) delivered / (delivered + failed);
        takeRate.merge(destination, 0.7 + 0.3 * rate, (old, ignored) -> 0.7 * old + 0.3 * rate);
    }

    private static DeadLetter deadLetter(
            SyncSettings sync, DeliveryReport.EventFailure failure, int attempts, ClaimedBatch batch) {
        return DeadLetter.of(
                sync.id(),
                failure.event(),
                DeadLetterKind.DELIVERY,
                Worker.describe(failure.error()),
                failure.statusCode(),
                attempts,
                batch.id());
    }

    /** The events no earlier attempt settled, in order. */
    private static List<ObjectNode> unsettled(
            List<ObjectNode> events, List<SettledEvents.Key> keys, SettledEvents settled) {
        List<ObjectNode> rest = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            if (!settled.contains(keys.get(i))) rest.add(events.get(i));
        }
        return rest;
    }

    /** What is settled once this attempt is recorded: all but the events that failed retriably. */
    private static SettledEvents settled(
            SettledEvents before, List<ObjectNode> events, List<SettledEvents.Key> keys, Set<ObjectNode> failed) {
        List<SettledEvents.Key> now = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            if (!failed.contains(events.get(i))) now.add(keys.get(i));
        }
        return (before == null ? SettledEvents.none() : before).with(now);
    }

    private static List<ObjectNode> delivered(List<ObjectNode> sent, DeliveryReport report) {
        if (report.failures().isEmpty()) return sent;
        Set<ObjectNode> failed = Collections.newSetFromMap(new IdentityHashMap<>());
        report.failures().forEach(f -> failed.add(f.event()));
        return sent.stream().filter(e -> !failed.contains(e)).toList();
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
