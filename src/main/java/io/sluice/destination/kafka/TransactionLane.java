package io.sluice.destination.kafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.delivery.Failures;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.DeliveryReport.EventFailure;
import io.sluice.destination.kafka.DeliveryMarker.Delivery;
import io.sluice.event.ExactText;
import io.sluice.event.UserKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TransactionAbortedException;

/**
 * One transactional producer ({@code transactional.id} from {@link TransactionalIds}) and the markers it committed.
 * A delivery runs under the lane's lock: one transaction at a time. The producer is initialised lazily; its
 * {@code initTransactions} aborts whatever an earlier owner of the id left open and fences that owner, and only then
 * are the id's markers read (read_committed). They stay valid while the producer does: anyone else committing with
 * this id must have fenced it first, and then our commit fails, the producer is dropped and the next delivery starts
 * over with a fresh one.
 */
final class TransactionLane implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
    /** Event keys a retry chain's marker keeps (a chain delivers at most 100 events at a time). */
    private static final int CHAIN_KEYS = 1000;

    final String transactionalId;
    final ReentrantLock lock = new ReentrantLock();
    private final String topic;
    private final MarkerTopic markerTopic;
    private final Function<String, Producer<byte[], byte[]>> producers;
    private Producer<byte[], byte[]> producer;
    private Map<String, DeliveryMarker> markers;
    volatile long lastUsedNanos = System.nanoTime();

    TransactionLane(
            String transactionalId,
            String topic,
            MarkerTopic markerTopic,
            Function<String, Producer<byte[], byte[]>> producers) {
        this.transactionalId = transactionalId;
        this.topic = topic;
        this.markerTopic = markerTopic;
        this.producers = producers;
    }

    /** Delivers under the lock held by the caller; {@code markerKey} is this delivery's marker (see DeliveryMarker). */
    DeliveryReport deliver(DeliveryBatch batch, String markerKey) throws Exception {
        lastUsedNanos = System.nanoTime();
        boolean chain = batch.origin() instanceof DeliveryBatch.RetryChain;
        List<ObjectNode> events = batch.events();
        List<byte[]> values = events.stream().map(TransactionLane::json).toList();
        List<String> keys = EventKeys.of(events, values);
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            records.add(new ProducerRecord<>(
                    topic, ExactText.bytes(UserKey.of(events.get(i))), values.get(i))); // the user's exact UTF-8
        }
        try {
            ready();
            DeliveryMarker before = markers.getOrDefault(markerKey, DeliveryMarker.NONE);
            Set<String> committed = new HashSet<>();
            Map<String, String> refused = new LinkedHashMap<>();
            Delivery self = Delivery.of(batch, EventKeys.digest(keys), Map.of());
            if (chain) {
                committed.addAll(before.delivered());
                before.recent().forEach(d -> refused.putAll(d.refused()));
                committed.addAll(refused.keySet());
            } else {
                Delivery done = before.find(self);
                if (done != null) return report(events, keys, done.refused()); // committed before: skipped
            }
            List<Integer> pending = new ArrayList<>();
            for (int i = 0; i < events.size(); i++) if (!committed.contains(keys.get(i))) pending.add(i);
            if (pending.isEmpty()) return report(events, keys, refused);
            Map<String, String> refusedNow = send(records, keys, pending);
            refused.putAll(refusedNow);
            DeliveryMarker after;
            if (chain) {
                Set<String> delivered = new java.util.LinkedHashSet<>(committed);
                for (int i : pending) delivered.add(keys.get(i));
                delivered.removeAll(refused.keySet());
                List<String> kept = new ArrayList<>(delivered);
                // a rerun carries at most a chain's limit of events: the newest keys are enough
                if (kept.size() > CHAIN_KEYS) kept = kept.subList(kept.size() - CHAIN_KEYS, kept.size());
                after = new DeliveryMarker(List.of(Delivery.of(batch, self.digest(), refused)), kept);
            } else {
                after = before.with(Delivery.of(batch, self.digest(), refusedNow), List.of());
            }
            producer.send(markerTopic.record(markerKey, after));
            producer.commitTransaction();
            markers.put(markerKey, after);
            return report(events, keys, refused);
        } catch (DeliveryException e) {
            throw e;
        } catch (KafkaException e) {
            reset();
            boolean fenced = e instanceof ProducerFencedException || e instanceof InvalidProducerEpochException;
            throw DeliveryException.of(
                    FailureClass.RESPONSIVE_ERROR,
                    (fenced
                                    ? "fenced: a newer producer with transactional id " + transactionalId
                                            + " (another worker that took this delivery over) "
                                    : "transaction of " + transactionalId + " on topic " + topic + " failed: ")
                            + e,
                    e);
        } catch (InterruptedException e) {
            reset();
            throw e;
        }
    }

    /**
     * Sends {@code pending} in an open transaction, leaving it open for the marker when every record was
     * acknowledged. A record the topic refuses for good (too large, say) aborts the attempt, is left out and the rest
     * is sent again in a new transaction; any other failure aborts and fails the delivery retriably. Returns the refused
     * events' keys with the reasons.
     */
    private Map<String, String> send(
            List<ProducerRecord<byte[], byte[]>> records, List<String> keys, List<Integer> pending)
            throws InterruptedException, DeliveryException {
        Map<String, String> refused = new LinkedHashMap<>();
        while (true) {
            producer.beginTransaction();
            List<Integer> sent = new ArrayList<>();
            List<Future<RecordMetadata>> futures = new ArrayList<>();
            Throwable failure = null;
            for (int i : pending) {
                if (refused.containsKey(keys.get(i))) continue;
                try {
                    futures.add(producer.send(records.get(i)));
                    sent.add(i);
                } catch (KafkaException e) {
                    failure = e; // the transaction is failing already: the rest would fail the same way
                    break;
                }
            }
            producer.flush();
            List<Integer> suspects = new ArrayList<>();
            for (int n = 0; n < futures.size(); n++) {
                Throwable cause = causeOf(futures.get(n));
                if (cause == null) continue;
                if (refusesTheRecord(cause)) suspects.add(sent.get(n));
                else if (failure == null) failure = cause;
            }
            if (suspects.isEmpty() && failure == null) return refused;
            producer.abortTransaction();
            boolean newlyRefused = false;
            for (int i : suspects) {
                String reason = probe(records.get(i));
                if (reason != null) {
                    refused.put(keys.get(i), reason);
                    newlyRefused = true;
                }
            }
            if (failure == null && !suspects.isEmpty() && !newlyRefused) {
                failure = new KafkaException("records refused together, none alone (" + suspects.size() + ")");
            }
            if (!newlyRefused) {
                throw DeliveryException.of(
                        FailureClass.RESPONSIVE_ERROR,
                        "topic " + topic + " did not acknowledge every event (" + transactionalId + "): " + failure,
                        failure);
            }
        }
    }

    /**
     * Sends one record alone in a transaction that is always aborted (invisible to read_committed consumers): the other
     * records of a failed transaction fail with the very exception of the record that broke it, so only a record
     * refused on its own is the culprit. Returns the reason, or null when it was taken.
     */
    private String probe(ProducerRecord<byte[], byte[]> record) throws InterruptedException {
        producer.beginTransaction();
        Throwable cause;
        try {
            Future<RecordMetadata> future = producer.send(record);
            producer.flush();
            cause = causeOf(future);
        } finally {
            producer.abortTransaction();
        }
        return cause != null && refusesTheRecord(cause) ? "topic " + topic + " refused the event: " + cause : null;
    }

    /**
     * The record itself can never be taken. Only the failure of that record counts: the other records of a
     * transaction that went wrong fail with a plain KafkaException or TransactionAbortedException whose cause may
     * be the refused record's error.
     */
    private static boolean refusesTheRecord(Throwable cause) {
        return cause.getClass() != KafkaException.class
                && !(cause instanceof TransactionAbortedException)
                && !Failures.classify(cause).isRetriable();
    }

    private void ready() throws Exception {
        if (producer != null) return;
        markerTopic.ensure();
        Producer<byte[], byte[]> created = producers.apply(transactionalId);
        try {
            created.initTransactions();
            markers = markerTopic.read(transactionalId);
        } catch (Exception e) {
            created.close(Duration.ZERO);
            throw e;
        }
        producer = created;
    }

    /** The refused events (by key) of this delivery as permanent failures; every other event was delivered. */
    private static DeliveryReport report(List<ObjectNode> events, List<String> keys, Map<String, String> refused) {
        if (refused.isEmpty()) return DeliveryReport.delivered();
        List<EventFailure> failures = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            String reason = refused.get(keys.get(i));
            if (reason == null) continue;
            ObjectNode event = events.get(i);
            failures.add(new EventFailure(
                    event,
                    DeliveryException.of(FailureClass.EVENT_DATA, reason, null)
                            .forEvent(event.path("messageId").asText(null)),
                    null,
                    null));
        }
        return new DeliveryReport(failures);
    }

    private static Throwable causeOf(Future<RecordMetadata> future) throws InterruptedException {
        try {
            future.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause() == null ? e : e.getCause();
        }
    }

    private static byte[] json(ObjectNode event) {
        try {
            return MAPPER.writeValueAsBytes(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }

    /** Drops the producer (an open transaction is aborted by the next initTransactions or by its timeout). */
    void reset() {
        if (producer != null) {
            try {
                producer.close(Duration.ZERO);
            } catch (RuntimeException ignored) {
                // closing a fenced producer may complain; it is gone either way
            }
        }
        producer = null;
        markers = null;
    }

    @Override
    public void close() {
        if (producer != null) producer.close(CLOSE_TIMEOUT);
        producer = null;
        markers = null;
    }
}
