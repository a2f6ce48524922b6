package io.sluice.function;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * Up to {@code size} contexts for one version of one sync's function, created on demand and reused: each evaluates
 * the source once. Contexts never move between pools, so a sync's global state is never seen by another sync. A
 * retired pool (its function was reloaded) closes its contexts as they come back.
 */
final class ContextPool {
    /** Opens a fresh context of this pool's code. */
    @FunctionalInterface
    interface Opener {
        JsContext open(FunctionCode code) throws ScriptFailure;
    }

    private final FunctionCode code;
    private final Opener opener;
    private final Semaphore permits;
    private final BlockingQueue<JsContext> idle;
    private volatile boolean retired;

    /** Opens the first context at once, so a source that does not compile is reported here. */
    ContextPool(FunctionCode code, int size, Opener opener) throws ScriptFailure {
        this.code = code;
        this.opener = opener;
        this.permits = new Semaphore(size);
        this.idle = new ArrayBlockingQueue<>(size);
        idle.add(opener.open(code));
    }

    FunctionCode code() {
        return code;
    }

    /** A context for the calling thread's exclusive use; waits while all are in use. */
    JsContext borrow() {
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a JavaScript context", e);
        }
        JsContext context = idle.poll();
        if (context != null) return context;
        try {
            return opener.open(code);
        } catch (ScriptFailure | RuntimeException e) {
            permits.release();
            throw new IllegalStateException(
                    "could not start a JavaScript context for " + code.name() + ": " + e.getMessage(), e);
        }
    }

    /** Gives a borrowed context back; a broken one is closed (its replacement is opened on demand). */
    void release(JsContext context) {
        if (context.broken() || retired || !idle.offer(context)) context.close();
        permits.release();
        if (retired) closeIdle();
    }

    /** This version was replaced: close what is idle now and the rest as it is released. */
    void retire() {
        retired = true;
        closeIdle();
    }

    private void closeIdle() {
        for (JsContext context; (context = idle.poll()) != null; ) context.close();
    }
}
