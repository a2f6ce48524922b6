package io.sluice.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport.EventFailure;
import io.sluice.destination.Destination;
import io.sluice.event.SyncFilter;
import io.sluice.function.FunctionFailure;
import io.sluice.function.FunctionResult;
import io.sluice.function.Functions;
import io.sluice.privacy.ErasedUsers;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterKind;
import io.sluice.queue.RetryEvent;
import io.sluice.queue.RetryStore;
import io.sluice.queue.SettledEvents;
import io.sluice.retry.RetryPolicy;
import io.sluice.worker.DeliveryDecision.Claim;
import io.sluice.worker.DeliveryDecision.Dead;
import io.sluice.worker.DeliveryDecision.Decision;
import io.sluice.worker.DeliveryDecision.Fate;
import io.sluice.worker.DeliveryDecision.PerEvent;
import io.sluice.worker.DeliveryDecision.Retry;
import io.sluice.worker.DeliveryDecision.Rules;
import io.sluice.worker.DeliveryDecision.WaitAsRow;
import io.sluice.worker.DeliveryDecision.Waits;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What happens to one claimed batch between the claim and its completion: read back from Kafka, the sync's function,
 * events of users still waiting in the retry queue queued behind them, delivery ({@link DestinationCalls}: conflicts
 * again at once, a batch refused for its events' data split to find them), and the {@link DeliveryDecision} turned
 * into what {@link BatchOutcomes} records: the events delivered, the retry-queue rows and dead letters, and what stays.
 * Only failures before the destination is called (reading the batch) are thrown.
 */
final class BatchDelivery {
    private final Map<String, SyncSettings> syncs;
    private final Map<String, SyncFilter> filters;
    private final Map<String, Destination> destinations;
    private final Map<String, RetryPolicy> policies;
    private final Functions functions;
    private final RetryStore retries;
    private final LaneReaders reader;
    private final Clock clock;
    private final TakeRates takeRates = new TakeRates();
    private volatile ErasedUsers erased; // null: no privacy deletions to honour

    /**
     * What a delivered batch leaves behind, by its {@code decision} (never {@code Split} or {@code RetryNow}: those
     * are carried out before): {@code delivered} events, events for the retry queue and the dead letters (recorded in
     * one transaction), the events that {@code stay} in the row when it waits, and what is {@code settled} then (null:
     * nothing to record).
     */
    record Outcome(
            SyncSettings sync,
            Decision decision,
            List<ObjectNode> delivered,
            List<RetryEvent> toRetry,
            List<DeadLetter> dead,
            List<ObjectNode> stay,
            SettledEvents settled,
            int functionDrops,
            int privacyDiscards) {

        /**
         * {@code functionDrops}, {@code privacyDiscards}: the events the function dropped and those of people a
         * privacy request deleted, counted once, when the attempt first settles.
         */
        Outcome(
                SyncSettings sync,
                Decision decision,
                List<ObjectNode> delivered,
                List<RetryEvent> toRetry,
                List<DeadLetter> dead,
                List<ObjectNode> stay,
                SettledEvents settled) {
            this(sync, decision, delivered, toRetry, dead, stay, settled, 0, 0);
        }

        /** Whether the batch is over (done, or dead): nothing of it waits as its row. */
        boolean finished() {
            return !(decision instanceof WaitAsRow);
        }
    }

    BatchDelivery(
            List<SyncSettings> syncs,
            Map<String, Destination> destinations,
            Map<String, RetryPolicy> policies,
            Functions functions,
            RetryStore retries,
            LaneReaders reader,
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

    void erasedUsers(ErasedUsers erased) {
        this.erased = erased;
    }

    Map<String, SyncSettings> syncs() {
        return syncs;
    }

    Outcome deliver(ClaimedBatch batch) throws Exception {
        Attempt attempt = prepare(batch);
        SyncSettings sync = attempt.sync();
        DeliveryBatch whole = new DeliveryBatch(
                sync.id(),
                sync.source(),
                batch.id(),
                batch.partition(),
                batch.firstOffset(),
                batch.lastOffset(),
                batch.lane(),
                attempt.events());
        DeliveryBatch sent = attempt.now().size() == attempt.events().size() ? whole : whole.subset(attempt.now());
        Rules rules = new Rules(policies.get(sync.destination()), takeRates.acceptsMost(sync.destination()));
        int handled = attempt.rest().size();
        DestinationCalls.Result result = DestinationCalls.deliver(
                destinations.get(sync.destination()),
                sent,
                conflicts -> Claim.batch(batch.attempts(), batch.createdAt(), handled, conflicts),
                rules,
                clock);
        return outcome(batch, attempt, result);
    }

    /**
     * One attempt of a batch before the destination is called: its events (after the function), those no earlier
     * attempt settled ({@code rest}), and of those the ones to send {@code now} (the others queued behind their users
     * in {@code toRetry}); {@code dead}: the function's failures.
     */
    private record Attempt(
            SyncSettings sync,
            List<ObjectNode> events,
            SettledEvents before,
            List<SettledEvents.Key> keys,
            List<ObjectNode> rest,
            List<ObjectNode> now,
            List<RetryEvent> toRetry,
            List<DeadLetter> dead,
            int functionDrops,
            int privacyDiscards) {}

    private Attempt prepare(ClaimedBatch batch) throws Exception {
        SyncSettings sync = syncs.get(batch.syncId());
        if (sync == null)
            throw DeliveryException.of(
                    FailureClass.PERMANENT, "sync " + batch.syncId() + " is no longer configured", null);
        List<ObjectNode> events = reader.read(batch, filters.get(sync.id()));
        SettledEvents before = batch.settled();
        int discards = 0;
        if (erased != null) { // docs/privacy.md
            int read = events.size();
            events = erased.keep(sync.id(), events);
            if (before == null) discards = read - events.size(); // an attempt that settled some counted them
        }
        List<DeadLetter> dead = new ArrayList<>();
        int drops = 0;
        if (functions != null && sync.hasFunction()) {
            FunctionResult transformed = functions.apply(sync.id(), events);
            // An attempt that recorded what it settled also wrote these; they are not written twice.
            if (before == null) {
                drops = transformed.dropped();
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
        List<ObjectNode> now = queueBehindWaitingUsers(sync, destinations.get(sync.destination()), rest, toRetry);
        return new Attempt(sync, events, before, keys, rest, now, toRetry, dead, drops, discards);
    }

    /** What the decision leaves of the attempt: the events delivered, for the retry queue, dead, and staying. */
    private Outcome outcome(ClaimedBatch batch, Attempt attempt, DestinationCalls.Result result) {
        SyncSettings sync = attempt.sync();
        List<RetryEvent> toRetry = attempt.toRetry();
        List<DeadLetter> dead = attempt.dead();
        Decision decision = result.decision();
        if (decision instanceof Dead over) {
            // Nothing was delivered: every event sent becomes a dead letter with the reason, kept whole.
            for (ObjectNode event : attempt.now())
                dead.add(deadLetter(sync, event, over.reason(), null, over.attempts(), batch));
            return new Outcome(
                    sync,
                    decision,
                    List.of(),
                    toRetry,
                    dead,
                    List.of(),
                    null,
                    attempt.functionDrops(),
                    attempt.privacyDiscards());
        }
        if (decision instanceof WaitAsRow wait && wait.wholeBatch())
            return new Outcome(sync, decision, List.of(), List.of(), List.of(), attempt.now(), null);
        List<ObjectNode> delivered = delivered(attempt.now(), result.failures());
        takeRates.record(sync.destination(), delivered.size(), result.failures());
        List<Fate> fates = decision instanceof PerEvent each
                ? each.fates()
                : decision instanceof WaitAsRow wait ? wait.fates() : List.of();
        Instant at = clock.instant();
        Set<ObjectNode> stay = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Fate fate : fates) {
            EventFailure f = fate.failure();
            switch (fate) {
                case Retry retry ->
                    toRetry.add(RetryEvent.of(
                            sync.id(),
                            f.event(),
                            retry.attempts(),
                            retry.next(),
                            at,
                            Worker.describe(f.error()),
                            f.statusCode()));
                case DeliveryDecision.DeadLetter letter ->
                    dead.add(deadLetter(sync, f.event(), f.error(), f.statusCode(), letter.attempts(), batch));
                case Waits waits -> stay.add(f.event());
            }
        }
        SettledEvents before = attempt.before();
        SettledEvents settled = before;
        if (decision instanceof WaitAsRow wait && (wait.progressed() || !dead.isEmpty() || before != null)) {
            List<SettledEvents.Key> keys =
                    attempt.keys() == null ? SettledEvents.keysOf(attempt.events()) : attempt.keys();
            settled = settled(before, attempt.events(), keys, stay);
        }
        // the drops are counted with the record that first settles this attempt's events (a waiting row without one
        // runs the function again)
        boolean counted = decision instanceof WaitAsRow && settled == null;
        int drops = counted ? 0 : attempt.functionDrops();
        int discards = counted ? 0 : attempt.privacyDiscards();
        return new Outcome(sync, decision, delivered, toRetry, dead, List.copyOf(stay), settled, drops, discards);
    }

    private static DeadLetter deadLetter(
            SyncSettings sync,
            ObjectNode event,
            DeliveryException error,
            Integer statusCode,
            int attempts,
            ClaimedBatch batch) {
        return DeadLetter.of(
                sync.id(),
                event,
                DeadLetterKind.DELIVERY,
                Worker.describe(error),
                statusCode,
                Math.max(1, attempts),
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

    /** What is settled once this attempt is recorded: all but the events that stay in the row. */
    private static SettledEvents settled(
            SettledEvents before, List<ObjectNode> events, List<SettledEvents.Key> keys, Set<ObjectNode> stay) {
        List<SettledEvents.Key> now = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            if (!stay.contains(events.get(i))) now.add(keys.get(i));
        }
        return (before == null ? SettledEvents.none() : before).with(now);
    }

    private static List<ObjectNode> delivered(List<ObjectNode> sent, List<EventFailure> failures) {
        if (failures.isEmpty()) return sent;
        Set<ObjectNode> failed = Collections.newSetFromMap(new IdentityHashMap<>());
        failures.forEach(f -> failed.add(f.event()));
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
