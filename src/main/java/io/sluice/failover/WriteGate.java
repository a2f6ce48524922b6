package io.sluice.failover;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether queue-database writes may go ahead in this process. Writes hold when the writer changes, when a write
 * meets a read-only server (25006) or a dropped connection, or while an operator paused them; after a writer
 * problem they resume once the same writable server has been seen continuously for the hold period.
 */
public final class WriteGate {
    private static final Logger log = LoggerFactory.getLogger(WriteGate.class);

    private final Clock clock;
    private final Duration holdPeriod;
    private WriterIdentity writer;
    private Instant stableSince;
    private String heldBecause;
    private boolean paused;

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
        if (paused && !draining) throw new WriteHeldException("paused by an operator (sluice db pause)");
        if (heldBecause == null) return;
        if (writer != null && stableSince != null && !clock.instant().isBefore(stableSince.plus(holdPeriod))) {
            log.info("Writer {} stable for {} s; queue writes resume", writer, holdPeriod.toSeconds());
            heldBecause = null;
            return;
        }
        throw new WriteHeldException(heldBecause);
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
            if (heldBecause == null) log.warn("Holding queue writes: the endpoint answers {}", identity == null ? "nothing" : "as a non-writer");
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
