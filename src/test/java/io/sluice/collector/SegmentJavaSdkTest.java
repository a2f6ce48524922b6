package io.sluice.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.segment.analytics.Analytics;
import com.segment.analytics.Callback;
import com.segment.analytics.messages.AliasMessage;
import com.segment.analytics.messages.GroupMessage;
import com.segment.analytics.messages.IdentifyMessage;
import com.segment.analytics.messages.Message;
import com.segment.analytics.messages.MessageBuilder;
import com.segment.analytics.messages.PageMessage;
import com.segment.analytics.messages.ScreenMessage;
import com.segment.analytics.messages.TrackMessage;
import io.sluice.support.TestCollector;
import io.sluice.support.TopicReader;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.assertj.core.data.TemporalUnitOffset;
import org.assertj.core.data.TemporalUnitWithinOffset;
import org.junit.jupiter.api.Test;

/** The official Segment Java SDK, changed only in its endpoint, delivers all six event types exactly once. */
class SegmentJavaSdkTest {

    @Test
    void allSixEventTypesArriveExactlyOnceAndEnriched() {
        try (TestCollector collector = TestCollector.start()) {
            Queue<Message> delivered = new ConcurrentLinkedQueue<>();
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            Analytics analytics = Analytics.builder(TestCollector.WRITE_KEY)
                    .endpoint(collector.url(""))
                    .flushInterval(1, TimeUnit.SECONDS)
                    .callback(new Callback() {
                        @Override
                        public void success(Message message) {
                            delivered.add(message);
                        }

                        @Override
                        public void failure(Message message, Throwable error) {
                            failures.add(error);
                        }
                    })
                    .build();
            Date tenSecondsAgo = Date.from(Instant.now().minusSeconds(10));
            List<MessageBuilder<?, ?>> messages = List.of(
                    TrackMessage.builder("Order Completed").userId("sdk-user").properties(Map.of("revenue", 99.5)),
                    IdentifyMessage.builder().userId("sdk-user").traits(Map.of("plan", "enterprise")),
                    PageMessage.builder("Pricing").userId("sdk-user").properties(Map.of("path", "/pricing")),
                    ScreenMessage.builder("Dashboard").anonymousId("sdk-anon"),
                    GroupMessage.builder("acme").userId("sdk-user").traits(Map.of("employees", 42)),
                    AliasMessage.builder("sdk-anon").userId("sdk-user"));
            Map<String, String> typeById = new HashMap<>();
            for (MessageBuilder<?, ?> builder : messages) {
                String id = UUID.randomUUID().toString();
                builder.messageId(id).timestamp(tenSecondsAgo);
                typeById.put(id, builder.type().name());
                analytics.enqueue(builder);
            }
            analytics.flush();
            await().atMost(Duration.ofSeconds(30)).until(() -> delivered.size() + failures.size() >= messages.size());
            analytics.shutdown();
            assertThat(failures).isEmpty();

            List<JsonNode> events =
                    TopicReader.readEvents(collector.bootstrapServers(), collector.topic(), messages.size());
            Map<String, Long> copies = events.stream()
                    .collect(Collectors.groupingBy(e -> e.get("messageId").asText(), Collectors.counting()));
            assertThat(copies)
                    .containsOnlyKeys(typeById.keySet())
                    .allSatisfy((id, count) -> assertThat(count).isEqualTo(1));
            for (JsonNode event : events) {
                String id = event.get("messageId").asText();
                assertThat(event.get("type").asText()).isEqualToIgnoringCase(typeById.get(id));
                assertThat(event.get("sourceId").asText()).isEqualTo("web");
                assertThat(Instant.parse(event.get("receivedAt").asText()))
                        .isCloseTo(Instant.now(), within(Duration.ofMinutes(1)));
                assertThat(event.get("originalTimestamp").asText()).isNotBlank();
                // corrected for skew: ten seconds before receipt, whatever the client's clock said
                Instant timestamp = Instant.parse(event.get("timestamp").asText());
                Instant receivedAt = Instant.parse(event.get("receivedAt").asText());
                assertThat(Duration.between(timestamp, receivedAt))
                        .isBetween(Duration.ofSeconds(9), Duration.ofSeconds(40));
                assertThat(event.at("/context/ip").asText()).isEqualTo("127.0.0.1");
                assertThat(event.at("/context/library/name").asText()).isEqualTo("analytics-java");
            }
        }
    }

    private static TemporalUnitOffset within(Duration duration) {
        return new TemporalUnitWithinOffset(duration.toMillis(), ChronoUnit.MILLIS);
    }
}
