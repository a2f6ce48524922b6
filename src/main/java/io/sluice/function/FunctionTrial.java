package io.sluice.function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

    /**
     * Runs {@code source} once on {@code event} in a fresh sandboxed context, capturing its console output — for
     * trying a function before deploying it. Never throws for problems of the script.
     */
    public static TestRun test(
            String source, ObjectNode event, String syncId, String destinationId, JsonNode settings, Duration timeout) {
        List<String> logs = Collections.synchronizedList(new ArrayList<>());
        ConsoleSink sink = new ConsoleSink(line -> {
            if (logs.size() < MAX_TEST_LOG_LINES) logs.add(line);
            else if (logs.size() == MAX_TEST_LOG_LINES) logs.add("… (further output dropped)");
        });
        FunctionCode code = FunctionCode.of("function.js", source, null);
        try (Watchdog watchdog = new Watchdog(timeout)) {
            JsContext js;
            try {
                js = JsContext.open(
                        null,
                        code,
                        Functions.contextJson(syncId, destinationId, settings),
                        sink,
                        watchdog,
                        Functions.evaluationTimeout(timeout));
            } catch (ScriptFailure e) {
                sink.close();
                return new TestRun(null, List.copyOf(logs), e.getMessage());
            }
            try {
                List<ObjectNode> output = new ArrayList<>();
                String result = js.call(Outputs.json(event), timeout);
                if (result != null) Outputs.add(result, event, output);
                sink.close();
                return new TestRun(output, List.copyOf(logs), null);
            } catch (ScriptFailure e) {
                sink.close();
                return new TestRun(null, List.copyOf(logs), e.getMessage());
            } finally {
                js.close();
            }
        }
    }
}
