package io.sluice.planner;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.config.StartFrom;
import io.sluice.delivery.Failures;
import io.sluice.failover.WriteHeldException;
import io.sluice.kafka.ConsumerLoop;
import io.sluice.kafka.KafkaClients;
import io.sluice.lifecycle.Service;
import io.sluice.queue.FencedException;
import io.sluice.queue.PlannedBatch;
import io.sluice.queue.ProgressUpdate;
import io.sluice.queue.QueueStore;
import io.sluice.queue.SyncCounts;
import io.sluice.retry.Recovery;
import io.sluice.retry.RetryPolicy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The planner role: consumes the events topic in a consumer group and cuts, per sync and partition, batches bounded
 * by events, bytes and age, recorded as rows of the virtual queue together with the planning positions. Kafka
 * offsets are committed only after that; on assignment the planner seeks to the positions in the database.
 * While the database is unreachable it pauses its partitions (events wait in Kafka) and keeps polling, so it keeps
 * its group membership, and resumes by itself.
 */
public final class Planner implements Service {
    private static final Logger log = LoggerFactory.getLogger(Planner.class);
    private static final Duration POLL = Duration.ofMillis(50);
    /** Retry delay while this process's gate holds writes (nothing was sent, so retrying costs nothing). */
    private static final Duration HELD_RETRY = Duration.ofMillis(200);

    private final QueueStore store;
    private final List<SyncSettings> syncs;
    private final Clock clock;
    private final KafkaConsumer<String, byte[]> consumer;
    private final String topic;
    private final Map<Integer, PartitionPlan> plans = new HashMap<>();
    private final Set<Integer> unloaded = new HashSet<>();
    private final ConsumerLoop loop;
    private final Recovery database;
    private final Duration recordInterval;
    private Instant lastRecord = Instant.EPOCH;
    private boolean started;

    public Planner(SluiceConfig config, KafkaClients clients, QueueStore store, Clock clock, MeterRegistry registry) {
        this.store = store;
        this.syncs = config.syncs();
        this.clock = clock;
        this.topic = config.kafka().eventsTopic();
        // Keys as their source id and values only where no routing headers say what the record is: the planner
        // plans from the key, the headers and the value's size (PlannerRecords).
        this.consumer = clients.consumer(
                Map.of(
                        ConsumerConfig.GROUP_ID_CONFIG,
                        config.planner().groupId(),
                        ConsumerConfig.CLIENT_ID_CONFIG,
                        "sluice-planner",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                        false,
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                        "earliest",
                        ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                        5000,
                        // A crashed planner's partitions move to the others within ~10 s rather than the 45 s default.
                        ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG,
                        10_000,
                        ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG,
                        3_000),
                new PlannerRecords.SourceDeserializer(),
                new PlannerRecords.RoutingValueDeserializer());
        registry.gauge("sluice.planner.partitions.paused", unloaded, Set::size);
        this.loop = new ConsumerLoop("sluice-planner", consumer, this::pollOnce, clock);
        this.database = RetryPolicy.RECOVERY.recovery(clock);
        this.recordInterval = config.planner().recordInterval();
    }

    @Override
    public synchronized void start() {
        if (started) return;
        started = true;
        consumer.subscribe(List.of(topic), new Rebalance());
        loop.start();
        log.info("Planner started for {} sync(s) on topic {}", syncs.size(), topic);
    }

    /** One iteration: load positions if needed, poll, plan, record, commit. */
    void pollOnce() {
        if (!unloaded.isEmpty() && database.due()) loadPositions(new ArrayList<>(unloaded));
        var records = consumer.poll(POLL);
        var now = clock.instant();
        for (ConsumerRecord<String, byte[]> record : records) {
            PartitionPlan plan = plans.get(record.partition());
            if (plan != null) {
                plan.add(
                        record.offset(),
                        record.key(),
                        record.value(),
                        Math.max(0, record.serializedValueSize()),
                        record.headers(),
                        now);
            }
        }
        plans.values().forEach(plan -> plan.cutAged(now));
        // At most one queue transaction per record interval, whatever the number of partitions cutting batches.
        if (database.due() && !now.isBefore(lastRecord.plus(recordInterval))) record();
    }

