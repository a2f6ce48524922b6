package io.sluice.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.delivery.FailureClass;
import io.sluice.delivery.Failures;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.Destination;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterKind;
import io.sluice.queue.FencedException;
import io.sluice.queue.RetryEvent;
import io.sluice.queue.RetryStore;
import io.sluice.retry.RetryPolicy;
import io.sluice.worker.DeliveryDecision.Claim;
import io.sluice.worker.DeliveryDecision.Decision;
import io.sluice.worker.DeliveryDecision.Fate;
import io.sluice.worker.DeliveryDecision.PerEvent;
import io.sluice.worker.DeliveryDecision.Retry;
import io.sluice.worker.DeliveryDecision.Rules;
import io.sluice.worker.DeliveryDecision.Waiting;
import io.sluice.worker.DeliveryDecision.Waits;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the per-sync retry queue: leases due chains (one user's waiting events of one sync), delivers each chain
 * in order, and settles it in one fenced transaction: delivered and dead-lettered events leave the queue, the first
 * event that fails again is rescheduled, the events behind it keep waiting.
 */
final class RetryChains {
    private static final Logger log = LoggerFactory.getLogger(RetryChains.class);
    private static final int CHAIN_LIMIT = 100;

    private final RetryStore retries;
    private final Map<String, SyncSettings> syncs;
    private final Map<String, Destination> destinations;
    private final Map<String, RetryPolicy> policies;
    private final WorkerMetrics metrics;
    private final Clock clock;
    private final String owner;
    private final Duration lease;
    private final AtomicInteger inProgress = new AtomicInteger();
    private final ThreadFactory chainThreads =
            Thread.ofVirtual().name("sluice-retry-chain-", 0).factory();
    private final AtomicInteger busy = new AtomicInteger();
    /** The chains being delivered now, by head id: never re-leased by this worker meanwhile, their leases extended. */
    private final Map<Long, RetryStore.Chain> delivering = new ConcurrentHashMap<>();
    /** Skips the retry loop's polls while the queue is empty and no insert was announced. */
    private final RetryQueueWatch watch = new RetryQueueWatch();

    RetryChains(
            RetryStore retries,
            Map<String, SyncSettings> syncs,
            Map<String, Destination> destinations,
            Map<String, RetryPolicy> policies,
            WorkerMetrics metrics,
            Clock clock,
            String owner,
            Duration lease) {
        this.retries = retries;
        this.syncs = syncs;
        this.destinations = destinations;
        this.policies = policies;
        this.metrics = metrics;
        this.clock = clock;
        this.owner = owner;
        this.lease = lease;
    }

    /** Leases and delivers up to {@code limit} due chains on the calling thread; returns how many were handled. */
    int deliverDue(int limit) throws Exception {
        // Announced before the lease is asked for, and over only once every leased chain is settled: a process is
        // quiesced only when no chain is held, so a chain's settle never writes after "safe to fail over".
        busy.incrementAndGet();
        try {
            List<RetryStore.Chain> chains = retries.claim(owner, limit, lease, clock.instant());
            for (RetryStore.Chain chain : chains) {
                delivering.put(chain.headId(), chain);
                try {
                    deliverLogged(chain);
                } finally {
                    delivering.remove(chain.headId(), chain);
                }
            }
            return chains.size();
        } finally {
            busy.decrementAndGet();
        }
    }

    /**
     * Leases due chains into the free ones of {@code maxInProgress} chain slots and delivers each on a virtual thread
     * of its own, so that a slow or hanging destination's chains never hold up another destination's (each destination
     * bounds its own requests, and returns unsent what does not fit). Returns how many were dispatched. Each dispatched chain
     * keeps this busy (see {@link #idle}) until it is settled.
     */
    int dispatchDue(int maxInProgress) throws Exception {
        int free = maxInProgress - inProgress.get();
        if (free <= 0 || watch.skip()) return 0;
        long announcements = watch.announcements();
        busy.incrementAndGet();
        try {
            List<RetryStore.Chain> chains =
                    retries.claim(owner, free, lease, clock.instant(), List.copyOf(delivering.keySet()));
            if (!chains.isEmpty() || !delivering.isEmpty()) watch.seenRows();
            else if (watch.worthLooking()) watch.looked(retries.empty(), announcements);
            for (RetryStore.Chain chain : chains) {
                inProgress.incrementAndGet();
                busy.incrementAndGet();
                delivering.put(chain.headId(), chain);
                try {
                    chainThreads
                            .newThread(() -> {
                                try {
                                    deliverLogged(chain);
                                } finally {
                                    delivering.remove(chain.headId(), chain);
                                    inProgress.decrementAndGet();
                                    busy.decrementAndGet();
                                }
                            })
                            .start();
                } catch (RuntimeException e) {
                    delivering.remove(chain.headId(), chain);
                    inProgress.decrementAndGet();
                    busy.decrementAndGet();
                    throw e;
                }
            }
            return chains.size();
        } finally {
            busy.decrementAndGet();
        }
    }

    /** New retry-queue rows were announced (or may have been inserted while nobody listened). */
    void announced() {
        watch.announced();
    }

    /**
     * Extends the leases of the chains being delivered: a chain of many events to a slow destination may take longer
     * than a lease, and must not be leased (and delivered) again meanwhile. A chain found taken over is only logged:
     * its settle is refused by its epoch.
     */
    void heartbeat() throws Exception {
        List<RetryStore.Chain> held = List.copyOf(delivering.values());
        List<Long> still = retries.extend(owner, held, lease, clock.instant());
        for (RetryStore.Chain chain : held) {
            if (!still.contains(chain.headId()) && delivering.get(chain.headId()) == chain)
                log.debug("Retry chain {} is no longer held; its settle will be refused", chain); // warned then
        }
    }

    /** Whether no chain is being leased, delivered or settled. */
    boolean idle() {
        return busy.get() == 0;
    }

    /** Chains being delivered by {@link #dispatchDue}. */
    int inProgress() {
        return inProgress.get();
    }

    private void deliverLogged(RetryStore.Chain chain) {
        try {
            deliver(chain);
        } catch (FencedException e) {
            log.warn("Abandoning retry chain {}: {}", chain, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn(
                    "Retry chain {} failed ({}); its lease will expire and it will be retried",
                    chain,
                    Failures.describeQueueDatabaseFailure(e));
        }
    }

    private void deliver(RetryStore.Chain chain) throws Exception {
        List<RetryEvent> waiting = retries.events(chain, CHAIN_LIMIT);
        SyncSettings sync = syncs.get(chain.syncId());
        Instant now = clock.instant();
        if (waiting.isEmpty()) {
            retries.settle(chain, List.of(), List.of(), null, now);
            return;
        }
        List<Long> remove = new ArrayList<>();
        List<DeadLetter> dead = new ArrayList<>();
        if (sync == null) {
            for (RetryEvent e : waiting) {
                dead.add(DeadLetter.of(
                        chain.syncId(),
                        e.event(),
                        DeadLetterKind.DELIVERY,
                        "sync " + chain.syncId() + " is no longer configured",
                        null,
                        e.attempts(),
                        null));
                remove.add(e.id());
            }
            retries.settle(chain, remove, dead, null, now);
            return;
        }
        Destination destination = destinations.get(sync.destination());
        Rules rules = new Rules(policies.get(sync.destination()), true);
        List<Waiting> chained = waiting.stream()
                .map(e -> new Waiting(e.event(), e.attempts(), e.firstFailedAt()))
                .toList();
        DeliveryBatch batch = new DeliveryBatch(
                sync.id(),
                sync.source(),
                new DeliveryBatch.RetryChain(
                        waiting.get(0).id(), waiting.get(waiting.size() - 1).id()),
                chained.stream().map(Waiting::event).toList(),
                null);
        Decision decision = DestinationCalls.deliver(
                        destination, batch, conflicts -> Claim.chain(chained, conflicts), rules, clock)
                .decision();
        Map<ObjectNode, Fate> fates = new IdentityHashMap<>();
        if (decision instanceof PerEvent each)
            each.fates().forEach(f -> fates.put(f.failure().event(), f));
        RetryEvent rescheduled = null;
        List<ObjectNode> delivered = new ArrayList<>();
        for (RetryEvent event : waiting) {
            switch (fates.get(event.event())) {
                case null -> {
                    remove.add(event.id());
                    delivered.add(event.event());
                }
                case DeliveryDecision.DeadLetter letter -> {
                    dead.add(DeadLetter.of(
                            sync.id(),
                            event.event(),
                            DeadLetterKind.DELIVERY,
                            Worker.describe(letter.failure().error()),
                            letter.failure().statusCode(),
                            letter.attempts(),
                            null));
                    remove.add(event.id());
                }
                case Retry retry ->
                    rescheduled = new RetryEvent(
                            event.id(),
                            event.syncId(),
                            event.userKey(),
                            event.messageId(),
                            event.event(),
                            retry.attempts(),
                            retry.next(),
                            event.firstFailedAt(),
                            Worker.describe(retry.failure().error()),
                            retry.failure().statusCode());
                case Waits waits -> {} // held behind the rescheduled event, untouched
            }
        }
        try {
            retries.settle(chain, remove, dead, rescheduled, now);
        } catch (SQLException e) {
            FailureClass refused = Failures.classOf(e);
            if (refused != FailureClass.EVENT_DATA) throw e;
            // Settling again would be refused the same way, and the chain redelivered on every lease expiry: its
            // undelivered events become dead letters stored escaped (see OutcomeFallback) and leave the queue.
            dead = escapedDeadLetters(
                    sync.id(),
                    waiting,
                    delivered,
                    "the queue database refused this chain's outcome ("
                            + Failures.classify(e).getMessage() + "); stored escaped");
            log.error(
                    "Retry chain {}: {}",
                    chain,
                    dead.isEmpty() ? e.toString() : dead.get(0).error());
            retries.settle(chain, waiting.stream().map(RetryEvent::id).toList(), dead, null, now);
        }
        metrics.eventsDelivered(sync.id(), delivered, clock.instant());
        if (!dead.isEmpty()) metrics.eventsDeadLettered(sync.id(), dead.size());
        metrics.tallies().chain(sync.id(), delivered, dead, clock.instant());
        if (rescheduled != null && fates.get(rescheduled.event()) instanceof Retry retry)
            metrics.tallies()
                    .chainFailure(
                            sync.id(),
                            retry.failure().statusCode(),
                            retry.failure().error(),
                            clock.instant());
    }

    private static List<DeadLetter> escapedDeadLetters(
            String syncId, List<RetryEvent> waiting, List<ObjectNode> delivered, String reason) {
        Set<ObjectNode> done = Collections.newSetFromMap(new IdentityHashMap<>());
        done.addAll(delivered);
        List<DeadLetter> letters = new ArrayList<>();
        for (RetryEvent e : waiting) {
            if (done.contains(e.event())) continue;
            letters.add(DeadLetter.of(
                    syncId,
                    (ObjectNode) OutcomeFallback.escape(e.event()),
                    DeadLetterKind.DELIVERY,
                    reason + ": " + e.lastError(),
                    e.statusCode(),
                    Math.max(1, e.attempts()),
                    null));
        }
        return letters;
    }
}
