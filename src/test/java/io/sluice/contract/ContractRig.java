package io.sluice.contract;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.failover.WriteGate;
import io.sluice.runtime.Sluice;
import io.sluice.support.Http;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import io.sluice.support.TopicReader;
import io.sluice.support.WallClock;
import io.sluice.violations.ViolationWriter;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A real collector (HTTP, Kafka) with the given sources and their contracts, plus a {@link ViolationWriter} storing
 * the violations topic into a fresh queue database, as a planner process would.
 */
final class ContractRig implements AutoCloseable {
    final Sluice sluice;
    final QueueDatabase database;
    final WriteGate gate = new WriteGate(Clock.systemUTC(), Duration.ZERO);
    final ViolationWriter writer;
    final String topic = "contract-events-" + UUID.randomUUID();
    final String violationsTopic = "contract-violations-" + UUID.randomUUID();

    ContractRig(String sourcesYaml) {
        SluiceConfig config = new ConfigLoader(Map.of())
                .loadYaml("""
                kafka:
                  bootstrapServers: %s
                  eventsTopic: %s
                  violationsTopic: %s
                  partitions: 2
                collector: {host: 127.0.0.1, port: 0, ackTimeout: 5s}
                admin: {host: 127.0.0.1, port: 0}
                %s
                """.formatted(TestKafka.bootstrapServers(), topic, violationsTopic, sourcesYaml));
        sluice = new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC());
        sluice.start();
        database = new QueueDatabase(TestPostgres.createDatabase("contracts"), TestPostgres.USER, "", 4);
        database.start();
        writer = new ViolationWriter(
                database.dataSource(),
                gate,
                TestKafka.clients(),
                violationsTopic,
                new SimpleMeterRegistry(),
                Clock.systemUTC());
        writer.start();
    }

    HttpResponse<String> post(String writeKey, String path, String body) {
        return Http.post(
                sluice.collectorUrl() + path,
                body,
                "Authorization",
                Http.basic(writeKey),
                "Content-Type",
                "application/json");
    }

    /** Every event in the events topic whose messageId starts with {@code prefix}, by messageId. */
    Map<String, JsonNode> events(String prefix) {
        Map<String, JsonNode> events = new LinkedHashMap<>();
        for (String value : readToEnd(topic)) {
            JsonNode event = TopicReader.json(value);
            if (event.path("messageId").asText().startsWith(prefix))
                events.put(event.get("messageId").asText(), event);
        }
        return events;
    }

    /**
     * Every record in the topic up to its end offsets as of now. The collector answers 200 only after Kafka
     * acknowledged a request's events, so this sees everything a finished request wrote, and nothing needs a wait.
     */
    static List<String> readToEnd(String topic) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        TestKafka.bootstrapServers(),
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                        false),
                new StringDeserializer(),
                new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) throw new AssertionError("could not read " + topic + " to its end");
                consumer.poll(Duration.ofMillis(100)).forEach(r -> values.add(r.value()));
            }
        }
        return values;
    }

    /** The stored violations of events whose messageId starts with {@code prefix}, once at least {@code atLeast} are there. */
    List<Map<String, Object>> violations(String prefix, int atLeast) {
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> rows(prefix).size() >= atLeast);
        WallClock.waitOut(Duration.ofMillis(300), "a little longer, so that surplus rows would be seen too");
        try {
            return rows(prefix);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    List<Map<String, Object>> rows(String prefix) throws SQLException {
        try (Connection c = database.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT * FROM violations WHERE message_id LIKE ? ORDER BY message_id, id")) {
            ps.setString(1, prefix + "%");
            List<Map<String, Object>> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++)
                        row.put(rs.getMetaData().getColumnName(i), rs.getObject(i));
                    rows.add(row);
                }
            }
            return rows;
        }
    }

    @Override
    public void close() {
        writer.close();
        database.close();
        sluice.close();
    }
}
