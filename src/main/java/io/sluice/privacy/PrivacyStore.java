package io.sluice.privacy;

import io.sluice.db.WritePermits;
import io.sluice.privacy.PrivacyRequest.Target;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The privacy requests in the queue database (V19: {@code privacy_requests}, {@code privacy_request_users},
 * {@code privacy_request_targets}). Creating one is one transaction (request, ids, targets), idempotent by a client's
 * key; targets are leased to one process at a time and completed fenced by that lease. Writes pass the
 * {@link WritePermits}.
 */
public final class PrivacyStore {
    /** The most ids one request may name (as Segment's regulations: 5,000). */
    public static final int MAX_IDS = 5_000;

    private final DataSource dataSource;
    private final WritePermits permits;

    public PrivacyStore(DataSource dataSource, WritePermits permits) {
        this.dataSource = dataSource;
        this.permits = permits;
    }

    /** A target to create with a request, due at {@code dueAt}. */
    public record NewTarget(String name, Instant dueAt) {}

    /** A created (or, for a known key, the earlier) request's id. */
    public record Created(long id, boolean created) {}

    /**
     * Stores a request with its ids and targets. With an idempotency key seen before, stores nothing and returns the
     * earlier request.
     */
    public Created create(
            PrivacyKind kind, Collection<String> ids, String by, String key, Instant now, List<NewTarget> targets)
            throws SQLException {
        try (var permit = permits.enter(WritePermits.Work.NEW);
                Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Long id = null;
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO privacy_requests (kind, requested_by, requested_at, idempotency_key, user_count)
                        VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id""")) {
                    ps.setString(1, kind.column());
                    ps.setString(2, by);
                    ps.setTimestamp(3, Timestamp.from(now));
                    ps.setString(4, key);
                    ps.setInt(5, ids.size());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) id = rs.getLong(1);
                    }
                }
                if (id == null) {
                    c.rollback();
                    try (PreparedStatement ps =
                            c.prepareStatement("SELECT id FROM privacy_requests WHERE idempotency_key = ?")) {
                        ps.setString(1, key);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            return new Created(rs.getLong(1), false);
                        }
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO privacy_request_users (request_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
                    for (String user : ids) {
                        ps.setLong(1, id);
                        ps.setBytes(2, user.getBytes(StandardCharsets.UTF_8));
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO privacy_request_targets (request_id, target, status, next_attempt_at, updated_at)
                        VALUES (?, ?, 'pending', ?, ?)""")) {
                    for (NewTarget target : targets) {
                        ps.setLong(1, id);
                        ps.setString(2, target.name());
                        ps.setTimestamp(3, Timestamp.from(target.dueAt()));
                        ps.setTimestamp(4, Timestamp.from(now));
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                c.commit();
                return new Created(id, true);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** A target leased to this process: the request's kind, time and ids, and the target's attempt number. */
    public record Claimed(long requestId, PrivacyKind kind, Instant requestedAt, String target, int attempts) {}

    /**
     * Leases up to {@code limit} due targets among {@code names} (a target name, or a prefix ending in ':') to
     * {@code owner}. A suppression target waits for every earlier request's suppression target, so suppress and
     * unsuppress reach the topic in the order they were asked for.
     */
    public List<Claimed> claim(String owner, Instant now, Duration lease, int limit) throws SQLException {
        try (var permit = permits.enter(WritePermits.Work.NEW);
                Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("""
                        UPDATE privacy_request_targets t SET lease_owner = ?, lease_expires_at = ?, attempts = t.attempts + 1
                        FROM privacy_requests r
                        WHERE r.id = t.request_id AND (t.request_id, t.target) IN (
                            SELECT d.request_id, d.target FROM privacy_request_targets d
                            WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= ?
                              AND (d.lease_expires_at IS NULL OR d.lease_expires_at < ?)
                              AND NOT (d.target = 'suppression' AND EXISTS (
                                  SELECT 1 FROM privacy_request_targets e WHERE e.target = 'suppression'
                                  AND e.request_id < d.request_id AND e.status IN ('pending', 'failed')))
                            ORDER BY d.next_attempt_at, d.request_id LIMIT ? FOR UPDATE SKIP LOCKED)
                        RETURNING t.request_id, r.kind, r.requested_at, t.target, t.attempts""")) {
            ps.setString(1, owner);
            ps.setTimestamp(2, Timestamp.from(now.plus(lease)));
            ps.setTimestamp(3, Timestamp.from(now));
            ps.setTimestamp(4, Timestamp.from(now));
            ps.setInt(5, limit);
            List<Claimed> claimed = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next())
                    claimed.add(new Claimed(
                            rs.getLong(1),
                            PrivacyKind.parse(rs.getString(2)),
                            rs.getTimestamp(3).toInstant(),
                            rs.getString(4),
                            rs.getInt(5)));
            }
            return claimed;
        }
    }

