package io.sluice.privacy;

import static io.sluice.privacy.PrivacyRig.counter;
import static io.sluice.privacy.PrivacyRig.send;
import static io.sluice.privacy.PrivacyRig.submit;
import static io.sluice.privacy.PrivacyRig.track;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import io.sluice.support.CountingReceiver;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import io.sluice.support.TopicReader;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Suppression on real Kafka, PostgreSQL and HTTP with two collector replicas (collector-only processes, no queue
 * database) and a planner + worker process that carries out the request: within seconds of a suppress request both
 * replicas drop the person's events (by userId, and by anonymousId even beside another userId), answer 200 and count
 * the drops; none of those events reaches the events topic or the webhook. Unsuppressing lets them through again.
 */
class SuppressionTest {
    private static final String SUPPRESSED = "sluice.collector.suppressed.events";

    @Test
    void suppressionStopsAPersonAtEveryCollectorReplicaWithinSeconds() throws Exception {
        String queueUrl = TestPostgres.createDatabase("privacy_suppress");
        String topic = "privacy-" + UUID.randomUUID();
        try (CountingReceiver receiver = new CountingReceiver()) {
            SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                    kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 2}
                    postgres: {url: "%s", user: sluice}
                    collector: {host: 127.0.0.1, port: 0}
                    admin: {host: 127.0.0.1, port: 0, token: %s}
                    sources: [{id: web, writeKey: %s}]
                    destinations: [{id: hooks, type: webhook, url: "%s"}]
                    syncs: [{id: web-to-hooks, source: web, destination: hooks, batch: {maxEvents: 50, maxAge: 100ms}}]
                    planner: {groupId: privacy-%s}
                    worker: {pollInterval: 50ms}
                    """.formatted(
                            TestKafka.bootstrapServers(),
                            topic,
                            queueUrl,
                            PrivacyRig.TOKEN,
                            PrivacyRig.WRITE_KEY,
                            receiver.url(),
                            UUID.randomUUID()));
            try (Sluice backend = new Sluice(
                            config, EnumSet.of(Sluice.Role.PLANNER, Sluice.Role.WORKER), false, Clock.systemUTC());
                    Sluice one = new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC());
                    Sluice two = new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC())) {
                backend.start();
                one.start();
                two.start();
                List<Sluice> collectors = List.of(one, two);
                send(one, "track", track("before-bob", "bob", null, "Viewed"));
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> receiver.accepted().containsKey("before-bob"));

                long id = submit(backend, "suppress", "bob", "anon-x");
                // Within seconds every replica drops bob's events (probes that got through before are not asserted on).
                for (Sluice collector : collectors) {
                    await().atMost(Duration.ofSeconds(10))
                            .pollInterval(Duration.ofMillis(200))
                            .until(() -> {
                                send(collector, "track", track("probe-" + UUID.randomUUID(), "bob", null, "Probe"));
                                return counter(collector, SUPPRESSED) > 0;
                            });
                }
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> PrivacyRig.request(backend, id)
                                .get("state")
                                .asText()
                                .equals("done"));
                assertThat(PrivacyRig.target(PrivacyRig.request(backend, id), "suppression")
                                .get("status")
                                .asText())
                        .isEqualTo("done");

                List<String> dropped = new ArrayList<>();
                List<String> kept = new ArrayList<>();
                double[] before = {counter(one, SUPPRESSED), counter(two, SUPPRESSED)};
                for (int c = 0; c < 2; c++) {
                    Sluice collector = collectors.get(c);
                    for (int i = 0; i < 5; i++) {
                        String bob = "bob-" + c + "-" + i, anon = "anon-" + c + "-" + i;
                        String both = "alice-anon-x-" + c + "-" + i, alice = "alice-" + c + "-" + i;
                        send(collector, "track", track(bob, "bob", null, "Clicked"));
                        send(
                                collector,
                                "page",
                                "{\"type\":\"page\",\"name\":\"Home\",\"messageId\":\"" + anon
                                        + "\",\"anonymousId\":\"anon-x\"}");
                        send(collector, "track", track(both, "alice", "anon-x", "Clicked"));
                        send(collector, "track", track(alice, "alice", "anon-ok", "Clicked"));
                        dropped.addAll(List.of(bob, anon, both));
                        kept.add(alice);
                    }
                }
                assertThat(counter(one, SUPPRESSED) - before[0]).isEqualTo(15);
                assertThat(counter(two, SUPPRESSED) - before[1]).isEqualTo(15);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> receiver.accepted().keySet().containsAll(kept));
                assertThat(receiver.accepted().keySet()).doesNotContainAnyElementsOf(dropped);
                Set<String> inTopic =
                        TopicReader.read(TestKafka.bootstrapServers(), topic, 1, Duration.ofSeconds(5)).stream()
                                .map(ConsumerRecord::value)
                                .map(v -> TopicReader.json(v).path("messageId").asText())
                                .collect(Collectors.toSet());
                assertThat(inTopic).containsAll(kept).doesNotContainAnyElementsOf(dropped);

                submit(backend, "unsuppress", "bob");
                for (Sluice collector : collectors) {
                    String[] last = new String[1];
                    await().atMost(Duration.ofSeconds(15))
                            .pollInterval(Duration.ofMillis(300))
                            .until(() -> {
                                if (last[0] != null && receiver.accepted().containsKey(last[0])) return true;
                                last[0] = "again-" + UUID.randomUUID();
                                send(collector, "track", track(last[0], "bob", null, "Back"));
                                return false;
                            });
                }
            }
        }
    }
}
