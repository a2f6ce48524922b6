package io.sluice.function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.config.SluiceConfig.FetchSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Runs a function once on one event in a fresh sandboxed context, capturing its console output: for trying a
 * function before deploying it ({@code sluice function test}, {@code POST /admin/functions/test}).
 */
public final class FunctionTrial {
    private static final int MAX_TEST_LOG_LINES = 1000;

    private FunctionTrial() {}

    /** Runs {@code source} once on {@code event}, as sync "test" to destination "test" without settings. */
    public static TestRun test(String source, ObjectNode event, Duration timeout) {
        return test(source, event, "test", "test", null, timeout);
    }

    /** As below, without fetch (the admin API's trials never call out). */
    public static TestRun test(
            String source, ObjectNode event, String syncId, String destinationId, JsonNode settings, Duration timeout) {
        return test(source, event, syncId, destinationId, settings, FetchSettings.NONE, timeout);
    }

    /**
     * Runs {@code source} once on {@code event} in a fresh sandboxed context, capturing its console output — for
     * trying a function before deploying it. With {@code fetch} allowing hosts, the function calls them for real,
     * under the same limits as in the pipeline. Never throws for problems of the script.
     */
    public static TestRun test(
            String source,
            ObjectNode event,
            String syncId,
            String destinationId,
            JsonNode settings,
            FetchSettings fetch,
            Duration timeout) {
        return test(source, event, syncId, destinationId, settings, fetch, timeout, new FetchTools(null, null));
    }

    /** What a trial that fetches uses: the tool's meter registry and clock (from the CLI's composition). */
    public record FetchTools(MeterRegistry registry, Clock clock) {}

    public static TestRun test(
            String source,
            ObjectNode event,
            String syncId,
            String destinationId,
            JsonNode settings,
            FetchSettings fetch,
            Duration timeout,
            FetchTools tools) {
        return test(source, event, syncId, destinationId, settings, fetch, timeout, tools, null);
    }

    /**
     * As above; with {@code mocks}, every {@code fetch} call is answered from the mock file instead of the network
     * (under the sync's allowlist, methods and timeout when {@code fetch} has them), whether or not the sync may fetch.
     */
    public static TestRun test(
            String source,
            ObjectNode event,
            String syncId,
            String destinationId,
            JsonNode settings,
            FetchSettings fetch,
            Duration timeout,
            FetchTools tools,
            MockResponses mocks) {
        List<String> logs = Collections.synchronizedList(new ArrayList<>());
        ConsoleSink sink = new ConsoleSink(line -> {
            if (logs.size() < MAX_TEST_LOG_LINES) logs.add(line);
            else if (logs.size() == MAX_TEST_LOG_LINES) logs.add("… (further output dropped)");
        });
        FunctionCode code = FunctionCode.of("function.js", source, null);
        boolean fetches = mocks == null && !fetch.allowHosts().isEmpty() && tools.registry() != null;
        try (Watchdog watchdog = new Watchdog(timeout);
                FetchClient client = fetches
                        ? new FetchClient(syncId, fetch, new FetchMetrics(tools.registry(), syncId), tools.clock())
                        : null) {
            JsContext js;
            try {
                js = JsContext.open(
                        null,
                        code,
                        Functions.contextJson(syncId, destinationId, settings),
                        sink,
                        watchdog,
                        Functions.evaluationTimeout(timeout),
                        fetches || mocks != null ? null : FetchSession.DISABLED);
            } catch (ScriptFailure e) {
                sink.close();
                return new TestRun(null, List.copyOf(logs), e.getMessage());
            }
            try {
                EventRuns.Results results = EventRuns.run(
                        new EventRuns.Contexts() {
                            private boolean lent;

                            @Override
                            public JsContext borrow() {
                                if (lent) throw new IllegalStateException("the trial's context was cancelled");
                                lent = true;
                                return js;
                            }

                            @Override
                            public void release(JsContext context) {}
                        },
                        new FetchSession(
                                mocks != null ? mocks.under(fetch, tools.clock()) : client, fetch.batchTimeout()),
                        syncId,
                        List.of(event),
                        timeout,
                        1,
                        nanos -> {});
                if (results.failures()[0] != null) throw results.failures()[0];
                List<ObjectNode> output = new ArrayList<>();
                String result = results.encoded()[0];
                if (result != null) Outputs.add(result, event, output);
                sink.close();
                return new TestRun(output, List.copyOf(logs), null);
            } catch (ScriptFailure e) {
                sink.close();
                return new TestRun(null, List.copyOf(logs), e.getMessage());
            } catch (DependencyFailure e) {
                sink.close();
                return new TestRun(
                        null,
                        List.copyOf(logs),
                        e.getMessage() + " (in the pipeline the batch would wait and be retried)");
            } finally {
                js.close();
            }
        }
    }
}
