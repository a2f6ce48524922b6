package io.sluice.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.JavalinConfig;
import io.sluice.function.FunctionTrial;
import io.sluice.function.TestRun;
import java.time.Duration;
import java.util.concurrent.Semaphore;

/**
 * {@code POST /admin/functions/test} with {@code {"source": "...", "event": {...}, "settings": {...}?}} runs the
 * source's transform once on the event, sandboxed and bounded by {@code functions.timeout}, and answers
 * {@code {"output": [...] | null, "logs": [...], "error": "message (line N)" | null}} — for trying a function before
 * deploying it. A failing function is still a 200; a malformed request is a 400. Authorization: see {@link AdminAuth}.
 */
public final class FunctionAdminRoutes implements AdminRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONCURRENT_RUNS = 2;

    private final Duration timeout;
    private final Semaphore running = new Semaphore(CONCURRENT_RUNS);

    public FunctionAdminRoutes(Duration timeout) {
        this.timeout = timeout;
    }

    @Override
    public void register(JavalinConfig config) {
        config.routes.post("/admin/functions/test", ctx -> {
            JsonNode body;
            try {
                body = JSON.readTree(ctx.body());
            } catch (Exception e) {
                ctx.status(400).contentType("application/json").result(error("invalid_json", "the body is not JSON"));
                return;
            }
            JsonNode source = body == null ? null : body.get("source");
            JsonNode event = body == null ? null : body.get("event");
            JsonNode settings = body == null ? null : body.get("settings");
            if (source == null
                    || !source.isTextual()
                    || !(event instanceof ObjectNode sample)
                    || (settings != null && !settings.isObject())) {
                ctx.status(400)
                        .contentType("application/json")
                        .result(
                                error(
                                        "invalid_parameter",
                                        "expected {\"source\": \"function transform(event, context) {...}\", \"event\": {...}, \"settings\": {...} (optional)}"));
                return;
            }
            if (!running.tryAcquire()) {
                ctx.status(429)
                        .contentType("application/json")
                        .result(error("overloaded", "other function tests are running; try again"));
                return;
            }
            try {
                TestRun run = FunctionTrial.test(source.asText(), sample, "test", "test", settings, timeout);
                ctx.contentType("application/json").result(JSON.writeValueAsString(run.toJson()));
            } finally {
                running.release();
            }
        });
    }

    private static String error(String rule, String message) {
        return JSON.createObjectNode()
                .put("success", false)
                .put("error", message)
                .put("rule", rule)
                .toString();
    }
}
