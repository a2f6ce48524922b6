package io.sluice.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.config.SluiceConfig.WorkerSettings;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.Failures;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.function.FunctionFailure;
import io.sluice.function.FunctionResult;
import io.sluice.function.Functions;
import io.sluice.queue.DeadLetterReplay;
import io.sluice.queue.DeadLetterStore;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.RetryEvent;
import io.sluice.queue.RetryStore;
import io.sluice.destination.Destination;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.FencedException;
import io.sluice.queue.QueueStore;
import io.sluice.queue.SyncFilter;
import io.sluice.runtime.Service;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker role: claims due batches (one statement), reads their events back from Kafka, delivers them to the
 * sync's destination and marks them done — every state change fenced by owner and lease epoch. Failures are
 * retried with backoff or dead-lettered, as {@link Failures} decides.
 */
public final class Worker implements Service {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    private final QueueStore store;
    private final WorkerSettings settings;
    private final Map<String, SyncSettings> syncs;
    private final Map<String, SyncFilter> filters;
    private final Map<String, Destination> destinations;
    private final Map<String, RetryPolicy> policies;
    private final RetryStore retries;
    private final DeadLetterStore deadLetters;
    private final Functions functions;
    private final Duration deadLetterRetention;
    private final BatchReader reader;
    private final Clock clock;
    private final String owner;
    private final Backoff backoff;
    private final WorkerMetrics metrics;
    private final Map<Long, ClaimedBatch> inFlight = new ConcurrentHashMap<>();
    private final Set<Long> fenced = ConcurrentHashMap.newKeySet();
    /** Claims under way: counted before the claim asks the gate, so a quiesce check never misses a batch being taken. */
    private final java.util.concurrent.atomic.AtomicInteger claiming = new java.util.concurrent.atomic.AtomicInteger();
    private final WorkerLoops loops;
    private final RetryChains chains;
    private volatile Duration topicRetention;

    /**
     * @param retries the per-sync retry queue, or null when no destination reports single events as failed
     * @param deadLetters where undeliverable events go (pruned here after {@code deadLetters.retention})
     * @param destinations open destinations by destination id
     * @param functions the syncs' customer functions (started), or null when no sync has one
     */
    public Worker(QueueStore store, RetryStore retries, DeadLetterStore deadLetters, SluiceConfig config,
                  Map<String, Destination> destinations, Functions functions, String bootstrapServers, Clock clock,
                  MeterRegistry registry, String owner) {
        this.store = store;
        this.functions = functions;
        this.retries = retries;
        this.deadLetters = deadLetters;
        this.deadLetterRetention = config.deadLetterRetention();
        this.settings = config.worker();
        List<SyncSettings> syncs = config.syncs();
        this.policies = config.destinations().stream()
                .collect(Collectors.toUnmodifiableMap(DestinationSettings::id, d -> RetryPolicy.of(d, settings)));
        this.syncs = syncs.stream().collect(Collectors.toUnmodifiableMap(SyncSettings::id, Function.identity()));
        this.filters = syncs.stream().collect(Collectors.toUnmodifiableMap(SyncSettings::id, SyncFilter::new));
        this.destinations = destinations;
        this.reader = new BatchReader(bootstrapServers, settings.concurrency());
        this.clock = clock;
        this.owner = owner;
        this.backoff = new Backoff(settings.retryBase(), settings.retryCap(), ThreadLocalRandom.current());
        this.metrics = new WorkerMetrics(registry, inFlight);
        this.loops = new WorkerLoops(this, settings);
        this.chains = retries == null ? null
                : new RetryChains(retries, this.syncs, destinations, policies, metrics, clock, owner, settings.leaseDuration());
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
        log.info("Worker {} started: {} sync(s), concurrency {}", owner, syncs.size(), settings.concurrency());
    }

    /** Claims what fits into the free slots; each claimed batch is handed to {@code dispatch}. Returns the count. */
    int claim(int free, java.util.function.Consumer<ClaimedBatch> dispatch) throws Exception {
        if (free <= 0) return 0;
        claiming.incrementAndGet();
        try {
            List<ClaimedBatch> claimed = store.claim(owner, free, settings.leaseDuration(), clock.instant(), busySyncs());
            for (ClaimedBatch batch : claimed) {
                inFlight.put(batch.id(), batch);
                dispatch.accept(batch);
            }
            return claimed.size();
        } finally {
            claiming.decrementAndGet();
        }
    }