    /** Writes every partition's cuts and positions in one transaction, then commits the Kafka offsets. */
    private void record() {
        var now = clock.instant();
        List<PlannedBatch> cuts = new ArrayList<>();
        List<ProgressUpdate> progress = new ArrayList<>();
        Map<Integer, List<ProgressUpdate>> byPartition = new HashMap<>();
        SyncCounts counts = new SyncCounts(); // delivery accounting, written with the positions it covers
        plans.forEach((partition, plan) -> {
            if (!plan.hasWork(now)) return;
            cuts.addAll(plan.cuts());
            List<ProgressUpdate> updates = plan.progress();
            progress.addAll(updates);
            byPartition.put(partition, updates);
            plan.countsInto(counts, now);
        });
        if (cuts.isEmpty() && progress.isEmpty()) return;
        try {
            store.recordPlan(cuts, progress, counts, now);
        } catch (FencedException e) {
            log.warn("Planning positions changed under this planner ({}); reloading them", e.getMessage());
            loadPositions(new ArrayList<>(plans.keySet()));
            return;
        } catch (Exception e) {
            databaseUnavailable(e);
            return;
        }
        byPartition.forEach((partition, updates) -> plans.get(partition).recorded(updates, now));
        lastRecord = now;
        databaseAvailable();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        byPartition.keySet().forEach(partition -> {
            long committable = plans.get(partition).committableOffset();
            if (committable >= 0) offsets.put(new TopicPartition(topic, partition), new OffsetAndMetadata(committable));
        });
        if (!offsets.isEmpty()) consumer.commitAsync(offsets, null);
    }

    /** (Re)loads positions from the database and seeks there; partitions whose load fails stay paused. */
    private void loadPositions(Collection<Integer> partitions) {
        for (int partition : partitions) {
            TopicPartition tp = new TopicPartition(topic, partition);
            try {
                var positions = store.positions(partition);
                // Only the database says where planning stands; Kafka's committed offset may be ahead of it after a
                // failover lost recent queue writes. A sync with no position starts at the oldest retained event.
                long beginning = beginning(tp);
                PartitionPlan plan = new PartitionPlan(
                        partition, syncs, positions, starts(tp, positions, beginning), beginning, clock.instant());
                plans.put(partition, plan);
                consumer.seek(tp, plan.seekOffset());
                unloaded.remove(partition);
                consumer.resume(List.of(tp));
            } catch (Exception e) {
                plans.remove(partition);
                unloaded.add(partition);
                consumer.pause(List.of(tp));
                databaseUnavailable(e);
            }
        }
    }

    /** Where syncs without a position whose {@code startFrom} is latest or a time start on {@code tp}. */
    private Map<String, Long> starts(TopicPartition tp, Map<String, QueueStore.Position> positions, long beginning) {
        Map<String, Long> starts = new HashMap<>();
        for (SyncSettings sync : syncs) {
            StartFrom from = sync.startFrom();
            if (positions.containsKey(sync.id()) || from.earliest()) continue;
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long start = end;
            if (!from.latest()) {
                var found = consumer.offsetsForTimes(Map.of(tp, from.at().toEpochMilli()))
                        .get(tp);
                if (found != null) start = found.offset();
            }
            starts.put(sync.id(), Math.max(beginning, start));
        }
        return starts;
    }

    private long beginning(TopicPartition tp) {
        return consumer.beginningOffsets(List.of(tp)).get(tp);
    }

    private void databaseUnavailable(Exception e) {
        // Held by this process's gate (pause, writer change): no statement was sent, so try again soon and plan
        // within moments of the hold lifting; a database that failed gets the recovery policy's backoff.
        if (e instanceof WriteHeldException) database.failed(HELD_RETRY);
        else database.failed();
        if (consumer.paused().size() < consumer.assignment().size()) {
            log.warn(
                    "Queue database unavailable ({}); pausing consumption, events wait in Kafka",
                    Failures.describeQueueDatabaseFailure(e));
            consumer.pause(consumer.assignment());
        }
    }

    private void databaseAvailable() {
        if (!database.succeeded()) return;
        Set<TopicPartition> loaded = new HashSet<>();
        for (TopicPartition tp : consumer.assignment()) if (!unloaded.contains(tp.partition())) loaded.add(tp);
        consumer.resume(loaded);
        log.info("Queue database reachable again; planning resumed");
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // Unrecorded cuts are dropped: the next owner re-plans them from the positions in the database.
            partitions.forEach(tp -> {
                plans.remove(tp.partition());
                unloaded.remove(tp.partition());
            });
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            loadPositions(partitions.stream().map(TopicPartition::partition).toList());
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (!started || !loop.running()) return;
        }
        loop.close();
        log.info("Planner stopped");
    }
}
