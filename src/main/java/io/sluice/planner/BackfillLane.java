package io.sluice.planner;

import io.sluice.archive.Archive;
import io.sluice.archive.ArchiveCursor;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.kafka.KafkaClients;
import io.sluice.queue.Backfill;
import io.sluice.queue.BackfillStore;
import io.sluice.queue.PlannedBatch;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * One leased backfill in the {@link BackfillPlanner}: a group-less consumer on the window's unplanned partitions, a
 * {@link LaneCutter} per partition, the positions last recorded, and the rate limit's allowance (events per second,
 * at most one second saved up; a cut spends its events, so the allowance may go below zero and is paid back). A
 * partition whose next offset Kafka no longer holds is read from the archive first ({@link ArchiveCursor}), then from
 * Kafka where the archive ends: the cutter sees the same offsets either way.
 */
final class BackfillLane implements AutoCloseable {
    private static final Duration POLL = Duration.ofMillis(50);
    /** Archived records one read cuts per partition at most: a slice, like one poll. */
    private static final int ARCHIVE_READ = 2000;

    private final String topic;
    private final int rate;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<Integer, LaneCutter> cutters = new LinkedHashMap<>();
    private final Map<Integer, Long> stored = new LinkedHashMap<>();
    private final List<PlannedBatch> pending = new ArrayList<>();
    /** Partitions still read from the archive; they join the consumer's assignment once it is read. */
    private final Map<Integer, ArchiveCursor> archived = new LinkedHashMap<>();

    private double allowance;
    private Instant refilledAt;
    private Instant leasedAt;

    BackfillLane(Backfill backfill, SyncSettings sync, KafkaClients clients, String topic, Archive archive, Instant now)
            throws IOException {
        this.topic = topic;
        this.rate = backfill.ratePerSecond();
        this.refilledAt = now;
        this.leasedAt = now;
        this.allowance = rate;
        this.consumer = clients.consumer(Map.of(
                ConsumerConfig.CLIENT_ID_CONFIG,
                "sluice-backfill-" + backfill.id(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                Math.max(1, Math.min(2000, sync.maxEvents()))));
        List<TopicPartition> assigned = new ArrayList<>();
        for (Backfill.Partition p : backfill.partitions()) {
            if (p.planned()) continue;
            cutters.put(p.partition(), new LaneCutter(sync, p.partition(), p.next(), p.end()));
            stored.put(p.partition(), p.next());
            assigned.add(new TopicPartition(topic, p.partition()));
        }
        if (archive != null && !assigned.isEmpty()) {
            try {
                Map<TopicPartition, Long> beginning = consumer.beginningOffsets(assigned);
                for (TopicPartition tp : List.copyOf(assigned)) {
                    long next = cutters.get(tp.partition()).next();
                    if (next >= beginning.get(tp)) continue;
                    archived.put(tp.partition(), archive.cursor(tp.partition(), next));
                    assigned.remove(tp);
                }
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }
        consumer.assign(assigned);
        for (TopicPartition tp : assigned)
            consumer.seek(tp, cutters.get(tp.partition()).next());
    }

    /**
     * Cuts up to {@code ARCHIVE_READ} archived records per partition still in the archive; a partition whose archived
     * part is read goes on in Kafka at the offset the archive ends.
     */
    private void readArchived(int batches) throws IOException {
        for (Integer partition : List.copyOf(archived.keySet())) {
            ArchiveCursor cursor = archived.get(partition);
            LaneCutter cutter = cutters.get(partition);
            boolean exhausted = false;
            for (int i = 0; i < ARCHIVE_READ && pending.size() + cutter.waiting() < batches; i++) {
                var r = cursor.next();
                if (r == null) {
                    exhausted = true;
                    break;
                }
                cutter.add(r.offset(), r.key(), r.value(), r.headers());
                if (cutter.planned()) break;
            }
            if (exhausted) cutter.reached(cursor.position());
            pending.addAll(cutter.takeCuts());
            if (!exhausted && !cutter.planned()) continue;
            cursor.close();
            archived.remove(partition);
            if (cutter.planned()) continue;
            TopicPartition tp = new TopicPartition(topic, partition);
            List<TopicPartition> assignment = new ArrayList<>(consumer.assignment());
            assignment.add(tp);
            consumer.assign(assignment);
            consumer.seek(tp, Math.max(cursor.position(), cutter.readPosition()));
        }
    }

    Instant leasedAt() {
        return leasedAt;
    }

    void leased(Instant now) {
        leasedAt = now;
    }

    boolean planned() {
        return cutters.values().stream().allMatch(LaneCutter::planned);
    }

    /** Refills the allowance; true when there is some to spend. */
    boolean allowed(Instant now) {
        double seconds = Duration.between(refilledAt, now).toNanos() / 1e9;
        refilledAt = now;
        allowance = Math.min(rate, allowance + seconds * rate);
        return allowance > 0;
    }

    /** Polls once and cuts what came, stopping to read partitions once {@code batches} cuts are waiting. */
    void read(int batches) throws IOException {
        readArchived(batches);
        if (pending.size() >= batches || consumer.assignment().isEmpty()) return;
        var records = consumer.poll(POLL);
        for (ConsumerRecord<byte[], byte[]> r : records) {
            LaneCutter cutter = cutters.get(r.partition());
            if (cutter != null) cutter.add(r.offset(), r.key(), r.value(), r.headers());
        }
        List<TopicPartition> done = new ArrayList<>();
        for (TopicPartition tp : consumer.assignment()) {
            LaneCutter cutter = cutters.get(tp.partition());
            cutter.reached(consumer.position(tp));
            pending.addAll(cutter.takeCuts());
            if (cutter.planned()) done.add(tp);
        }
        if (!done.isEmpty()) {
            List<TopicPartition> left = new ArrayList<>(consumer.assignment());
            left.removeAll(done);
            consumer.assign(left);
        }
        // what was read past the cuts is read again after a restart; the consumer keeps its place meanwhile
        if (pending.size() >= batches) consumer.pause(consumer.assignment());
    }

    List<PlannedBatch> takeCuts() {
        return List.copyOf(pending);
    }

    List<BackfillStore.Advance> advances() {
        List<BackfillStore.Advance> advances = new ArrayList<>();
        cutters.forEach((partition, cutter) -> {
            long was = stored.get(partition);
            if (cutter.next() != was) advances.add(new BackfillStore.Advance(partition, was, cutter.next()));
        });
        return advances;
    }

    void recorded(List<BackfillStore.Advance> advances, List<PlannedBatch> cuts) {
        for (BackfillStore.Advance a : advances) stored.put(a.partition(), a.next());
        for (PlannedBatch cut : cuts) allowance -= cut.eventCount();
        pending.clear();
        consumer.resume(consumer.paused());
    }

    @Override
    public void close() {
        archived.values().forEach(ArchiveCursor::close);
        consumer.close(Duration.ofSeconds(2));
    }
}
