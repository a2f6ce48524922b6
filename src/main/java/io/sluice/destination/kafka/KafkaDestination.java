package io.sluice.destination.kafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.Failures;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.DeliveryReport.EventFailure;
import io.sluice.destination.Destination;
import io.sluice.event.ExactText;
import io.sluice.event.UserKey;
import io.sluice.kafka.KafkaClients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards each event to a topic with the idempotent producer ({@code acks=all}): key = the event's user ({@link UserKey})
 * (so one user's events share a partition and keep their order), value = the event's JSON. A delivery returns once
 * every record is acknowledged by all in-sync replicas; the producer bounds that wait by {@code delivery.timeout.ms}.
 *
 * <p>A retriable failure of any record fails the whole batch (thrown): retrying the batch re-sends its records in
 * order, so a user's order holds, and records already written appear again (at-least-once; consumers dedup by
 * messageId). Records the broker refuses for good (too large, say) are reported one by one and the others stand.
 */
final class KafkaDestination implements Destination {
    private static final Logger log = LoggerFactory.getLogger(KafkaDestination.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final String id;
    private final String topic;
    private final KafkaClients clients;
    private final Map<String, Object> producerConfig;
    private Producer<byte[], byte[]> producer;

    KafkaDestination(String id, String topic, KafkaClients clients, Map<String, Object> producerConfig) {
        this.id = id;
        this.topic = topic;
        this.clients = clients;
        this.producerConfig = producerConfig;
    }

    /** Creates the producer (it connects lazily); a bad address is logged here and fails deliveries retriably. */
    @Override
    public void open() {
        try {
            producer();
            log.info(
                    "Kafka destination {}: topic {} at {} (idempotent, acks=all)",
                    id,
                    topic,
                    producerConfig.get("bootstrap.servers"));
        } catch (KafkaException e) {
            log.warn(
                    "Kafka destination {} could not create its producer yet ({}); deliveries will be retried",
                    id,
                    e.getMessage());
        }
    }

    @Override
    public DeliveryReport deliver(DeliveryBatch batch) throws DeliveryException, InterruptedException {
        if (batch.events().isEmpty()) return DeliveryReport.delivered();
        Producer<byte[], byte[]> producer;
        try {
            producer = producer();
        } catch (KafkaException e) {
            throw Failures.classify(e);
        }
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (ObjectNode event : batch.events()) {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, recordKey(event), json(event));
            Future<RecordMetadata> future;
            try {
                future = producer.send(record);
            } catch (KafkaException e) {
                throw failed(batch, sent, e);
            }
            sent.add(future);
            // A failure known at once (no metadata within max.block.ms) would repeat for every later record.
            Throwable early = future.isDone() ? causeOf(future) : null;
            if (early != null && Failures.isRetriable(early)) throw failed(batch, sent, early);
        }
        List<EventFailure> refused = new ArrayList<>();
        DeliveryException retriable = null;
        for (int i = 0; i < sent.size(); i++) {
            Throwable cause = causeOf(sent.get(i));
            if (cause == null) continue;
            DeliveryException error = Failures.classify(cause);
            if (error.isRetriable()) {
                if (retriable == null) retriable = error;
            } else {
                ObjectNode event = batch.events().get(i);
                refused.add(new EventFailure(
                        event,
                        DeliveryException.of(
                                        error.failureClass(), "topic " + topic + " refused the event: " + cause, cause)
                                .forEvent(event.path("messageId").asText(null)),
                        null,
                        null));
            }
        }
        if (retriable != null) {
            throw DeliveryException.of(
                    retriable.failureClass(),
                    "topic " + topic + " did not acknowledge every event of batch " + batch.batchId() + ": "
                            + retriable.getMessage(),
                    retriable.getCause());
        }
        return refused.isEmpty() ? DeliveryReport.delivered() : new DeliveryReport(refused);
    }

    /** Waits for the records already handed to the producer (so none is in flight), then says why the batch failed. */
    private DeliveryException failed(DeliveryBatch batch, List<Future<RecordMetadata>> sent, Throwable cause)
            throws InterruptedException {
        for (Future<RecordMetadata> future : sent) causeOf(future);
        DeliveryException error = Failures.classify(cause);
        String message = "sending batch " + batch.batchId() + " to topic " + topic + " failed: " + cause;
        return DeliveryException.of(error.failureClass(), message, cause);
    }

    /** Waits for the acknowledgement; the failure, or null when acknowledged. */
    private static Throwable causeOf(Future<RecordMetadata> future) throws InterruptedException {
        try {
            future.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause() == null ? e : e.getCause();
        }
    }

    private synchronized Producer<byte[], byte[]> producer() {
        if (producer == null) producer = clients.producer(producerConfig);
        return producer;
    }

    @Override
    public synchronized void close() {
        if (producer != null) producer.close(CLOSE_TIMEOUT);
        producer = null;
    }

    /**
     * The record key: the event's user ({@link UserKey}) as exact UTF-8 ({@link ExactText#bytes}; never throws, and a
     * lone surrogate a function put into a user id does not become the '?' of another user's key).
     */
    private static byte[] recordKey(ObjectNode event) {
        return ExactText.bytes(UserKey.of(event));
    }

    private static byte[] json(ObjectNode event) {
        try {
            return MAPPER.writeValueAsBytes(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }
}
