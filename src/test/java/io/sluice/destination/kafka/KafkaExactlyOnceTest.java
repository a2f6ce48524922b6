package io.sluice.destination.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.delivery.DeliveryException;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationContext;
import io.sluice.runtime.DestinationRegistry;
import io.sluice.support.CommittedMirror;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The Kafka destination's transactions on a real broker: a batch delivered again (a crash, a lost lease) is
 * recognised by its marker and not sent twice; a destination instance whose producer was fenced by a newer owner of
 * the same sync and partition cannot commit; retry chains and refused events keep their fate across reruns. Counted
 * with a read_committed consumer, which nothing dedupes.
 */
class KafkaExactlyOnceTest {
    private static final DestinationContext CONTEXT =
            DestinationContext.of(new SimpleMeterRegistry(), Clock.systemUTC());

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final String sync = "eos-" + UUID.randomUUID();

    private static DestinationSettings settings(String topic, String producer) {
        return new ConfigLoader(Map.of())
                .loadYaml("""
                sources: [{id: web, writeKey: k}]
                destinations:
                  - id: mirror
                    type: kafka
                    bootstrapServers: %s
                    topic: %s
                    producer: %s
                """.formatted(TestKafka.bootstrapServers(), topic, producer))
                .destination("mirror");
    }

