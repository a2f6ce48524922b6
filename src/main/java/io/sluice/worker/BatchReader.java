package io.sluice.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.archive.Archive;
import io.sluice.archive.ArchiveCursor;
import io.sluice.event.EventHeader;
import io.sluice.event.ExactEvent;
import io.sluice.event.RoutingHeaders;
import io.sluice.event.SyncFilter;
import io.sluice.kafka.KafkaClients;
import io.sluice.queue.ClaimedBatch;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a batch's events back from Kafka by offset range, with a small pool of group-less consumers (assign +
 * seek, no group membership), and re-applies the sync's filter.
 *
 * <p>Consecutive batches of a partition are planned back to back, so a consumer stays on its partition after a
 * read and keeps the records it fetched past the batch: the next batch of that partition goes to that consumer and
 * starts from those records (and from the fetch the consumer already has in flight) instead of re-assigning,
 * seeking and fetching again. Each record is parsed once; the filter's fields come from the parsed event.
 *
 * <p>A backfill's batch that starts below the earliest offset Kafka still holds is read from the events topic's
 * archive when there is one (docs/replay.md), and from Kafka where the archive ends; live batches never look there.
 */
public final class BatchReader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BatchReader.class);
    /**
     * A batch whose range cannot be read within this is failed (retriable) and retried later: bounds how long a worker
     * holds a batch it cannot read, e.g. while its route to Kafka is silent (docs/reliability.md, scenario 5).
     */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(15);
    /**
     * A fetch unanswered for this long is abandoned and its connection closed, so a black-holed socket (no RST, no
     * FIN) is given up well inside {@link #READ_TIMEOUT} and the next fetch reconnects; the client default (30 s)
     * would outlast the read timeout. Fetches wait at most {@code fetch.max.wait.ms} (10 ms) at the broker.
     */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(8);

    private final List<Slot> slots = new ArrayList<>();
    private final Archive archive;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition released = lock.newCondition();
    private long uses;

    /** One consumer, the partition it is positioned on, and the records it fetched beyond the last batch read. */
    private static final class Slot {
        final KafkaConsumer<byte[], byte[]> consumer;
        final ArrayDeque<ConsumerRecord<byte[], byte[]>> leftover = new ArrayDeque<>();
        TopicPartition tp;
        /** The offset after the last batch read: where {@link #leftover} (then the consumer) continues. */
        long next = -1;

        boolean busy;
        long lastUsed;

        Slot(KafkaConsumer<byte[], byte[]> consumer) {
            this.consumer = consumer;
        }

        void forget() {
            tp = null;
            next = -1;
            leftover.clear();
        }
    }

    private final KafkaClients clients;

    public BatchReader(KafkaClients clients, int size) {
        this(clients, size, Optional.empty());
    }

    /** @param archive the events topic's archive, read for backfill batches Kafka no longer holds */
    public BatchReader(KafkaClients clients, int size, Optional<Archive> archive) {
        this(clients, size, archive.orElse(null), "sluice-worker-reader-");
    }

    private BatchReader(KafkaClients clients, int size, Archive archive, String clientIdPrefix) {
        this.clients = clients;
        this.archive = archive;
        for (int i = 0; i < size; i++) {
            KafkaConsumer<byte[], byte[]> consumer = clients.consumer(Map.of(
                    ConsumerConfig.CLIENT_ID_CONFIG,
                    clientIdPrefix + i,
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                    false,
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                    "earliest",
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                    2000,
                    ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                    10,
                    ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                    (int) REQUEST_TIMEOUT.toMillis(),
                    ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                    (int) READ_TIMEOUT.toMillis()));
            slots.add(new Slot(consumer));
        }
    }

    /**
     * A separate pool of {@code size} consumers for backfill lanes ({@link LaneReaders}), so a backfill reading old
     * offsets never takes a consumer positioned at a live partition's head, nor waits for one.
     */
    BatchReader backfillPool(int size) {
        return new BatchReader(clients, size, archive, "sluice-worker-backfill-reader-");
    }

    /** The events of the batch that match the filter, in offset order. */
    List<ObjectNode> read(ClaimedBatch batch, SyncFilter filter) throws IOException, InterruptedException {
        TopicPartition tp = new TopicPartition(batch.topic(), batch.partition());
        Slot slot = take(tp, batch.firstOffset());
        boolean ok = false;
        try {
            List<ObjectNode> events = new ArrayList<>(batch.eventCount());
            long first = readArchived(slot, tp, batch, filter, events);
            if (first <= batch.lastOffset()) read(slot, tp, batch, first, filter, events);
            ok = true;
            return events;
        } finally {
            if (!ok) slot.forget(); // position unknown after a failure: re-assign and seek next time
            release(slot);
        }
    }

    /**
     * The part of a backfill batch below Kafka's earliest offset, from the archive (none for live batches or without
     * an archive); returns where Kafka takes over.
     */
    private long readArchived(
            Slot slot, TopicPartition tp, ClaimedBatch batch, SyncFilter filter, List<ObjectNode> events)
            throws IOException {
        if (archive == null || batch.lane() == 0) return batch.firstOffset();
        long beginning = slot.consumer.beginningOffsets(List.of(tp)).get(tp);
        if (batch.firstOffset() >= beginning) return batch.firstOffset();
        try (ArchiveCursor cursor = archive.cursor(tp.partition(), batch.firstOffset())) {
            for (var r = cursor.next(); r != null && r.offset() <= batch.lastOffset(); r = cursor.next())
                add(r, filter, tp, events);
            if (cursor.position() < beginning && cursor.position() <= batch.lastOffset())
                log.warn(
                        "Offsets {} to {} of {} are in neither the archive nor Kafka (deleted before they were archived)",
                        cursor.position(),
                        beginning - 1,
                        tp);
            slot.forget(); // the consumer was not moved; the Kafka part seeks
            return Math.max(batch.firstOffset(), cursor.position());
        }
    }

    private void read(
            Slot slot, TopicPartition tp, ClaimedBatch batch, long first, SyncFilter filter, List<ObjectNode> events)
            throws IOException {
        long last = batch.lastOffset();
        KafkaConsumer<byte[], byte[]> consumer = slot.consumer;
        if (!tp.equals(slot.tp)) {
            slot.forget();
            consumer.assign(List.of(tp));
            consumer.seek(tp, first);
        } else if (first < slot.next) {
            slot.leftover.clear();
            consumer.seek(tp, first);
        } else {
            while (!slot.leftover.isEmpty() && slot.leftover.peekFirst().offset() < first) slot.leftover.pollFirst();
            if (slot.leftover.isEmpty() && consumer.position(tp) < first) consumer.seek(tp, first);
        }
        slot.tp = tp;
        slot.next = -1;
        boolean done = false;
        while (!slot.leftover.isEmpty()) {
            ConsumerRecord<byte[], byte[]> record = slot.leftover.peekFirst();
            if (record.offset() > last) {
                done = true;
                break;
            }
            slot.leftover.pollFirst();
            add(record, filter, tp, events);
        }
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (!done && consumer.position(tp) <= last) {
            if (System.nanoTime() > deadline) {
                throw new IOException("could not read offsets up to " + last + " of " + tp + " within " + READ_TIMEOUT);
            }
            for (ConsumerRecord<byte[], byte[]> record :
                    consumer.poll(Duration.ofMillis(100)).records(tp)) {
                if (record.offset() > last) slot.leftover.addLast(record);
                else if (record.offset() >= first) add(record, filter, tp, events);
            }
        }
        slot.next = last + 1;
    }

    /**
     * Parses the record at most once: the filter sees the source from the key, and type and event from the record's
     * headers (so an event the sync does not want is never parsed) or, in a record without them, from the parsed value.
     */
    private void add(
            ConsumerRecord<byte[], byte[]> record, SyncFilter filter, TopicPartition tp, List<ObjectNode> events)
            throws IOException {
        String source = EventHeader.sourceOf(record.key());
        if (!filter.matchesSource(source)) return;
        if (RoutingHeaders.present(record.headers())) {
            EventHeader header = EventHeader.read(record.key(), record.value(), record.headers());
            if (!filter.matches(source, header.type(), header.event())) return;
            // the sync's own unreadable record fails the read; the parsed event keeps the accepted bytes
            JsonNode event = ExactEvent.parse(record.value());
            if (event instanceof ObjectNode object) events.add(object);
            else log.warn("Skipping offset {} of {}: not a JSON object", record.offset(), tp);
            return;
        }
        JsonNode event;
        try {
            event = ExactEvent.parse(record.value()); // keeps the accepted bytes: retries and replays send them
        } catch (IOException e) {
            // what the header-first reader did: a record the filter would have kept fails the read, others are skipped
            EventHeader header = EventHeader.read(record.key(), record.value());
            if (filter.matches(header.source(), header.type(), header.event())) throw e;
            return;
        }
        if (!(event instanceof ObjectNode object)) {
            if (filter.matches(source, null, null))
                log.warn("Skipping offset {} of {}: not a JSON object", record.offset(), tp);
            return;
        }
        if (filter.needsHeader() && !filter.matches(source, text(object.get("type")), text(object.get("event"))))
            return;
        events.add(object);
    }

    private static String text(JsonNode node) {
        return node != null && node.isTextual() ? node.textValue() : null;
    }

    /** A free consumer for this partition: one already there (at this offset, best), else the least recently used. */
    private Slot take(TopicPartition tp, long first) throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                Slot best = null;
                int bestScore = -1;
                for (Slot slot : slots) {
                    if (slot.busy) continue;
                    int score = tp.equals(slot.tp) ? (slot.next == first ? 3 : 2) : slot.tp == null ? 1 : 0;
                    if (score > bestScore || (score == bestScore && slot.lastUsed < best.lastUsed)) {
                        best = slot;
                        bestScore = score;
                    }
                }
                if (best != null) {
                    best.busy = true;
                    best.lastUsed = ++uses;
                    return best;
                }
                released.await();
            }
        } finally {
            lock.unlock();
        }
    }

    private void release(Slot slot) {
        lock.lock();
        try {
            slot.busy = false;
            released.signal();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        slots.forEach(s -> {
            try {
                s.consumer.close(Duration.ofSeconds(1));
            } catch (RuntimeException e) {
                log.debug("reader close failed", e);
            }
        });
    }
}
