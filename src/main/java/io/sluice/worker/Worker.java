package io.sluice.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.config.SluiceConfig.WorkerSettings;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.Failures;
import io.sluice.destination.Destination;
import io.sluice.function.Functions;
import io.sluice.lifecycle.Service;
import io.sluice.queue.BatchNotifications;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.FencedException;
import io.sluice.queue.QueueStore;
import io.sluice.retry.RetryPolicy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker role: claims due batches (one statement), has {@link BatchDelivery} deliver each, and records the
 * outcome through {@link BatchOutcomes} — every state change fenced by owner and lease epoch. Also heartbeats its
 * leases, delivers the retry queue ({@link RetryChains}) and prunes. Its loops run in {@link WorkerLoops}.
 */
public final class Worker implements Service {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    private final QueueStore store;
    private final WorkerStores stores;
    private final WorkerSettings settings;
    private final Duration deadLetterRetention;
    private final BatchReader reader;
    private final Clock clock;
    private final String owner;
    private final WorkerMetrics metrics;
    private final HeldBatches inFlight = new HeldBatches();
    /** Claims under way: counted before the claim asks the gate, so a quiesce check never misses a batch being taken. */
    private final AtomicInteger claiming = new AtomicInteger();
    /** The last claim may have left due batches behind (it filled its limit): a freed slot should claim at once. */
    private volatile boolean moreDue = true;

    private final BatchDelivery delivery;
    private final BatchOutcomes outcomes;
    private final WorkerLoops loops;
    private final RetryChains chains;
    private final BatchNotifications notifications;
    private volatile Duration topicRetention;
    private final Map<String, String> destinationOfSync;
    private final Map<String, List<String>> syncsOfDestination;
    private final Map<String, Destination> destinations;
    /**
     * A partition with a backlog is handed on in runs of up to this many batches, delivered as one: bigger loads and
     * fewer transactions exactly when the worker is behind, and no change at all when it keeps up.
     */
    static final int RUN_BATCHES = 4;

    /** Retry chains are mostly parked or short; several per slot keep retries of many users concurrent. */
    static final int RETRY_CHAINS_PER_SLOT = 8;

    /**
     * @param destinations open destinations by destination id
     * @param functions the syncs' customer functions (started), or null when no sync has one
     * @param reader reads claimed ranges back from Kafka; closed with the worker
     */
    public Worker(
            SluiceConfig config,
            WorkerStores stores,
            Map<String, Destination> destinations,
            Functions functions,
            BatchReader reader,
            Clock clock,
            MeterRegistry registry,
            String owner) {
        this.store = stores.queue();
        this.stores = stores;
        this.deadLetterRetention = config.deadLetterRetention();
        this.settings = config.worker();
        this.reader = reader;
        this.clock = clock;
        this.owner = owner;
        Map<String, RetryPolicy> policies = config.destinations().stream()
                .collect(Collectors.toUnmodifiableMap(DestinationSettings::id, d -> RetryPolicies.of(d, settings)));
        this.metrics = new WorkerMetrics(registry, inFlight);
        this.delivery =
                new BatchDelivery(config.syncs(), destinations, policies, functions, stores.retries(), reader, clock);
        this.destinationOfSync = config.syncs().stream()
                .collect(Collectors.toUnmodifiableMap(SyncSettings::id, SyncSettings::destination));
        this.syncsOfDestination = config.syncs().stream()
                .collect(Collectors.groupingBy(
                        SyncSettings::destination,
                        TreeMap::new,
                        Collectors.mapping(SyncSettings::id, Collectors.toUnmodifiableList())));
        this.destinations = destinations;
        this.outcomes =
                new BatchOutcomes(store, destinationOfSync, policies, settings, inFlight::isFenced, metrics, clock);
        this.loops = new WorkerLoops(this, settings, clock);
        this.notifications = store.notifications(loops::wake);
        this.chains = stores.retries() == null
                ? null
                : new RetryChains(
                        stores.retries(),
                        delivery.syncs(),
                        destinations,
                        policies,
                        metrics,
                        clock,
                        owner,
                        settings.leaseDuration());
    }

    /** The events topic's retention, for the queue-age warning (null: unknown or unlimited). */
    public void topicRetention(Duration retention) {
        this.topicRetention = retention;
    }

    public String owner() {
        return owner;
    }

    @Override
    public void start() {
        loops.start();
        notifications.start();
        log.info(
                "Worker {} started: {} sync(s), concurrency {}",
                owner,
                delivery.syncs().size(),
                settings.concurrency());
    }

