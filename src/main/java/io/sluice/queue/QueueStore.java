package io.sluice.queue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.db.Transactions;
import io.sluice.db.WritePermits;
import io.sluice.event.ExactText;
import io.sluice.failover.WriteGate;
import io.sluice.failover.WriteHeldException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * All SQL of the virtual queue, each operation one short statement (or one transaction of two). Times come from the
 * caller's clock, never from {@code now()}, so tests can drive leases and backoff. Every statement is counted, and
 * every write first passes the process's {@link WriteGate} (held during a writer failover or an operator pause).
 */
public final class QueueStore {
    private final DataSource dataSource;
    private final String topic;
    private final Counter statementsCounter;
    private final AtomicLong statements = new AtomicLong();
    private final WriteGate gate;

    /** A store whose writes are never held (tests of the queue logic itself). */
    public QueueStore(DataSource dataSource, String topic, MeterRegistry registry) {
        this(dataSource, topic, registry, new WriteGate(Clock.systemUTC(), Duration.ZERO));
    }

    /** Every write first passes {@code gate}: held writes fail fast with a retriable {@link WriteHeldException}. */
    public QueueStore(DataSource dataSource, String topic, MeterRegistry registry, WriteGate gate) {
        this.dataSource = dataSource;
        this.topic = topic;
        this.gate = gate;
        this.statementsCounter = Counter.builder("sluice.queue.statements")
                .description("SQL statements sent to the queue database")
                .register(registry);
    }

    /** Statements executed by this store so far (for the benchmark's statements-per-10,000-events figure). */
    public long statementCount() {
        return statements.get();
    }

    public String topic() {
        return topic;
    }

