package io.sluice.destination.webhook;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.Cli;
import io.sluice.support.QueueState;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import io.sluice.support.TopicReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streaming delivery through the whole pipeline (collector → Kafka → planner → worker) to a webhook receiver that
 * fails on a script, a healthy second webhook, and a Kafka mirror: every event reaches the failing receiver exactly
 * once (by Idempotency-Key) or is a dead letter with its reason; per-user order holds across retries; the healthy
 * destination is not slowed; `sluice dlq replay` delivers the dead letters once the receiver is fixed, and a second
 * replay adds nothing.
 */
class WebhookPipelineTest {
    static final int USERS = 5;
    static final int PER_USER = 12;

    @TempDir
    Path dir;

    @Test
    void failuresRetryInOrderDeadLettersReplayAndOtherDestinationsFlow() throws Exception {
        String mirrorTopic = TestEvents.createTopic("mirror", 2);
        try (TestReceiver flaky = new TestReceiver();
                TestReceiver healthy = new TestReceiver()) {
            Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
            Accepted flakyAccepted = new Accepted();
            Accepted healthyAccepted = new Accepted();
            flaky.answer(flakyAccepted.record(request -> {
                String id = request.header("Idempotency-Key");
                int attempt =
                        attempts.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                if (id.contains("-bad")) return TestReceiver.Reply.status(400).body("{\"error\":\"unknown field\"}");
                if (id.endsWith("-3") && attempt <= 2)
                    return TestReceiver.Reply.status(500).body("overloaded");
                if (id.endsWith("-7") && attempt == 1)
                    return TestReceiver.Reply.status(429).header("Retry-After", "1");
                return TestReceiver.Reply.ok();
            }));
            healthy.answer(healthyAccepted.record(request -> TestReceiver.Reply.ok()));
            Path config = dir.resolve("sluice.yaml");
            String id = UUID.randomUUID().toString();
            Files.writeString(config, """
                    kafka: {bootstrapServers: "%s", eventsTopic: hooks-%s, partitions: 2, controlTopic: control-%s}
                    postgres: {url: "%s", user: sluice}
                    collector: {host: 127.0.0.1, port: 0}
                    admin: {host: 127.0.0.1, port: 0}
                    sources: [{id: web, writeKey: wk_hooks}]
                    destinations:
                      - {id: flaky, type: webhook, url: "%s", timeout: 2s, retry: {base: 200ms, cap: 1s, maxAttempts: 6},
                         circuitBreaker: {minimumCalls: 100, coolDown: 1s}}
                      - {id: healthy, type: webhook, url: "%s", timeout: 2s}
                      - {id: mirror, type: kafka, bootstrapServers: "%s", topic: %s}
                    syncs:
                      - {id: to-flaky, source: web, destination: flaky, batch: {maxEvents: 20, maxAge: 100ms}}
                      - {id: to-healthy, source: web, destination: healthy, batch: {maxEvents: 20, maxAge: 100ms}}
                      - {id: to-mirror, source: web, destination: mirror, batch: {maxEvents: 20, maxAge: 100ms}}
                    planner: {groupId: hooks-%s}
                    worker: {concurrency: 4, pollInterval: 50ms}
                    """.formatted(
                            TestKafka.bootstrapServers(),
                            id,
                            id,
                            TestPostgres.createDatabase("hooks"),
                            flaky.url(),
                            healthy.url(),
                            TestKafka.bootstrapServers(),
                            mirrorTopic,
                            id));
            try (Sluice sluice = new Sluice(
                    new ConfigLoader(Map.of()).load(config),
                    EnumSet.allOf(Sluice.Role.class),
                    false,
                    Clock.systemUTC())) {
                sluice.start();
                List<String> sent = send(sluice);
                List<String> good =
                        sent.stream().filter(m -> !m.contains("-bad")).toList();

                await().atMost(Duration.ofSeconds(20))
                        .until(() -> healthyAccepted.counts().keySet().containsAll(sent));
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> flakyAccepted.counts().keySet().containsAll(good));
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> QueueState.nothingLeftToDeliver(sluice.jdbcUrl())); // so the counts are final
                assertThat(flakyAccepted.counts())
                        .as("each good event accepted exactly once")
                        .containsOnlyKeys(good)
                        .allSatisfy((key, count) -> assertThat(count).isEqualTo(1));
                assertThat(attempts.get("u0-3").get())
                        .as("retried through two 500s")
                        .isEqualTo(3);
                assertThat(attempts.get("u0-7").get())
                        .as("retried after its 429")
                        .isEqualTo(2);
                assertOrdered(flakyAccepted.events());
                assertOrdered(healthyAccepted.events());

                String dead = Cli.run("dlq", "list", "--config", config.toString(), "--sync", "to-flaky");
                assertThat(dead.lines())
                        .hasSize(USERS)
                        .allSatisfy(line -> assertThat(line).contains("HTTP 400", "unknown field"));

                flaky.answer(flakyAccepted.record(request -> TestReceiver.Reply.ok())); // the receiver learns the field
                assertThat(Cli.run("dlq", "replay", "--config", config.toString(), "--sync", "to-flaky"))
                        .contains("Replayed " + USERS);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> flakyAccepted.counts().keySet().containsAll(sent));
                assertThat(Cli.run("dlq", "replay", "--config", config.toString(), "--sync", "to-flaky"))
                        .contains("Replayed 0");
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> QueueState.nothingLeftToDeliver(sluice.jdbcUrl())); // so the counts are final
                assertThat(flakyAccepted.counts())
                        .containsOnlyKeys(sent)
                        .allSatisfy((key, count) -> assertThat(count).isEqualTo(1));

                List<JsonNode> mirrored =
                        TopicReader.readEvents(TestKafka.bootstrapServers(), mirrorTopic, sent.size());
                assertThat(mirrored)
                        .extracting(e -> e.get("messageId").asText())
                        .containsExactlyInAnyOrderElementsOf(sent);
                assertOrdered(mirrored);
            }
        }
    }

    /** Sends PER_USER events for each user, interleaved; each user's last event is one the receiver refuses. */
    private static List<String> send(Sluice sluice) {
        List<String> ids = new ArrayList<>();
        StringBuilder body = new StringBuilder("{\"batch\":[");
        for (int n = 0; n < PER_USER; n++) {
            for (int u = 0; u < USERS; u++) {
                String id = "u" + u + (n == PER_USER - 1 ? "-bad" : "") + "-" + n;
                ids.add(id);
                body.append(ids.size() == 1 ? "" : ",")
                        .append("{\"type\":\"track\",\"event\":\"Step\",\"userId\":\"user-")
                        .append(u)
                        .append("\",\"messageId\":\"")
                        .append(id)
                        .append("\",\"properties\":{\"seq\":")
                        .append(n)
                        .append("}}");
            }
        }
        var response = post(
                sluice.collectorUrl() + "/v1/batch", body.append("]}").toString(), "Authorization", basic("wk_hooks"));
        assertThat(response.statusCode()).isEqualTo(200);
        return ids;
    }

    /** What a receiver accepted (answered 200), in arrival order, counted by Idempotency-Key. */
    static final class Accepted {
        private final Map<String, Integer> counts = new ConcurrentHashMap<>();
        private final List<JsonNode> events = Collections.synchronizedList(new ArrayList<>());

        Function<TestReceiver.Request, TestReceiver.Reply> record(
                Function<TestReceiver.Request, TestReceiver.Reply> script) {
            return request -> {
                TestReceiver.Reply reply = script.apply(request);
                if (reply.status() == 200) {
                    counts.merge(request.header("Idempotency-Key"), 1, Integer::sum);
                    events.add(TopicReader.json(request.text()));
                }
                return reply;
            };
        }

        Map<String, Integer> counts() {
            return Map.copyOf(counts);
        }

        List<JsonNode> events() {
            synchronized (events) {
                return List.copyOf(events);
            }
        }
    }

    private static void assertOrdered(List<JsonNode> events) {
        Map<String, Integer> last = new LinkedHashMap<>();
        for (JsonNode event : events) {
            int seq = event.at("/properties/seq").asInt();
            Integer previous = last.put(event.get("userId").asText(), seq);
            if (previous != null)
                assertThat(seq).as("order of " + event.get("userId").asText()).isGreaterThan(previous);
        }
    }
}
