package io.sluice.destination.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.delivery.DeliveryException;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationContext;
import io.sluice.event.UserKey;
import io.sluice.runtime.DestinationRegistry;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TopicReader;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Forwarding to a topic on a real broker: keys, values, per-user order, and how failures are classified. */
class KafkaDestinationTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Without embedded infrastructure: 'embedded' cannot be resolved. */
    private static final DestinationContext CONTEXT =
            DestinationContext.of(new SimpleMeterRegistry(), Clock.systemUTC());

    private static Destination create(DestinationSettings settings) {
        DestinationRegistry.validate(settings);
        return DestinationRegistry.create(settings, CONTEXT);
    }

    private static DestinationSettings.Kafka settings(String bootstrapServers, String topic, String producer) {
        return (DestinationSettings.Kafka) new ConfigLoader(Map.of())
                .loadYaml("""
                sources: [{id: web, writeKey: k}]
                destinations:
                  - id: mirror
                    type: kafka
                    bootstrapServers: %s
                    topic: %s
                    producer: %s
                """.formatted(bootstrapServers, topic, producer))
                .destination("mirror");
    }

    private static ObjectNode event(String messageId, String userId, String anonymousId) {
        ObjectNode event = MAPPER.createObjectNode()
                .put("type", "track")
                .put("event", "Viewed")
                .put("messageId", messageId);
        if (userId != null) event.put("userId", userId);
        if (anonymousId != null) event.put("anonymousId", anonymousId);
        return event;
    }

    private static DeliveryBatch batch(List<ObjectNode> events) {
        // a sync of its own per batch: the destination's markers are per sync and partition
        return new DeliveryBatch(
                "mirror-sync-" + java.util.UUID.randomUUID(), "web", 1, 0, 100, 100 + events.size() - 1, events);
    }

    @Test
    void eventsArriveKeyedByUserAndInEachUsersOrder() throws Exception {
        String topic = TestEvents.createTopic("mirror", 3);
        List<ObjectNode> events = new ArrayList<>();
        for (int i = 0; i < 30; i++)
            events.add(event("m" + i, List.of("alice", "bob", "carol").get(i % 3), "anon-" + i));
        events.add(event("anon-only", null, "visitor-1"));
        events.add(event("no-user", null, null));

        try (Destination destination =
                create(settings(TestKafka.bootstrapServers(), topic, "{linger.ms: 20, compression.type: lz4}"))) {
            destination.open();
            assertThat(destination.deliver(batch(events)).allDelivered()).isTrue();
        }

        List<ConsumerRecord<String, String>> records =
                TopicReader.read(TestKafka.bootstrapServers(), topic, events.size(), Duration.ofSeconds(30));
        assertThat(records).hasSize(events.size());
        for (ConsumerRecord<String, String> record : records) {
            JsonNode value = TopicReader.json(record.value());
            ObjectNode sent = events.stream()
                    .filter(e -> e.get("messageId").equals(value.get("messageId")))
                    .findFirst()
                    .orElseThrow();
            assertThat(value).isEqualTo(sent);
            assertThat(record.key()).isEqualTo(UserKey.of(sent));
        }
        assertThat(records.stream().filter(r -> "visitor-1".equals(r.key())).count())
                .isEqualTo(1);
        assertThat(records.stream()
                        .filter(r -> "message:no-user".equals(r.key()))
                        .count())
                .isEqualTo(1); // UserKey's one fallback
        for (String user : List.of("alice", "bob", "carol")) {
            List<String> sentOrder = events.stream()
                    .filter(e -> user.equals(e.path("userId").asText()))
                    .map(e -> e.get("messageId").asText())
                    .toList();
            List<String> topicOrder = records.stream()
                    .filter(r -> user.equals(r.key()))
                    .map(r -> TopicReader.json(r.value()).get("messageId").asText())
                    .toList();
            assertThat(topicOrder).isEqualTo(sentOrder);
            assertThat(records.stream()
                            .filter(r -> user.equals(r.key()))
                            .map(ConsumerRecord::partition)
                            .distinct())
                    .hasSize(1);
        }
    }

    @Test
    void anEventTheBrokerCannotTakeIsRefusedPermanentlyAloneWhileTheOthersStand() throws Exception {
        String topic = TestEvents.createTopic("mirror", 1);
        ObjectNode huge = event("huge", "alice", null);
        huge.putObject("properties").put("blob", "x".repeat(5000));
        List<ObjectNode> events = List.of(event("m1", "alice", null), huge, event("m2", "alice", null));

        DeliveryReport report;
        try (Destination destination =
                create(settings(TestKafka.bootstrapServers(), topic, "{max.request.size: 2000}"))) {
            destination.open();
            report = destination.deliver(batch(events));
        }

        assertThat(report.failures()).hasSize(1);
        assertThat(report.failures().getFirst().event().get("messageId").asText())
                .isEqualTo("huge");
        assertThat(report.failures().getFirst().error().isRetriable()).isFalse();
        assertThat(report.failures().getFirst().error().messageId()).isEqualTo("huge");
        List<String> arrived = TopicReader.read(TestKafka.bootstrapServers(), topic, 2, Duration.ofSeconds(30)).stream()
                .map(r -> TopicReader.json(r.value()).get("messageId").asText())
                .toList();
        assertThat(arrived).containsExactly("m1", "m2");
    }

    @Test
    void anUnreachableClusterFailsTheBatchRetriably() {
        long started = System.nanoTime();
        try (Destination destination = create(settings("127.0.0.1:1", "nowhere", "{max.block.ms: 1000}"))) {
            destination.open();
            assertThatThrownBy(() ->
                            destination.deliver(batch(List.of(event("m1", "alice", null), event("m2", "bob", null)))))
                    .isInstanceOfSatisfying(
                            DeliveryException.class,
                            e -> assertThat(e.isRetriable()).isTrue());
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .as("stops at the first failure")
                .isLessThan(Duration.ofSeconds(15));
    }

    @Test
    void settingsThatWouldWeakenTheGuaranteesAreRefused() {
        KafkaDestinationFactory factory = new KafkaDestinationFactory();
        assertThatThrownBy(() -> factory.validate(settings("127.0.0.1:9092", "t", "{acks: 1}")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("producer.acks");
        assertThatThrownBy(() -> factory.validate(settings("127.0.0.1:9092", "t", "{enable.idempotence: false}")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("producer.enable.idempotence");
        assertThatThrownBy(() -> factory.validate(settings("127.0.0.1:9092", "t", "{transactional.id: mine}")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("producer.transactional.id");
        assertThatThrownBy(() -> factory.validate(settings("127.0.0.1:9092", "t", "{linger.ms: soon}")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("linger.ms");
        assertThatThrownBy(() -> factory.create(settings("embedded", "t", "{}"), CONTEXT))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("own Kafka cluster");
        factory.validate(settings("embedded", "t", "{compression.type: zstd}"));
        assertThat(KafkaDestinationFactory.producerConfig(
                        settings("127.0.0.1:9092", "t", "{linger.ms: 50}"), "127.0.0.1:9092"))
                .containsEntry("acks", "all")
                .containsEntry("enable.idempotence", "true")
                .doesNotContainKey("transactional.id") // set per sync and partition by the destination
                .containsEntry("linger.ms", "50")
                .as("a silent link ends a send well inside a lease")
                .containsEntry("delivery.timeout.ms", "20000");
        assertThat(KafkaDestinationFactory.producerConfig(
                        settings("127.0.0.1:9092", "t", "{delivery.timeout.ms: 60000}"), "127.0.0.1:9092"))
                .as("the destination's own setting wins")
                .containsEntry("delivery.timeout.ms", "60000");
        assertThat(Objects.requireNonNull(DestinationRegistry.factory("kafka")))
                .isInstanceOf(KafkaDestinationFactory.class);
    }
}
