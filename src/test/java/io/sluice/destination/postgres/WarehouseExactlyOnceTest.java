package io.sluice.destination.postgres;

import static io.sluice.destination.postgres.WarehouseFixture.identify;
import static io.sluice.destination.postgres.WarehouseFixture.track;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.destination.Destination;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Exactly-once loading with the direct COPY: fresh batches go straight into the tables, and whenever a messageId is
 * already there the batch falls back to the staged ON CONFLICT path, so nothing is ever loaded twice.
 */
class WarehouseExactlyOnceTest {
    private static WarehouseFixture warehouse;

    @BeforeAll
    static void start() {
        warehouse = new WarehouseFixture("warehouse_once");
    }

    @AfterAll
    static void stop() {
        warehouse.close();
    }

    private static long staged(Destination destination) {
        return ((WarehouseDestination) destination).stagedLoads.get();
    }

    @Test
    void aFreshBatchGoesStraightInAndItsRedeliveryAddsAndChangesNothing() throws Exception {
        List<ObjectNode> events = List.of(
                track("d1", "u1", "Clicked", "{\"n\":1}"),
                track("d2", "u2", "Clicked", "{\"n\":2}"),
                identify("d3", "u1", "2026-03-01T12:00:00Z", "{\"plan\":\"pro\"}"));
        long before = staged(warehouse.destination);
        warehouse.destination.deliver(WarehouseFixture.batch("direct", events));
        assertThat(staged(warehouse.destination)).isEqualTo(before);
        Object uuidTs = warehouse.scalar("SELECT max(uuid_ts)::text FROM direct.tracks");
        assertThat(warehouse.scalar("SELECT count(DISTINCT uuid_ts) FROM direct.clicked"))
                .isEqualTo(1L);

        warehouse.destination.deliver(WarehouseFixture.batch("direct", events)); // re-delivered
        assertThat(staged(warehouse.destination)).isEqualTo(before + 1);
        assertThat(warehouse.count("direct", "tracks")).isEqualTo(2);
        assertThat(warehouse.count("direct", "clicked")).isEqualTo(2);
        assertThat(warehouse.count("direct", "identifies")).isEqualTo(1);
        assertThat(warehouse.count("direct", "users")).isEqualTo(1);
        assertThat(warehouse.scalar("SELECT max(uuid_ts)::text FROM direct.tracks"))
                .isEqualTo(uuidTs);
        assertThat(warehouse.scalar("SELECT plan FROM direct.users WHERE id = 'u1'"))
                .isEqualTo("pro");
    }

    @Test
    void aMessageIdLoadedInAnEarlierBatchIsKeptOnceAndTheBatchsNewEventsLoadOnce() throws Exception {
        warehouse.deliver("retry", track("m1", "u1", "Clicked", "{\"n\":1}"));
        // a client retry of m1 (same messageId, another body) in a later batch, with two new events
        warehouse.deliver(
                "retry",
                track("m2", "u1", "Clicked", "{\"n\":2}"),
                track("m1", "u1", "Clicked", "{\"n\":99}"),
                track("m3", "u1", "Clicked", "{\"n\":3}"));
        assertThat(warehouse.rows("SELECT id, n FROM retry.clicked ORDER BY id"))
                .containsExactly(Map.of("id", "m1", "n", 1L), Map.of("id", "m2", "n", 2L), Map.of("id", "m3", "n", 3L));
        assertThat(warehouse.count("retry", "tracks")).isEqualTo(3);
        // and loading that mixed batch again adds nothing
        warehouse.deliver(
                "retry",
                track("m2", "u1", "Clicked", "{\"n\":2}"),
                track("m1", "u1", "Clicked", "{\"n\":99}"),
                track("m3", "u1", "Clicked", "{\"n\":3}"));
        assertThat(warehouse.count("retry", "clicked")).isEqualTo(3);
    }

    @Test
    void aMessageIdRepeatedInsideOneBatchGivesOneRowTheFirstAndStaysOnTheDirectPath() throws Exception {
        long before = staged(warehouse.destination);
        warehouse.deliver(
                "inbatch",
                track("i1", "u1", "Clicked", "{\"n\":1}"),
                track("i1", "u1", "Clicked", "{\"n\":2}"),
                track("i2", "u1", "Clicked", "{\"n\":3}"));
        assertThat(staged(warehouse.destination)).isEqualTo(before);
        assertThat(warehouse.rows("SELECT id, n FROM inbatch.clicked ORDER BY id"))
                .containsExactly(Map.of("id", "i1", "n", 1L), Map.of("id", "i2", "n", 3L));
    }

    @Test
    void concurrentLoadsOfOverlappingBatchesLoadEveryMessageIdExactlyOnce() throws Exception {
        int workers = 4;
        List<Destination> destinations = new ArrayList<>();
        for (int w = 0; w < workers; w++) destinations.add(warehouse.newDestination());
        warehouse.deliver("conc", track("seed", "u0", "Clicked", "{\"n\":0}")); // schema exists before the race
        // 40 batches of 50 over 1,000 ids: every id is in two batches, loaded by different workers at once
        List<List<ObjectNode>> batches = new ArrayList<>();
        for (int b = 0; b < 40; b++) {
            List<ObjectNode> events = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                int id = (b / 2) * 50 + i;
                events.add(track("c" + id, "u" + (id % 37), "Clicked", "{\"n\":" + id + "}"));
                if (i % 10 == 0)
                    events.add(identify(
                            "ci" + id + "-" + b % 2,
                            "u" + (id % 37),
                            "2026-03-01T12:00:00Z",
                            "{\"plan\":\"p" + id + "\"}"));
            }
            batches.add(events);
        }
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                int worker = w;
                running.add(pool.submit(() -> {
                    for (int b = worker; b < batches.size(); b += workers) {
                        // batches 2k and 2k+1 hold the same ids and go to workers next to each other
                        WarehouseFixture.deliverAsWorker(
                                destinations.get(worker), WarehouseFixture.batch("conc", batches.get(b)));
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) f.get();
        } finally {
            pool.shutdownNow();
        }
        assertThat(warehouse.count("conc", "clicked")).isEqualTo(1_001);
        assertThat(warehouse.count("conc", "tracks")).isEqualTo(1_001);
        assertThat(warehouse.scalar("SELECT count(DISTINCT id) FROM conc.tracks"))
                .isEqualTo(1_001L);
        assertThat(warehouse.count("conc", "identifies")).isEqualTo(200);
        assertThat(warehouse.count("conc", "users")).isEqualTo(37);
        long stagedLoads = 0;
        for (Destination d : destinations) stagedLoads += staged(d);
        assertThat(stagedLoads)
                .as("second loads of the shared ids took the staged path")
                .isPositive();
    }
}
