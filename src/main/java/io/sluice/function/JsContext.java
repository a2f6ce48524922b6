package io.sluice.function;

import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Value;

/**
 * One sandboxed context with one function evaluated in it, used by one thread at a time. Every evaluation and call
 * runs under a deadline that the {@link Watchdog} enforces by closing the context: a context that timed out (or
 * failed inside the engine) is {@link #broken()} and must be discarded.
 */
final class JsContext implements AutoCloseable {
    private static final long IDLE = 0;
    private static final long CANCELLED = Long.MIN_VALUE;

    private final Context context;
    private final Watchdog watchdog;
    private final String sourceName;
    /** IDLE, CANCELLED (by the watchdog), or the nanoTime by which the current call must end. */
    private final AtomicLong deadline = new AtomicLong(IDLE);

    private long lastDeadline;
    private Value api;
    private volatile boolean broken;

    private JsContext(Context context, Watchdog watchdog, String sourceName) {
        this.context = context;
        this.watchdog = watchdog;
        this.sourceName = sourceName;
    }

    /**
     * Builds a context, evaluates the prelude and the function's source, and binds its {@code context} argument.
     *
     * @param contextJson the JSON object handed to transform as {@code context} (frozen inside)
     * @param fetchRefusal null when the sync may fetch; else the message every fetch call is rejected with
     * @throws ScriptFailure when the source does not compile, throws at the top level, defines no transform, or
     *                       takes longer than {@code timeout}
     */
    static JsContext open(
            Engine engine,
            FunctionCode code,
            String contextJson,
            OutputStream console,
            Watchdog watchdog,
            Duration timeout,
            String fetchRefusal)
            throws ScriptFailure {
        JsContext js = new JsContext(Sandbox.newContext(engine, console), watchdog, code.name());
        watchdog.watch(js);
        try {
            // The prelude is Sluice's own, finite code: not under the deadline, which is for the user's code. Its
            // evaluation also initializes the context's JavaScript realm, which on a cold, loaded JVM takes seconds.
            Value setup = js.context.eval(Sandbox.PRELUDE);
            js.api = js.bounded(timeout, () -> {
                js.context.eval(code.source());
                return setup.execute(contextJson, fetchRefusal);
            });
            return js;
        } catch (ScriptFailure | RuntimeException e) {
            js.close();
            throw e;
        }
    }

    /**
     * Runs transform on one event.
     *
     * @return the JSON text of what transform returned (an object or an array of objects), null for a drop, or
     *     {@link #PENDING} when it returned a Promise (its result comes through {@link #drain} for {@code slot})
     * @throws ScriptFailure when the script threw, returned something unacceptable, or ran out of time
     */
    String call(String eventJson, int slot, Duration timeout) throws ScriptFailure {
        Value result = bounded(timeout, () -> api.invokeMember("run", eventJson, slot));
        return result.isNull() ? null : accepted(result.asString());
    }

    static final String PENDING = "?";
    static final String THREW = "?throw";

    /** An encoded result (from {@link #call} or {@link #drain}) as returned by transform; "!" means rejected. */
    static String accepted(String encoded) throws ScriptFailure {
        if (encoded != null && encoded.startsWith("!")) throw ScriptFailure.rejected(encoded.substring(1));
        return encoded;
    }

    /** Null, or JSON of the fetch calls started and the async results reached since the last drain. */
    String drain(Duration timeout) throws ScriptFailure {
        Value out = bounded(timeout, () -> api.invokeMember("drain"));
        return out.isNull() ? null : out.asString();
    }

    /** Resolves fetch call {@code id} with a response (JSON: status, headers, body, url). */
    void settle(int id, String responseJson, Duration timeout) throws ScriptFailure {
        bounded(timeout, () -> api.invokeMember("settle", id, responseJson));
    }

    /** Rejects fetch call {@code id} with a TypeError. */
    void fail(int id, String message, Duration timeout) throws ScriptFailure {
        bounded(timeout, () -> api.invokeMember("fail", id, message));
    }

    /** The failure of the async transform of {@code slot} (reported as {@link #THREW}), with the script's line. */
    ScriptFailure rejection(int slot, Duration timeout) {
        if (broken) return ScriptFailure.rejected("the function's context was cancelled");
        try {
            bounded(timeout, () -> api.invokeMember("rethrow", slot));
            return ScriptFailure.rejected("transform's Promise was rejected");
        } catch (ScriptFailure e) {
            return e;
        }
    }

    /** Drops the calls and rejections a batch left behind (calls still in flight are answered to nobody). */
    void forget(Duration timeout) throws ScriptFailure {
        if (!broken) bounded(timeout, () -> api.invokeMember("forget"));
    }

    private Value bounded(Duration timeout, Evaluation evaluation) throws ScriptFailure {
        if (broken) throw new IllegalStateException("this JavaScript context was discarded");
        long due = System.nanoTime() + timeout.toNanos();
        while (due == IDLE || due == CANCELLED || due == lastDeadline) due++; // each call's deadline is unique: no ABA
        lastDeadline = due;
        deadline.set(due);
        Value value = null;
        RuntimeException error = null;
        try {
            value = evaluation.run();
        } catch (RuntimeException e) {
            error = e;
        }
        boolean inTime = deadline.compareAndSet(due, IDLE);
        if (!inTime || error instanceof PolyglotException p && p.isCancelled()) {
            broken = true;
            throw ScriptFailure.timedOut(timeout);
        }
        if (error instanceof PolyglotException p
                && p.isGuestException()
                && !p.isInternalError()
                && !p.isResourceExhausted()) {
            throw ScriptFailure.of(p, sourceName);
        }
        if (error != null) {
            broken = true; // an engine failure or exhausted resources: do not reuse this context
            if (error instanceof PolyglotException p && p.isResourceExhausted()) {
                throw ScriptFailure.rejected("ran out of resources: " + p.getMessage());
            }
            if (error instanceof PolyglotException p) throw ScriptFailure.of(p, sourceName);
            throw error;
        }
        return value;
    }

    /** Called by the watchdog: cancels the running call if it is past its deadline. */
    void cancelIfOverdue(long now) {
        long due = deadline.get();
        if (due != IDLE && due != CANCELLED && now - due >= 0 && deadline.compareAndSet(due, CANCELLED)) {
            broken = true;
            // close(true) waits until the guest stops; not on the watchdog thread, so other deadlines stay enforced
            Thread.ofVirtual().name("sluice-function-cancel").start(this::close);
        }
    }

    boolean broken() {
        return broken;
    }

    @Override
    public void close() {
        broken = true;
        watchdog.unwatch(this);
        try {
            context.close(true);
        } catch (RuntimeException e) {
            // already closing on another thread, or closed
        }
    }

    @FunctionalInterface
    private interface Evaluation {
        Value run();
    }
}
