package io.sluice.failover;

import io.sluice.db.WritePermits;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether queue-database writes may go ahead in this process. Writes hold when the writer changes, when a write
 * meets a read-only server (25006) or a dropped connection, or while an operator paused them; after a writer
 * problem they resume once the same writable server has been seen continuously for the hold period.
 *
 * <p>It is the process's one door for queue-database writes ({@link WritePermits}): every write enters before it
 * touches a connection and leaves when it is over, so the gate counts the writes running. While paused, only
 * draining writes (finishing work already held) get in, and only until {@link #quiesce} found nothing running and
 * nothing held: from then on the gate is sealed and admits no write at all until the pause is lifted.
 */
public final class WriteGate implements WritePermits {
    private static final Logger log = LoggerFactory.getLogger(WriteGate.class);

    private final Clock clock;
    private final Duration holdPeriod;
    private WriterIdentity writer;
    private Instant stableSince;
    private String heldBecause;
    private boolean paused;
    private boolean sealed;
    private int active;
    private long admitted;

    public WriteGate(Clock clock, Duration holdPeriod) {
        this.clock = clock;
        this.holdPeriod = holdPeriod;
    }

    /** Throws {@link WriteHeldException} unless writes may go ahead now. */
    public synchronized void checkWritable() throws WriteHeldException {
        checkWritable(false);
    }

    /**
     * As {@link #checkWritable()}; a {@code draining} write (finishing or heartbeating work already held) passes an
     * operator pause, but never a writer-problem hold.
     */
    public synchronized void checkWritable(boolean draining) throws WriteHeldException {
        if (paused && (!draining || sealed)) throw new WriteHeldException("paused by an operator (sluice db pause)");
        if (heldBecause == null) return;
        if (writer != null && stableSince != null && !clock.instant().isBefore(stableSince.plus(holdPeriod))) {
            log.info("Writer {} stable for {} s; queue writes resume", writer, holdPeriod.toSeconds());
            heldBecause = null;
            return;
        }
        throw new WriteHeldException(heldBecause);
    }

    /** Admits one write (counted until its permit is closed), or throws {@link WriteHeldException}. */
    @Override
    public Permit enter(Work work) throws WriteHeldException {
        synchronized (this) {
            checkWritable(work == Work.FINISHING_HELD);
            active++;
            admitted++;
        }
        return new Permit() {
            private boolean closed;

            @Override
            public void close() {
                synchronized (WriteGate.this) {
                    if (closed) return;
                    closed = true;
                    active--;
                }
            }
        };
    }

    /**
     * While paused: whether this process is quiesced, i.e. no write is running and {@code nothingHeld} (no claimed
     * batch or retry chain waits to be finished). The first time it is, the gate seals: no write, draining or not,
     * gets in until {@code pause(false)}. Atomic with {@link #enter}, so "quiesced" means none can start.
     */
    public synchronized boolean quiesce(BooleanSupplier nothingHeld) {
        if (!paused) return false;
        if (!sealed && active == 0 && nothingHeld.getAsBoolean()) {
            sealed = true;
            log.info("Quiesced: no queue-database write runs and none can start until 'sluice db resume'");
        }
        return sealed;
    }

    /** Writes running right now. */
    public synchronized int activeWrites() {
        return active;
    }

    /** Writes admitted since start (a test's witness that nothing got through). */
    public synchronized long admittedWrites() {
        return admitted;
    }

    public synchronized boolean isWritable() {
        try {
            checkWritable();
            return true;
        } catch (WriteHeldException e) {
            return false;
        }
    }

    /** A write failed in a way that means the writer is gone or not the writer (25006, connection loss). */
    public synchronized void writerLost(String reason) {
        if (heldBecause == null) log.warn("Holding queue writes: {}", reason);
        heldBecause = reason;
        stableSince = null;
    }

    /**
     * What the endpoint answered just now: a writable server (identity) or not ({@code writable == false}, or null
     * identity when unreachable). Writes resume only after the same writable identity for the hold period.
     */
    public synchronized void observe(WriterIdentity identity, boolean writable) {
        Instant now = clock.instant();
        if (identity == null || !writable) {
            if (heldBecause == null)
                log.warn(
                        "Holding queue writes: the endpoint answers {}",
                        identity == null ? "nothing" : "as a non-writer");
            heldBecause = identity == null ? "the database endpoint is unreachable" : "the endpoint is not the writer";
            stableSince = null;
            return;
        }
        if (!identity.equals(writer)) {
            if (writer != null) {
                log.warn("Writer changed from {} to {}; holding queue writes until it is stable", writer, identity);
                heldBecause = "the writer changed to " + identity;
            }
            writer = identity;
            stableSince = now;
        } else if (stableSince == null) {
            stableSince = now;
        }
    }

    public synchronized void pause(boolean pause) {
        if (pause != paused) log.warn(pause ? "Queue writes paused by operator" : "Queue writes resumed by operator");
        paused = pause;
        if (!pause) sealed = false;
    }

    public synchronized boolean paused() {
        return paused;
    }

    public synchronized WriterIdentity writer() {
        return writer;
    }

    /** Why writes are held, or null when they are not. */
    public synchronized String heldBecause() {
        return paused ? "paused" : heldBecause;
    }
}
