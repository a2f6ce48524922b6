package io.sluice.queue;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Reads one sync's delivery accounting for a time range: the {@code sync_counts} rows (V20, {@link SyncCounts}),
 * the events its source's contract blocked (the {@code violations} table: blocked events never reach Kafka) and
 * what waits now in the queue. Read-only, a handful of statements over the range's rows.
 */
public final class DeliveryAccounting {
    private final DataSource dataSource;

    public DeliveryAccounting(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Sums of the counters over a range; {@code latency}: delivered events per bucket of {@link SyncCounts#LATENCY_BOUNDS_MS}. */
    public record Totals(
            long received,
            long filtered,
            long functionDropped,
            long delivered,
            long deadLettered,
            long replayed,
            long failed4xx,
            long failed5xx,
            long failedNetwork,
            long discarded,
            long backfilled,
            long[] latency) {

        public long failed() {
            return failed4xx + failed5xx + failedNetwork;
        }

        /**
         * The upper bound in ms of the latency bucket holding quantile {@code q} of the delivered events (-1: none
         * measured; {@code Long.MAX_VALUE}: above the largest bound).
         */
        public long percentileAtMost(double q) {
            long total = 0;
            for (long n : latency) total += n;
            if (total == 0) return -1;
            long seen = 0;
            for (int i = 0; i < latency.length; i++) {
                seen += latency[i];
                if (seen >= Math.ceil(q * total))
                    return i < SyncCounts.LATENCY_BOUNDS_MS.length ? SyncCounts.LATENCY_BOUNDS_MS[i] : Long.MAX_VALUE;
            }
            return Long.MAX_VALUE;
        }
    }

    /** One step of a trend. */
    public record Point(Instant at, long received, long delivered, long failed, long deadLettered, long blocked) {}

    /**
     * @param blocked events of the source its contract blocked in the range
     * @param pendingInBatches events of unfinished batches now (before the function; a partly settled batch counts whole)
     * @param pendingRetries events waiting in the retry queue now
     */
    public record Report(Totals totals, long blocked, long pendingInBatches, long pendingRetries, List<Point> trend) {}

    /** [from, to) with a trend in steps of {@code step}. */
    public Report read(String syncId, String sourceId, Instant from, Instant to, Duration step) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return new Report(
                    totals(c, syncId, from, to),
                    blocked(c, sourceId, from, to),
                    single(c, """
                            SELECT coalesce(sum(event_count), 0) FROM batches
                            WHERE sync_id = ? AND status IN ('pending', 'running')""", syncId),
                    single(c, "SELECT count(*) FROM retry_events WHERE sync_id = ?", syncId),
                    trend(c, syncId, sourceId, from, to, step));
        }
    }

    private static Totals totals(Connection c, String syncId, Instant from, Instant to) throws SQLException {
        long[] sums = new long[SyncCounts.Column.values().length];
        long[] latency = new long[SyncCounts.LATENCY_BOUNDS_MS.length + 1];
        StringBuilder columns = new StringBuilder();
        for (SyncCounts.Column column : SyncCounts.Column.values())
            columns.append(column.column).append(", ");
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + columns + "latency_ms FROM sync_counts WHERE sync_id = ? AND minute >= ? AND minute < ?")) {
            ps.setString(1, syncId);
            ps.setTimestamp(2, Timestamp.from(from));
            ps.setTimestamp(3, Timestamp.from(to));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    for (int i = 0; i < sums.length; i++) sums[i] += rs.getLong(i + 1);
                    Array buckets = rs.getArray(sums.length + 1);
                    Object[] values = buckets == null ? new Object[0] : (Object[]) buckets.getArray();
                    for (int i = 0; i < values.length && i < latency.length; i++)
                        latency[i] += values[i] == null ? 0 : ((Number) values[i]).longValue();
                }
            }
        }
        return new Totals(
                sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], sums[6], sums[7], sums[8], sums[9], sums[10],
                latency);
    }

    private static long blocked(Connection c, String sourceId, Instant from, Instant to) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT count(DISTINCT message_id) FROM violations
                WHERE source_id = ? AND action = 'block' AND occurred_at >= ? AND occurred_at < ?""")) {
            ps.setString(1, sourceId);
            ps.setTimestamp(2, Timestamp.from(from));
            ps.setTimestamp(3, Timestamp.from(to));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static List<Point> trend(
            Connection c, String syncId, String sourceId, Instant from, Instant to, Duration step) throws SQLException {
        String sql = """
                SELECT bucket, sum(received), sum(delivered), sum(failed), sum(dead_lettered), sum(blocked) FROM (
                    SELECT date_bin(?::interval, minute, ?) AS bucket, received, delivered,
                           failed_4xx + failed_5xx + failed_network AS failed, dead_lettered, 0 AS blocked
                    FROM sync_counts WHERE sync_id = ? AND minute >= ? AND minute < ?
                    UNION ALL
                    SELECT date_bin(?::interval, occurred_at, ?), 0, 0, 0, 0, count(DISTINCT message_id)
                    FROM violations WHERE source_id = ? AND action = 'block' AND occurred_at >= ? AND occurred_at < ?
                    GROUP BY 1) rows
                GROUP BY bucket ORDER BY bucket""";
        List<Point> points = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            String interval = step.toSeconds() + " seconds";
            Timestamp start = Timestamp.from(from);
            Timestamp end = Timestamp.from(to);
            ps.setString(1, interval);
            ps.setTimestamp(2, start);
            ps.setString(3, syncId);
            ps.setTimestamp(4, start);
            ps.setTimestamp(5, end);
            ps.setString(6, interval);
            ps.setTimestamp(7, start);
            ps.setString(8, sourceId);
            ps.setTimestamp(9, start);
            ps.setTimestamp(10, end);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next())
                    points.add(new Point(
                            rs.getTimestamp(1).toInstant(),
                            rs.getLong(2),
                            rs.getLong(3),
                            rs.getLong(4),
                            rs.getLong(5),
                            rs.getLong(6)));
            }
        }
        return points;
    }

    private static long single(Connection c, String sql, String param) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
