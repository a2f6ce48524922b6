package io.sluice.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.db.QueueDatabase;
import io.sluice.failover.WriteGate;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import io.sluice.violations.ViolationWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The violation writer on a real topic and database: every violation stored exactly once across batches and
 * restarts, and none lost while the database refuses writes (held gate, failing statements).
 */
class ContractViolationWriterTest {
    final String topic = "violations-" + UUID.randomUUID();
    final WriteGate gate = new WriteGate(Clock.systemUTC(), Duration.ZERO);
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    QueueDatabase database;
    ViolationPublisher publisher;
    ViolationWriter writer;

    @BeforeEach
    void setUp() {
        database = new QueueDatabase(TestPostgres.createDatabase("violations"), TestPostgres.USER, "", 4);
        database.start();
        publisher = new ViolationPublisher(TestKafka.clients(), topic, registry);
        publisher.ensureTopic();
        writer = newWriter();
        writer.start();
    }

    ViolationWriter newWriter() {
        return new ViolationWriter(
                database.dataSource(), gate, TestKafka.clients(), topic, registry, Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        writer.close();
        publisher.close();
        database.close();
    }

    @Test
    void storesEveryViolationOnceInBatchesAndAcrossARestart() throws Exception {
        List<Violation> many = violations("a", 1_200);
        for (int i = 0; i < many.size(); i += 10)
            publisher.publish("web", many.subList(i, i + 10), 0); // a record per request
        awaitRows(1_200);
        writer.close();

        publisher.publish("web", violations("b", 7), 0);
        writer = newWriter();
        writer.start();
        awaitRows(1_207);
        rowsStayAt(1_207, Duration.ofSeconds(1));
        assertThat(count("SELECT count(*) FROM violations"))
                .as("offsets were committed after each stored batch")
                .isEqualTo(1_207);
        assertThat(count("SELECT count(DISTINCT message_id) FROM violations")).isEqualTo(1_207);
        assertThat(count("SELECT count(DISTINCT recorded_at) FROM violations"))
                .as("stored in batches")
                .isBetween(2L, 200L);
    }

    @Test
    void keepsViolationsWhileWritesAreHeldAndStoresThemAfterwards() throws Exception {
        gate.pause(true); // an operator's 'sluice db pause': every queue-database write is held
        publisher.publish("web", violations("held", 30), 0);
        // The writer has the violations in hand and was held by the gate again and again (every 200 ms).
        await().atMost(Duration.ofSeconds(30))
                .until(() ->
                        registry.counter("sluice.violations.write.failures").count() >= 3);
        assertThat(count("SELECT count(*) FROM violations")).isZero();

        gate.pause(false);
        awaitRows(30);
        rowsStayAt(30, Duration.ofMillis(500));
        assertThat(count("SELECT count(*) FROM violations")).isEqualTo(30);
    }

    @Test
    void retriesFailingInsertsWithoutLosingViolations() throws Exception {
        execute("ALTER TABLE violations RENAME TO violations_away");
        publisher.publish("web", violations("away", 20), 0);
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        registry.counter("sluice.violations.write.failures").count() >= 2);

        execute("ALTER TABLE violations_away RENAME TO violations");
        awaitRows(20);
        rowsStayAt(20, Duration.ofMillis(500));
        assertThat(count("SELECT count(*) FROM violations")).isEqualTo(20);
        assertThat(registry.counter("sluice.violations.written").count()).isEqualTo(20);
    }

    @Test
    void clientTextIsEscapedOnTheTopicAndCleanedForPostgres() throws Exception {
        Violation odd = new Violation(
                "web",
                "odd-1",
                "track",
                "Quote \" back\\slash \n tab\t é 🚀 nul\u0000",
                "unplanned_event",
                "$.event",
                "event '...' is not in the tracking plan",
                "block",
                Instant.parse("2026-03-01T12:00:00.123456Z"));
        assertThat(Violation.fromJson(Violation.toJson(List.of(odd)))).containsExactly(odd);
        Violation identify = new Violation(
                "web", "odd-2", "identify", null, "type", "$.traits['first name']", "m", "allow", Instant.EPOCH);
        assertThat(Violation.fromJson(Violation.toJson(List.of(odd, identify)))).containsExactly(odd, identify);

        publisher.publish("web", List.of(odd, identify), 0);
        awaitRows(2);
        try (Connection c = database.dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs =
                        s.executeQuery("SELECT event_name, path, occurred_at FROM violations ORDER BY message_id")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("Quote \" back\\slash \n tab\t é 🚀 nul");
            assertThat(rs.getTimestamp(3).toInstant()).isEqualTo(Instant.parse("2026-03-01T12:00:00.123456Z"));
            rs.next();
            assertThat(rs.getString(1)).isNull();
            assertThat(rs.getString(2)).isEqualTo("$.traits['first name']");
        }
    }

    static List<Violation> violations(String prefix, int n) {
        List<Violation> list = new ArrayList<>();
        Instant now = Instant.now();
        for (int i = 0; i < n; i++) {
            list.add(new Violation(
                    "web",
                    prefix + "-" + i,
                    "track",
                    "Order Completed",
                    "type",
                    "$.properties.total",
                    "string found, number expected",
                    "allow",
                    now));
        }
        return list;
    }

    void awaitRows(long n) {
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> count("SELECT count(*) FROM violations") >= n);
    }

    /** Wall clock on purpose: no surplus row (a violation stored twice) may appear for a while; counts only grow. */
    void rowsStayAt(long n, Duration during) {
        await().during(during)
                .atMost(during.plusSeconds(5))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> count("SELECT count(*) FROM violations") == n);
    }

    long count(String sql) throws SQLException {
        try (Connection c = database.dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    void execute(String sql) throws SQLException {
        try (Connection c = database.dataSource().getConnection();
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
