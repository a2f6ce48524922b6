package io.sluice.queue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.db.WritePermits;
import io.sluice.event.ExactEvent;
import io.sluice.event.ExactText;
import io.sluice.failover.WriteGate;
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
 * Dead letters in the queue database. Writes pass the process's {@link WriteGate} like every queue write; the same
 * event failing again updates its row (attempts, error, time) rather than adding one.
 *
 * <p>Byte-exact (docs/reliability.md, "What is stored"): {@code event} holds the event's JSON bytes as accepted
 * ({@link ExactEvent#bytes}) and is read back as an {@link ExactEvent}, so a replay sends those very bytes. "The same
 * event" is the same sync and {@code message_key}: SHA-256 of the exact messageId ({@link ExactText#key}), or of the
 * event's bytes when it has none; {@code message_id} holds the id readably ({@link ExactText#stored}).
 */
public final class DeadLetterStore {
    private final DataSource dataSource;
    private final WriteGate gate;

    public DeadLetterStore(DataSource dataSource, WriteGate gate) {
        this.dataSource = dataSource;
        this.gate = gate;
    }

    public void add(List<DeadLetter> letters, Instant now) throws SQLException {
        if (letters.isEmpty()) return;
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW);
                Connection c = dataSource.getConnection()) {
            insert(c, letters, now);
        }
    }

    /** Stores dead letters within the caller's transaction. */
    static void insert(Connection c, List<DeadLetter> letters, Instant now) throws SQLException {
        if (letters.isEmpty()) return;
        String sql = """
                INSERT INTO dead_letters (sync_id, message_id, message_key, event, error, status_code, attempts, batch_id, first_failed_at, failed_at, kind)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT ON CONSTRAINT dead_letters_once DO UPDATE SET event = EXCLUDED.event, kind = EXCLUDED.kind, error = EXCLUDED.error,
                    status_code = EXCLUDED.status_code, attempts = dead_letters.attempts + EXCLUDED.attempts,
                    batch_id = EXCLUDED.batch_id, failed_at = EXCLUDED.failed_at, replayed_at = NULL""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (DeadLetter letter : letters) {
                byte[] event = ExactEvent.bytes(letter.event());
                ps.setString(1, letter.syncId());
                ps.setString(2, ExactText.stored(letter.messageId()));
                ps.setBytes(3, messageKey(letter.messageId(), event));
                ps.setBytes(4, event);
                ps.setString(5, ExactText.readable(letter.error()));
                ps.setObject(6, letter.statusCode());
                ps.setInt(7, letter.attempts());
                ps.setObject(8, letter.batchId());
                ps.setTimestamp(9, Timestamp.from(now));
                ps.setTimestamp(10, Timestamp.from(now));
                ps.setString(11, letter.kind().column());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** What makes two dead letters of a sync the same event (see the class comment and V17__byte_exact_events.sql). */
    static byte[] messageKey(String messageId, byte[] event) {
        return messageId.isEmpty() ? ExactText.key('e', event) : ExactText.key('m', messageId);
    }

    /** Dead letters, newest first; {@code syncId} and {@code since} optional; replayed ones only if asked. */
    public List<DeadLetter> list(String syncId, Instant since, boolean includeReplayed, int limit) throws SQLException {
        String sql = """
                SELECT id, sync_id, message_id, event, error, status_code, attempts, batch_id, first_failed_at, failed_at, replayed_at, kind
                FROM dead_letters
                WHERE (?::text IS NULL OR sync_id = ?) AND (?::timestamptz IS NULL OR failed_at >= ?)
                  AND (? OR replayed_at IS NULL)
                ORDER BY failed_at DESC, id DESC LIMIT ?""";
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, syncId);
            ps.setString(2, syncId);
            Timestamp from = since == null ? null : Timestamp.from(since);
            ps.setTimestamp(3, from);
            ps.setTimestamp(4, from);
            ps.setBoolean(5, includeReplayed);
            ps.setInt(6, limit);
            return read(ps);
        }
    }

    public List<DeadLetter> byIds(List<Long> ids) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("""
                     SELECT id, sync_id, message_id, event, error, status_code, attempts, batch_id, first_failed_at, failed_at, replayed_at, kind
                     FROM dead_letters WHERE id = ANY(?) ORDER BY id""")) {
            ps.setArray(1, c.createArrayOf("int8", ids.toArray()));
            return read(ps);
        }
    }

    /** Deletes dead letters older than the retention: the only way they ever go away. */
    public int prune(Instant cutoff) throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW);
                Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("DELETE FROM dead_letters WHERE failed_at < ?")) {
            ps.setTimestamp(1, Timestamp.from(cutoff));
            return ps.executeUpdate();
        }
    }

    private static List<DeadLetter> read(PreparedStatement ps) throws SQLException {
        List<DeadLetter> letters = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                ObjectNode event;
                try {
                    event = ExactEvent.of(rs.getBytes(4));
                } catch (Exception e) {
                    throw new SQLException("dead letter " + rs.getLong(1) + " holds unreadable JSON", e);
                }
                Timestamp replayed = rs.getTimestamp(11);
                letters.add(new DeadLetter(
                        rs.getLong(1),
                        rs.getString(2),
                        ExactText.unstored(rs.getString(3)),
                        event,
                        DeadLetterKind.fromColumn(rs.getString(12)),
                        rs.getString(5),
                        (Integer) rs.getObject(6),
                        rs.getInt(7),
                        (Long) rs.getObject(8),
                        rs.getTimestamp(9).toInstant(),
                        rs.getTimestamp(10).toInstant(),
                        replayed == null ? null : replayed.toInstant()));
            }
        }
        return letters;
    }
}
