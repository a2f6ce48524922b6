package io.sluice.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.db.QueueDatabase;
import io.sluice.failover.WriteGate;
import io.sluice.support.TestPostgres;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * New retry-queue rows announce themselves to the workers' listening connections (so a worker that saw the queue empty
 * polls it again at once), and planned batches still wake the claimer alone.
 */
class RetryAnnouncementsTest {
    static final Duration LEASE = Duration.ofSeconds(30);
    final Instant now = Instant.parse("2026-05-01T10:00:00Z");
    QueueDatabase database;
    QueueStore store;
    RetryStore retries;
    final AtomicInteger batchWakeUps = new AtomicInteger();
    final AtomicInteger retryWakeUps = new AtomicInteger();
    BatchNotifications notifications;

    @BeforeEach
    void setUp() {
        database = new QueueDatabase(TestPostgres.createDatabase("announce"), TestPostgres.USER, "", 4);
        database.start();
        store = new QueueStore(database.dataSource(), "events", new SimpleMeterRegistry());
        retries = new RetryStore(database.dataSource(), new WriteGate(Clock.systemUTC(), Duration.ZERO));
        notifications = store.notifications(batchWakeUps::incrementAndGet, retryWakeUps::incrementAndGet);
        notifications.start();
        // on (re)connect both are announced once, for what happened while nobody listened
        await().atMost(Duration.ofSeconds(30)).until(() -> retryWakeUps.get() == 1 && batchWakeUps.get() == 1);
    }

    @AfterEach
    void tearDown() {
        notifications.close();
        database.close();
    }

    @Test
    void aCompletionThatQueuesRetriesAnnouncesThemAndAPlanOnlyWakesTheClaimer() throws Exception {
        store.recordPlan(List.of(new PlannedBatch("s1", 0, 0, 9, 10, 100)), List.of(), now);
        await().atMost(Duration.ofSeconds(30)).until(() -> batchWakeUps.get() == 2);
        assertThat(retryWakeUps).as("a plan is no retry-queue row").hasValue(1);
        assertThat(retries.empty()).isTrue();

        ClaimedBatch batch = store.claim("w", 1, LEASE, now).get(0);
        ObjectNode event =
                new ObjectMapper().createObjectNode().put("messageId", "m1").put("userId", "u1");
        store.completeAll(
                List.of(new Completion(
                        batch, now, List.of(RetryEvent.of("s1", event, 1, now, now, "HTTP 500", 500)), List.of(), 0)),
                LEASE);

        await().atMost(Duration.ofSeconds(30)).until(() -> retryWakeUps.get() == 2);
        assertThat(retries.empty()).isFalse();
        assertThat(batchWakeUps).as("a completion plans nothing").hasValue(2);
    }
}