    /**
     * Where each sync resumes planning this partition: the stored position, or just past its newest batch when that
     * is further (a position write lost in a failover while the batch row survived). Live lane only: a backfill's
     * batches (docs/replay.md) never move these positions.
     */
    public Map<String, Position> positions(int partition) throws SQLException {
        String sql = """
                SELECT s.sync_id, p.next_offset, GREATEST(p.next_offset, (SELECT b.last_offset + 1 FROM batches b
                         WHERE b.sync_id = s.sync_id AND b.topic = ? AND b.kafka_partition = ? AND b.lane = 0
                         ORDER BY b.first_offset DESC LIMIT 1)) AS next_offset
                FROM (SELECT sync_id FROM planner_progress WHERE topic = ? AND kafka_partition = ?
                      UNION SELECT DISTINCT sync_id FROM batches WHERE topic = ? AND kafka_partition = ? AND lane = 0) s
                LEFT JOIN planner_progress p ON p.sync_id = s.sync_id AND p.topic = ? AND p.kafka_partition = ?""";
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < 4; i++) {
                ps.setString(i * 2 + 1, topic);
                ps.setInt(i * 2 + 2, partition);
            }
            Map<String, Position> positions = new HashMap<>();
            try (ResultSet rs = counted(ps).executeQuery()) {
                while (rs.next()) {
                    long stored = rs.getLong(2);
                    Long storedOrNull = rs.wasNull() ? null : stored;
                    positions.put(rs.getString(1), new Position(storedOrNull, rs.getLong(3)));
                }
            }
            return positions;
        }
    }

    /** A sync's planning position: what the progress row says (null: no row) and where planning resumes. */
    public record Position(Long stored, long next) {}

    /**
     * Records cut batches and the positions they advance in one transaction. Throws {@link FencedException} (and
     * changes nothing) when a position was not where this planner expected it.
     */
    public void recordPlan(List<PlannedBatch> batches, List<ProgressUpdate> progress, Instant now) throws SQLException {
        recordPlan(batches, progress, new SyncCounts(), now);
    }

    /** As {@link #recordPlan(List, List, Instant)}, adding the delivery counts these positions cover (same transaction). */
    public void recordPlan(List<PlannedBatch> batches, List<ProgressUpdate> progress, SyncCounts counts, Instant now)
            throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW)) {
            Transactions.run(dataSource, c -> {
                if (!progress.isEmpty()) advance(c, progress, now);
                counts.writeIn(c, this::counted);
                if (!batches.isEmpty()) {
                    insert(c, batches, now);
                    BatchNotifications.announce(c, this::counted); // delivered at commit: idle workers claim at once
                }
            });
        }
    }

    /**
     * Adds delivery counts gathered in memory ({@link SyncCounts}) in one transaction for all of them, through the
     * gate as the finishing of held work; on failure they stay in {@code counts} for the next call.
     */
    public void addCounts(SyncCounts counts) throws SQLException {
        counts.flush(dataSource, gate, this::counted);
    }

    /** Deletes delivery-count rows older than {@code cutoff} (the accounting shows at most 7 days). */
    public int pruneCounts(Instant cutoff) throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW);
                Connection c = dataSource.getConnection();
                PreparedStatement ps = counted(c.prepareStatement("DELETE FROM sync_counts WHERE minute < ?"))) {
            ps.setTimestamp(1, Timestamp.from(cutoff));
            return ps.executeUpdate();
        }
    }

    private void advance(Connection c, List<ProgressUpdate> progress, Instant now) throws SQLException {
        String sql = """
                WITH input AS (SELECT * FROM unnest(?::text[], ?::int[], ?::bigint[], ?::bigint[]) AS t(sync_id, kafka_partition, expected, next_offset)),
                moved AS (UPDATE planner_progress p SET next_offset = i.next_offset, updated_at = ?
                          FROM input i WHERE p.sync_id = i.sync_id AND p.topic = ? AND p.kafka_partition = i.kafka_partition
                            AND p.next_offset = i.expected RETURNING 1),
                created AS (INSERT INTO planner_progress (sync_id, topic, kafka_partition, next_offset, updated_at)
                            SELECT i.sync_id, ?, i.kafka_partition, i.next_offset, ? FROM input i WHERE i.expected IS NULL
                            ON CONFLICT DO NOTHING RETURNING 1)
                SELECT (SELECT count(*) FROM moved) + (SELECT count(*) FROM created)""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(
                    1,
                    c.createArrayOf(
                            "text",
                            progress.stream().map(ProgressUpdate::syncId).toArray()));
            ps.setArray(
                    2,
                    c.createArrayOf(
                            "int4",
                            progress.stream().map(ProgressUpdate::partition).toArray()));
            ps.setArray(
                    3,
                    c.createArrayOf(
                            "int8",
                            progress.stream().map(ProgressUpdate::expected).toArray()));
            ps.setArray(
                    4,
                    c.createArrayOf(
                            "int8", progress.stream().map(ProgressUpdate::next).toArray()));
            ps.setTimestamp(5, Timestamp.from(now));
            ps.setString(6, topic);
            ps.setString(7, topic);
            ps.setTimestamp(8, Timestamp.from(now));
            try (ResultSet rs = counted(ps).executeQuery()) {
                rs.next();
                if (rs.getLong(1) != progress.size()) {
                    throw new FencedException(
                            "planning positions moved under this planner (another planner owns the partition now)");
                }
            }
        }
    }

    private void insert(Connection c, List<PlannedBatch> batches, Instant now) throws SQLException {
        String sql = """
                INSERT INTO batches (sync_id, topic, kafka_partition, first_offset, last_offset, event_count, byte_count,
                                     next_attempt_at, created_at, updated_at)
                SELECT t.s, ?, t.p, t.f, t.l, t.c, t.b, ?, ?, ?
                FROM unnest(?::text[], ?::int[], ?::bigint[], ?::bigint[], ?::int[], ?::bigint[]) AS t(s, p, f, l, c, b)
                ON CONFLICT ON CONSTRAINT batches_once DO NOTHING""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, topic);
            ps.setTimestamp(2, Timestamp.from(now));
            ps.setTimestamp(3, Timestamp.from(now));
            ps.setTimestamp(4, Timestamp.from(now));
            ps.setArray(
                    5,
                    c.createArrayOf(
                            "text", batches.stream().map(PlannedBatch::syncId).toArray()));
            ps.setArray(
                    6,
                    c.createArrayOf(
                            "int4",
                            batches.stream().map(PlannedBatch::partition).toArray()));
            ps.setArray(
                    7,
                    c.createArrayOf(
                            "int8",
                            batches.stream().map(PlannedBatch::firstOffset).toArray()));
            ps.setArray(
                    8,
                    c.createArrayOf(
                            "int8",
                            batches.stream().map(PlannedBatch::lastOffset).toArray()));
            ps.setArray(
                    9,
                    c.createArrayOf(
                            "int4",
                            batches.stream().map(PlannedBatch::eventCount).toArray()));
            ps.setArray(
                    10,
                    c.createArrayOf(
                            "int8",
                            batches.stream().map(PlannedBatch::byteCount).toArray()));
            if (counted(ps).executeUpdate() != batches.size()) {
                throw new FencedException(
                        "a batch starting at the same offset was already planned (another planner, or lost progress)");
            }
        }
    }

    /**
     * Claims up to {@code limit} due batches in one statement: pending ones whose time has come and running ones whose
     * lease expired, never one whose predecessor in the same sync and partition is unfinished (per-user order),
     * never one of a paused sync ({@link SyncPauseStore}).
     */
    public List<ClaimedBatch> claim(String owner, int limit, Duration lease, Instant now) throws SQLException {
        return claim(owner, limit, lease, now, List.of());
    }

    /** As {@link #claim(String, int, Duration, Instant)}, skipping the syncs in {@code excluded} (their destination is busy). */
    public List<ClaimedBatch> claim(String owner, int limit, Duration lease, Instant now, List<String> excluded)
            throws SQLException {
        return claim(owner, limit, limit, lease, now, excluded);
    }

    /**
     * As {@link #claim(String, int, Duration, Instant, List)}, taking at most {@code backfillLimit} batches of backfill
     * lanes (live batches first, then backfill ones up to that limit: the slots a backfill may hold).
     */
    public List<ClaimedBatch> claim(
            String owner, int limit, int backfillLimit, Duration lease, Instant now, List<String> excluded)
            throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW);
                Connection c = dataSource.getConnection()) {
            return BatchClaims.claim(
                    c, this::counted, new BatchClaims.Request(owner, limit, backfillLimit, lease, excluded), now);
        }
    }

    /** Extends the leases of held batches; returns the ids still held (the others were fenced). */
    public List<Long> heartbeat(String owner, List<ClaimedBatch> held, Duration lease, Instant now)
            throws SQLException {
        if (held.isEmpty()) return List.of();
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.FINISHING_HELD)) {
            String sql = """
                    WITH held AS (SELECT b.id FROM batches b
                                  JOIN unnest(?::bigint[], ?::bigint[]) AS h(id, epoch) ON b.id = h.id AND b.epoch = h.epoch
                                  WHERE b.lease_owner = ? AND b.status = 'running'
                                  ORDER BY b.id FOR UPDATE OF b)
                    UPDATE batches b SET lease_expires_at = ?, updated_at = ?
                    FROM held WHERE b.id = held.id
                    RETURNING b.id""";
            try (Connection c = dataSource.getConnection();
                    PreparedStatement ps = c.prepareStatement(sql)) {
                List<ClaimedBatch.Member> members =
                        held.stream().flatMap(b -> b.members().stream()).toList();
                ps.setArray(
                        1,
                        c.createArrayOf(
                                "int8",
                                members.stream().map(ClaimedBatch.Member::id).toArray()));
                ps.setArray(
                        2,
                        c.createArrayOf(
                                "int8",
                                members.stream().map(ClaimedBatch.Member::epoch).toArray()));
                ps.setString(3, owner);
                ps.setTimestamp(4, Timestamp.from(now.plus(lease)));
                ps.setTimestamp(5, Timestamp.from(now));
                List<Long> still = new ArrayList<>();
                try (ResultSet rs = counted(ps).executeQuery()) {
                    while (rs.next()) still.add(rs.getLong(1));
                }
                return still;
            }
        }
    }

    /** Marks a held batch delivered. Throws {@link FencedException} if this worker no longer holds it. */
    public void complete(ClaimedBatch batch, Instant now) throws SQLException {
        complete(batch, now, List.of(), List.of());
    }

    /**
     * Marks a held batch delivered and, in the same transaction, hands the events that failed to the retry queue
     * or the dead letters. Fenced: if the batch was taken over, nothing is written.
     */
    public void complete(ClaimedBatch batch, Instant now, List<RetryEvent> retries, List<DeadLetter> dead)
            throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.FINISHING_HELD)) {
            Transactions.run(dataSource, c -> {
                markDone(c, batch, now);
                RetryStore.insert(c, retries, now);
                DeadLetterStore.insert(c, dead, now);
            });
        }
    }

    /**
     * As {@link #complete(ClaimedBatch, Instant, List, List)} and, in the same transaction, claims the batches that
     * follow it in its sync and partition and are due, at most {@code maxBatches}, as one run: a partition with a
     * backlog costs one transaction per run, its next run starts without waiting for a poll, and the backlog is
     * delivered in bigger pieces. Claims nothing while the gate would refuse a claim (an operator pause lets
     * completions through, never claims).
     */
    public Optional<ClaimedBatch> completeAndClaimNext(
            ClaimedBatch batch,
            Instant now,
            List<RetryEvent> retries,
            List<DeadLetter> dead,
            Duration lease,
            int maxBatches)
            throws SQLException {
        WritePermits.Permit claimPermit;
        try {
            claimPermit = gate.enter(WritePermits.Work.NEW);
        } catch (WriteHeldException held) {
            complete(batch, now, retries, dead);
            return Optional.empty();
        }
        try (claimPermit;
                WritePermits.Permit permit = gate.enter(WritePermits.Work.FINISHING_HELD)) {
            List<List<ClaimedBatch>> next = new ArrayList<>(1);
            Transactions.run(dataSource, c -> {
                markDone(c, batch, now);
                RetryStore.insert(c, retries, now);
                DeadLetterStore.insert(c, dead, now);
                next.add(BatchClaims.successors(c, this::counted, batch, maxBatches, lease, now));
            });
            List<ClaimedBatch> run = next.get(0);
            return run.isEmpty() ? Optional.empty() : Optional.of(ClaimedBatch.run(run));
        }
    }

    /**
     * Completes several held batches (of any syncs and partitions) in one transaction, each fenced by its own owner and
     * epochs exactly as {@link #completeAndClaimNext} fences one, each with its retry-queue rows, dead letters and,
     * when {@link Completion#handOn()} is above 0 and the gate lets claims through, its run of successors. All or
     * nothing: when a member fails (fenced, refused), the transaction rolls back and {@link Completion.MemberFailed}
     * names it, so the caller can complete the others again without it. A failure of the transaction itself (the
     * connection, the commit) is thrown as is and concerns every member.
     *
     * @return per member, in order, the run handed on with it (empty: none)
     */
    public List<Optional<ClaimedBatch>> completeAll(List<Completion> group, Duration lease)
            throws SQLException, Completion.MemberFailed {
        WritePermits.Permit claimPermit = null;
        if (group.stream().anyMatch(m -> m.handOn() > 0)) {
            try {
                claimPermit = gate.enter(WritePermits.Work.NEW);
            } catch (WriteHeldException held) {
                // Paused or failing over: completions go through, nothing new is claimed.
            }
        }
        boolean claims = claimPermit != null;
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.FINISHING_HELD)) {
            List<Optional<ClaimedBatch>> handedOn = new ArrayList<>(group.size());
            int[] failed = {-1};
            try {
                Transactions.run(dataSource, c -> {
                    if (group.size() > 1) lockInIdOrder(c, group);
                    for (int i = 0; i < group.size(); i++) {
                        Completion m = group.get(i);
                        failed[0] = i;
                        markDone(c, m.batch(), m.now());
                        RetryStore.insert(c, m.retries(), m.now());
                        DeadLetterStore.insert(c, m.dead(), m.now());
                        List<ClaimedBatch> run = claims && m.handOn() > 0
                                ? BatchClaims.successors(c, this::counted, m.batch(), m.handOn(), lease, m.now())
                                : List.of();
                        handedOn.add(run.isEmpty() ? Optional.empty() : Optional.of(ClaimedBatch.run(run)));
                    }
                    failed[0] = -1; // from here on a failure is the transaction's (the commit), not a member's
                });
            } catch (SQLException | RuntimeException e) {
                if (failed[0] >= 0 && group.size() > 1) throw new Completion.MemberFailed(failed[0], e);
                throw e;
            }
            return handedOn;
        } finally {
            if (claimPermit != null) claimPermit.close();
        }
    }

    /**
     * Locks every row of the group in id order before the members are updated one by one: a heartbeat locks the
     * same rows in id order, and members updated in their own order against it would deadlock.
     */
    private void lockInIdOrder(Connection c, List<Completion> group) throws SQLException {
        Object[] ids = group.stream()
                .flatMap(m -> m.batch().members().stream())
                .map(ClaimedBatch.Member::id)
                .sorted()
                .toArray();
        try (PreparedStatement ps =
                c.prepareStatement("SELECT id FROM batches WHERE id = ANY(?) ORDER BY id FOR UPDATE")) {
            ps.setArray(1, c.createArrayOf("int8", ids));
            try (ResultSet rs = counted(ps).executeQuery()) {
                while (rs.next()) {
                    // locked
                }
            }
        }
    }

    private void markDone(Connection c, ClaimedBatch batch, Instant now) throws SQLException {
        fenced(c, batch, """
                UPDATE batches b SET status = 'done', finished_at = ?, updated_at = ?, lease_owner = NULL,
                                     lease_expires_at = NULL, last_error = NULL""", now, now);
    }

    /** Schedules another attempt of a held batch. */
    public void retryLater(ClaimedBatch batch, Instant nextAttempt, String error, Instant now) throws SQLException {
        retryLater(batch, nextAttempt, error, now, true);
    }

    /**
     * As {@link #retryLater(ClaimedBatch, Instant, String, Instant)}; unless {@code countAttempt}, the claim's attempt
     * is given back (backpressure, a request never sent: only {@code retry.maxAge} bounds those).
     */
    public void retryLater(ClaimedBatch batch, Instant nextAttempt, String error, Instant now, boolean countAttempt)
            throws SQLException {
        fencedUpdate(batch, """
                UPDATE batches b SET status = 'pending', next_attempt_at = ?, updated_at = ?, last_error = ?,
                                     attempts = b.attempts - ?, lease_owner = NULL, lease_expires_at = NULL""", nextAttempt, now, error, countAttempt ? 0 : 1);
    }

    /**
     * Schedules another attempt of a held batch the destination took part of: it waits as its one row (its successors
     * behind it) with {@code attempts} and, when not null, what is {@code settled} now, so the next attempt sends only
     * the rest; in the same transaction, what this attempt handed to the retry queue or the dead letters is written.
     */
    public void retryRest(
            ClaimedBatch batch,
            Instant nextAttempt,
            String error,
            Instant now,
            int attempts,
            SettledEvents settled,
            List<RetryEvent> retries,
            List<DeadLetter> dead)
            throws SQLException {
        String update = """
                UPDATE batches b SET status = 'pending', next_attempt_at = ?, updated_at = ?, last_error = ?,
                                     attempts = ?, lease_owner = NULL, lease_expires_at = NULL""";
        Object[] leading = settled == null
                ? new Object[] {nextAttempt, now, error, attempts}
                : new Object[] {nextAttempt, now, error, attempts, settled.toBytes()};
        String sql = settled == null ? update : update + ", settled = ?";
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.FINISHING_HELD)) {
            Transactions.run(dataSource, c -> {
                fenced(c, batch, sql, leading);
                RetryStore.insert(c, retries, now);
                DeadLetterStore.insert(c, dead, now);
            });
        }
    }

    /** Gives a held batch up without counting the attempt (shutdown): another worker takes it at once. */
    public void release(ClaimedBatch batch, Instant now) throws SQLException {
        fencedUpdate(batch, """
                UPDATE batches b SET status = 'pending', next_attempt_at = ?, updated_at = ?, attempts = b.attempts - 1,
                                     lease_owner = NULL, lease_expires_at = NULL""", now, now);
    }

    /** Marks a held batch dead, keeping its error; later batches of its partition go on. */
    public void deadLetter(ClaimedBatch batch, String error, Instant now) throws SQLException {
        deadLetter(batch, error, now, List.of(), List.of());
    }

    /**
     * Marks a held batch dead, keeping its error, and in the same transaction writes its undelivered events as dead
     * letters ({@code dead}: each kept whole, listed and replayable) and what it queued behind waiting users to the
     * retry queue. Later batches of its partition go on.
     */
    public void deadLetter(
            ClaimedBatch batch, String error, Instant now, List<RetryEvent> retries, List<DeadLetter> dead)
            throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.FINISHING_HELD)) {
            Transactions.run(dataSource, c -> {
                fenced(c, batch, """
                        UPDATE batches b SET status = 'dead', finished_at = ?, updated_at = ?, last_error = ?,
                                             lease_owner = NULL, lease_expires_at = NULL""", now, now, error);
                RetryStore.insert(c, retries, now);
                DeadLetterStore.insert(c, dead, now);
            });
        }
    }

    private void fencedUpdate(ClaimedBatch batch, String update, Object... leading) throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.FINISHING_HELD)) {
            Transactions.run(dataSource, c -> fenced(c, batch, update, leading));
        }
    }

    /**
     * Applies {@code update} (an {@code UPDATE batches b SET …} with its leading parameters) to every member of the
     * held batch, each only while this owner still holds it under that epoch; if any member was taken over it throws
     * {@link FencedException}, and the caller's transaction rolls back the others (a run changes all or nothing).
     */
    private void fenced(Connection c, ClaimedBatch batch, String update, Object... leading) throws SQLException {
        // The rows are locked first, in id order, as every multi-row update of batches does: a run's completion and
        // a heartbeat over the same rows in different orders deadlocked (seen in bench destinations).
        String sql = """
                WITH held AS (SELECT b.id FROM batches b
                              JOIN unnest(?::bigint[], ?::bigint[]) AS m(id, epoch) ON b.id = m.id AND b.epoch = m.epoch
                              WHERE b.lease_owner = ? AND b.status = 'running'
                              ORDER BY b.id FOR UPDATE OF b)
                """ + update + """

                FROM held WHERE b.id = held.id""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(
                    1,
                    c.createArrayOf(
                            "int8",
                            batch.members().stream()
                                    .map(ClaimedBatch.Member::id)
                                    .toArray()));
            ps.setArray(
                    2,
                    c.createArrayOf(
                            "int8",
                            batch.members().stream()
                                    .map(ClaimedBatch.Member::epoch)
                                    .toArray()));
            ps.setString(3, batch.owner());
            int i = 4;
            for (Object value : leading) {
                if (value instanceof Instant instant) ps.setTimestamp(i++, Timestamp.from(instant));
                else if (value instanceof Integer number) ps.setInt(i++, number);
                else if (value instanceof byte[] bytes) ps.setBytes(i++, bytes);
                else ps.setString(i++, ExactText.readable((String) value)); // an error may quote an id with U+0000
            }
            if (counted(ps).executeUpdate() != batch.members().size()) throw fenced(batch);
        }
    }

    private static FencedException fenced(ClaimedBatch batch) {
        return new FencedException(
                batch + " is no longer held by " + batch.owner() + " (lease expired and taken over)");
    }

    /** Deletes delivered batch rows finished before {@code cutoff}, at most {@code limit} per call. */
    public int pruneDone(Instant cutoff, int limit) throws SQLException {
        try (WritePermits.Permit permit = gate.enter(WritePermits.Work.NEW)) {
            String sql =
                    "DELETE FROM batches WHERE id IN (SELECT id FROM batches WHERE status = 'done' AND finished_at < ? LIMIT ?)";
            try (Connection c = dataSource.getConnection();
                    PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setTimestamp(1, Timestamp.from(cutoff));
                ps.setInt(2, limit);
                return counted(ps).executeUpdate();
            }
        }
    }

    /** When the oldest unfinished batch was planned, or null when nothing waits. */
    public Instant oldestUnfinished() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT min(created_at) FROM batches WHERE status IN ('pending', 'running')")) {
            try (ResultSet rs = counted(ps).executeQuery()) {
                rs.next();
                Timestamp oldest = rs.getTimestamp(1);
                return oldest == null ? null : oldest.toInstant();
            }
        }
    }

    /** Wake-ups when batches are planned, on a connection of this store's pool ({@link BatchNotifications}). */
    public BatchNotifications notifications(Runnable onNotify) {
        return notifications(onNotify, () -> {});
    }

    /** As {@link #notifications(Runnable)}, also calling {@code onRetries} when retry-queue rows were inserted. */
    public BatchNotifications notifications(Runnable onNotify, Runnable onRetries) {
        return new BatchNotifications(dataSource, onNotify, onRetries);
    }

    /** Writes running right now (for quiescing). */
    public int activeWrites() {
        return gate.activeWrites();
    }

    /** The gate every write of this store passes (shared by every writer of the process). */
    public WriteGate gate() {
        return gate;
    }

    private PreparedStatement counted(PreparedStatement ps) {
        statements.incrementAndGet();
        statementsCounter.increment();
        return ps;
    }
}
