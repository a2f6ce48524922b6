package io.sluice.destination.webhook;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.Cli;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import io.sluice.support.TopicReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Poison isolation end to end (collector → Kafka → planner → worker → a real HTTP receiver): a webhook in batch mode
 * whose receiver answers 400 to any request carrying a "poison" event refuses whole chunks of innocent events with it.
 * The worker splits what was refused together until it finds the poison: every innocent event is accepted promptly
 * and exactly once (counted at the receiver, where nothing dedupes), each poison event is a dead letter with the
 * receiver's answer, nothing is lost, and the poison's user's next event arrives within seconds.
 */
class PoisonIsolationPipelineTest {
    static final int USERS = 8;
    static final int PER_USER = 10;
    static final Set<String> POISON = Set.of("u1-poison-2", "u4-poison-5", "u6-poison-9");

    @TempDir
    Path dir;

    @Test
    void innocentEventsAreDeliveredAtOnceAndThePoisonBecomesDeadLetters() throws Exception {
        try (TestReceiver receiver = new TestReceiver()) {
            Map<String, AtomicInteger> accepted = new ConcurrentHashMap<>();
            AtomicInteger refusals = new AtomicInteger();
            receiver.answer(request -> {
                List<String> ids = new ArrayList<>();
                for (JsonNode event : TopicReader.json(request.text()))
                    ids.add(event.get("messageId").asText());
                if (ids.stream().anyMatch(id -> id.contains("poison"))) {
                    refusals.incrementAndGet();
                    return TestReceiver.Reply.status(400).body("{\"error\":\"unknown field\"}");
                }
                ids.forEach(id ->
                        accepted.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet());
                return TestReceiver.Reply.ok();
            });
            Path config = dir.resolve("sluice.yaml");
            String id = UUID.randomUUID().toString();
            Files.writeString(config, """
                    kafka: {bootstrapServers: "%s", eventsTopic: poison-%s, partitions: 2, controlTopic: control-%s}
                    postgres: {url: "%s", user: sluice}
                    collector: {host: 127.0.0.1, port: 0}
                    admin: {host: 127.0.0.1, port: 0}
                    sources: [{id: web, writeKey: wk_poison}]
                    destinations:
                      - {id: hooks, type: webhook, url: "%s", mode: batch, maxBatchEvents: 100, timeout: 2s,
                         retry: {base: 1h, cap: 2h, maxAttempts: 20, maxAge: 24h}}
                    syncs:
                      - {id: to-hooks, source: web, destination: hooks, batch: {maxEvents: 100, maxAge: 100ms}}
                    planner: {groupId: poison-%s}
                    worker: {concurrency: 2, pollInterval: 50ms}
                    """.formatted(
                    TestKafka.bootstrapServers(), id, id, TestPostgres.createDatabase("poison"), receiver.url(), id));
            try (Sluice sluice = new Sluice(
                    new ConfigLoader(Map.of()).load(config),
                    EnumSet.allOf(Sluice.Role.class),
                    false,
                    Clock.systemUTC())) {
                sluice.start();
                List<String> sent = send(sluice);
                List<String> innocent =
                        sent.stream().filter(m -> !POISON.contains(m)).toList();

                // The retry policy waits an hour: only isolation, not a retry, can deliver the innocent events now.
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> accepted.keySet().containsAll(innocent));
                assertThat(refusals.get())
                        .as("the poison was refused together with others")
                        .isPositive();
                await().atMost(Duration.ofSeconds(15))
                        .untilAsserted(() -> assertThat(
                                        Cli.run("dlq", "list", "--config", config.toString(), "--sync", "to-hooks")
                                                .lines()
                                                .filter(line -> line.contains("poison")))
                                .hasSize(POISON.size()));
                String dead = Cli.run("dlq", "list", "--config", config.toString(), "--sync", "to-hooks");
                assertThat(dead.lines().toList())
                        .as("each poison event a dead letter with the receiver's answer, no innocent one")
                        .hasSize(POISON.size())
                        .allSatisfy(line -> assertThat(line).contains("poison", "HTTP 400", "unknown field"));
                for (String poison : POISON) assertThat(dead).contains(poison);

                // The poison's user is not held: an ordinary event sent now arrives within seconds.
                String next = "u1-after";
                sendOne(sluice, "user-1", next);
                await().atMost(Duration.ofSeconds(10)).until(() -> accepted.containsKey(next));

                assertThat(accepted)
                        .as("every innocent event accepted exactly once, the poison never")
                        .containsOnlyKeys(concat(innocent, next))
                        .allSatisfy((key, count) -> assertThat(count.get()).isEqualTo(1));
            }
        }
    }

    private static List<String> concat(List<String> ids, String more) {
        List<String> all = new ArrayList<>(ids);
        all.add(more);
        return all;
    }

    /** PER_USER events for each user, interleaved; the POISON ones among them. */
    private static List<String> send(Sluice sluice) {
        List<String> ids = new ArrayList<>();
        StringBuilder body = new StringBuilder("{\"batch\":[");
        for (int n = 0; n < PER_USER; n++) {
            for (int u = 0; u < USERS; u++) {
                String plain = "u" + u + "-" + n;
                String poison = "u" + u + "-poison-" + n;
                String id = POISON.contains(poison) ? poison : plain;
                ids.add(id);
                body.append(ids.size() == 1 ? "" : ",").append(event("user-" + u, id, n));
            }
        }
        var response = post(
                sluice.collectorUrl() + "/v1/batch", body.append("]}").toString(), "Authorization", basic("wk_poison"));
        assertThat(response.statusCode()).isEqualTo(200);
        return ids;
    }

    private static void sendOne(Sluice sluice, String user, String id) {
        var response = post(
                sluice.collectorUrl() + "/v1/batch",
                "{\"batch\":[" + event(user, id, 99) + "]}",
                "Authorization",
                basic("wk_poison"));
        assertThat(response.statusCode()).isEqualTo(200);
    }

    private static String event(String user, String id, int seq) {
        return "{\"type\":\"track\",\"event\":\"Step\",\"userId\":\"" + user + "\",\"messageId\":\"" + id
                + "\",\"properties\":{\"seq\":" + seq + "}}";
    }
}
