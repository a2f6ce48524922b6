package io.sluice.planner;

import io.sluice.archive.Archive;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.delivery.Failures;
import io.sluice.kafka.KafkaClients;
import io.sluice.lifecycle.Service;
import io.sluice.queue.Backfill;
import io.sluice.queue.BackfillStore;
import io.sluice.queue.FencedException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans backfills (docs/replay.md) beside the live {@link Planner}, in the planner role: each planning backfill is
 * leased by one planner process ({@code backfills.lease_owner}), which reads the window back from Kafka with a
 * group-less consumer and records batches into the backfill's own lane together with its per-partition positions.
 * Another planner takes over an expired lease and resumes from the recorded positions. Planning is throttled to the
 * backfill's rate (events per second, at most one second of burst) and to {@link #IN_FLIGHT_BATCHES} unfinished
 * batches, so a backfill never builds a backlog in front of live traffic and a pause or cancel takes hold at once.
 */
public final class BackfillPlanner implements Service {
    private static final Logger log = LoggerFactory.getLogger(BackfillPlanner.class);
    /** Unfinished batches a backfill may have at a time. */
    static final int IN_FLIGHT_BATCHES = 8;

    private static final Duration TICK = Duration.ofMillis(100);
    /**
     * The round while this planner holds no backfill: looking for new ones is a queue transaction, and a backfill
     * starting up to a second later matters to nobody (at 100 ms it was 10 transactions a second, always).
     */
    private static final Duration IDLE_TICK = Duration.ofSeconds(1);

    private static final Duration LEASE = Duration.ofSeconds(15);
    private static final Duration RENEW = Duration.ofSeconds(3);

    private final BackfillStore store;
    private final KafkaClients clients;
    private final String topic;
    private final Map<String, SyncSettings> syncs;
    private final Clock clock;
    private final Archive archive;
    private final String owner = "planner-" + UUID.randomUUID();
    private final Map<Long, BackfillLane> lanes = new HashMap<>();
    private volatile boolean running;
    private Thread thread;

    public BackfillPlanner(SluiceConfig config, KafkaClients clients, BackfillStore store, Clock clock) {
        this(config, clients, store, clock, Optional.empty());
    }

    /** @param archive the events topic's archive: windows older than Kafka's retention are read from it */
    public BackfillPlanner(
            SluiceConfig config, KafkaClients clients, BackfillStore store, Clock clock, Optional<Archive> archive) {
        this.archive = archive.orElse(null);
        this.store = store;
        this.clients = clients;
        this.topic = config.kafka().eventsTopic();
        this.syncs = config.syncs().stream().collect(Collectors.toMap(SyncSettings::id, Function.identity()));
        this.clock = clock;
    }

    @Override
    public synchronized void start() {
        if (thread != null) return;
        running = true;
        thread = Thread.ofPlatform().name("sluice-backfill-planner").start(this::run);
    }

    private void run() {
        while (running) {
            try {
                tick();
            } catch (Exception e) {
                log.warn("Backfill planning failed ({}); trying again", Failures.describeQueueDatabaseFailure(e));
                closeAll();
                LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
            }
            LockSupport.parkNanos((lanes.isEmpty() ? IDLE_TICK : TICK).toNanos());
        }
        closeAll();
    }

    /** One round: follow the backfills' states, lease new ones, and plan a slice of each held one. */
    void tick() throws Exception {
        Instant now = clock.instant();
        List<Backfill> planning = store.planning();
        Set<Long> open = new HashSet<>();
        for (Backfill backfill : planning) {
            open.add(backfill.id());
            BackfillLane lane = lanes.get(backfill.id());
            if (lane == null) {
                SyncSettings sync = syncs.get(backfill.syncId());
                if (sync == null || !store.lease(backfill.id(), owner, LEASE, now)) continue;
                lane = new BackfillLane(backfill, sync, clients, topic, archive, now);
                lanes.put(backfill.id(), lane);
                log.info(
                        "Planning backfill {} of sync {} ({} offsets left)",
                        backfill.id(),
                        sync.id(),
                        backfill.offsetsLeft());
            } else if (!now.isBefore(lane.leasedAt().plus(RENEW))) {
                if (!store.lease(backfill.id(), owner, LEASE, now)) {
                    drop(backfill.id(), "its lease was taken over");
                    continue;
                }
                lane.leased(now);
            }
            plan(lane, backfill, now);
        }
        for (Long id : Set.copyOf(lanes.keySet())) if (!open.contains(id)) drop(id, "it is no longer planning");
    }

    private void plan(BackfillLane lane, Backfill backfill, Instant now) throws Exception {
        if (lane.planned()) {
            if (store.finishIfComplete(backfill.id(), now)) {
                log.info(
                        "Backfill {} of sync {} done: {} events in {} batches",
                        backfill.id(),
                        backfill.syncId(),
                        backfill.plannedEvents(),
                        backfill.plannedBatches());
                drop(backfill.id(), "it is done");
            }
            return;
        }
        if (backfill.unfinishedBatches() >= IN_FLIGHT_BATCHES || !lane.allowed(now)) return;
        lane.read(IN_FLIGHT_BATCHES - (int) backfill.unfinishedBatches());
        var cuts = lane.takeCuts();
        var advances = lane.advances();
        if (cuts.isEmpty() && advances.isEmpty()) return;
        try {
            store.recordPlan(backfill.id(), owner, cuts, advances, now);
            lane.recorded(advances, cuts);
        } catch (FencedException e) {
            drop(backfill.id(), e.getMessage());
        }
    }

    private void drop(long id, String why) {
        BackfillLane lane = lanes.remove(id);
        if (lane == null) return;
        log.info("Stopped planning backfill {}: {}", id, why);
        lane.close();
    }

    private void closeAll() {
        for (Long id : Set.copyOf(lanes.keySet())) drop(id, "planner stopping or database unavailable");
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = thread;
        }
        if (t == null) return;
        try {
            t.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
