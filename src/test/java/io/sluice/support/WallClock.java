package io.sluice.support;

import java.time.Duration;
import java.util.Objects;

/**
 * The one place tests wait on the real clock. Tests wait for conditions (Awaitility) or move a {@link MutableClock};
 * only where the passing of real time is itself the point (nothing may happen for a while, a fault is held for a
 * while, a server's own clock must run out a lease, a load is paced) does a test call this, saying why.
 */
public final class WallClock {
    private WallClock() {}

    /** Lets {@code duration} of real time pass; {@code why} names what the waiting proves or needs. */
    public static void waitOut(Duration duration, String why) {
        Objects.requireNonNull(why, "say why a real wait is the point");
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting out " + duration + ": " + why, e);
        }
    }

    /** {@link #waitOut(Duration, String)} in milliseconds. */
    public static void waitOutMillis(long millis, String why) {
        waitOut(Duration.ofMillis(millis), why);
    }
}
