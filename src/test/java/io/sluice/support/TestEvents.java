package io.sluice.support;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Writes collector-shaped records straight to a topic, for tests of the stages after the collector. */
public final class TestEvents {
    private TestEvents() {}

    public static String createTopic(String prefix, int partitions) {
        String topic = prefix + "-" + UUID.randomUUID();
        try (Admin admin =
                Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
                    .all()
                    .get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return topic;
    }

    /** A track or identify event as the collector would have stored it. */
    public static String event(String source, String type, String userId, String name, String messageId) {
        String eventField = type.equals("track") ? ",\"event\":\"" + name + "\"" : "";
        return "{\"type\":\"" + type + "\",\"userId\":\"" + userId + "\"" + eventField + ",\"messageId\":\"" + messageId
                + "\",\"receivedAt\":\"2026-05-01T10:00:00.000Z\",\"timestamp\":\"2026-05-01T10:00:00.000Z\",\"sourceId\":\""
                + source
                + "\",\"properties\":{\"n\":1},\"context\":{\"ip\":\"127.0.0.1\"}}";
    }

    /** Sends records (key = source:user) to one partition and returns their offsets. */
    public static List<Long> send(String topic, int partition, List<String[]> sourceUserValue) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        TestKafka.bootstrapServers(),
                        ProducerConfig.ACKS_CONFIG,
                        "all"),
                new ByteArraySerializer(),
                new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sent = sourceUserValue.stream()
                    .map(r -> producer.send(new ProducerRecord<>(
                            topic,
                            partition,
                            (r[0] + ":" + r[1]).getBytes(StandardCharsets.UTF_8),
                            r[2].getBytes(StandardCharsets.UTF_8))))
                    .toList();
            producer.flush();
            return sent.stream()
                    .map(f -> {
                        try {
                            return f.get().offset();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    })
                    .toList();
        }
    }
}
