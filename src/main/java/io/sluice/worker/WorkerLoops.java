package io.sluice.worker;

import io.sluice.config.SluiceConfig.WorkerSettings;
import io.sluice.delivery.Failures;
import io.sluice.failover.WriteHeldException;
import io.sluice.queue.ClaimedBatch;
import io.sluice.retry.Recovery;
import io.sluice.retry.RetryPolicy;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's named background loops: claiming (dispatching each batch to its own virtual thread), heartbeats,
 * maintenance and the retry queue, each running one of the {@link Jobs} it is given (it knows nothing else of the
 * worker). Each loop catches, logs and continues; {@link #close()} stops claiming first, then waits a bounded time
 * for in-flight deliveries.
 */
final class WorkerLoops implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkerLoops.class);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration RETRY_INTERVAL = Duration.ofMillis(500);

    private final Jobs jobs;
    private final WorkerSettings settings;
    private final Recovery claimRecovery;
    private final ExecutorService deliveries = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("sluice-delivery-", 0).factory());
    /** Released when a slot frees or a batch is planned: the claimer claims at once instead of after a poll. */
    private final Semaphore wake = new Semaphore(0);

    private volatile boolean running;
    private Thread claimer;
    private Thread heartbeat;
    private Thread maintenance;
    private Thread retries;

    /**
     * What the loops run.
     *
     * @param claim claims into the free slots, handing each batch to the dispatcher; returns how many
     * @param freeSlots the free batch slots now
     * @param moreDue whether the last claim filled its limit (so more may be due right now)
     * @param process delivers one claimed batch and records its outcome (never throws)
     * @param heartbeat extends the leases of what is held
     * @param maintenance prunes and refreshes gauges
     * @param retries dispatches due retry chains; returns how many
     */
    record Jobs(
            Claim claim,
            IntSupplier freeSlots,
            BooleanSupplier moreDue,
            Consumer<ClaimedBatch> process,
            Task heartbeat,
            Task maintenance,
            Count retries) {}

    WorkerLoops(Jobs jobs, WorkerSettings settings, Clock clock) {
        this.jobs = jobs;
        this.settings = settings;
        // Claiming against a database that is down: poll interval doubling to 5 s, never giving up.
        this.claimRecovery = new RetryPolicy(
                        settings.pollInterval(),
                        max(settings.pollInterval(), Duration.ofSeconds(5)),
                        Integer.MAX_VALUE,
                        null)
                .recovery(clock);
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    synchronized void start() {
        if (running) return;
        running = true;
        claimer = Thread.ofPlatform().name("sluice-worker-claimer").daemon().start(this::claimLoop);
        heartbeat = Thread.ofVirtual()
                .name("sluice-worker-heartbeat")
                .start(() -> every(settings.heartbeatInterval(), jobs.heartbeat(), "heartbeat"));
        maintenance = Thread.ofVirtual()
                .name("sluice-worker-maintenance")
                .start(() -> every(settings.pruneInterval(), jobs.maintenance(), "maintenance"));
        retries = Thread.ofVirtual()
                .name("sluice-worker-retries")
                .start(() -> every(
                        RETRY_INTERVAL,
                        () -> {
                            while (running && jobs.retries().run() > 0) {
                                // keep going while chains are due
                            }
                        },
                        "retry queue"));
    }

    private void claimLoop() {
        while (running) {
            try {
                int claimed = jobs.claim()
                        .run(
                                jobs.freeSlots().getAsInt(),
                                batch -> deliveries.submit(() -> jobs.process().accept(batch)));
                if (claimRecovery.succeeded()) log.info("Claiming works again");
                // Nothing (more) due or no slot free: wait for a wake-up (a delivery finished, a batch was planned);
                // the poll interval bounds the wait for what nobody announces (retry backoffs, expired leases). A
                // claim that took less than its limit took everything due: asking again at once would be a queue
                // transaction that finds nothing (a wake-up that came meanwhile is kept and ends the wait at once).
                if (claimed == 0
                        || jobs.freeSlots().getAsInt() == 0
                        || !jobs.moreDue().getAsBoolean()) awaitWake(settings.pollInterval());
            } catch (WriteHeldException e) {
                // Refused by this process's gate, not by the database: asking again costs nothing, and a short wait
                // means claiming starts within a poll interval of the resume rather than a grown backoff later.
                log.debug("Claiming waits: {}", e.getMessage());
                sleep(settings.pollInterval().multipliedBy(4));
            } catch (Exception e) {
                Duration delay = claimRecovery.failed();
                log.warn(
                        "Claiming failed ({}); retrying in {} ms",
                        Failures.describeQueueDatabaseFailure(e),
                        delay.toMillis());
                sleep(delay);
            }
        }
    }

    /** Wakes the claimer (a slot freed up or a batch was planned). */
    void wake() {
        wake.release();
    }

    boolean running() {
        return running;
    }

    private void awaitWake(Duration max) {
        try {
            if (wake.tryAcquire(max.toNanos(), TimeUnit.NANOSECONDS)) wake.drainPermits();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    private void every(Duration interval, Task task, String name) {
        while (running) {
            sleep(interval);
            if (!running) return;
            try {
                task.run();
            } catch (WriteHeldException e) {
                log.debug("Worker {} waits: {}", name, e.getMessage()); // paused or failing over: expected, not a fault
            } catch (Exception e) {
                log.warn("Worker {} failed ({}); will try again", name, Failures.describeQueueDatabaseFailure(e));
            }
        }
    }

    private void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (!running) return;
            running = false;
        }
        for (Thread t : new Thread[] {claimer, heartbeat, maintenance, retries}) {
            t.interrupt();
        }
        deliveries.shutdown();
        try {
            if (!deliveries.awaitTermination(DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("Deliveries still running after {} s; releasing their batches", DRAIN_TIMEOUT.toSeconds());
                deliveries.shutdownNow();
            }
            claimer.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @FunctionalInterface
    interface Task {
        void run() throws Exception;
    }

    @FunctionalInterface
    interface Count {
        int run() throws Exception;
    }

    @FunctionalInterface
    interface Claim {
        int run(int free, Consumer<ClaimedBatch> dispatch) throws Exception;
    }
}
