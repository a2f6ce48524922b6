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
import io.sluice.privacy.ErasedUsers;
import io.sluice.queue.BatchNotifications;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.FencedException;
import io.sluice.queue.QueueStore;
import io.sluice.queue.SyncCounts;
import io.sluice.retry.RetryPolicy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
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
    private final LaneReaders reader;
    private final Clock clock;
    private final String owner;
    private final WorkerMetrics metrics;
    private final HeldBatches inFlight = new HeldBatches();
    private final SlotClaims slots;

    private final BatchDelivery delivery;
    private final BatchOutcomes outcomes;
    private final WorkerLoops loops;
    private final RetryChains chains;
    private final BatchNotifications notifications;
    private volatile Duration topicRetention;
    private final Map<String, String> destinationOfSync;
    /**
     * A partition with a backlog is handed on in runs of up to this many batches, delivered as one: bigger loads and
     * fewer transactions exactly when the worker is behind, and no change at all when it keeps up.
     */
    static final int RUN_BATCHES = 4;
    /** Whether each destination (by id) takes consecutive batches as one run ({@link Destination#deliversRuns}). */
    private final Map<String, Boolean> runsAllowed = new java.util.HashMap<>();

    /** Retry chains mostly wait (not due) or are short; several per slot keep retries of many users concurrent. */
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
        this.reader = new LaneReaders(reader, config.worker().backfillSlots());
        this.clock = clock;
        this.owner = owner;
        Map<String, RetryPolicy> policies = config.destinations().stream()
                .collect(Collectors.toUnmodifiableMap(DestinationSettings::id, d -> RetryPolicies.of(d, settings)));
        this.metrics = new WorkerMetrics(registry, inFlight, new DeliveryTallies(store));
        this.delivery = new BatchDelivery(
                config.syncs(), destinations, policies, functions, stores.retries(), this.reader, clock);
        this.destinationOfSync = config.syncs().stream()
                .collect(Collectors.toUnmodifiableMap(SyncSettings::id, SyncSettings::destination));
        destinations.forEach((id, d) -> runsAllowed.put(id, d.deliversRuns()));
        this.slots = new SlotClaims(store, config.syncs(), destinations, settings, inFlight, clock, owner);
        this.outcomes = new BatchOutcomes(store, destinationOfSync, policies, settings, inFlight, metrics, clock);
        this.loops = new WorkerLoops(
                new WorkerLoops.Jobs(
                        this::claim,
                        this::freeSlots,
                        () -> slots.moreDue(),
                        this::process,
                        this::heartbeat,
                        this::maintain,
                        this::dispatchRetries),
                settings,
                clock);
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
        this.notifications = store.notifications(loops::wake, chains == null ? () -> {} : chains::announced);
    }

    /** The events topic's retention, for the queue-age warning (null: unknown or unlimited). */
    /** Events of people deleted by a privacy request are discarded before delivery (docs/privacy.md). */
    public void erasedUsers(ErasedUsers erased) {
        delivery.erasedUsers(erased);
    }

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

    /** Claims what fits into the free slots ({@link SlotClaims}); each batch goes to {@code dispatch}. */
    int claim(int free, Consumer<ClaimedBatch> dispatch) throws Exception {
        return slots.claim(free, dispatch);
    }

    private boolean available(String destination) {
        return slots.available(destination);
    }

    /** Claims and delivers due batches on the calling thread (tests drive the worker with this and a test clock). */
    public int runOnce() throws Exception {
        return claim(settings.concurrency(), this::process);
    }

    /** Free slots over all destinations (each has {@code worker.concurrency} of its own). */
    int freeSlots() {
        return slots.free();
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
            // Nothing is handed on to a destination that would refuse it now (see claim): its next batch waits unread.
            String destination = destinationOfSync.getOrDefault(batch.syncId(), "");
            boolean handOn = outcome.finished() && loops.running() && available(destination);
            // A destination that recognises reruns by the exact batch range it committed takes batches one by one.
            int run = runsAllowed.getOrDefault(destination, true) ? RUN_BATCHES : 1;
            BatchOutcomes.Recorded recorded = outcomes.record(batch, outcome, handOn ? run : 0);
            if (recorded.handedOn() != null) {
                next = recorded.handedOn();
                inFlight.hold(next); // before the finished one leaves: its slot is never seen free
            }
            if (recorded.recorded()) count(batch, outcome, System.nanoTime() - started);
        } catch (FencedException e) {
            log.warn("Abandoning {}: {}", batch, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            outcomes.failed(batch, Failures.classify(e));
        } finally {
            inFlight.release(batch);
            // The slot is free: if batches were left waiting for one, claim now rather than after a poll.
            if (next == null && slots.moreDue()) loops.wake();
        }
        return next;
    }

    private void count(ClaimedBatch batch, BatchDelivery.Outcome outcome, long nanos) {
        String syncId = outcome.sync().id();
        switch (outcome.decision()) {
            case DeliveryDecision.WaitAsRow wait -> {
                if (!wait.wholeBatch()) metrics.eventsDelivered(syncId, outcome.delivered(), clock.instant());
            }
            case DeliveryDecision.Dead dead -> {}
            default -> {
                metrics.delivered(syncId, outcome.delivered(), nanos, clock.instant());
                metrics.run(syncId, batch.members().size());
            }
        }
        if (!outcome.dead().isEmpty())
            metrics.eventsDeadLettered(syncId, outcome.dead().size());
        if (!outcome.toRetry().isEmpty())
            metrics.eventsRetried(syncId, outcome.toRetry().size());
        metrics.tallies().batch(outcome, clock.instant());
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
        flushTallies();
    }

    /** Adds the delivery accounting gathered since the last heartbeat: one transaction, and only with something in it. */
    private void flushTallies() {
        try {
            metrics.tallies().flush();
        } catch (Exception e) {
            log.debug("Delivery counts kept for the next heartbeat: {}", e.toString());
        }
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
            if (!stillHeld && inFlight.fenceIfStillHeld(batch))
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
        store.pruneCounts(now.minus(SyncCounts.RETENTION));
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
        return inFlight.isEmpty() && !slots.claiming() && (chains == null || chains.idle());
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
        flushTallies();
        reader.close();
        log.info("Worker {} stopped", owner);
    }
}
