package io.sluice.worker;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.DistributionSummary;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import io.sluice.support.TopicReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker that starts behind a backlog of planned batches works it off in runs (several consecutive batches of a
 * partition claimed with the previous completion and delivered as one), and per-user order and exactly-once still
 * hold where nothing dedupes: a Kafka mirror, read back record by record.
 */
class BacklogRunsTest {
    static final int USERS = 40;
    static final int PER_USER = 50;

    @TempDir
    Path dir;

    @Test
    void aBacklogIsDeliveredInRunsInPerUserOrderAndOnce() throws Exception {
        String mirror = TestEvents.createTopic("runs-mirror", 2);
        Path file = dir.resolve("sluice.yaml");
        String id = UUID.randomUUID().toString();
        Files.writeString(file, """
                kafka: {bootstrapServers: "%s", eventsTopic: runs-%s, partitions: 2, controlTopic: control-%s}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_runs}]
                destinations:
                  - {id: mirror, type: kafka, bootstrapServers: "%s", topic: %s}
                syncs:
                  - {id: to-mirror, source: web, destination: mirror, batch: {maxEvents: 20, maxAge: 100ms}}
                planner: {groupId: runs-%s}
                worker: {concurrency: 2}
                """.formatted(
                        TestKafka.bootstrapServers(),
                        id,
                        id,
                        TestPostgres.createDatabase("runs"),
                        TestKafka.bootstrapServers(),
                        mirror,
                        id));
        SluiceConfig config = new ConfigLoader(Map.of()).load(file);
        int total = USERS * PER_USER;
        try (Sluice front =
                new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR, Sluice.Role.PLANNER), false, Clock.systemUTC())) {
            front.start();
            send(front);
            await().atMost(Duration.ofSeconds(60)).until(() -> plannedEvents(front) == total);

            try (Sluice worker = new Sluice(config, EnumSet.of(Sluice.Role.WORKER), false, Clock.systemUTC())) {
                worker.start();
                List<JsonNode> delivered = TopicReader.readEvents(TestKafka.bootstrapServers(), mirror, total);
                assertThat(delivered)
                        .as("every event once, where nothing dedupes")
                        .hasSize(total);
                Map<String, Integer> lastSeq = new HashMap<>();
                for (JsonNode event : delivered) {
                    String user = event.get("userId").asText();
                    int seq = event.get("properties").get("seq").asInt();
                    Integer previous = lastSeq.put(user, seq);
                    assertThat(seq).as("user %s in order", user).isEqualTo(previous == null ? 0 : previous + 1);
                }
                assertThat(lastSeq)
                        .hasSize(USERS)
                        .allSatisfy((u, seq) -> assertThat(seq).isEqualTo(PER_USER - 1));
                DistributionSummary runs =
                        worker.registry().find("sluice.delivery.run.batches").summary();
                assertThat(runs).isNotNull();
                // The Kafka destination recognises a rerun by the exact batch it committed, so it takes no runs
                // (Destination.deliversRuns); runs of a destination that dedupes nothing need a webhook variant.
                assertThat(runs.max())
                        .as("batch by batch to a Kafka destination")
                        .isEqualTo(1);
                assertThat(runs.totalAmount())
                        .as("every planned batch delivered exactly once")
                        .isEqualTo(doneBatches(front));
            }
        }
    }

    /** Events of the users interleaved, each user's numbered 0, 1, 2, … in sending order, 200 per request. */
    private static void send(Sluice sluice) {
        StringBuilder body = new StringBuilder();
        int inBody = 0;
        for (int n = 0; n < PER_USER; n++) {
            for (int u = 0; u < USERS; u++) {
                body.append(inBody++ == 0 ? "{\"batch\":[" : ",")
                        .append("{\"type\":\"track\",\"event\":\"Step\",\"userId\":\"user-")
                        .append(u)
                        .append("\",\"messageId\":\"m-")
                        .append(u)
                        .append('-')
                        .append(n)
                        .append("\",\"properties\":{\"seq\":")
                        .append(n)
                        .append("}}");
                if (inBody == 200) {
                    flush(sluice, body);
                    inBody = 0;
                }
            }
        }
        if (inBody > 0) flush(sluice, body);
    }

    private static void flush(Sluice sluice, StringBuilder body) {
        var response = post(
                sluice.collectorUrl() + "/v1/batch", body.append("]}").toString(), "Authorization", basic("wk_runs"));
        assertThat(response.statusCode()).isEqualTo(200);
        body.setLength(0);
    }

    private static long plannedEvents(Sluice sluice) throws Exception {
        return scalar(sluice, "SELECT coalesce(sum(event_count), 0) FROM batches");
    }

    private static double doneBatches(Sluice sluice) throws Exception {
        return scalar(sluice, "SELECT count(*) FROM batches WHERE status = 'done'");
    }

    private static long scalar(Sluice sluice, String sql) throws Exception {
        try (var c = java.sql.DriverManager.getConnection(sluice.jdbcUrl(), TestPostgres.USER, "");
                var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
