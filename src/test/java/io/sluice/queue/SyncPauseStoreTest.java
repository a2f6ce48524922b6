package io.sluice.queue;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.db.QueueDatabase;
import io.sluice.failover.WriteGate;
import io.sluice.support.TestPostgres;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A paused sync: the batch and retry-chain claims skip it in their one statement; the pause is a row, so it outlives the store. */
class SyncPauseStoreTest {
    static final Duration LEASE = Duration.ofSeconds(30);
    Instant now = Instant.parse("2026-05-01T10:00:00Z");
    QueueDatabase database;
    QueueStore store;
    WriteGate gate = new WriteGate(Clock.systemUTC(), Duration.ZERO);

    @BeforeEach
    void setUp() {
        database = new QueueDatabase(TestPostgres.createDatabase("pauses"), TestPostgres.USER, "", 4);
        database.start();
        store = new QueueStore(database.dataSource(), "events", new SimpleMeterRegistry());
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void claimsSkipAPausedSyncUntilItIsResumedAndThePauseOutlivesTheStore() throws Exception {
        store.recordPlan(
                List.of(new PlannedBatch("paused", 0, 0, 9, 10, 100), new PlannedBatch("other", 0, 0, 4, 5, 50)),
                List.of(),
                now);
        ObjectNode event = (ObjectNode) new ObjectMapper()
                .readTree("{\"type\":\"track\",\"userId\":\"u\",\"messageId\":\"m1\",\"event\":\"E\"}");
        try (Connection c = database.dataSource().getConnection()) {
            RetryStore.insert(c, List.of(RetryEvent.of("paused", event, 1, now, now, "HTTP 500", 500)), now);
        }
        new SyncPauseStore(database.dataSource(), gate).pause("paused", "console", now);

        assertThat(store.claim("w", 10, LEASE, now))
                .extracting(ClaimedBatch::syncId)
                .containsExactly("other");
        RetryStore retries = new RetryStore(database.dataSource(), gate);
        assertThat(retries.claim("w", 10, LEASE, now))
                .as("the retry queue skips it too")
                .isEmpty();
        // planning goes on while paused
        store.recordPlan(List.of(new PlannedBatch("paused", 0, 10, 19, 10, 100)), List.of(), now);

        SyncPauseStore afterRestart = new SyncPauseStore(database.dataSource(), gate);
        assertThat(afterRestart.paused()).containsOnlyKeys("paused");
        assertThat(afterRestart.paused().get("paused").by()).isEqualTo("console");
        assertThat(afterRestart.resume("paused")).isTrue();
        assertThat(afterRestart.resume("paused"))
                .as("resuming twice changes nothing")
                .isFalse();

        assertThat(store.claim("w", 10, LEASE, now))
                .extracting(ClaimedBatch::firstOffset)
                .containsExactly(0L);
        assertThat(retries.claim("w", 10, LEASE, now))
                .extracting(RetryStore.Chain::syncId)
                .containsExactly("paused");
    }
}
