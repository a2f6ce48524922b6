package io.sluice.console;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * What the console reads from the queue database, per sync: batches by state, backlog and its age, the retry
 * queue, dead letters, the last error and the planning positions. Read-only, a handful of aggregate statements per
 * page load over the partial indexes the claims use; never through the write gate (it writes nothing).
 */
final class QueueView {
    /** One sync's queue state; times null when nothing waits. */
    record SyncQueue(
            long pending,
            long running,
            long failing,
            long deadBatches,
            long backlogEvents,
            Instant oldestUnfinished,
            long retryDepth,
            Instant oldestRetry,
            long deadLetters,
            String lastError,
            Instant lastErrorAt,
            Map<Integer, Long> planned) {
        long ageSeconds(Instant now) {
            return oldestUnfinished == null
                    ? 0
                    : Math.max(0, Duration.between(oldestUnfinished, now).toSeconds());
        }
    }

    private final DataSource dataSource;
    private final String topic;

    QueueView(DataSource dataSource, String topic) {
        this.dataSource = dataSource;
        this.topic = topic;
    }

    Map<String, SyncQueue> syncs() throws SQLException {
        Map<String, Builder> out = new HashMap<>();
        try (Connection c = dataSource.getConnection()) {
            query(c, """
                    SELECT sync_id, count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'running'),
                           count(*) FILTER (WHERE status = 'pending' AND attempts > 0), count(*) FILTER (WHERE status = 'dead'),
                           coalesce(sum(event_count) FILTER (WHERE status IN ('pending', 'running')), 0),
                           min(created_at) FILTER (WHERE status IN ('pending', 'running'))
                    FROM batches WHERE status IN ('pending', 'running', 'dead') GROUP BY sync_id""", rs -> {
                Builder b = out.computeIfAbsent(rs.getString(1), k -> new Builder());
                b.pending = rs.getLong(2);
                b.running = rs.getLong(3);
                b.failing = rs.getLong(4);
                b.deadBatches = rs.getLong(5);
                b.backlogEvents = rs.getLong(6);
                b.oldestUnfinished = instant(rs.getTimestamp(7));
            });
            query(c, "SELECT sync_id, count(*), min(first_failed_at) FROM retry_events GROUP BY sync_id", rs -> {
                Builder b = out.computeIfAbsent(rs.getString(1), k -> new Builder());
                b.retryDepth = rs.getLong(2);
                b.oldestRetry = instant(rs.getTimestamp(3));
            });
            query(
                    c,
                    "SELECT sync_id, count(*) FROM dead_letters WHERE replayed_at IS NULL GROUP BY sync_id",
                    rs -> out.computeIfAbsent(rs.getString(1), k -> new Builder()).deadLetters = rs.getLong(2));
            // The newest error of each sync, wherever it was recorded: a retried batch, the retry queue, a dead letter.
            query(c, """
                    SELECT DISTINCT ON (sync_id) sync_id, error, at FROM (
                        SELECT sync_id, last_error AS error, updated_at AS at FROM batches WHERE status IN ('pending', 'running', 'dead') AND last_error IS NOT NULL
                        UNION ALL SELECT sync_id, last_error, created_at FROM retry_events WHERE last_error IS NOT NULL
                        UNION ALL (SELECT DISTINCT ON (sync_id) sync_id, error, failed_at FROM dead_letters ORDER BY sync_id, failed_at DESC)) e
                    ORDER BY sync_id, at DESC""", rs -> {
                Builder b = out.computeIfAbsent(rs.getString(1), k -> new Builder());
                b.lastError = rs.getString(2);
                b.lastErrorAt = instant(rs.getTimestamp(3));
            });
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT sync_id, kafka_partition, next_offset FROM planner_progress WHERE topic = ?")) {
                ps.setString(1, topic);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next())
                        out.computeIfAbsent(rs.getString(1), k -> new Builder())
                                .planned
                                .put(rs.getInt(2), rs.getLong(3));
                }
            }
        }
        Map<String, SyncQueue> result = new HashMap<>();
        out.forEach((id, b) -> result.put(id, b.build()));
        return result;
    }

    private interface Row {
        void read(ResultSet rs) throws SQLException;
    }

    private static void query(Connection c, String sql, Row row) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) row.read(rs);
        }
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    private static final class Builder {
        long pending, running, failing, deadBatches, backlogEvents, retryDepth, deadLetters;
        Instant oldestUnfinished, oldestRetry, lastErrorAt;
        String lastError;
        final Map<Integer, Long> planned = new HashMap<>();

        SyncQueue build() {
            return new SyncQueue(
                    pending,
                    running,
                    failing,
                    deadBatches,
                    backlogEvents,
                    oldestUnfinished,
                    retryDepth,
                    oldestRetry,
                    deadLetters,
                    lastError,
                    lastErrorAt,
                    Map.copyOf(planned));
        }
    }
}
