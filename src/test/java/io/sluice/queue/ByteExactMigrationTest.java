package io.sluice.queue;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.db.QueueDatabase;
import io.sluice.event.ExactEvent;
import io.sluice.failover.WriteGate;
import io.sluice.support.MutableClock;
import io.sluice.support.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * V17 (byte-exact storage) migrates rows written before it in place: they stay readable, replayable, and the same
 * event failing again still updates its row (its new key matches the migrated one).
 */
class ByteExactMigrationTest {
    final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));

    @Test
    void rowsWrittenBeforeV17StayReadableAndKeepTheirIdentity() throws Exception {
        String url = TestPostgres.createDatabase("v17");
        try (HikariDataSource old = TestPostgres.dataSource(url)) {
            Flyway.configure()
                    .dataSource(old)
                    .locations("classpath:db/migration")
                    .target("16")
                    .load()
                    .migrate();
            try (var c = old.getConnection();
                    var s = c.createStatement()) {
                s.execute("""
                        INSERT INTO dead_letters (sync_id, message_id, event, error, attempts, first_failed_at, failed_at)
                        VALUES ('s', 'old\\path', '{"messageId":"old\\\\path","userId":"u1","n":1.10}', 'HTTP 400', 1, now(), now()),
                               ('s', '', '{"userId":"u2","n":2}', 'function: boom', 1, now(), now())""");
                s.execute("""
                        INSERT INTO retry_events (sync_id, user_key, message_id, event, attempts, next_attempt_at, first_failed_at, created_at)
                        VALUES ('s', 'u\\1', 'r1', '{"messageId":"r1","userId":"u\\\\1"}', 0, '2026-05-01T09:00:00Z', now(), now())""");
            }
        }

        try (QueueDatabase database = new QueueDatabase(url, TestPostgres.USER, "", 2)) {
            database.start(); // migrates to the latest version
            WriteGate gate = new WriteGate(clock, Duration.ZERO);
            DeadLetterStore deadLetters = new DeadLetterStore(database.dataSource(), gate);
            RetryStore retries = new RetryStore(database.dataSource(), gate);

            List<DeadLetter> letters = deadLetters.list("s", null, false, 10);
            assertThat(letters).extracting(DeadLetter::messageId).containsExactlyInAnyOrder("old\\path", "");
            DeadLetter withId = letters.stream()
                    .filter(d -> !d.messageId().isEmpty())
                    .findFirst()
                    .orElseThrow();
            assertThat(withId.event().get("messageId").asText()).isEqualTo("old\\path");
            assertThat(withId.event().get("n").decimalValue()).isEqualByComparingTo("1.10");

            ObjectNode again = (ObjectNode) new ObjectMapper().readTree("{\"messageId\":\"old\\\\path\",\"n\":3}");
            deadLetters.add(
                    List.of(DeadLetter.of("s", again, DeadLetterKind.DELIVERY, "HTTP 422", 422, 1, null)),
                    clock.instant());
            assertThat(deadLetters.list("s", null, false, 10))
                    .as("the same event failing again updates its migrated row")
                    .hasSize(2)
                    .filteredOn(d -> d.messageId().equals("old\\path"))
                    .singleElement()
                    .satisfies(d -> {
                        assertThat(d.attempts()).isEqualTo(2);
                        assertThat(new String(ExactEvent.bytes(d.event()))).isEqualTo(again.toString());
                    });

            assertThat(retries.waitingUsers("s", List.of("u\\1", "u1"))).containsExactly("u\\1");
            List<RetryStore.Chain> chains = retries.claim("w", 10, Duration.ofSeconds(30), clock.instant());
            assertThat(chains)
                    .singleElement()
                    .satisfies(chain -> assertThat(chain.userKey()).isEqualTo("u\\1"));
            assertThat(retries.events(chains.getFirst(), 10)).singleElement().satisfies(e -> {
                assertThat(e.messageId()).isEqualTo("r1");
                assertThat(e.userKey()).isEqualTo("u\\1");
                assertThat(e.event().get("userId").asText()).isEqualTo("u\\1");
            });
        }
    }
}
