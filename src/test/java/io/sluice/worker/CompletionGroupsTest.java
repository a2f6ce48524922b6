package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.db.QueueDatabase;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.Completion;
import io.sluice.queue.FencedException;
import io.sluice.queue.PlannedBatch;
import io.sluice.queue.QueueStore;
import io.sluice.support.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The worker's group commit: completions that arrive together share one transaction, and a member whose lease was
 * lost is refused on its own while the others are recorded.
 */
class CompletionGroupsTest {
    static final Duration LEASE = Duration.ofSeconds(30);
    /** Long, so a group forms only by everyone joining (the worker's held count), never by the clock running out. */
    static final Duration WINDOW = Duration.ofSeconds(30);

    Instant now = Instant.parse("2026-05-01T10:00:00Z");
    QueueDatabase database;
    QueueStore store;
    ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    @BeforeEach
    void setUp() {
        database = new QueueDatabase(TestPostgres.createDatabase("groups"), TestPostgres.USER, "", 4);
        database.start();
        store = new QueueStore(database.dataSource(), "events", new SimpleMeterRegistry());
    }

    @AfterEach
    void tearDown() {
        threads.shutdownNow();
        database.close();
    }

    @Test
    void completionsArrivingTogetherShareOneTransactionAndALostLeaseIsRefusedAlone() throws Exception {
        store.recordPlan(List.of(batch(0)), List.of(), now);
        ClaimedBatch lost = store.claim("worker-a", 10, LEASE, now).getFirst();
        now = now.plus(LEASE).plusSeconds(1); // worker-a stalled; worker-b took the batch over
        ClaimedBatch retaken = store.claim("worker-b", 10, LEASE, now).getFirst();
        store.recordPlan(List.of(batch(1), batch(2), batch(3)), List.of(), now);
        List<ClaimedBatch> others = store.claim("worker-a", 10, LEASE, now);
        assertThat(others).hasSize(3);

        List<ClaimedBatch> all = new ArrayList<>(others);
        all.add(1, lost);
        CompletionGroups groups = new CompletionGroups(store, all::size, LEASE, WINDOW);
        List<CompletableFuture<Optional<ClaimedBatch>>> results = new ArrayList<>();
        for (ClaimedBatch batch : all) {
            CompletableFuture<Optional<ClaimedBatch>> result = new CompletableFuture<>();
            threads.submit(() -> {
                try {
                    result.complete(groups.complete(new Completion(batch, now, List.of(), List.of(), 4)));
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            });
            results.add(result);
        }

        for (int i = 0; i < all.size(); i++) {
            CompletableFuture<Optional<ClaimedBatch>> result = results.get(i);
            if (all.get(i) == lost) {
                try {
                    result.get(30, TimeUnit.SECONDS);
                    throw new AssertionError("the lost claim's completion was accepted");
                } catch (ExecutionException refused) {
                    assertThat(refused.getCause()).isInstanceOf(FencedException.class);
                }
            } else {
                assertThat(result.get(30, TimeUnit.SECONDS))
                        .as("nothing to hand on")
                        .isEmpty();
            }
        }
        assertThat(column(others, "status")).containsOnly("done");
        assertThat(column(others, "xmin::text").stream().distinct())
                .as("the held batches' completions committed in one transaction")
                .hasSize(1);
        assertThat(column(List.of(retaken), "status"))
                .as("the lost claim never applied: the new owner still holds the batch")
                .containsExactly("running");
        assertThat(column(List.of(retaken), "lease_owner")).containsExactly("worker-b");
    }

    @Test
    void aLoneCompletionDoesNotWaitForTheWindow() throws Exception {
        store.recordPlan(List.of(batch(0), new PlannedBatch("s1", 0, 10, 19, 10, 100)), List.of(), now);
        ClaimedBatch head = store.claim("w", 10, LEASE, now).getFirst();
        CompletionGroups groups = new CompletionGroups(store, () -> 1, LEASE, Duration.ofDays(1));
        Optional<ClaimedBatch> next = groups.complete(new Completion(head, now, List.of(), List.of(), 4));
        assertThat(next).hasValueSatisfying(run -> assertThat(run.firstOffset()).isEqualTo(10));
        assertThat(column(List.of(head), "status")).containsExactly("done");
    }

    private static PlannedBatch batch(int partition) {
        return new PlannedBatch("s1", partition, 0, 9, 10, 100);
    }

    private List<String> column(List<ClaimedBatch> batches, String expression) throws Exception {
        List<String> values = new ArrayList<>();
        try (Connection c = database.dataSource().getConnection();
                PreparedStatement ps =
                        c.prepareStatement("SELECT " + expression + " FROM batches WHERE id = ANY(?) ORDER BY id")) {
            ps.setArray(
                    1,
                    c.createArrayOf(
                            "int8", batches.stream().map(ClaimedBatch::id).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) values.add(rs.getString(1));
            }
        }
        return values;
    }
}
