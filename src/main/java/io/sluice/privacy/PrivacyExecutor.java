package io.sluice.privacy;

import io.sluice.config.SluiceConfig;
import io.sluice.db.WritePermits;
import io.sluice.destination.Destination;
import io.sluice.destination.UserErasure;
import io.sluice.lifecycle.Service;
import io.sluice.privacy.PrivacyRequest.Target;
import io.sluice.suppression.SuppressionTopic;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out privacy requests, in every worker process, on one background thread: it refreshes the
 * {@link ErasedUsers}, leases due targets and does them — publish suppressions (or tombstones) to the suppressions
 * topic, delete from the retry queue and the dead letters, have each destination erase ({@link UserErasure}) —
 * recording each as done, skipped (with the reason) or failed (with the reason, retried with a doubling backoff up
 * to {@link #RETRY_CAP}, until done). A process that dies mid-target leaves its lease to expire ({@link #LEASE}); the
 * target is then done again, which every target tolerates (all are idempotent). Times come from the injected clock.
 *
 * <p>It does not poll. One connection of the pool listens on {@link PrivacyStore#CHANNEL}, which a new request is
 * announced on in the transaction that stores it; the executor wakes on a notification, at the next target's due
 * time (a deletion's destination targets, a retry, another process's lease running out: {@link PrivacyStore#nextDue}),
 * and at the latest every {@link #FALLBACK_POLL}, which recovers a lost notification (a failover: the listening
 * connection may sit on a server that is no longer the writer, which that pass also checks). An idle executor thus
 * sends the queue database four statements per {@link #FALLBACK_POLL}. While it cannot listen (the database is down
 * or restarting) it tries every {@link #INTERVAL}, as a poll would, and catches up once listening again.
 */
public final class PrivacyExecutor implements Service {
    private static final Logger log = LoggerFactory.getLogger(PrivacyExecutor.class);
    /** How often it tries while it cannot listen, and the shortest wait between two passes that found work blocked. */
    public static final Duration INTERVAL = Duration.ofSeconds(1);
    /** The longest a listening executor sleeps without a notification: what a lost notification can cost. */
    public static final Duration FALLBACK_POLL = Duration.ofSeconds(30);

    static final Duration LEASE = Duration.ofMinutes(2);
    static final Duration RETRY_BASE = Duration.ofSeconds(1);
    static final Duration RETRY_CAP = Duration.ofMinutes(5);
    private static final int CLAIM_LIMIT = 4;
    /** The longest one wait on the listening connection: how soon close() is noticed (reads the socket, no query). */
    private static final long WAIT_SLICE_MILLIS = 500;

    private final DataSource dataSource;
    private final PrivacyStore store;
    private final QueueErasure queue;
    private final SuppressionTopic.Writer suppressions;
    private final Map<String, Destination> destinations;
    private final Map<String, Set<String>> sourcesOf = new HashMap<>();
    private final ErasedUsers erased;
    private final String owner;
    private final Clock clock;
    private volatile boolean running;
    private Thread thread;

    public PrivacyExecutor(
            SluiceConfig config,
            DataSource dataSource,
            WritePermits permits,
            SuppressionTopic.Writer suppressions,
            Map<String, Destination> destinations,
            ErasedUsers erased,
            String owner,
            Clock clock) {
        this.dataSource = dataSource;
        this.store = new PrivacyStore(dataSource, permits);
        this.queue = new QueueErasure(dataSource, permits);
        this.suppressions = suppressions;
        this.destinations = Map.copyOf(destinations);
        for (SluiceConfig.SyncSettings sync : config.syncs())
            sourcesOf
                    .computeIfAbsent(sync.destination(), d -> new LinkedHashSet<>())
                    .add(sync.source());
        this.erased = erased;
        this.owner = owner;
        this.clock = clock;
    }

    private String waitingFor; // the failure the passes wait out; only the executor's thread uses it

    @Override
    public synchronized void start() {
        if (running) return;
        try {
            erased.refresh(store);
        } catch (SQLException e) {
            log.warn("Could not read the deletion requests at start (retried every {}): {}", INTERVAL, e.toString());
        }
        running = true;
        thread = Thread.ofPlatform().daemon().name("sluice-privacy").start(this::run);
    }

    private void run() {
        while (running) {
            try (Connection c = dataSource.getConnection()) {
                listen(c);
            } catch (SQLException e) {
                if (running) {
                    log.debug("Privacy notifications interrupted ({}); trying every {}", e.toString(), INTERVAL);
                    pass(); // not listening: what a poll would do
                }
            } catch (InterruptedException e) {
                return;
            }
            try {
                if (running) Thread.sleep(INTERVAL);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Listens until the connection fails or its server is no longer the writer; a pass at every wake-up. */
    private void listen(Connection c) throws SQLException, InterruptedException {
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
            st.execute("LISTEN " + PrivacyStore.CHANNEL);
        }
        try {
            PGConnection pg = c.unwrap(PGConnection.class);
            long fallbackAt = System.nanoTime() + FALLBACK_POLL.toNanos();
            long wakeAt = System.nanoTime(); // a pass at once: requests stored while nobody listened
            while (running) {
                long now = System.nanoTime();
                if (now - fallbackAt >= 0) {
                    if (inRecovery(c)) return; // no longer the writer: reconnect (the pool finds the new one)
                    fallbackAt = now + FALLBACK_POLL.toNanos();
                    wakeAt = now;
                }
                if (now - wakeAt >= 0) {
                    wakeAt = now + pass().toNanos();
                    if (wakeAt - fallbackAt > 0) wakeAt = fallbackAt;
                    continue;
                }
                long waitMillis =
                        Math.max(1, Math.min(WAIT_SLICE_MILLIS, (Math.min(wakeAt, fallbackAt) - now) / 1_000_000));
                PGNotification[] received = pg.getNotifications((int) waitMillis);
                if (Thread.interrupted()) throw new InterruptedException();
                if (received != null && received.length > 0) wakeAt = System.nanoTime();
            }
        } finally {
            try (Statement st = c.createStatement()) {
                st.execute("UNLISTEN *"); // the connection goes back to the pool: leave it as it was
            } catch (SQLException ignored) {
                // a broken connection is discarded by the pool anyway
            }
        }
    }

    private static boolean inRecovery(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /**
     * Refreshes the erased ids and carries out every due target (claiming again while claims come back full, and
     * after each claim, since finishing one suppression makes the next one claimable); returns how long until the
     * next target is due (at most {@link #FALLBACK_POLL}; {@link #INTERVAL} when a due target could not be claimed:
     * locked by another process's claim, or after a failure).
     */
    private Duration pass() {
        try {
            erased.refresh(store);
            List<PrivacyStore.Claimed> claimed;
            boolean any = false;
            do {
                claimed = store.claim(owner, clock.instant(), LEASE, CLAIM_LIMIT);
                for (PrivacyStore.Claimed claim : claimed) carryOut(claim);
                any |= !claimed.isEmpty();
            } while (!claimed.isEmpty() && running);
            if (waitingFor != null) log.info("Privacy requests go on after: {}", waitingFor);
            waitingFor = null;
            Instant next = store.nextDue();
            if (next == null) return FALLBACK_POLL;
            Duration until = Duration.between(clock.instant(), next);
            if (until.compareTo(FALLBACK_POLL) > 0) return FALLBACK_POLL;
            if (until.isPositive()) return until;
            return any ? Duration.ZERO : INTERVAL; // due but not claimable now: look again in a second
        } catch (Exception e) {
            // the queue database is down or its writes are held (a failover): tried again in a second; said once per
            // kind of failure, not every second of an outage
            String kind = e.getClass().getName();
            if (waitingFor == null || !waitingFor.startsWith(kind))
                log.warn("Privacy requests wait (tried again every {}): {}", INTERVAL, e.toString());
            waitingFor = e.toString();
            return INTERVAL;
        }
    }

    private void carryOut(PrivacyStore.Claimed claim) throws SQLException {
        String status = Target.DONE;
        String reason;
        Long affected = null;
        Instant retryAt = null;
        try {
            List<String> ids = store.ids(claim.requestId());
            if (claim.target().equals(Target.SUPPRESSION)) {
                boolean suppress = claim.kind() == PrivacyKind.SUPPRESS;
                suppressions.write(ids, suppress, "{\"request\":" + claim.requestId() + "}");
                affected = (long) ids.size();
                reason = (suppress ? "suppressed " : "unsuppressed ") + ids.size() + " id(s)";
            } else if (claim.target().equals(Target.QUEUE)) {
                reason = queue.erase(new LinkedHashSet<>(ids));
            } else if (claim.target().startsWith(Target.DESTINATION)) {
                String id = claim.target().substring(Target.DESTINATION.length());
                Destination destination = destinations.get(id);
                UserErasure erasure = destination == null ? null : UserErasure.of(destination);
                if (destination == null) {
                    throw new IllegalStateException("destination " + id + " is not configured in this process");
                } else if (erasure == null) {
                    status = Target.SKIPPED;
                    reason = destination instanceof UserErasure
                            ? "no deletionUrl configured: nothing was sent"
                            : "this destination cannot delete what it was sent; it keeps it";
                } else {
                    reason = erasure.erase(claim.requestId(), sourcesOf.getOrDefault(id, Set.of()), ids);
                }
            } else {
                status = Target.SKIPPED;
                reason = "unknown target";
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            status = Target.FAILED;
            reason = e.getMessage() == null ? e.toString() : e.getMessage();
            retryAt = clock.instant().plus(backoff(claim.attempts()));
            log.warn(
                    "Privacy request {} at {} failed (attempt {}), retrying at {}: {}",
                    claim.requestId(),
                    claim.target(),
                    claim.attempts(),
                    retryAt,
                    reason);
        }
        if (!store.complete(claim, owner, status, reason, affected, retryAt, clock.instant()))
            log.warn(
                    "Privacy request {} at {}: the lease was lost before completion",
                    claim.requestId(),
                    claim.target());
    }

    static Duration backoff(int attempts) {
        long factor = 1L << Math.min(20, Math.max(0, attempts - 1));
        Duration delay = RETRY_BASE.multipliedBy(factor);
        return delay.compareTo(RETRY_CAP) > 0 ? RETRY_CAP : delay;
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (!running) return;
            running = false;
            t = thread;
        }
        t.interrupt();
        try {
            t.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        suppressions.close();
    }
}