    /**
     * Syncs whose destination already holds its share of this worker's slots (with several destinations, half of
     * them, at least one): a slow or hanging destination can never occupy every slot and starve the others.
     */
    private List<String> busySyncs() {
        if (destinations.size() < 2) return List.of();
        int share = Math.max(1, settings.concurrency() / 2);
        Map<String, Integer> perDestination = new HashMap<>();
        for (ClaimedBatch held : inFlight.values()) {
            SyncSettings sync = syncs.get(held.syncId());
            if (sync != null) perDestination.merge(sync.destination(), 1, Integer::sum);
        }
        if (perDestination.values().stream().noneMatch(n -> n >= share)) return List.of();
        return syncs.values().stream().filter(s -> perDestination.getOrDefault(s.destination(), 0) >= share).map(SyncSettings::id).toList();
    }

    /** Claims and delivers due batches on the calling thread (tests drive the worker with this and a test clock). */
    public int runOnce() throws Exception {
        return claim(settings.concurrency(), this::process);
    }

    int freeSlots() {
        return settings.concurrency() - inFlight.size();
    }

    /** Delivers one claimed batch and records the outcome. Never throws. */
    void process(ClaimedBatch batch) {
        long started = System.nanoTime();
        try {
            SyncSettings sync = syncs.get(batch.syncId());
            if (sync == null) throw DeliveryException.permanent("sync " + batch.syncId() + " is no longer configured", null);
            List<ObjectNode> events = reader.read(batch, filters.get(sync.id()));
            Destination destination = destinations.get(sync.destination());
            List<RetryEvent> toRetry = new ArrayList<>();
            List<DeadLetter> dead = new ArrayList<>();
            if (functions != null && sync.hasFunction()) {
                FunctionResult transformed = functions.apply(sync.id(), events);
                for (FunctionFailure failure : transformed.failures()) {
                    dead.add(DeadLetter.of(sync.id(), failure.event(), DeadLetterReplay.FUNCTION_ERROR + failure.error(), null, 1, batch.id()));
                }
                events = transformed.output();
            }
            List<ObjectNode> now = queueBehindWaitingUsers(sync, destination, events, toRetry);
            DeliveryReport report = destination.deliver(new DeliveryBatch(sync.id(), sync.source(), batch.id(), batch.partition(),
                    batch.firstOffset(), batch.lastOffset(), now));
            Instant at = clock.instant();
            RetryPolicy policy = policies.get(sync.destination());
            for (DeliveryReport.EventFailure failure : report.failures()) {
                if (failure.error().isRetriable()) {
                    toRetry.add(RetryEvent.of(sync.id(), failure.event(), 1, policy.nextAttempt(1, failure.retryAfter(), at), at,
                            describe(failure.error()), failure.statusCode()));
                } else {
                    dead.add(DeadLetter.of(sync.id(), failure.event(), describe(failure.error()), failure.statusCode(), 1, batch.id()));
                }
            }
            record(batch, () -> store.complete(batch, clock.instant(), toRetry, dead));
            metrics.delivered(sync.id(), events, System.nanoTime() - started, clock.instant());
            if (!dead.isEmpty()) metrics.eventsDeadLettered(sync.id(), dead.size());
            if (!toRetry.isEmpty()) metrics.eventsRetried(sync.id(), toRetry.size());
        } catch (FencedException e) {
            log.warn("Abandoning {}: {}", batch, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            failed(batch, Failures.classify(e));
        } finally {
            inFlight.remove(batch.id());
            fenced.remove(batch.id());
        }
    }

    /**
     * For destinations that fail single events: events of users who still have events in the retry queue are queued
     * behind them (per-user order); the rest are returned for delivery now.
     */
    private List<ObjectNode> queueBehindWaitingUsers(SyncSettings sync, Destination destination, List<ObjectNode> events,
                                                     List<RetryEvent> toRetry) throws Exception {
        if (retries == null || !destination.deliversEventByEvent() || events.isEmpty()) return events;
        Set<String> waiting = retries.waitingUsers(sync.id(), events.stream().map(RetryEvent::userKey).collect(Collectors.toSet()));
        if (waiting.isEmpty()) return events;
        Instant now = clock.instant();
        List<ObjectNode> deliverNow = new ArrayList<>();
        for (ObjectNode event : events) {
            if (waiting.contains(RetryEvent.userKey(event))) {
                toRetry.add(RetryEvent.of(sync.id(), event, 0, now, now, "waiting behind an earlier event of the same user", null));
            } else {
                deliverNow.add(event);
            }
        }
        return deliverNow;
    }

    /** Delivers due retry chains (one user's waiting events of one sync, in order). Returns how many were handled. */
    int retryDue() throws Exception {
        return chains == null ? 0 : chains.deliverDue(Math.max(1, freeSlots()));
    }

    private void failed(ClaimedBatch batch, DeliveryException failure) {
        Instant now = clock.instant();
        String error = describe(failure);
        boolean exhausted = batch.attempts() >= settings.maxAttempts()
                || !now.isBefore(batch.createdAt().plus(settings.maxRetryAge()));
        try {
            if (failure.isRetriable() && !exhausted) {
                Duration delay = backoff.delay(batch.attempts());
                log.warn("{} failed (retriable), retrying in {} ms: {}", batch, delay.toMillis(), error);
                record(batch, () -> store.retryLater(batch, now.plus(delay), error, now));
                metrics.retried(batch.syncId());
            } else {
                log.error("{} failed {}; moved to dead letters: {}", batch, failure.isRetriable() ? "too often" : "permanently", error);
                record(batch, () -> store.deadLetter(batch, error, now));
                metrics.deadLettered(batch.syncId());
            }
        } catch (FencedException e) {
            log.warn("Abandoning {}: {}", batch, e.getMessage());
        } catch (Exception e) {
            log.warn("Could not record the failure of {} ({}); its lease will expire and it will be retried", batch, e.toString());
        }
    }

    /** Runs a state change, retrying briefly if the database hiccups (within the lease, so no one else has the batch). */
    private void record(ClaimedBatch batch, SqlAction action) throws Exception {
        Duration wait = Duration.ofMillis(100);
        long deadline = System.nanoTime() + settings.leaseDuration().dividedBy(2).toNanos();
        while (true) {
            if (fenced.contains(batch.id())) throw new FencedException(batch + " lost its lease");
            try {
                action.run();
                return;
            } catch (FencedException e) {
                throw e;
            } catch (Exception e) {
                if (!Failures.isRetriable(e) || System.nanoTime() + wait.toNanos() > deadline) throw e;
                Thread.sleep(wait);
                wait = wait.multipliedBy(2);
            }
        }
    }

    /** Extends the leases of in-flight batches; those this worker lost are marked fenced. */
    void heartbeat() throws Exception {
        List<ClaimedBatch> held = List.copyOf(inFlight.values());
        List<Long> still = store.heartbeat(owner, held, settings.leaseDuration(), clock.instant());
        for (ClaimedBatch batch : held) {
            if (!still.contains(batch.id()) && inFlight.containsKey(batch.id())) {
                fenced.add(batch.id());
                log.warn("Lost the lease of {}; its completion will be refused", batch);
            }
        }
    }

    /** Prunes delivered rows and refreshes the queue-age gauge. */
    void maintain() throws Exception {
        Instant now = clock.instant();
        while (store.pruneDone(now.minus(settings.doneRetention()), 5_000) == 5_000) {
            // keep deleting in small chunks
        }
        if (deadLetters != null) deadLetters.prune(now.minus(deadLetterRetention));
        if (retries != null) metrics.oldestRetry(retries.oldestWaiting(), now);
        metrics.oldestUnfinished(store.oldestUnfinished(), now, topicRetention);
    }

    /** Gives back what is still held (shutdown), so other workers can take it at once. */
    void releaseAll() {
        for (ClaimedBatch batch : inFlight.values()) {
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
        loops.close();
        releaseAll();
        reader.close();
        log.info("Worker {} stopped", owner);
    }

    @FunctionalInterface
    private interface SqlAction {
        void run() throws Exception;
    }
}
