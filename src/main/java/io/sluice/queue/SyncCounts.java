package io.sluice.queue;

import io.sluice.db.Transactions;
import io.sluice.db.WritePermits;
import io.sluice.failover.WriteGate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;

/**
 * Per-sync, per-minute delivery counts (table {@code sync_counts}, V20) gathered in memory and added to their rows in
 * one statement batch: by the planner inside the transaction that records the positions they cover, by a worker in
 * one flush transaction per heartbeat (never one per batch: the queue transaction budget), by a replay inside its
 * own transaction. Rows are only ever added to, so writers in several processes never conflict; keys are written in
 * one order (sync, minute) so concurrent writers lock rows in the same order.
 */
public final class SyncCounts {
    /** The counters of a row. */
    public enum Column {
        RECEIVED("received"),
        FILTERED("filtered"),
        FUNCTION_DROPPED("function_dropped"),
        DELIVERED("delivered"),
        DEAD_LETTERED("dead_lettered"),
        REPLAYED("replayed"),
        FAILED_4XX("failed_4xx"),
        FAILED_5XX("failed_5xx"),
        FAILED_NETWORK("failed_network"),
        DISCARDED("discarded"),
        BACKFILLED("backfilled");

        public final String column;

        Column(String column) {
            this.column = column;
        }
    }

    /** Upper bounds (inclusive) of the latency buckets in milliseconds; one more bucket holds everything above. */
    public static final long[] LATENCY_BOUNDS_MS = {
        5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000
    };

    /** How long rows are kept (pruned by the workers' maintenance): the longest range shown, 7 days, and a day. */
    public static final Duration RETENTION = Duration.ofDays(8);

    private record Key(String syncId, Instant minute) {}

    private static final Comparator<Key> ORDER =
            Comparator.comparing(Key::syncId).thenComparing(Key::minute);

    private static final class Tally {
        final long[] counts = new long[Column.values().length];
        final long[] latency = new long[LATENCY_BOUNDS_MS.length + 1];

        void addAll(Tally other) {
            for (int i = 0; i < counts.length; i++) counts[i] += other.counts[i];
            for (int i = 0; i < latency.length; i++) latency[i] += other.latency[i];
        }
    }

    private TreeMap<Key, Tally> pending = new TreeMap<>(ORDER);

    public synchronized void add(String syncId, Instant at, Column column, long n) {
        if (n == 0) return;
        tally(syncId, at).counts[column.ordinal()] += n;
    }

    /** One delivered event's end-to-end latency. */
    public synchronized void latency(String syncId, Instant at, long millis) {
        tally(syncId, at).latency[bucketOf(millis)]++;
    }

    /** A batch's delivered events' latencies at once: {@code perBucket[i]} events in bucket i ({@link #bucketOf}). */
    public synchronized void latencies(String syncId, Instant at, long[] perBucket) {
        long[] latency = tally(syncId, at).latency;
        for (int i = 0; i < perBucket.length; i++) latency[i] += perBucket[i];
    }

    public static int bucketOf(long millis) {
        int i = Arrays.binarySearch(LATENCY_BOUNDS_MS, millis);
        return i >= 0 ? i : -i - 1;
    }

    /** One counter of a sync, over every minute gathered. */
    public synchronized long total(String syncId, Column column) {
        long total = 0;
        for (Map.Entry<Key, Tally> row : pending.entrySet())
            if (row.getKey().syncId().equals(syncId)) total += row.getValue().counts[column.ordinal()];
        return total;
    }

    public synchronized boolean isEmpty() {
        return pending.isEmpty();
    }

    /** Adds every count of {@code other} to this one (and empties it). */
    public void addAll(SyncCounts other) {
        TreeMap<Key, Tally> taken = other.take();
        synchronized (this) {
            taken.forEach((k, t) -> pending.computeIfAbsent(k, x -> new Tally()).addAll(t));
        }
    }

    private Tally tally(String syncId, Instant at) {
        return pending.computeIfAbsent(new Key(syncId, at.truncatedTo(ChronoUnit.MINUTES)), k -> new Tally());
    }

    private synchronized TreeMap<Key, Tally> take() {
        TreeMap<Key, Tally> taken = pending;
        pending = new TreeMap<>(ORDER);
        return taken;
    }

    /**
     * Adds everything gathered to the table in one transaction through the write gate; on failure (the gate held,
     * the database away) the counts are kept for the next flush. A process that dies loses at most its last
     * unflushed counts, never counts anything twice.
     */
    void flush(DataSource dataSource, WriteGate gate, UnaryOperator<PreparedStatement> counted) throws SQLException {
        if (isEmpty()) return;
        SyncCounts taken = new SyncCounts();
        taken.addAll(this);
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.FINISHING_HELD)) {
            Transactions.run(dataSource, c -> taken.writeIn(c, counted));
        } catch (SQLException | RuntimeException e) {
            addAll(taken);
            throw e;
        }
    }

    /** Adds these counts to the table within the caller's transaction; this object is left as it is. */
    public void writeIn(Connection c) throws SQLException {
        writeIn(c, ps -> ps);
    }

    /** As {@link #writeIn(Connection)}, the statement passed through {@code counted} (the queue's statement count). */
    void writeIn(Connection c, UnaryOperator<PreparedStatement> counted) throws SQLException {
        TreeMap<Key, Tally> rows;
        synchronized (this) {
            rows = new TreeMap<>(pending);
        }
        if (rows.isEmpty()) return;
        StringBuilder columns = new StringBuilder();
        StringBuilder updates = new StringBuilder();
        for (Column column : Column.values()) {
            columns.append(", ").append(column.column);
            updates.append(column.column)
                    .append(" = sync_counts.")
                    .append(column.column)
                    .append(" + EXCLUDED.")
                    .append(column.column)
                    .append(", ");
        }
        String sql = "INSERT INTO sync_counts (sync_id, minute" + columns + ", latency_ms) VALUES (?, ?"
                + ", ?".repeat(Column.values().length) + ", ?) ON CONFLICT (sync_id, minute) DO UPDATE SET " + updates
                + "latency_ms = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0)"
                + " FROM unnest(sync_counts.latency_ms, EXCLUDED.latency_ms) AS t(a, b))";
        try (PreparedStatement ps = counted.apply(c.prepareStatement(sql))) {
            for (Map.Entry<Key, Tally> row : rows.entrySet()) {
                int i = 1;
                ps.setString(i++, row.getKey().syncId());
                ps.setTimestamp(i++, Timestamp.from(row.getKey().minute()));
                for (long n : row.getValue().counts) ps.setLong(i++, n);
                ps.setArray(
                        i,
                        c.createArrayOf(
                                "int8",
                                Arrays.stream(row.getValue().latency).boxed().toArray()));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