    private static List<ObjectNode> events(String prefix, int count) {
        List<ObjectNode> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            events.add(MAPPER.createObjectNode()
                    .put("type", "track")
                    .put("event", "Viewed")
                    .put("userId", "user-" + (i % 3))
                    .put("messageId", prefix + "-" + i));
        }
        return events;
    }

    private DeliveryBatch batch(long id, long first, List<ObjectNode> events) {
        return new DeliveryBatch(sync, "web", id, 0, first, first + events.size() - 1, events);
    }

    private static Map<String, Long> countsByMessageId(String topic) {
        return CommittedMirror.readAll(TestKafka.bootstrapServers(), topic).stream()
                .map(r -> new String(r.value(), StandardCharsets.UTF_8))
                .map(v -> io.sluice.support.TopicReader.json(v).get("messageId").asText())
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    @Test
    void aBatchDeliveredAgainByAnotherInstanceIsRecognisedAndNotSentTwice() throws Exception {
        String topic = TestEvents.createTopic("eos", 3);
        DeliveryBatch first = batch(1, 0, events("a", 30));
        try (Destination crashed = DestinationRegistry.create(settings(topic, "{}"), CONTEXT)) {
            assertThat(crashed.deliver(first).allDelivered()).isTrue();
        } // as if the worker died before recording the batch done
        try (Destination successor = DestinationRegistry.create(settings(topic, "{}"), CONTEXT)) {
            assertThat(successor.deliver(first).allDelivered()).isTrue();
            assertThat(successor.deliver(first).allDelivered()).as("and again").isTrue();
            assertThat(successor.deliver(batch(2, 30, events("b", 10))).allDelivered())
                    .isTrue();
        }
        Map<String, Long> counts = countsByMessageId(topic);
        assertThat(counts).hasSize(40);
        assertThat(counts.values()).as("every event exactly once").containsOnly(1L);
        assertThat(new DeliveryBatch(sync, "web", 1, 0, 0, 29, List.of()).idempotencyKey())
                .isNotBlank();
    }

    @Test
    void anOlderOwnerIsFencedByTheNewOneAndCanCommitNothing() throws Exception {
        String topic = TestEvents.createTopic("eos", 1);
        DeliveryBatch b1 = batch(1, 0, events("one", 5));
        DeliveryBatch b2 = batch(2, 5, events("two", 5));
        DeliveryBatch b3 = batch(3, 10, events("three", 5));
        try (Destination zombie = DestinationRegistry.create(settings(topic, "{}"), CONTEXT);
                Destination owner = DestinationRegistry.create(settings(topic, "{}"), CONTEXT)) {
            assertThat(zombie.deliver(b1).allDelivered()).isTrue();
            // The lease passes to the new owner, whose initTransactions fences the zombie's producer.
            assertThat(owner.deliver(b1).allDelivered())
                    .as("b1 was committed: skipped")
                    .isTrue();
            assertThat(owner.deliver(b2).allDelivered()).isTrue();
            assertThatThrownBy(() -> zombie.deliver(b3))
                    .as("the zombie's transaction cannot commit")
                    .isInstanceOfSatisfying(
                            DeliveryException.class,
                            e -> assertThat(e.isRetriable()).isTrue());
            assertThat(countsByMessageId(topic)).doesNotContainKey("three-0");
            assertThat(zombie.deliver(b1).allDelivered())
                    .as("a zombie that starts over (a fresh producer, fencing the owner) finds b1 among the recent"
                            + " deliveries and skips it")
                    .isTrue();
            // The zombie's re-initialisation fenced the owner in turn: its next attempt fails, the one after it
            // starts over with a fresh producer, reads the markers and delivers.
            assertThatThrownBy(() -> owner.deliver(b3)).isInstanceOf(DeliveryException.class);
            assertThat(owner.deliver(b3).allDelivered()).isTrue();
        }
        Map<String, Long> counts = countsByMessageId(topic);
        assertThat(counts).hasSize(15);
        assertThat(counts.values()).as("every event exactly once").containsOnly(1L);
    }

    @Test
    void aRetryChainDeliveredAgainSendsOnlyWhatItsMarkerDoesNotName() throws Exception {
        String topic = TestEvents.createTopic("eos", 1);
        List<ObjectNode> chain = events("chain", 4);
        chain.forEach(e -> e.put("userId", "alice"));
        List<ObjectNode> longer = new ArrayList<>(chain);
        longer.addAll(events("later", 2));
        longer.subList(4, 6).forEach(e -> e.put("userId", "alice"));
        try (Destination first = DestinationRegistry.create(settings(topic, "{}"), CONTEXT)) {
            // a retry chain: retry rows 17-20
            assertThat(first.deliver(new DeliveryBatch(sync, "web", new DeliveryBatch.RetryChain(17, 20), chain, null))
                            .allDelivered())
                    .isTrue();
        }
        try (Destination second = DestinationRegistry.create(settings(topic, "{}"), CONTEXT)) {
            assertThat(second.deliver(
                                    new DeliveryBatch(sync, "web", new DeliveryBatch.RetryChain(17, 31), longer, null))
                            .allDelivered())
                    .isTrue();
        }
        Map<String, Long> counts = countsByMessageId(topic);
        assertThat(counts).containsOnlyKeys("chain-0", "chain-1", "chain-2", "chain-3", "later-0", "later-1");
        assertThat(counts.values()).containsOnly(1L);
    }

    @Test
    void anEventTheTopicRefusedIsReportedAgainWhenItsBatchIsSkipped() throws Exception {
        String topic = TestEvents.createTopic("eos", 1);
        List<ObjectNode> events = events("r", 3);
        events.get(1).putObject("properties").put("blob", "x".repeat(5000));
        DeliveryBatch batch = batch(7, 100, events);
        for (int run = 0; run < 2; run++) {
            try (Destination destination =
                    DestinationRegistry.create(settings(topic, "{max.request.size: 2000}"), CONTEXT)) {
                DeliveryReport report = destination.deliver(batch);
                assertThat(report.failures()).as("run " + run).hasSize(1);
                assertThat(report.failures().getFirst().event()).isSameAs(events.get(1));
                assertThat(report.failures().getFirst().error().isRetriable()).isFalse();
                assertThat(report.failures().getFirst().error().getMessage()).contains("RecordTooLarge");
            }
        }
        assertThat(countsByMessageId(topic)).containsOnly(Map.entry("r-0", 1L), Map.entry("r-2", 1L));
    }
}