    /**
     * Claims what fits into the free slots; each claimed batch is handed to {@code dispatch}. Returns the count.
     *
     * <p>Every destination has {@code worker.concurrency} batch slots of its own (not a share of one pool), and only
     * its own free slots bound what is claimed for it: destinations with the same number of free slots share one claim
     * statement with that limit (usually all of them: one statement), a nearly full one gets its own. So a slow
     * destination holding most of its slots never shrinks the claims of the others. A destination that would refuse
     * everything now ({@link Destination#unavailableFor}: open circuit, long Retry-After) is not claimed for at all:
     * its batches wait in the queue unread instead of being read from Kafka only to be parked in the retry queue.
     */
    int claim(int free, Consumer<ClaimedBatch> dispatch) throws Exception {
        if (free <= 0) {
            moreDue = true;
            return 0;
        }
        claiming.incrementAndGet();
        try {
            Map<String, Integer> held = heldPerDestination();
            Map<Integer, List<String>> byFreeSlots = new TreeMap<>(Comparator.reverseOrder());
            for (Map.Entry<String, List<String>> d : syncsOfDestination.entrySet()) {
                int own = settings.concurrency() - held.getOrDefault(d.getKey(), 0);
                if (own <= 0 || !available(d.getKey())) continue;
                byFreeSlots.computeIfAbsent(own, n -> new ArrayList<>()).addAll(d.getValue());
            }
            int total = 0;
            boolean filled = byFreeSlots.isEmpty(); // nothing could be claimed now: claim again once a slot frees
            for (Map.Entry<Integer, List<String>> group : byFreeSlots.entrySet()) {
                int limit = Math.min(free - total, group.getKey());
                if (limit <= 0) {
                    filled = true;
                    break;
                }
                List<String> others = new ArrayList<>(delivery.syncs().keySet());
                others.removeAll(group.getValue());
                List<ClaimedBatch> claimed =
                        store.claim(owner, limit, settings.leaseDuration(), clock.instant(), others);
                for (ClaimedBatch batch : claimed) {
                    inFlight.hold(batch);
                    dispatch.accept(batch);
                }
                total += claimed.size();
                if (claimed.size() >= limit) filled = true;
            }
            moreDue = filled;
            return total;
        } finally {
            claiming.decrementAndGet();
        }
    }

    private boolean available(String destination) {
        Destination d = destinations.get(destination);
        return d == null || !d.unavailableFor().isPositive();
    }

    private Map<String, Integer> heldPerDestination() {
        Map<String, Integer> perDestination = new HashMap<>();
        for (ClaimedBatch held : inFlight.snapshot()) {
            SyncSettings sync = delivery.syncs().get(held.syncId());
            if (sync != null) perDestination.merge(sync.destination(), 1, Integer::sum);
        }
        return perDestination;
    }

    /** Claims and delivers due batches on the calling thread (tests drive the worker with this and a test clock). */
    public int runOnce() throws Exception {
        return claim(settings.concurrency(), this::process);
    }

    /** Free slots over all destinations (each has {@code worker.concurrency} of its own). */
    int freeSlots() {
        return settings.concurrency() * destinationCount() - inFlight.size();
    }

    private int destinationCount() {
        return (int) Math.max(
                1,
                delivery.syncs().values().stream()
                        .map(SyncSettings::destination)
                        .distinct()
                        .count());
    }

    /**
     * Delivers one claimed batch and records the outcome; when its completion hands on the sync's next due batch
     * (usually the successor in the same partition, see {@link QueueStore#completeAndClaimNext}), delivers that one
     * too, on the same thread and slot. Never throws.
     */
    void process(ClaimedBatch claimed) {
        ClaimedBatch batch = claimed;
        while (batch != null) batch = processOne(batch);
    }

