package io.sluice.function;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sync's function applied to one batch: one pooled context for the whole batch (a new one after a context broke,
 * e.g. by a timeout), each call bounded by the timeout; failed events are collected, the rest go on.
 */
final class BatchApplication {
    private static final Logger log = LoggerFactory.getLogger(BatchApplication.class);

    private BatchApplication() {}

    static FunctionResult apply(SyncFunction function, List<ObjectNode> events, Duration timeout) {
        FunctionMetrics metrics = function.metrics;
        List<ObjectNode> output = new ArrayList<>(events.size());
        List<FunctionFailure> failures = new ArrayList<>();
        int dropped = 0;
        ContextPool pool = function.pool;
        JsContext js = pool.borrow();
        try {
            for (ObjectNode event : events) {
                if (js == null) {
                    pool = function.pool;
                    js = pool.borrow();
                }
                long begun = System.nanoTime();
                try {
                    String result = js.call(Outputs.json(event), timeout);
                    if (result == null) {
                        metrics.drops().increment();
                        dropped++;
                    } else {
                        Outputs.add(result, event, output);
                    }
                } catch (ScriptFailure e) {
                    (e.isTimeout() ? metrics.timeouts() : metrics.errors()).increment();
                    failures.add(new FunctionFailure(event, e.getMessage()));
                    if (js.broken()) {
                        pool.release(js);
                        js = null;
                    }
                } finally {
                    metrics.time().record(System.nanoTime() - begun, TimeUnit.NANOSECONDS);
                }
            }
        } finally {
            if (js != null) pool.release(js);
            metrics.invocations().increment(events.size());
        }
        if (!failures.isEmpty()) {
            log.warn(
                    "Function {} of sync {} failed on {} of {} event(s); first: {}",
                    function.pool.code().name(),
                    function.sync.id(),
                    failures.size(),
                    events.size(),
                    failures.getFirst().error());
        }
        return new FunctionResult(output, failures, dropped);
    }
}