    /**
     * Records a leased target's outcome (only while {@code owner} still holds the lease): {@code done},
     * {@code skipped}, or {@code failed} to be retried at {@code retryAt}; a request whose targets are all done or
     * skipped is finished. Returns false when the lease was lost.
     */
    public boolean complete(
            Claimed claim, String owner, String status, String reason, Long affected, Instant retryAt, Instant now)
            throws SQLException {
        try (var permit = permits.enter(WritePermits.Work.FINISHING_HELD);
                Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                int updated;
                try (PreparedStatement ps = c.prepareStatement("""
                        UPDATE privacy_request_targets SET status = ?, reason = ?, affected = ?, next_attempt_at = ?,
                            lease_owner = NULL, lease_expires_at = NULL, updated_at = ?, done_at = ?
                        WHERE request_id = ? AND target = ? AND lease_owner = ?""")) {
                    ps.setString(1, status);
                    ps.setString(2, reason);
                    if (affected == null) ps.setNull(3, java.sql.Types.BIGINT);
                    else ps.setLong(3, affected);
                    ps.setTimestamp(4, Timestamp.from(retryAt == null ? now : retryAt));
                    ps.setTimestamp(5, Timestamp.from(now));
                    ps.setTimestamp(6, status.equals(Target.FAILED) ? null : Timestamp.from(now));
                    ps.setLong(7, claim.requestId());
                    ps.setString(8, claim.target());
                    ps.setString(9, owner);
                    updated = ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement("""
                        UPDATE privacy_requests r SET finished_at = ? WHERE r.id = ? AND r.finished_at IS NULL
                          AND NOT EXISTS (SELECT 1 FROM privacy_request_targets t
                                          WHERE t.request_id = r.id AND t.status IN ('pending', 'failed'))""")) {
                    ps.setTimestamp(1, Timestamp.from(now));
                    ps.setLong(2, claim.requestId());
                    ps.executeUpdate();
                }
                c.commit();
                return updated == 1;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** The request's ids, exactly as asked for. */
    public List<String> ids(long requestId) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT user_id FROM privacy_request_users WHERE request_id = ? ORDER BY user_id")) {
            ps.setLong(1, requestId);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) ids.add(new String(rs.getBytes(1), StandardCharsets.UTF_8));
            }
            return ids;
        }
    }

    /** One deletion request's id and time, and an id it names: what the workers discard ({@link ErasedUsers}). */
    record Deletion(long requestId, Instant requestedAt, String userId) {}

    /** The deletions with an id above {@code afterId} or asked for after {@code since} (late commits). */
    List<Deletion> deletions(long afterId, Instant since) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("""
                        SELECT r.id, r.requested_at, u.user_id FROM privacy_requests r
                        JOIN privacy_request_users u ON u.request_id = r.id
                        WHERE r.kind = 'delete' AND (r.id > ? OR r.requested_at > ?) ORDER BY r.id""")) {
            ps.setLong(1, afterId);
            ps.setTimestamp(2, Timestamp.from(since));
            List<Deletion> deletions = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next())
                    deletions.add(new Deletion(
                            rs.getLong(1),
                            rs.getTimestamp(2).toInstant(),
                            new String(rs.getBytes(3), StandardCharsets.UTF_8)));
            }
            return deletions;
        }
    }

    /** The newest requests first, with their targets. */
    public List<PrivacyRequest> list(int limit) throws SQLException {
        return select("ORDER BY r.id DESC LIMIT ?", ps -> ps.setInt(1, limit));
    }

    /** One request, or null. */
    public PrivacyRequest get(long id) throws SQLException {
        List<PrivacyRequest> found = select("WHERE r.id = ?", ps -> ps.setLong(1, id));
        return found.isEmpty() ? null : found.get(0);
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private List<PrivacyRequest> select(String where, Binder binder) throws SQLException {
        Map<Long, PrivacyRequest> requests = new LinkedHashMap<>();
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT r.id, r.kind, r.requested_by, r.requested_at, r.idempotency_key, r.user_count, r.finished_at"
                            + " FROM privacy_requests r " + where)) {
                binder.bind(ps);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next())
                        requests.put(
                                rs.getLong(1),
                                new PrivacyRequest(
                                        rs.getLong(1),
                                        PrivacyKind.parse(rs.getString(2)),
                                        rs.getString(3),
                                        rs.getTimestamp(4).toInstant(),
                                        rs.getString(5),
                                        rs.getInt(6),
                                        instant(rs.getTimestamp(7)),
                                        new ArrayList<>()));
                }
            }
            if (requests.isEmpty()) return List.of();
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT request_id, target, status, attempts, reason, affected, next_attempt_at, updated_at, done_at
                    FROM privacy_request_targets WHERE request_id = ANY(?) ORDER BY request_id, target""")) {
                ps.setArray(1, c.createArrayOf("bigint", requests.keySet().toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long affected = rs.getLong(6);
                        Long affectedOrNull = rs.wasNull() ? null : affected;
                        requests.get(rs.getLong(1))
                                .targets()
                                .add(new Target(
                                        rs.getString(2),
                                        rs.getString(3),
                                        rs.getInt(4),
                                        rs.getString(5),
                                        affectedOrNull,
                                        rs.getTimestamp(7).toInstant(),
                                        rs.getTimestamp(8).toInstant(),
                                        instant(rs.getTimestamp(9))));
                    }
                }
            }
        }
        return List.copyOf(requests.values());
    }

    private static Instant instant(Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant();
    }
}
