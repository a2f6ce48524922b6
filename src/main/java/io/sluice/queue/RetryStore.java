package io.sluice.queue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.db.Transactions;
import io.sluice.db.WritePermits;
import io.sluice.event.ExactEvent;
import io.sluice.event.ExactText;
import io.sluice.failover.WriteGate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.sql.DataSource;

/**
 * The per-sync retry queue's SQL. A chain is one user's waiting events of one sync; a worker leases a chain through
 * its head row (owner + epoch, like batches), delivers it in order and settles it in one fenced transaction.
 *
 * <p>Byte-exact like the dead letters ({@link DeadLetterStore}): {@code event} holds the event's JSON bytes as
 * accepted and is read back as an {@link ExactEvent}. A chain is found by {@code user_hash}, SHA-256 of the exact user
 * key ({@link ExactText#key}), so user ids of any content and length are one chain each; {@code user_key} and
 * {@code message_id} hold the ids readably ({@link ExactText#stored}).
 */
public final class RetryStore {
    private static final HexFormat HEX = HexFormat.of();

    /** A leased chain: its head row, held by {@code owner} at {@code epoch}. */
    public record Chain(long headId, String syncId, String userKey, String owner, long epoch) {}

    private final DataSource dataSource;
    private final WriteGate gate;

    public RetryStore(DataSource dataSource, WriteGate gate) {
        this.dataSource = dataSource;
        this.gate = gate;
    }

    /** The gate every write of this store passes. */
    public WriteGate gate() {
        return gate;
    }

