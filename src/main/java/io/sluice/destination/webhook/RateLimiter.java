package io.sluice.destination.webhook;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * A token bucket (in the manner of Guava's SmoothBursty): {@code perSecond} units (requests or events) a second,
 * and after an idle spell a burst of at most a tenth of a second's worth. A caller reserves the units it needs and is
 * told how long to wait; a request larger than what is stored still goes out, and its cost delays the requests after
 * it. A reservation that would wait longer than the caller's bound is refused and reserves nothing.
 */
final class RateLimiter {
    private static final double BURST_SECONDS = 0.1;

    private final double nanosPerUnit;
    private final double maxStored;
    private final Clock clock;
    private double stored;
    /** When (epoch nanos) the next unit is free; before that, callers wait. */
    private long nextFree = Long.MIN_VALUE;

    RateLimiter(double perSecond, Clock clock) {
        this.nanosPerUnit = 1e9 / perSecond;
        this.maxStored = Math.max(1, perSecond * BURST_SECONDS);
        this.clock = clock;
    }

    /**
     * Reserves {@code units} and returns how long the caller must wait before sending (zero: now), or null when that
     * wait would exceed {@code maxWait}, in which case nothing is reserved.
     */
    synchronized Duration reserve(int units, Duration maxWait) {
        long now = nanos(clock.instant());
        if (nextFree == Long.MIN_VALUE) nextFree = now;
        if (now > nextFree) {
            stored = Math.min(maxStored, stored + (now - nextFree) / nanosPerUnit);
            nextFree = now;
        }
        long wait = nextFree - now;
        if (wait > maxWait.toNanos()) return null;
        double fromStored = Math.min(units, stored);
        stored -= fromStored;
        nextFree += Math.round((units - fromStored) * nanosPerUnit);
        return Duration.ofNanos(wait);
    }

    /** How long until a reservation would not have to wait. */
    synchronized Duration untilFree() {
        long wait = nextFree == Long.MIN_VALUE ? 0 : nextFree - nanos(clock.instant());
        return Duration.ofNanos(Math.max(0, wait));
    }

    private static long nanos(Instant instant) {
        return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
    }
}
