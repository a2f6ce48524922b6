package io.sluice.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.db.QueueDatabase;
import io.sluice.support.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Completions of several partitions in one transaction: one commit for all, each member fenced on its own. */
class GroupedCompletionTest {
    static final Duration LEASE = Duration.ofSeconds(30);
    Instant now = Instant.parse("2026-05-01T10:00:00Z");
    QueueDatabase database;
    QueueStore store;

    @BeforeEach
    void setUp() {
        database = new QueueDatabase(TestPostgres.createDatabase("grouped"), TestPostgres.USER, "", 4);
        database.start();
        store = new QueueStore(database.dataSource(), "events", new SimpleMeterRegistry());
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void aGroupCompletesBatchesOfSeveralPartitionsInOneTransactionAndHandsOnEachRun() throws Exception {
        plan(batch(0, 0), batch(1, 0), batch(2, 0));
        List<ClaimedBatch> heads = store.claim("w", 10, LEASE, now);
        assertThat(heads).hasSize(3);
        plan(batch(1, 10), batch(1, 20)); // partition 1 fell behind: its next batches are due

        List<Optional<ClaimedBatch>> handedOn = store.completeAll(
                heads.stream()
                        .map(b -> new Completion(b, now, List.of(), List.of(), 4))
                        .toList(),
                LEASE);

        assertThat(statuses(heads)).containsOnly("done");
        assertThat(transactionsOf(heads)).as("one transaction wrote them all").hasSize(1);
        for (int i = 0; i < heads.size(); i++) {
            if (heads.get(i).partition() == 1) {
                assertThat(handedOn.get(i))
                        .hasValueSatisfying(run -> assertThat(run.members()).hasSize(2));
            } else {
                assertThat(handedOn.get(i)).isEmpty();
            }
        }
    }

    @Test
    void aMemberWhoseLeaseWasLostNeverAppliesAndTheOthersCompleteWithoutIt() throws Exception {
        plan(batch(0, 0));
        ClaimedBatch lost = single(store.claim("worker-a", 10, LEASE, now));
        now = now.plus(LEASE).plusSeconds(1); // worker-a stalls past its lease; worker-b takes the batch over
        ClaimedBatch retaken = single(store.claim("worker-b", 10, LEASE, now));
        plan(batch(1, 0), batch(2, 0));
        List<ClaimedBatch> others = store.claim("worker-a", 10, LEASE, now);
        assertThat(others).hasSize(2);

        List<Completion> group = new ArrayList<>();
        group.add(new Completion(others.get(0), now, List.of(), List.of(), 0));
        group.add(new Completion(lost, now, List.of(), List.of(), 0));
        group.add(new Completion(others.get(1), now, List.of(), List.of(), 0));
        assertThatThrownBy(() -> store.completeAll(group, LEASE))
                .isInstanceOfSatisfying(Completion.MemberFailed.class, failed -> {
                    assertThat(failed.index()).isEqualTo(1);
                    assertThat(failed.getCause()).isInstanceOf(FencedException.class);
                });
        assertThat(statuses(others))
                .as("all or nothing: the member before the lost one was rolled back too")
                .containsOnly("running");

        group.remove(1);
        store.completeAll(group, LEASE);
        assertThat(statuses(others)).containsOnly("done");
        assertThat(statuses(List.of(retaken)))
                .as("the lost claim's completion never applied: the batch is the new owner's")
                .containsExactly("running");
        store.complete(retaken, now);
        assertThat(statuses(List.of(retaken))).containsExactly("done");
    }

    @Test
    void aGroupOfOneFailsAsACompletionOfItsOwn() throws Exception {
        plan(batch(0, 0));
        ClaimedBatch lost = single(store.claim("worker-a", 10, LEASE, now));
        now = now.plus(LEASE).plusSeconds(1);
        single(store.claim("worker-b", 10, LEASE, now));
        assertThatThrownBy(() -> store.completeAll(List.of(new Completion(lost, now, List.of(), List.of(), 4)), LEASE))
                .isInstanceOf(FencedException.class);
    }

    private static PlannedBatch batch(int partition, long first) {
        return new PlannedBatch("s1", partition, first, first + 9, 10, 100);
    }

    private void plan(PlannedBatch... batches) throws Exception {
        store.recordPlan(List.of(batches), List.of(), now);
    }

    private static ClaimedBatch single(List<ClaimedBatch> claimed) {
        assertThat(claimed).hasSize(1);
        return claimed.get(0);
    }

    private List<String> statuses(List<ClaimedBatch> batches) throws Exception {
        return column(batches, "status");
    }

    /** The writing transaction of each row ({@code xmin}): rows written by one transaction share it. */
    private List<String> transactionsOf(List<ClaimedBatch> batches) throws Exception {
        return column(batches, "xmin::text").stream().distinct().toList();
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
