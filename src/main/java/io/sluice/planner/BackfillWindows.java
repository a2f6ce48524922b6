package io.sluice.planner;

import io.sluice.archive.Archive;
import io.sluice.archive.ArchiveCursor;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.kafka.KafkaClients;
import io.sluice.queue.Backfill;
import io.sluice.queue.BackfillStore;
import io.sluice.queue.PlannedBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

/**
 * Starting a backfill (docs/replay.md), for the CLI and the admin API alike: resolves a time window to offsets per
 * partition of the events topic (Kafka's offsets-for-times on the records' timestamps, the collector's publish time),
 * counts what a run would plan ({@code --dry-run}), or creates the backfill for the planner. With the archive on
 * ({@code archive.enabled}), the part of a window older than the earliest offset Kafka still holds is found and read
 * in the archive: its offsets are the events topic's own, so the window is still one offset range per partition.
 */
public final class BackfillWindows {
    /** Default rate limit of a backfill's planning, in events per second. */
    public static final int DEFAULT_RATE = 5_000;

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final KafkaClients clients;
    private final String topic;
    private final Archive archive;

    public BackfillWindows(KafkaClients clients, String topic) {
        this(clients, topic, Optional.empty());
    }

    /** @param archive the events topic's archive, when the deployment keeps one */
    public BackfillWindows(KafkaClients clients, String topic, Optional<Archive> archive) {
        this.clients = clients;
        this.topic = topic;
        this.archive = archive.orElse(null);
    }

    /** What a dry run found: events the sync wants and the batches they make, per partition and in all. */
    public record DryRun(
            String syncId, String destination, long events, long batches, List<Backfill.Partition> window) {}

    /** Per partition, [first offset at or after {@code from}, first offset at or after {@code to} or the end now). */
    public List<Backfill.Partition> resolve(Instant from, Instant to) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer("sluice-backfill-window")) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, TIMEOUT).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .sorted((a, b) -> Integer.compare(a.partition(), b.partition()))
                    .toList();
            Map<TopicPartition, Long> beginning = consumer.beginningOffsets(partitions, TIMEOUT);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(times(partitions, from), TIMEOUT);
            Map<TopicPartition, OffsetAndTimestamp> ends =
                    to == null ? Map.of() : consumer.offsetsForTimes(times(partitions, to), TIMEOUT);
            List<Backfill.Partition> window = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                long last = end.get(tp);
                long stop = ends.get(tp) == null
                        ? last
                        : Math.min(last, ends.get(tp).offset());
                long start = starts.get(tp) == null ? last : starts.get(tp).offset();
                long floor = beginning.get(tp);
                if (archive != null) {
                    // Kafka answers with its first offset for a time before it: the archive may hold what came before
                    if (start <= floor) {
                        Optional<Long> archived = archived(tp.partition(), from, floor);
                        if (archived.isPresent()) start = floor = archived.get();
                    }
                    if (to != null && stop <= beginning.get(tp))
                        stop = archived(tp.partition(), to, beginning.get(tp)).orElse(stop);
                }
                // events before the partition's beginning (or the archive's) were deleted: the window starts there
                start = Math.min(Math.max(start, floor), stop);
                window.add(new Backfill.Partition(tp.partition(), start, stop));
            }
            return window;
        }
    }

    /** Reads the window and cuts it exactly as the planner will: the events and batches a run would send. */
    public DryRun dryRun(SyncSettings sync, List<Backfill.Partition> window) {
        long events = 0;
        long batches = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = consumer("sluice-backfill-dry-run")) {
            for (Backfill.Partition p : window) {
                if (p.planned()) continue;
                TopicPartition tp = new TopicPartition(topic, p.partition());
                LaneCutter cutter = new LaneCutter(sync, p.partition(), p.next(), p.end());
                long kafkaFrom = readArchived(
                        cutter, p, consumer.beginningOffsets(List.of(tp)).get(tp));
                consumer.assign(List.of(tp));
                consumer.seek(tp, kafkaFrom);
                long deadline = System.nanoTime() + TIMEOUT.toNanos(); // a read timeout: monotonic, not the clock
                while (!cutter.planned()) {
                    var records = consumer.poll(Duration.ofMillis(200));
                    for (ConsumerRecord<byte[], byte[]> r : records)
                        cutter.add(r.offset(), r.key(), r.value(), r.headers());
                    if (!records.isEmpty()) deadline = System.nanoTime() + TIMEOUT.toNanos();
                    cutter.reached(consumer.position(tp));
                    if (records.isEmpty() && System.nanoTime() - deadline > 0) {
                        throw new IllegalStateException("partition " + p.partition() + " could not be read to offset "
                                + p.end() + " within " + TIMEOUT.toSeconds() + " s");
                    }
                }
                for (PlannedBatch cut : cutter.takeCuts()) {
                    events += cut.eventCount();
                    batches++;
                }
            }
        }
        return new DryRun(sync.id(), sync.destination(), events, batches, window);
    }

    /**
     * Cuts what the archive holds of the partition's window below Kafka's beginning, if anything; returns where
     * reading goes on in Kafka.
     */
    private long readArchived(LaneCutter cutter, Backfill.Partition p, long beginning) {
        if (archive == null || p.next() >= beginning) return p.next();
        try (ArchiveCursor cursor = archive.cursor(p.partition(), p.next())) {
            for (var r = cursor.next(); r != null && r.offset() < p.end(); r = cursor.next())
                cutter.add(r.offset(), r.key(), r.value(), r.headers());
            cutter.reached(cursor.position());
            return Math.max(p.next(), cursor.position());
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot read the archive (" + archive.describe() + "): " + e.getMessage(), e);
        }
    }

    private Optional<Long> archived(int partition, Instant time, long before) {
        try {
            return archive.offsetForTime(partition, time, before);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot read the archive (" + archive.describe() + "): " + e.getMessage(), e);
        }
    }

    /** Creates the backfill (state planning); the planner that takes its lease plans it. */
    public long create(
            BackfillStore store, SyncSettings sync, Instant from, Instant to, int rate, String by, Instant now)
            throws SQLException {
        if (to != null && !to.isAfter(from)) throw new IllegalArgumentException("--to must be after --from");
        if (rate < 1) throw new IllegalArgumentException("the rate must be at least 1 event/s");
        return store.create(new BackfillStore.Request(sync.id(), from, to, rate, by, resolve(from, to)), now);
    }

    private static Map<TopicPartition, Long> times(List<TopicPartition> partitions, Instant at) {
        Map<TopicPartition, Long> times = new HashMap<>();
        for (TopicPartition tp : partitions) times.put(tp, at.toEpochMilli());
        return times;
    }

    private KafkaConsumer<byte[], byte[]> consumer(String clientId) {
        return clients.consumer(Map.of(
                ConsumerConfig.CLIENT_ID_CONFIG,
                clientId,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                5000));
    }
}
