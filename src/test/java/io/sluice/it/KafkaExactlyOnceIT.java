package io.sluice.it;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.CommittedMirror;
import io.sluice.support.SluiceProcess;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka destination across worker SIGKILLs: a worker process delivering to a Kafka topic is killed while it works
 * off a backlog, several times, each time a new one takes its leases over. A read_committed consumer of the topic (which dedupes
 * nothing) must see every acknowledged event exactly once: no duplicate, none lost.
 */
class KafkaExactlyOnceIT {
    static final int KILLS = 3;
    static final int BATCHES = 100;
    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void workersKilledMidDeliveryLeaveEveryEventExactlyOnceForReadCommittedConsumers() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String queueUrl = TestPostgres.createDatabase("eos_q");
        String topic = TestEvents.createTopic("eos-mirror", 3);
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: eos-events-%s, partitions: 4}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_eos}]
                destinations: [{id: mirror, type: kafka, bootstrapServers: "%s", topic: %s, markerTopic: eos-markers-%s}]
                syncs: [{id: eos-%s, source: web, destination: mirror, batch: {maxEvents: 40, maxAge: 100ms}}]
                planner: {groupId: eos-%s}
                worker: {concurrency: 2, pollInterval: 50ms, leaseDuration: 3s, heartbeatInterval: 1s}
                """.formatted(
                        TestKafka.bootstrapServers(), id, queueUrl, TestKafka.bootstrapServers(), topic, id, id, id));
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        try (Sluice collectorAndPlanner = new Sluice(
                        new ConfigLoader(Map.of()).load(config),
                        EnumSet.of(Sluice.Role.COLLECTOR, Sluice.Role.PLANNER),
                        false,
                        Clock.systemUTC());
                CommittedMirror mirror = CommittedMirror.start(TestKafka.bootstrapServers(), topic)) {
            collectorAndPlanner.start();
            // a backlog, so that every kill lands while the worker delivers
            for (int b = 0; b < BATCHES; b++) send(collectorAndPlanner, b, acknowledged);
            assertThat(acknowledged).hasSize(BATCHES * 50);
            SluiceProcess worker =
                    SluiceProcess.start("worker", config, dir, "worker-0").awaitRunning(Duration.ofSeconds(180));
            for (int kill = 1; kill <= KILLS; kill++) {
                int seen = mirror.records().size();
                // kill once it has just moved the mirror on
                await().atMost(Duration.ofSeconds(120))
                        .until(() -> mirror.records().size() > seen + 150);
                worker.kill();
                worker = SluiceProcess.start("worker", config, dir, "worker-" + kill)
                        .awaitRunning(Duration.ofSeconds(180));
            }
            try (SluiceProcess last = worker) {
                await().atMost(Duration.ofSeconds(120))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> messageIds(mirror).keySet().containsAll(acknowledged));
                // whatever a killed worker left open is aborted or committed by now; read it all once more
                Map<String, Long> counts = messageIds(CommittedMirror.readAll(TestKafka.bootstrapServers(), topic));
                Map<String, Long> twice = new TreeMap<>(counts);
                twice.values().removeIf(n -> n == 1);
                assertThat(twice)
                        .as("delivered more than once (of %d acknowledged)", acknowledged.size())
                        .isEmpty();
                assertThat(counts.keySet()).as("nothing lost, nothing invented").isEqualTo(acknowledged);
                assertThat(messageIds(mirror).values())
                        .as("the live mirror saw each once too")
                        .containsOnly(1L);
                try (Connection queue = DriverManager.getConnection(queueUrl, "sluice", "")) {
                    await().atMost(Duration.ofSeconds(30)).until(() -> unfinished(queue) == 0);
                    assertThat(reruns(queue))
                            .as("the kills did make batches run again (else this proved nothing)")
                            .isPositive();
                }
                assertThat(last.output()).doesNotContain("Exception in thread");
            }
        }
    }

    private static Map<String, Long> messageIds(CommittedMirror mirror) {
        return messageIds(mirror.records());
    }

    private static Map<String, Long> messageIds(java.util.List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream()
                .map(r -> {
                    try {
                        return MAPPER.readTree(r.value()).get("messageId").asText();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                })
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    /** 50 track events of 10 users; the messageIds acknowledged with 200 are added to {@code acknowledged}. */
    private static void send(Sluice collector, int b, Set<String> acknowledged) {
        StringBuilder body = new StringBuilder("{\"batch\":[");
        java.util.List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String messageId = "eos-" + b + "-" + i;
            ids.add(messageId);
            body.append(i == 0 ? "" : ",")
                    .append("{\"type\":\"track\",\"event\":\"Step\",\"userId\":\"user-")
                    .append((b * 50 + i) % 10)
                    .append("\",\"messageId\":\"")
                    .append(messageId)
                    .append("\"}");
        }
        var response = post(
                collector.collectorUrl() + "/v1/batch", body.append("]}").toString(), "Authorization", basic("wk_eos"));
        if (response.statusCode() == 200) acknowledged.addAll(ids);
    }

    private static long unfinished(Connection queue) throws Exception {
        return scalar(queue, "SELECT count(*) FROM batches WHERE status <> 'done'");
    }

    private static long reruns(Connection queue) throws Exception {
        return scalar(queue, "SELECT count(*) FROM batches WHERE epoch > 1");
    }

    private static long scalar(Connection c, String sql) throws Exception {
        try (var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
