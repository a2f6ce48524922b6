package io.sluice.function;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * One thread that enforces the deadlines of every watched context: every {@code tick} it cancels the calls that are
 * past due. A call costs two atomic writes instead of scheduling a task, and a runaway script is stopped at most one
 * tick after its deadline.
 */
final class Watchdog implements AutoCloseable {
    private final Set<JsContext> watched = ConcurrentHashMap.newKeySet();
    private final long tickNanos;
    private final Thread thread;
    private volatile boolean closed;

    Watchdog(Duration timeout) {
        this.tickNanos = Math.clamp(
                timeout.toNanos() / 20,
                Duration.ofMillis(5).toNanos(),
                Duration.ofMillis(100).toNanos());
        this.thread =
                Thread.ofPlatform().daemon().name("sluice-function-watchdog").start(this::run);
    }

    void watch(JsContext context) {
        watched.add(context);
    }

    void unwatch(JsContext context) {
        watched.remove(context);
    }

    private void run() {
        while (!closed) {
            LockSupport.parkNanos(tickNanos);
            long now = System.nanoTime();
            for (JsContext context : watched) context.cancelIfOverdue(now);
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
