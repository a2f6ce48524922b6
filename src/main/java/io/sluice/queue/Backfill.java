package io.sluice.queue;

import java.time.Instant;
import java.util.List;

/**
 * A backfill (docs/replay.md): a window of the events topic planned again for one sync as its own lane ({@code
 * batches.lane} = {@link #id}). {@code partitions}: per partition, the next offset to plan and the window's end
 * (exclusive), resolved from the times when it was created. {@code unfinished}/{@code dead}: its batch rows waiting or
 * being delivered, and dead; delivered batches are the planned ones that are neither (done rows are pruned).
 */
public record Backfill(
        long id,
        String syncId,
        Instant from,
        Instant to,
        int ratePerSecond,
        Status status,
        String requestedBy,
        long plannedEvents,
        long plannedBatches,
        long unfinishedBatches,
        long deadBatches,
        Instant createdAt,
        Instant finishedAt,
        List<Partition> partitions) {

    public enum Status {
        PLANNING,
        PAUSED,
        CANCELLED,
        DONE;

        public String sql() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Status of(String sql) {
            return valueOf(sql.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** One partition of the window: offsets [start, end) of which [start, next) are planned. */
    public record Partition(int partition, long next, long end) {
        public boolean planned() {
            return next >= end;
        }
    }

    public Backfill {
        partitions = List.copyOf(partitions);
    }

    /** Events of the window not planned yet (offsets, so events of other syncs' filters count too). */
    public long offsetsLeft() {
        return partitions.stream()
                .mapToLong(p -> Math.max(0, p.end() - p.next()))
                .sum();
    }

    public long deliveredBatches() {
        return Math.max(0, plannedBatches - unfinishedBatches - deadBatches);
    }

    public boolean open() {
        return status == Status.PLANNING || status == Status.PAUSED;
    }
}
