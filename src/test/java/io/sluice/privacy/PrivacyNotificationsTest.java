package io.sluice.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.db.WritePermits;
import io.sluice.support.PostgresCluster;
import io.sluice.support.StatementLog;
import io.sluice.support.TestKafka;
import io.sluice.suppression.SuppressionTopic;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The privacy executor waits on LISTEN/NOTIFY instead of polling, with the PostgreSQL server (its statement log,
 * {@code log_statement = 'all'}) as the witness: idle, it sends next to nothing (the old 1 s poll sent two statements
 * a second); a request is carried out within seconds of being stored, also after the database restarted under the
 * listening connection; and a request stored without its notification (lost) is still carried out by the fallback
 * poll.
 */
class PrivacyNotificationsTest {
    PostgresCluster cluster;
    QueueDatabase database;
    PrivacyExecutor executor;
    PrivacyRequests requests;
    StatementLog log;

    @BeforeEach
    void setUp() {
        cluster = new PostgresCluster().start();
        database = new QueueDatabase(cluster.jdbcUrl(cluster.primaryPort()), PostgresCluster.USER, "", 4);
        database.start();
        log = cluster.statementLog(cluster.primaryPort());
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                sources: [{id: web, writeKey: wk_1}]
                """);
        Clock clock = Clock.systemUTC();
        requests = new PrivacyRequests(new PrivacyStore(database.dataSource(), WritePermits.OPEN), config, clock);
        executor = new PrivacyExecutor(
                config,
                database.dataSource(),
                WritePermits.OPEN,
                new SuppressionTopic.Writer(TestKafka.clients(), "privacy-notify-" + System.nanoTime()),
                Map.of(),
                new ErasedUsers(new SimpleMeterRegistry(), clock),
                "worker-1",
                clock);
    }

    @AfterEach
    void tearDown() {
        if (executor != null) executor.close();
        if (database != null) database.close();
        if (cluster != null) cluster.close();
    }

    @Test
    void anIdleExecutorSendsNextToNothingAndARequestIsCarriedOutWithinSeconds() throws Exception {
        executor.start();
        // its first pass after LISTEN ends with the next due time
        await().atMost(Duration.ofSeconds(20))
                .until(() -> statements(0).stream()
                        .dropWhile(s -> !s.sql().contains("LISTEN " + PrivacyStore.CHANNEL))
                        .anyMatch(s -> s.sql().contains("min(GREATEST")));
        long idleFrom = log.mark();
        // 20 s idle: the 1 s poll sent 40 statements here; listening, at most one fallback pass (4 statements)
        await().during(Duration.ofSeconds(20))
                .atMost(Duration.ofSeconds(25))
                .until(() -> statements(idleFrom).size() <= 4);
        List<StatementLog.Statement> idle = statements(idleFrom);
        assertThat(idle).as("statements of the idle executor: %s", idle).hasSizeLessThanOrEqualTo(4);

        long first = requests.submit("delete", List.of("user-1"), "dpo", null).id();
        long submitted = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).until(() -> finished(first));
        System.out.printf(
                "request carried out %d ms after it was stored%n", (System.nanoTime() - submitted) / 1_000_000);

        cluster.restart(cluster.primaryPort()); // the listening connection breaks; the executor listens again
        long second = requests.submit("delete", List.of("user-2"), "dpo", null).id();
        await().atMost(Duration.ofSeconds(15)).until(() -> finished(second));
    }

    @Test
    void aRequestWhoseNotificationWasLostIsCarriedOutByTheFallbackPoll() throws Exception {
        executor.start();
        long id;
        try (Connection c = database.dataSource().getConnection()) {
            // what PrivacyStore.create stores, without its NOTIFY
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO privacy_requests (kind, requested_by, requested_at, idempotency_key, user_count)
                    VALUES ('delete', 'dpo', now(), 'lost-1', 1) RETURNING id""");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO privacy_request_users (request_id, user_id) VALUES (?, 'lost-user'::bytea);
                    """)) {
                ps.setLong(1, id);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO privacy_request_targets (request_id, target, status, next_attempt_at, updated_at)
                    VALUES (?, 'queue', 'pending', now(), now())""")) {
                ps.setLong(1, id);
                ps.executeUpdate();
            }
        }
        await().atMost(PrivacyExecutor.FALLBACK_POLL.plusSeconds(15)).until(() -> finished(id));
    }

    private List<StatementLog.Statement> statements(long from) {
        return log.statements(from, -1, PostgresCluster.DATABASE).stream()
                .filter(s -> !s.sql().isBlank())
                .toList();
    }

    private boolean finished(long id) throws Exception {
        PrivacyRequest request = requests.store().get(id);
        return request != null && request.finishedAt() != null;
    }
}