    /** Appends events to their chains, within the caller's transaction, and announces them. */
    static void insert(Connection c, List<RetryEvent> events, Instant now) throws SQLException {
        if (events.isEmpty()) return;
        String sql = """
                INSERT INTO retry_events (sync_id, user_key, user_hash, message_id, event, attempts, next_attempt_at,
                                          first_failed_at, last_error, status_code, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (RetryEvent e : events) {
                ps.setString(1, e.syncId());
                ps.setString(2, ExactText.stored(e.userKey()));
                ps.setBytes(3, userHash(e.userKey()));
                ps.setString(4, ExactText.stored(e.messageId()));
                ps.setBytes(5, ExactEvent.bytes(e.event()));
                ps.setInt(6, e.attempts());
                ps.setTimestamp(7, Timestamp.from(e.nextAttemptAt()));
                ps.setTimestamp(8, Timestamp.from(e.firstFailedAt()));
                ps.setString(9, ExactText.readable(e.lastError()));
                ps.setObject(10, e.statusCode());
                ps.setTimestamp(11, Timestamp.from(now));
                ps.addBatch();
            }
            ps.executeBatch();
        }
        BatchNotifications.announceRetries(c); // at commit: a worker that saw the queue empty polls it again
    }

    /**
     * Whether the retry queue holds no row at all (nothing waiting, nothing leased): until rows are announced
     * ({@link BatchNotifications}), there is nothing to poll for.
     */
    public boolean empty() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT NOT EXISTS (SELECT 1 FROM retry_events)");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** The chain key of a user ({@code user_hash}, see the class comment and V17__byte_exact_events.sql). */
    static byte[] userHash(String userKey) {
        return ExactText.key('u', userKey);
    }

    /** Which of these users of the sync have events waiting (their new events must queue behind them). */
    public Set<String> waitingUsers(String syncId, Collection<String> userKeys) throws SQLException {
        Map<String, String> byHash = userKeys.stream()
                .distinct()
                .collect(Collectors.toMap(k -> HEX.formatHex(userHash(k)), Function.identity()));
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("""
                        SELECT DISTINCT encode(user_hash, 'hex') FROM retry_events
                        WHERE sync_id = ? AND user_hash = ANY(?::text[]::bytea[])""")) {
            ps.setString(1, syncId);
            ps.setArray(
                    2,
                    c.createArrayOf(
                            "text", byHash.keySet().stream().map(h -> "\\x" + h).toArray()));
            Set<String> waiting = new HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) waiting.add(byHash.get(rs.getString(1)));
            }
            return waiting;
        }
    }

    /** Leases up to {@code limit} chains whose head is due and not leased (or whose lease expired), of syncs not paused. */
    public List<Chain> claim(String owner, int limit, Duration lease, Instant now) throws SQLException {
        return claim(owner, limit, lease, now, List.of());
    }

    /**
     * As above, never re-leasing a chain whose head is in {@code inFlight}: a chain this worker is still delivering
     * (e.g. at a slow destination, past its lease) must not be taken over by the same worker's next claim, or the
     * two deliveries fence each other forever.
     *
     * <p>The heads are found by skipping from chain to chain along the chain index (one index probe per chain), not
     * by reading every waiting event. The {@code DISTINCT ON} scan it replaces took 291 ms for 200,000 events in
     * 1,000 chains on a quiet PostgreSQL 17 (this one: 16 ms), and under {@code bench destinations} it ran past
     * {@code queueDatabase.socketTimeout} (10 s), which holds every queue write (2026-12-02).
     */
    public List<Chain> claim(String owner, int limit, Duration lease, Instant now, Collection<Long> inFlight)
            throws SQLException {
        String sql = """
                WITH RECURSIVE heads AS (
                    (SELECT sync_id, user_hash, id FROM retry_events ORDER BY sync_id, user_hash, id LIMIT 1)
                    UNION ALL
                    SELECT n.sync_id, n.user_hash, n.id FROM heads h, LATERAL (
                        SELECT r.sync_id, r.user_hash, r.id FROM retry_events r
                        WHERE (r.sync_id, r.user_hash) > (h.sync_id, h.user_hash)
                        ORDER BY r.sync_id, r.user_hash, r.id LIMIT 1) n),
                due AS (SELECT r.id FROM retry_events r JOIN heads h ON r.id = h.id
                        WHERE r.next_attempt_at <= ? AND (r.lease_owner IS NULL OR r.lease_expires_at <= ?)
                          AND r.id <> ALL(?)
                          AND """ + SyncPauseStore.notPaused("r") + """
                        ORDER BY r.next_attempt_at LIMIT ? FOR UPDATE OF r SKIP LOCKED)
                UPDATE retry_events r SET lease_owner = ?, lease_expires_at = ?, epoch = r.epoch + 1
                FROM due WHERE r.id = due.id
                RETURNING r.id, r.sync_id, r.user_key, r.epoch""";
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW);
                Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setTimestamp(2, Timestamp.from(now));
            ps.setArray(3, c.createArrayOf("int8", inFlight.toArray()));
            ps.setInt(4, limit);
            ps.setString(5, owner);
            ps.setTimestamp(6, Timestamp.from(now.plus(lease)));
            List<Chain> chains = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next())
                    chains.add(new Chain(
                            rs.getLong(1), rs.getString(2), ExactText.unstored(rs.getString(3)), owner, rs.getLong(4)));
            }
            return chains;
        }
    }

    /**
     * Extends the leases of chains this owner is delivering (a long chain to a slow destination can outlast one
     * lease; another worker would then lease it again and deliver its events a second time). Returns the head ids
     * still held.
     */
    public List<Long> extend(String owner, List<Chain> chains, Duration lease, Instant now) throws SQLException {
        if (chains.isEmpty()) return List.of();
        String sql = """
                UPDATE retry_events r SET lease_expires_at = ?
                FROM unnest(?::bigint[], ?::bigint[]) AS h(id, epoch)
                WHERE r.id = h.id AND r.epoch = h.epoch AND r.lease_owner = ?
                RETURNING r.id""";
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.FINISHING_HELD); // work this process holds
                Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(now.plus(lease)));
            ps.setArray(
                    2,
                    c.createArrayOf("int8", chains.stream().map(Chain::headId).toArray()));
            ps.setArray(
                    3, c.createArrayOf("int8", chains.stream().map(Chain::epoch).toArray()));
            ps.setString(4, owner);
            List<Long> still = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) still.add(rs.getLong(1));
            }
            return still;
        }
    }

    /** The chain's events in order, at most {@code limit}. */
    public List<RetryEvent> events(Chain chain, int limit) throws SQLException {
        String sql = """
                SELECT id, sync_id, user_key, message_id, event, attempts, next_attempt_at, first_failed_at, last_error, status_code
                FROM retry_events WHERE sync_id = ? AND user_hash = ? ORDER BY id LIMIT ?""";
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, chain.syncId());
            ps.setBytes(2, userHash(chain.userKey()));
            ps.setInt(3, limit);
            List<RetryEvent> events = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ObjectNode event;
                    try {
                        event = ExactEvent.of(rs.getBytes(5));
                    } catch (Exception e) {
                        throw new SQLException("retry event " + rs.getLong(1) + " holds unreadable JSON", e);
                    }
                    events.add(new RetryEvent(
                            rs.getLong(1),
                            rs.getString(2),
                            ExactText.unstored(rs.getString(3)),
                            ExactText.unstored(rs.getString(4)),
                            event,
                            rs.getInt(6),
                            rs.getTimestamp(7).toInstant(),
                            rs.getTimestamp(8).toInstant(),
                            rs.getString(9),
                            (Integer) rs.getObject(10)));
                }
            }
            return events;
        }
    }

    /**
     * Settles a delivered chain in one transaction, fenced by the head's lease: removes delivered and dead-lettered
     * events, stores the dead letters, reschedules the event that failed, and releases the chain.
     */
    public void settle(Chain chain, List<Long> remove, List<DeadLetter> dead, RetryEvent rescheduled, Instant now)
            throws SQLException {
        try (WritePermits.Permit permit =
                gate.enter(WritePermits.Work.FINISHING_HELD)) { // finishing a chain this worker holds
            settleIn(chain, remove, dead, rescheduled, now);
        }
    }

    private void settleIn(Chain chain, List<Long> remove, List<DeadLetter> dead, RetryEvent rescheduled, Instant now)
            throws SQLException {
        Transactions.run(dataSource, c -> {
            try (PreparedStatement release = c.prepareStatement(
                    "UPDATE retry_events SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ? AND epoch = ?")) {
                release.setLong(1, chain.headId());
                release.setString(2, chain.owner());
                release.setLong(3, chain.epoch());
                if (release.executeUpdate() != 1) throw new FencedException("retry chain " + chain + " was taken over");
            }
            if (rescheduled != null) {
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE retry_events SET attempts = ?, next_attempt_at = ?, last_error = ?, status_code = ? WHERE id = ?")) {
                    ps.setInt(1, rescheduled.attempts());
                    ps.setTimestamp(2, Timestamp.from(rescheduled.nextAttemptAt()));
                    ps.setString(3, ExactText.readable(rescheduled.lastError()));
                    ps.setObject(4, rescheduled.statusCode());
                    ps.setLong(5, rescheduled.id());
                    ps.executeUpdate();
                }
            }
            DeadLetterStore.insert(c, dead, now);
            if (!remove.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM retry_events WHERE id = ANY(?)")) {
                    ps.setArray(1, c.createArrayOf("int8", remove.toArray()));
                    ps.executeUpdate();
                }
            }
        });
    }

    /** Puts dead letters back into delivery (their chains) and marks them replayed, in one transaction. */
    public void replay(List<DeadLetter> letters, Instant now) throws SQLException {
        if (letters.isEmpty()) return;
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW)) {
            replayIn(letters, now);
        }
    }

    private void replayIn(List<DeadLetter> letters, Instant now) throws SQLException {
        Transactions.run(dataSource, c -> {
            insert(
                    c,
                    letters.stream()
                            .map(d -> RetryEvent.of(
                                    d.syncId(), d.event(), 0, now, now, "replayed from dead letters", null))
                            .toList(),
                    now);
            try (PreparedStatement ps =
                    c.prepareStatement("UPDATE dead_letters SET replayed_at = ? WHERE id = ANY(?)")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setArray(
                        2,
                        c.createArrayOf(
                                "int8", letters.stream().map(DeadLetter::id).toArray()));
                ps.executeUpdate();
            }
            // accounting: back in delivery, so its next fate counts again (SyncCounts.Column.REPLAYED)
            SyncCounts replayed = new SyncCounts();
            letters.forEach(d -> replayed.add(d.syncId(), now, SyncCounts.Column.REPLAYED, 1));
            replayed.writeIn(c);
        });
    }

    /** Replays one dead letter as the events its sync's function now makes of it (none: dropped), in one transaction. */
    public void replayTransformed(DeadLetter letter, List<ObjectNode> outputs, Instant now) throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW)) {
            replayTransformedIn(letter, outputs, now);
        }
    }

    private void replayTransformedIn(DeadLetter letter, List<ObjectNode> outputs, Instant now) throws SQLException {
        Transactions.run(dataSource, c -> {
            insert(
                    c,
                    outputs.stream()
                            .map(e ->
                                    RetryEvent.of(letter.syncId(), e, 0, now, now, "replayed from dead letters", null))
                            .toList(),
                    now);
            try (PreparedStatement ps = c.prepareStatement("UPDATE dead_letters SET replayed_at = ? WHERE id = ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setLong(2, letter.id());
                ps.executeUpdate();
            }
            SyncCounts replayed = new SyncCounts();
            replayed.add(letter.syncId(), now, SyncCounts.Column.REPLAYED, 1);
            if (outputs.isEmpty()) replayed.add(letter.syncId(), now, SyncCounts.Column.FUNCTION_DROPPED, 1);
            replayed.writeIn(c);
        });
    }

    /** Events waiting per sync and the age of the oldest, for the pending-age gauge. */
    /** One sync's part of the retry queue: how many events wait and since when the oldest has been failing. */
    public record Depth(long events, Instant oldestFailure) {}

    /** The retry queue per sync (syncs with nothing waiting are absent). */
    public Map<String, Depth> depthBySync() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT sync_id, count(*), min(first_failed_at) FROM retry_events GROUP BY sync_id");
                ResultSet rs = ps.executeQuery()) {
            Map<String, Depth> depths = new HashMap<>();
            while (rs.next())
                depths.put(
                        rs.getString(1),
                        new Depth(rs.getLong(2), rs.getTimestamp(3).toInstant()));
            return depths;
        }
    }

    public Instant oldestWaiting() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT min(first_failed_at) FROM retry_events");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            Timestamp t = rs.getTimestamp(1);
            return t == null ? null : t.toInstant();
        }
    }
}
