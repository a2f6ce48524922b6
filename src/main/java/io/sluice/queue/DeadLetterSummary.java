package io.sluice.queue;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Read models of the dead letters for the console's Failed events page: unreplayed dead letters grouped by their
 * error (the same reason, whichever event it names), and what became of replayed ones. Read-only.
 */
public final class DeadLetterSummary {
    /** At most this many ids of a group are listed (to replay the group by ids). */
    public static final int MAX_IDS = 5_000;

    private final DataSource dataSource;

    public DeadLetterSummary(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * One error's dead letters: how many, first and last seen, the newest one as the sample, and their ids (newest
     * first, at most {@link #MAX_IDS}).
     */
    public record Group(
            String syncId,
            DeadLetterKind kind,
            Integer statusCode,
            String reason,
            long count,
            Instant firstSeen,
            Instant lastSeen,
            long sampleId,
            List<Long> ids) {}

    /**
     * "event X: " (Worker.describe) is left out of the reason, so one refusal of many events is one group. Largest
     * groups first; {@code syncId} and {@code since} (failed at or after) optional.
     */
    public List<Group> groups(String syncId, Instant since, int limit) throws SQLException {
        String sql = """
                SELECT sync_id, kind, status_code, regexp_replace(error, '^event \\S+: ', '') AS reason, count(*),
                       min(first_failed_at), max(failed_at), (array_agg(id ORDER BY failed_at DESC, id DESC))[1:?]
                FROM dead_letters
                WHERE replayed_at IS NULL AND (?::text IS NULL OR sync_id = ?) AND (?::timestamptz IS NULL OR failed_at >= ?)
                GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 7 DESC LIMIT ?""";
        List<Group> groups = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            Timestamp from = since == null ? null : Timestamp.from(since);
            ps.setInt(1, MAX_IDS);
            ps.setString(2, syncId);
            ps.setString(3, syncId);
            ps.setTimestamp(4, from);
            ps.setTimestamp(5, from);
            ps.setInt(6, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    List<Long> ids = ids(rs.getArray(8));
                    groups.add(new Group(
                            rs.getString(1),
                            DeadLetterKind.fromColumn(rs.getString(2)),
                            (Integer) rs.getObject(3),
                            rs.getString(4),
                            rs.getLong(5),
                            rs.getTimestamp(6).toInstant(),
                            rs.getTimestamp(7).toInstant(),
                            ids.get(0),
                            ids));
                }
            }
        }
        return groups;
    }

    /**
     * What became of replayed dead letters: {@code failedAgain} are dead letters again (not replayed any more: their
     * new failure reset it, or their function failed again at once), {@code pending} still wait in the retry queue,
     * {@code delivered} left it (delivered, or dropped by the sync's function), {@code gone}: no such dead letter
     * (pruned).
     */
    public record ReplayOutcome(long delivered, long failedAgain, long pending, long gone) {}

    public ReplayOutcome outcome(List<Long> ids) throws SQLException {
        String sql = """
                SELECT count(*) FILTER (WHERE d.replayed_at IS NULL),
                       count(*) FILTER (WHERE d.replayed_at IS NOT NULL AND EXISTS (
                           SELECT 1 FROM retry_events r WHERE r.sync_id = d.sync_id AND r.message_id = d.message_id)),
                       count(*)
                FROM dead_letters d WHERE d.id = ANY(?)""";
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(1, c.createArrayOf("int8", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long failedAgain = rs.getLong(1);
                long pending = rs.getLong(2);
                long found = rs.getLong(3);
                long distinct = ids.stream().distinct().count();
                return new ReplayOutcome(found - failedAgain - pending, failedAgain, pending, distinct - found);
            }
        }
    }

    private static List<Long> ids(Array array) throws SQLException {
        List<Long> ids = new ArrayList<>();
        for (Object id : (Object[]) array.getArray()) ids.add(((Number) id).longValue());
        return ids;
    }
}