    private ClaimedBatch processOne(ClaimedBatch batch) {
        long started = System.nanoTime();
        ClaimedBatch next = null;
        try {
            BatchDelivery.Outcome outcome = delivery.deliver(batch);
            if (outcome.retryBy() != null) {
                outcomes.retryRest(batch, outcome);
                metrics.eventsDelivered(outcome.sync().id(), outcome.events(), clock.instant());
                countLeftovers(outcome);
                return null;
            }
            Optional<ClaimedBatch> handedOn = outcomes.recordReturning(batch, () -> handOn(batch, outcome));
            if (handedOn.isPresent()) {
                next = handedOn.get();
                inFlight.hold(next); // before the finished one leaves: its slot is never seen free
            }
            String syncId = outcome.sync().id();
            metrics.delivered(syncId, outcome.events(), System.nanoTime() - started, clock.instant());
            metrics.run(syncId, batch.members().size());
            countLeftovers(outcome);
        } catch (FencedException e) {
            log.warn("Abandoning {}: {}", batch, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            outcomes.failed(batch, Failures.classify(e));
        } finally {
            inFlight.release(batch);
            // The slot is free: if batches were left waiting for one, claim now rather than after a poll.
            if (next == null && moreDue) loops.wake();
        }
        return next;
    }

    private void countLeftovers(BatchDelivery.Outcome outcome) {
        if (!outcome.dead().isEmpty())
            metrics.eventsDeadLettered(outcome.sync().id(), outcome.dead().size());
        if (!outcome.toRetry().isEmpty())
            metrics.eventsRetried(outcome.sync().id(), outcome.toRetry().size());
    }

    /**
     * Completes the batch and, unless the worker is stopping or the destination is unavailable, claims the sync's next
     * due batch in the same transaction.
     */
    private Optional<ClaimedBatch> handOn(ClaimedBatch batch, BatchDelivery.Outcome outcome) throws Exception {
        Instant now = clock.instant();
        // Nothing is handed on to a destination that would refuse it now (see claim): its next batch waits unread.
        if (!loops.running() || !available(destinationOfSync.getOrDefault(batch.syncId(), ""))) {
            store.complete(batch, now, outcome.toRetry(), outcome.dead());
            return Optional.empty();
        }
        Destination destination = destinations.get(destinationOfSync.getOrDefault(batch.syncId(), ""));
        int run = destination == null || destination.deliversRuns() ? RUN_BATCHES : 1;
        return store.completeAndClaimNext(batch, now, outcome.toRetry(), outcome.dead(), settings.leaseDuration(), run);
    }

    /** Delivers due retry chains (one user's waiting events of one sync, in order). Returns how many were handled. */
    int retryDue() throws Exception {
        return chains == null ? 0 : chains.deliverDue(Math.max(1, freeSlots()));
    }

    /**
     * Dispatches due retry chains to their own virtual threads (the worker's retry loop), at most
     * {@link #RETRY_CHAINS_PER_SLOT} per worker slot in progress at once. Returns how many were dispatched.
     */
    int dispatchRetries() throws Exception {
        return chains == null ? 0 : chains.dispatchDue(RETRY_CHAINS_PER_SLOT * settings.concurrency());
    }

    /** Extends the leases of in-flight batches and retry chains; batches this worker lost are marked fenced. */
    void heartbeat() throws Exception {
        heartbeat(held());
        if (chains != null) chains.heartbeat();
    }

    /** What is held now, as a heartbeat sees it when it starts. */
    List<ClaimedBatch> held() {
        return inFlight.snapshot();
    }

    /**
     * Extends the leases of {@code held} (what was held when the heartbeat started: by the time its statement returns,
     * some may have been recorded, and their batches claimed again) and fences those this worker lost.
     */
    void heartbeat(List<ClaimedBatch> held) throws Exception {
        List<Long> still = store.heartbeat(owner, held, settings.leaseDuration(), clock.instant());
        for (ClaimedBatch batch : held) {
            boolean stillHeld = batch.members().stream().allMatch(m -> still.contains(m.id()));
            // Not a warning here: a claim recorded just before it is released looks lost too (seen in bench
            // destinations). A claim really taken over is warned about when its outcome is refused ("Abandoning").
            if (!stillHeld && inFlight.lost(batch))
                log.debug("{} is no longer held; its outcome will be refused", batch);
        }
    }

    /** Prunes delivered rows and refreshes the queue-age gauge. */
    void maintain() throws Exception {
        Instant now = clock.instant();
        while (store.pruneDone(now.minus(settings.doneRetention()), 5_000) == 5_000) {
            // keep deleting in small chunks
        }
        if (stores.deadLetters() != null) stores.deadLetters().prune(now.minus(deadLetterRetention));
        if (stores.retries() != null) {
            metrics.oldestRetry(stores.retries().oldestWaiting(), now);
            metrics.retryQueue(destinationOfSync, stores.retries().depthBySync(), now);
        }
        metrics.oldestUnfinished(store.oldestUnfinished(), now, topicRetention);
    }

    /** Gives back what is still held (shutdown), so other workers can take it at once. */
    void releaseAll() {
        for (ClaimedBatch batch : inFlight.snapshot()) {
            try {
                store.release(batch, clock.instant());
                log.info("Released {}", batch);
            } catch (Exception e) {
                log.warn("Could not release {} ({}); it will be retaken when its lease expires", batch, e.toString());
            }
        }
    }

    /**
     * Whether this worker holds nothing it would still have to write about: no batch claimed or being claimed, no
     * retry chain leased or being leased.
     */
    public boolean idle() {
        return inFlight.isEmpty() && claiming.get() == 0 && (chains == null || chains.idle());
    }

    static String describe(DeliveryException failure) {
        String message = failure.getMessage();
        if (failure.messageId() != null) message = "event " + failure.messageId() + ": " + message;
        return message.length() > 2000 ? message.substring(0, 2000) + "…" : message;
    }

    @Override
    public void close() {
        notifications.close();
        loops.close();
        releaseAll();
        reader.close();
        log.info("Worker {} stopped", owner);
    }
}
