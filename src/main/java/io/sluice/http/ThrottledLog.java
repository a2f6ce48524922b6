package io.sluice.http;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Logs an unexpected failure with its stack trace at most once a minute, counting what it held back, so that a
 * client repeating the request that triggers a bug cannot flood the log.
 */
public final class ThrottledLog {
    private static final long INTERVAL_NANOS = 60_000_000_000L;

    private final Logger log;
    private final String message;
    private final AtomicLong nextAt = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong suppressed = new AtomicLong();

    public ThrottledLog(Logger log, String message) {
        this.log = log;
        this.message = message;
    }

    public void log(Throwable failure) {
        long now = System.nanoTime();
        long next = nextAt.get();
        if ((next != Long.MIN_VALUE && now - next < 0) || !nextAt.compareAndSet(next, now + INTERVAL_NANOS)) {
            suppressed.incrementAndGet();
            return;
        }
        long held = suppressed.getAndSet(0);
        String text = held > 0 ? message + " (" + held + " more since the last report)" : message;
        log.error(text, trimmed(failure));
    }

    /** A StackOverflowError's trace is thousands of frames; its first ones say where. */
    private static Throwable trimmed(Throwable failure) {
        StackTraceElement[] trace = failure.getStackTrace();
        if (trace.length > 50) failure.setStackTrace(Arrays.copyOf(trace, 50));
        return failure;
    }
}
