package io.sluice.collector;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.embedded.EmbeddedKafka;
import io.sluice.support.Http;
import io.sluice.support.TestCollector;
import io.sluice.support.TestKafka;
import io.sluice.support.TopicReader;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * With the broker stopped, no request gets 200 (503 with Retry-After instead, within the ack timeout); once it
 * is back, requests succeed again without a restart, and every event that got a 200 is in the topic.
 */
class KafkaOutageTest {

    @Test
    void noAcknowledgementWithoutKafkaAndRecoveryAfterwards() {
        EmbeddedKafka broker = new EmbeddedKafka(TestKafka.tempDir("sluice-outage-kafka"), 0);
        broker.start();
        List<String> acknowledged = new ArrayList<>();
        try (TestCollector collector =
                TestCollector.start(broker.bootstrapServers(), "ackTimeout: 2s", Clock.systemUTC())) {
            for (int i = 0; i < 5; i++)
                assertThat(send(collector, acknowledged)).isEqualTo(200);

            broker.close();
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> Http.get(collector.adminUrl("/ready")).statusCode() == 503);
            for (int i = 0; i < 3; i++) {
                long started = System.nanoTime();
                int status = send(collector, acknowledged);
                assertThat(status).isEqualTo(503);
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(6));
            }
            var refused = post(
                    collector.url("/v1/track"),
                    "{\"userId\":\"u\",\"event\":\"E\"}",
                    "Authorization",
                    basic(TestCollector.WRITE_KEY));
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).isPresent();
            assertThat(refused.body()).contains("kafka_unavailable");

            broker.start();
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> send(collector, acknowledged) == 200);
            for (int i = 0; i < 5; i++)
                assertThat(send(collector, acknowledged)).isEqualTo(200);

            List<JsonNode> events =
                    TopicReader.readEvents(broker.bootstrapServers(), collector.topic(), acknowledged.size());
            Set<String> stored =
                    events.stream().map(e -> e.get("messageId").asText()).collect(Collectors.toSet());
            assertThat(stored).containsAll(acknowledged);
        } finally {
            broker.close();
        }
    }

    /** Sends one uniquely identified event; remembers its id if it was acknowledged. */
    private static int send(TestCollector collector, List<String> acknowledged) {
        String id = UUID.randomUUID().toString();
        var response = post(
                collector.url("/v1/track"),
                "{\"userId\":\"u-" + id + "\",\"event\":\"Outage\",\"messageId\":\"" + id + "\"}",
                "Authorization",
                basic(TestCollector.WRITE_KEY));
        if (response.statusCode() == 200) acknowledged.add(id);
        return response.statusCode();
    }
}
