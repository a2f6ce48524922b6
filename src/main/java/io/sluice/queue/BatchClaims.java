package io.sluice.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The claim statement of the virtual queue: due batches, pending ones whose time has come and running ones whose
 * lease expired, never one whose predecessor in the same sync and partition is unfinished (per-user order), never
 * one of a paused sync. One statement, so two workers can never both take a batch ({@code FOR UPDATE SKIP LOCKED}).
 */
final class BatchClaims {
    private static final String SQL = """
            WITH due AS (
                SELECT b.id FROM batches b
                WHERE ((b.status = 'pending' AND b.next_attempt_at <= ?) OR (b.status = 'running' AND b.lease_expires_at <= ?))
                  AND b.sync_id <> ALL(?)
                  AND (?::text IS NULL OR b.sync_id = ?)
                  AND """ + SyncPauseStore.notPaused("b") + """
                  AND NOT EXISTS (SELECT 1 FROM batches e
                                  WHERE e.sync_id = b.sync_id AND e.topic = b.topic AND e.kafka_partition = b.kafka_partition
                                    AND e.first_offset < b.first_offset AND e.status IN ('pending', 'running'))
                ORDER BY b.next_attempt_at, b.id
                LIMIT ?
                FOR UPDATE SKIP LOCKED)
            UPDATE batches b SET status = 'running', lease_owner = ?, lease_expires_at = ?, epoch = b.epoch + 1,
                                 attempts = b.attempts + 1, updated_at = ?
            FROM due WHERE b.id = due.id
            RETURNING b.id, b.sync_id, b.topic, b.kafka_partition, b.first_offset, b.last_offset, b.event_count,
                      b.attempts, b.epoch, b.created_at""";

    private BatchClaims() {}

    /** What to claim: at most {@code limit} batches, none of {@code excluded}, only of {@code onlySync} if not null. */
    record Request(String owner, int limit, Duration lease, List<String> excluded, String onlySync) {}

    /** Runs the claim on {@code c} (inside the caller's transaction, if any). */
    static List<ClaimedBatch> claim(Connection c, PreparedStatementCounter counter, Request request, Instant now)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SQL)) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setTimestamp(2, Timestamp.from(now));
            ps.setArray(3, c.createArrayOf("text", request.excluded().toArray()));
            ps.setString(4, request.onlySync());
            ps.setString(5, request.onlySync());
            ps.setInt(6, request.limit());
            ps.setString(7, request.owner());
            ps.setTimestamp(8, Timestamp.from(now.plus(request.lease())));
            ps.setTimestamp(9, Timestamp.from(now));
            List<ClaimedBatch> claimed = new ArrayList<>();
            try (ResultSet rs = counter.counted(ps).executeQuery()) {
                while (rs.next()) {
                    claimed.add(new ClaimedBatch(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getInt(4),
                            rs.getLong(5),
                            rs.getLong(6),
                            rs.getInt(7),
                            rs.getInt(8),
                            rs.getLong(9),
                            request.owner(),
                            rs.getTimestamp(10).toInstant()));
                }
            }
            return claimed;
        }
    }

    /** Counts a statement before it runs (the store's statement counter). */
    @FunctionalInterface
    interface PreparedStatementCounter {
        PreparedStatement counted(PreparedStatement ps);
    }
}
