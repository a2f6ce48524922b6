package io.sluice.privacy;

import io.sluice.config.SluiceConfig;
import io.sluice.db.WritePermits;
import io.sluice.destination.Destination;
import io.sluice.destination.UserErasure;
import io.sluice.lifecycle.Service;
import io.sluice.privacy.PrivacyRequest.Target;
import io.sluice.suppression.SuppressionTopic;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out privacy requests, in every worker process, on one background thread: every {@link #INTERVAL} it
 * refreshes the {@link ErasedUsers}, leases due targets and does them — publish suppressions (or tombstones) to the
 * suppressions topic, delete from the retry queue and the dead letters, have each destination erase
 * ({@link UserErasure}) — recording each as done, skipped (with the reason) or failed (with the reason, retried with
 * a doubling backoff up to {@link #RETRY_CAP}, until done). A process that dies mid-target leaves its lease to expire
 * ({@link #LEASE}); the target is then done again, which every target tolerates (all are idempotent). Times come
 * from the injected clock.
 */
public final class PrivacyExecutor implements Service {
    private static final Logger log = LoggerFactory.getLogger(PrivacyExecutor.class);
    public static final Duration INTERVAL = Duration.ofSeconds(1);
    static final Duration LEASE = Duration.ofMinutes(2);
    static final Duration RETRY_BASE = Duration.ofSeconds(1);
    static final Duration RETRY_CAP = Duration.ofMinutes(5);

    private final PrivacyStore store;
    private final QueueErasure queue;
    private final SuppressionTopic.Writer suppressions;
    private final Map<String, Destination> destinations;
    private final Map<String, Set<String>> sourcesOf = new HashMap<>();
    private final ErasedUsers erased;
    private final String owner;
    private final Clock clock;
    private ScheduledExecutorService executor;

    public PrivacyExecutor(
            SluiceConfig config,
            DataSource dataSource,
            WritePermits permits,
            SuppressionTopic.Writer suppressions,
            Map<String, Destination> destinations,
            ErasedUsers erased,
            String owner,
            Clock clock) {
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

    private String waitingFor; // the failure the ticks wait out; only the executor's thread uses it

    @Override
    public synchronized void start() {
        if (executor != null) return;
        try {
            erased.refresh(store);
        } catch (SQLException e) {
            log.warn("Could not read the deletion requests at start (retried every {}): {}", INTERVAL, e.toString());
        }
        executor = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("sluice-privacy").factory());
        executor.scheduleWithFixedDelay(this::tick, 0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void tick() {
        try {
            erased.refresh(store);
            for (PrivacyStore.Claimed claim : store.claim(owner, clock.instant(), LEASE, 4)) carryOut(claim);
            if (waitingFor != null) log.info("Privacy requests go on after: {}", waitingFor);
            waitingFor = null;
        } catch (Exception e) {
            // the queue database is down or its writes are held (a failover): the next tick tries again; said once
            // per kind of failure, not every second of an outage
            String kind = e.getClass().getName();
            if (waitingFor == null || !waitingFor.startsWith(kind))
                log.warn("Privacy requests wait (tried again every {}): {}", INTERVAL, e.toString());
            waitingFor = e.toString();
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
    public synchronized void close() {
        if (executor == null) return;
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        suppressions.close();
    }
}
