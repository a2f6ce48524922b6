package io.sluice.collector;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.kafka.KafkaClients;
import io.sluice.kafka.RejectionsTopic;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends each refused request (rule, index, message, the start of its body) to the {@link RejectionsTopic}, fire and
 * forget, with a small producer of its own, for the console's live debugger. Overload (429) and Kafka trouble (503)
 * are not sent: publishing then would add load, or wait on the same unavailable cluster; their metrics count them.
 */
final class RejectionPublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RejectionPublisher.class);
    /** Enough of a body to see what was wrong, little enough that a flood of bad requests stays cheap. */
    static final int MAX_BODY_CHARS = 8 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaClients clients;
    private final String topic;
    private final KafkaProducer<byte[], byte[]> producer;
    private volatile boolean warned;

    RejectionPublisher(KafkaClients clients, String eventsTopic) {
        this.clients = clients;
        this.topic = RejectionsTopic.name(eventsTopic);
        this.producer = clients.producer(Map.of(
                ProducerConfig.CLIENT_ID_CONFIG,
                "sluice-collector-rejections",
                ProducerConfig.ACKS_CONFIG,
                "1",
                ProducerConfig.LINGER_MS_CONFIG,
                5,
                ProducerConfig.COMPRESSION_TYPE_CONFIG,
                "lz4",
                ProducerConfig.MAX_BLOCK_MS_CONFIG,
                100,
                ProducerConfig.BUFFER_MEMORY_CONFIG,
                4L << 20,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                10_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                5_000));
    }

    void ensureTopic() {
        try {
            RejectionsTopic.ensure(clients, topic);
            producer.partitionsFor(topic);
        } catch (Exception e) {
            log.warn(
                    "Could not set up the rejections topic {} ({}); the console will not show refused requests",
                    topic,
                    e.toString());
        }
    }

    void publish(String sourceId, Rejection rejection, byte[] body, String clientIp, Instant at) {
        if (rejection.status() == 429 || rejection.status() == 503) return;
        ObjectNode record = JSON.createObjectNode()
                .put("sourceId", sourceId)
                .put("receivedAt", at.toString())
                .put("status", rejection.status())
                .put("rule", rejection.rule())
                .put("message", rejection.getMessage())
                .put("clientIp", clientIp);
        if (rejection.index() >= 0) record.put("index", rejection.index());
        if (body != null) {
            String text = new String(body, 0, Math.min(body.length, MAX_BODY_CHARS * 4), StandardCharsets.UTF_8);
            record.put("body", text.length() > MAX_BODY_CHARS ? text.substring(0, MAX_BODY_CHARS) : text);
            record.put("bodyBytes", body.length);
        }
        try {
            producer.send(
                    new ProducerRecord<>(topic, null, record.toString().getBytes(StandardCharsets.UTF_8)),
                    (metadata, error) -> {
                        if (error != null) failed(error);
                    });
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    private void failed(Exception error) {
        if (warned) return;
        warned = true;
        log.warn(
                "Could not publish a refused request to {} ({}); the console's debugger misses it",
                topic,
                error.toString());
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(1));
    }
}
