package io.sluice.planner;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.event.RoutingHeaders;
import io.sluice.queue.SyncCounts;
import io.sluice.queue.SyncCounts.Column;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * The planner's part of the delivery accounting: received and filtered are handed over only with the positions that
 * cover them (so they are written in the same transaction), and once recorded never again.
 */
class PartitionPlanCountsTest {
    static final Instant NOW = PartitionPlanHeadersTest.NOW;

    static void add(PartitionPlan plan, long offset, String source, String event) {
        plan.add(
                offset,
                (source + ":u1").getBytes(StandardCharsets.UTF_8),
                "{}".getBytes(StandardCharsets.UTF_8),
                new RecordHeaders(RoutingHeaders.of(source, "track", event, "u1", NOW)),
                NOW);
    }

    static SyncCounts counts(PartitionPlan plan) {
        SyncCounts counts = new SyncCounts();
        plan.countsInto(counts, NOW);
        return counts;
    }

    @Test
    void countsGoWithThePositionsThatCoverThemAndOnlyOnce() {
        SyncSettings orders = PartitionPlanHeadersTest.sync("orders", List.of(), List.of("Order Completed"));
        SyncSettings everything = PartitionPlanHeadersTest.sync("everything", List.of(), List.of());
        PartitionPlan plan = new PartitionPlan(0, List.of(orders, everything), Map.of(), 0, NOW);
        add(plan, 0, "web", "Order Completed");
        add(plan, 1, "web", "Viewed");
        add(plan, 2, "app", "Order Completed"); // another source: not this source's syncs' events
        add(plan, 3, "web", "Viewed");
        assertThat(counts(plan).isEmpty())
                .as("open batches: no position covers them yet")
                .isTrue();

        plan.cutAged(NOW.plusSeconds(1));
        SyncCounts cut = counts(plan);
        assertThat(cut.total("orders", Column.RECEIVED)).isEqualTo(3);
        assertThat(cut.total("orders", Column.FILTERED)).isEqualTo(2);
        assertThat(cut.total("everything", Column.RECEIVED)).isEqualTo(3);
        assertThat(cut.total("everything", Column.FILTERED)).isZero();
        assertThat(counts(plan).total("orders", Column.RECEIVED))
                .as("asked again before recording: the same counts, to be written with the same positions")
                .isEqualTo(3);

        plan.recorded(plan.progress(), NOW);
        assertThat(counts(plan).isEmpty()).as("recorded: never counted again").isTrue();

        add(plan, 4, "web", "Viewed");
        var progress = plan.progress(); // "orders" moves past an event it does not want; "everything" has it open
        SyncCounts skipped = counts(plan);
        assertThat(skipped.total("orders", Column.RECEIVED)).isEqualTo(1);
        assertThat(skipped.total("orders", Column.FILTERED)).isEqualTo(1);
        assertThat(skipped.total("everything", Column.RECEIVED)).isZero();
        plan.recorded(progress, NOW);
        assertThat(counts(plan).isEmpty()).isTrue();
    }
}
