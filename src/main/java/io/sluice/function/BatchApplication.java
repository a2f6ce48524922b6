package io.sluice.function;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sync's function applied to one batch ({@link EventRuns}): one pooled context for the whole batch (a new one after
 * a context broke, e.g. by a timeout), each entry into the script bounded by the timeout; failed events are
 * collected, the rest go on. A failing service the function calls gives the whole batch up ({@link
 * DependencyFailure}), so it waits as its row instead of dead-lettering events for the service's sake.
 */
final class BatchApplication {
    private static final Logger log = LoggerFactory.getLogger(BatchApplication.class);

    private BatchApplication() {}

    static FunctionResult apply(SyncFunction function, List<ObjectNode> events, Duration timeout) {
        FunctionMetrics metrics = function.metrics;
        ContextPool[] pool = {function.pool};
        EventRuns.Contexts contexts = new EventRuns.Contexts() {
            @Override
            public JsContext borrow() {
                pool[0] = function.pool;
                return pool[0].borrow();
            }

            @Override
            public void release(JsContext context) {
                pool[0].release(context);
            }
        };
        FetchSession session =
                new FetchSession(function.fetch, function.sync.fetch().batchTimeout());
        EventRuns.Results results;
        try {
            results = EventRuns.run(
                    contexts,
                    session,
                    function.sync.id(),
                    events,
                    timeout,
                    function.window(),
                    nanos -> metrics.time().record(nanos, TimeUnit.NANOSECONDS));
        } catch (DependencyFailure e) {
            function.health.waited(e);
            function.fetchMetrics.dependencyWait();
            throw e;
        } finally {
            metrics.invocations().increment(events.size());
        }
        List<ObjectNode> output = new ArrayList<>(events.size());
        List<FunctionFailure> failures = new ArrayList<>();
        int dropped = 0;
        for (int i = 0; i < events.size(); i++) {
            ObjectNode event = events.get(i);
            ScriptFailure failure = results.failures()[i];
            if (failure == null) {
                String result = results.encoded()[i];
                if (result == null) {
                    metrics.drops().increment();
                    dropped++;
                    continue;
                }
                try {
                    Outputs.add(result, event, output);
                    continue;
                } catch (ScriptFailure e) {
                    failure = e;
                }
            }
            (failure.isTimeout() ? metrics.timeouts() : metrics.errors()).increment();
            failures.add(new FunctionFailure(event, failure.getMessage()));
        }
        function.health.applied(session.dependencyFailure());
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
