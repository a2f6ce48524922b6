package io.sluice.queue;

import io.sluice.db.Transactions;
import io.sluice.db.WritePermits;
import io.sluice.failover.WriteGate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The backfills of the queue database (docs/replay.md): requests, their per-partition progress and lease, and the
 * batches they plan into their own lane of {@code batches}. Every write passes the process's {@link WriteGate}; the
 * planner's writes are fenced by its lease, so after a planner failover only the new holder plans.
 */
public final class BackfillStore {
    private final DataSource dataSource;
    private final String topic;
    private final WriteGate gate;

    public BackfillStore(DataSource dataSource, String topic, WriteGate gate) {
        this.dataSource = dataSource;
        this.topic = topic;
        this.gate = gate;
    }

    /** Another backfill of the sync is open (planning or paused): one lane per sync at a time. */
    public static final class AlreadyOpenException extends RuntimeException {
        AlreadyOpenException(String syncId) {
            super("sync " + syncId + " already has an open backfill (cancel it or wait until it is done)");
        }
    }

    /** What a request asks for, its window resolved to offsets ({@link Backfill.Partition}s with next = start). */
    public record Request(
            String syncId, Instant from, Instant to, int ratePerSecond, String by, List<Backfill.Partition> window) {}

    /** Creates a backfill in state planning; returns its id. */
    public long create(Request request, Instant now) throws SQLException {
        long[] id = new long[1];
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW)) {
            Transactions.run(dataSource, c -> {
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO backfills (sync_id, topic, from_time, to_time, rate_per_second, status, requested_by,
                                               created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, 'planning', ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id""")) {
                    ps.setString(1, request.syncId());
                    ps.setString(2, topic);
                    ps.setTimestamp(3, Timestamp.from(request.from()));
                    ps.setTimestamp(4, request.to() == null ? null : Timestamp.from(request.to()));
                    ps.setInt(5, request.ratePerSecond());
                    ps.setString(6, request.by());
                    ps.setTimestamp(7, Timestamp.from(now));
                    ps.setTimestamp(8, Timestamp.from(now));
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) throw new AlreadyOpenException(request.syncId());
                        id[0] = rs.getLong(1);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO backfill_partitions (backfill_id, kafka_partition, next_offset, end_offset) VALUES (?, ?, ?, ?)")) {
                    for (Backfill.Partition p : request.window()) {
                        ps.setLong(1, id[0]);
                        ps.setInt(2, p.partition());
                        ps.setLong(3, p.next());
                        ps.setLong(4, Math.max(p.next(), p.end()));
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            });
        }
        return id[0];
    }

    /** Pauses planning (batches already planned are still delivered); false when it was not planning. */
    public boolean pause(long id, Instant now) throws SQLException {
        return transition(id, "planning", "paused", now);
    }

    public boolean resume(long id, Instant now) throws SQLException {
        return transition(id, "paused", "planning", now);
    }

    /** Cancels an open backfill: it plans nothing more and its batches not yet claimed are dropped. */
    public boolean cancel(long id, Instant now) throws SQLException {
        boolean[] changed = new boolean[1];
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW)) {
            Transactions.run(dataSource, c -> {
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE backfills SET status = 'cancelled', finished_at = ?, updated_at = ?, lease_owner = NULL"
                                + " WHERE id = ? AND status IN ('planning', 'paused')")) {
                    ps.setTimestamp(1, Timestamp.from(now));
                    ps.setTimestamp(2, Timestamp.from(now));
                    ps.setLong(3, id);
                    changed[0] = ps.executeUpdate() == 1;
                }
                try (PreparedStatement ps =
                        c.prepareStatement("DELETE FROM batches WHERE lane = ? AND status = 'pending'")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                }
            });
        }
        return changed[0];
    }

    private boolean transition(long id, String from, String to, Instant now) throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW);
                Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "UPDATE backfills SET status = ?, updated_at = ? WHERE id = ? AND status = ?")) {
            ps.setString(1, to);
            ps.setTimestamp(2, Timestamp.from(now));
            ps.setLong(3, id);
            ps.setString(4, from);
            return ps.executeUpdate() == 1;
        }
    }

    /** The newest backfills first, at most {@code limit}. */
    public List<Backfill> list(int limit) throws SQLException {
        return select("ORDER BY b.id DESC LIMIT " + Math.max(1, limit), null);
    }

    public Optional<Backfill> get(long id) throws SQLException {
        return select("AND b.id = ?", id).stream().findFirst();
    }

    /** Backfills whose planning is open: the planner's work list. */
    public List<Backfill> planning() throws SQLException {
        return select("AND b.status = 'planning' ORDER BY b.id", null);
    }

    private List<Backfill> select(String tail, Long id) throws SQLException {
        String sql = """
                SELECT b.id, b.sync_id, b.from_time, b.to_time, b.rate_per_second, b.status, b.requested_by,
                       b.planned_events, b.planned_batches,
                       (SELECT count(*) FROM batches x WHERE x.lane = b.id AND x.status IN ('pending', 'running')),
                       (SELECT count(*) FROM batches x WHERE x.lane = b.id AND x.status = 'dead'),
                       b.created_at, b.finished_at
                FROM backfills b WHERE b.topic = ?
                """ + tail;
        List<Backfill> found = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, topic);
            if (id != null) ps.setLong(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Timestamp to = rs.getTimestamp(4);
                    Timestamp finished = rs.getTimestamp(13);
                    found.add(new Backfill(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getTimestamp(3).toInstant(),
                            to == null ? null : to.toInstant(),
                            rs.getInt(5),
                            Backfill.Status.of(rs.getString(6)),
                            rs.getString(7),
                            rs.getLong(8),
                            rs.getLong(9),
                            rs.getLong(10),
                            rs.getLong(11),
                            rs.getTimestamp(12).toInstant(),
                            finished == null ? null : finished.toInstant(),
                            List.of()));
                }
            }
            if (found.isEmpty()) return found;
            Map<Long, List<Backfill.Partition>> partitions = partitions(c, found);
            return found.stream()
                    .map(b -> new Backfill(
                            b.id(),
                            b.syncId(),
                            b.from(),
                            b.to(),
                            b.ratePerSecond(),
                            b.status(),
                            b.requestedBy(),
                            b.plannedEvents(),
                            b.plannedBatches(),
                            b.unfinishedBatches(),
                            b.deadBatches(),
                            b.createdAt(),
                            b.finishedAt(),
                            partitions.getOrDefault(b.id(), List.of())))
                    .toList();
        }
    }

    private static Map<Long, List<Backfill.Partition>> partitions(Connection c, List<Backfill> of) throws SQLException {
        Map<Long, List<Backfill.Partition>> partitions = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT backfill_id, kafka_partition, next_offset, end_offset FROM backfill_partitions
                WHERE backfill_id = ANY(?) ORDER BY backfill_id, kafka_partition""")) {
            ps.setArray(1, c.createArrayOf("int8", of.stream().map(Backfill::id).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    partitions
                            .computeIfAbsent(rs.getLong(1), k -> new ArrayList<>())
                            .add(new Backfill.Partition(rs.getInt(2), rs.getLong(3), rs.getLong(4)));
                }
            }
        }
        return partitions;
    }

    /**
     * Takes or extends the planning lease of a backfill that is planning; false when another planner holds it (or it
     * is no longer planning).
     */
    public boolean lease(long id, String owner, Duration lease, Instant now) throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW);
                Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("""
                        UPDATE backfills SET lease_owner = ?, lease_expires_at = ?
                        WHERE id = ? AND status = 'planning'
                          AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at <= ?)""")) {
            ps.setString(1, owner);
            ps.setTimestamp(2, Timestamp.from(now.plus(lease)));
            ps.setLong(3, id);
            ps.setString(4, owner);
            ps.setTimestamp(5, Timestamp.from(now));
            return ps.executeUpdate() == 1;
        }
    }

    /** A partition's planning moved from {@code expected} to {@code next}. */
    public record Advance(int partition, long expected, long next) {}

    /**
     * Records a backfill's cut batches (in its lane) and the partitions' new positions in one transaction, fenced by
     * the lease and the expected positions: {@link FencedException} (nothing written) when another planner took over.
     */
    public void recordPlan(long id, String owner, List<PlannedBatch> batches, List<Advance> advances, Instant now)
            throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW)) {
            Transactions.run(dataSource, c -> {
                try (PreparedStatement ps = c.prepareStatement("""
                        UPDATE backfills SET planned_events = planned_events + ?, planned_batches = planned_batches + ?,
                                             updated_at = ?
                        WHERE id = ? AND lease_owner = ? AND status = 'planning'""")) {
                    ps.setLong(
                            1,
                            batches.stream().mapToLong(PlannedBatch::eventCount).sum());
                    ps.setLong(2, batches.size());
                    ps.setTimestamp(3, Timestamp.from(now));
                    ps.setLong(4, id);
                    ps.setString(5, owner);
                    if (ps.executeUpdate() != 1)
                        throw new FencedException("backfill " + id + " is no longer planned by " + owner);
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE backfill_partitions SET next_offset = ? WHERE backfill_id = ? AND kafka_partition = ? AND next_offset = ?")) {
                    for (Advance a : advances) {
                        ps.setLong(1, a.next());
                        ps.setLong(2, id);
                        ps.setInt(3, a.partition());
                        ps.setLong(4, a.expected());
                        if (ps.executeUpdate() != 1)
                            throw new FencedException("backfill " + id + " partition " + a.partition() + " moved");
                    }
                }
                if (batches.isEmpty()) return;
                insert(c, id, batches, now);
                // the delivery accounting's "backfilled" term, with the positions that cover it (docs/console.md)
                SyncCounts counts = new SyncCounts();
                for (PlannedBatch b : batches)
                    counts.add(b.syncId(), now, SyncCounts.Column.BACKFILLED, b.eventCount());
                counts.writeIn(c);
                BatchNotifications.announce(c, ps -> ps);
            });
        }
    }

    private void insert(Connection c, long lane, List<PlannedBatch> batches, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO batches (sync_id, topic, kafka_partition, first_offset, last_offset, event_count, byte_count,
                                     next_attempt_at, created_at, updated_at, lane)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT ON CONSTRAINT batches_once DO NOTHING""")) {
            for (PlannedBatch b : batches) {
                ps.setString(1, b.syncId());
                ps.setString(2, topic);
                ps.setInt(3, b.partition());
                ps.setLong(4, b.firstOffset());
                ps.setLong(5, b.lastOffset());
                ps.setInt(6, b.eventCount());
                ps.setLong(7, b.byteCount());
                ps.setTimestamp(8, Timestamp.from(now));
                ps.setTimestamp(9, Timestamp.from(now));
                ps.setTimestamp(10, Timestamp.from(now));
                ps.setLong(11, lane);
                ps.addBatch();
            }
            for (int inserted : ps.executeBatch()) {
                if (inserted == 0) throw new FencedException("backfill " + lane + ": a batch was planned already");
            }
        }
    }

    /** Marks a planning backfill done once every partition is planned and none of its batches is unfinished. */
    public boolean finishIfComplete(long id, Instant now) throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW);
                Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("""
                        UPDATE backfills b SET status = 'done', finished_at = ?, updated_at = ?, lease_owner = NULL
                        WHERE b.id = ? AND b.status = 'planning'
                          AND NOT EXISTS (SELECT 1 FROM backfill_partitions p
                                          WHERE p.backfill_id = b.id AND p.next_offset < p.end_offset)
                          AND NOT EXISTS (SELECT 1 FROM batches x WHERE x.lane = b.id AND x.status IN ('pending', 'running'))""")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setTimestamp(2, Timestamp.from(now));
            ps.setLong(3, id);
            return ps.executeUpdate() == 1;
        }
    }
}
