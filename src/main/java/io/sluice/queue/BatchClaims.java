package io.sluice.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The claim statement of the virtual queue: due batches, pending ones whose time has come and running ones whose
 * lease expired, never one whose predecessor in the same sync and partition is unfinished (per-user order), never
 * one of a paused sync. One statement, so two workers can never both take a batch ({@code FOR UPDATE SKIP LOCKED}).
 * Order and runs hold within a lane ({@code batches.lane}: 0 live, else a backfill's id, docs/replay.md), and a
 * claim takes due live batches before due backfill ones, even older ones, so a backfill fills only the slots live
 * traffic leaves, and of those at most the claim's backfill limit ({@code worker.backfillShare} of a destination's
 * slots, decided by the worker's {@code SlotClaims}).
 */
final class BatchClaims {
    /** The due condition of the claim, for one lane kind ({@code b.lane = 0} or {@code b.lane <> 0}). */
    private static String due(String lane) {
        return """
                SELECT b.id FROM batches b
                WHERE ((b.status = 'pending' AND b.next_attempt_at <= ?) OR (b.status = 'running' AND b.lease_expires_at <= ?))
                  AND %s
                  AND b.sync_id <> ALL(?)
                  AND """.formatted(lane) + SyncPauseStore.notPaused("b") + """
                  AND NOT EXISTS (SELECT 1 FROM batches e
                                  WHERE e.sync_id = b.sync_id AND e.topic = b.topic AND e.kafka_partition = b.kafka_partition
                                    AND e.lane = b.lane AND e.first_offset < b.first_offset AND e.status IN ('pending', 'running'))
                ORDER BY b.next_attempt_at, b.id
                LIMIT ?
                FOR UPDATE SKIP LOCKED""";
    }

    /**
     * Live rows first, then backfill rows up to their own limit (the slots a backfill may hold): a CTE is read only as
     * far as its reader asks, so the backfill rows are not even looked at (nor locked) when live ones fill the limit.
     */
    private static final String SQL =
            "WITH live AS (" + due("b.lane = 0") + "), backfill AS (" + due("b.lane <> 0") + """
            ), due AS (SELECT id FROM live UNION ALL SELECT id FROM backfill LIMIT ?)
            UPDATE batches b SET status = 'running', lease_owner = ?, lease_expires_at = ?, epoch = b.epoch + 1,
                                 attempts = b.attempts + 1, updated_at = ?
            FROM due WHERE b.id = due.id
            RETURNING b.id, b.sync_id, b.topic, b.kafka_partition, b.first_offset, b.last_offset, b.event_count,
                      b.attempts, b.epoch, b.created_at, b.settled, b.lane""";

    private BatchClaims() {}

    /**
     * What to claim: at most {@code limit} batches, of them at most {@code backfillLimit} of backfill lanes, none of
     * the syncs in {@code excluded}.
     */
    record Request(String owner, int limit, int backfillLimit, Duration lease, List<String> excluded) {}

    /**
     * The batches that follow {@code done} (completed in the caller's transaction) in its sync and partition and are
     * due now and were never attempted, at most {@code limit}, in offset order, stopping at the first that is not:
     * a backlog's next batches, which may be delivered together. Batches of a run that failed are taken one by one
     * afterwards (they have attempts), so one bad batch cannot take three good ones down with it. Plain {@code FOR UPDATE}, not {@code SKIP LOCKED}: a skipped row
     * would leave a gap in the run, and nobody else can claim these rows while their predecessor was held.
     */
    private static final String SUCCESSORS = """
            WITH run AS (
                SELECT b.id FROM batches b
                WHERE b.sync_id = ? AND b.topic = ? AND b.kafka_partition = ? AND b.lane = ? AND b.first_offset > ?
                  AND b.status = 'pending' AND b.next_attempt_at <= ? AND b.attempts = 0
                  AND """ + SyncPauseStore.notPaused("b") + """
                  AND NOT EXISTS (SELECT 1 FROM batches e
                                  WHERE e.sync_id = b.sync_id AND e.topic = b.topic AND e.kafka_partition = b.kafka_partition
                                    AND e.lane = b.lane AND e.first_offset < b.first_offset AND e.status IN ('pending', 'running')
                                    AND NOT (e.status = 'pending' AND e.next_attempt_at <= ? AND e.attempts = 0
                                             AND e.first_offset > ?))
                ORDER BY b.first_offset
                LIMIT ?
                FOR UPDATE)
            UPDATE batches b SET status = 'running', lease_owner = ?, lease_expires_at = ?, epoch = b.epoch + 1,
                                 attempts = b.attempts + 1, updated_at = ?
            FROM run WHERE b.id = run.id
            RETURNING b.id, b.sync_id, b.topic, b.kafka_partition, b.first_offset, b.last_offset, b.event_count,
                      b.attempts, b.epoch, b.created_at, b.settled, b.lane""";

    /** Claims the due successors of {@code done} (see {@link #SUCCESSORS}), in offset order. */
    static List<ClaimedBatch> successors(
            Connection c, PreparedStatementCounter counter, ClaimedBatch done, int limit, Duration lease, Instant now)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SUCCESSORS)) {
            ps.setString(1, done.syncId());
            ps.setString(2, done.topic());
            ps.setInt(3, done.partition());
            ps.setLong(4, done.lane());
            ps.setLong(5, done.lastOffset());
            ps.setTimestamp(6, Timestamp.from(now));
            ps.setTimestamp(7, Timestamp.from(now));
            ps.setLong(8, done.lastOffset());
            ps.setInt(9, limit);
            ps.setString(10, done.owner());
            ps.setTimestamp(11, Timestamp.from(now.plus(lease)));
            ps.setTimestamp(12, Timestamp.from(now));
            List<ClaimedBatch> claimed = read(counter.counted(ps), done.owner());
            claimed.sort(Comparator.comparingLong(ClaimedBatch::firstOffset));
            return claimed;
        }
    }

    /** Runs the claim on {@code c} (inside the caller's transaction, if any). */
    static List<ClaimedBatch> claim(Connection c, PreparedStatementCounter counter, Request request, Instant now)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SQL)) {
            int i = 0;
            for (int limit : new int[] {request.limit(), Math.min(request.limit(), request.backfillLimit())}) {
                ps.setTimestamp(++i, Timestamp.from(now));
                ps.setTimestamp(++i, Timestamp.from(now));
                ps.setArray(++i, c.createArrayOf("text", request.excluded().toArray()));
                ps.setInt(++i, limit);
            }
            ps.setInt(++i, request.limit());
            ps.setString(++i, request.owner());
            ps.setTimestamp(++i, Timestamp.from(now.plus(request.lease())));
            ps.setTimestamp(++i, Timestamp.from(now));
            return read(counter.counted(ps), request.owner());
        }
    }

    private static List<ClaimedBatch> read(PreparedStatement ps, String owner) throws SQLException {
        List<ClaimedBatch> claimed = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
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
                        owner,
                        rs.getTimestamp(10).toInstant(),
                        SettledEvents.fromBytes(rs.getBytes(11)),
                        rs.getLong(12)));
            }
        }
        return claimed;
    }

    /** Counts a statement before it runs (the store's statement counter). */
    @FunctionalInterface
    interface PreparedStatementCounter {
        PreparedStatement counted(PreparedStatement ps);
    }
}
