package io.sluice.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.sluice.failover.WriteHeldException;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterReplay;
import io.sluice.queue.DeadLetterStore;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Dead letters over the admin API, the same as {@code sluice dlq}: {@code GET /admin/dlq?sync=&since=&limit=},
 * {@code GET /admin/dlq/{id}}, {@code POST /admin/dlq/replay} with {@code {"sync", "since", "ids"}} (answering
 * {@code {"replayed", "handedBack", "failedAgain", "ids"}}).
 */
public final class DlqAdminRoutes implements AdminRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final DeadLetterStore deadLetters;
    private final DeadLetterReplay replay;
    private final Clock clock;

    public DlqAdminRoutes(DeadLetterStore deadLetters, DeadLetterReplay replay, Clock clock) {
        this.deadLetters = deadLetters;
        this.replay = replay;
        this.clock = clock;
    }

    @Override
    public void register(JavalinConfig config) {
        config.routes.get("/admin/dlq", this::list);
        config.routes.get("/admin/dlq/{id}", this::show);
        config.routes.post("/admin/dlq/replay", this::replay);
    }

    private void list(Context ctx) throws Exception {
        int limit = AdminParams.limit(ctx.queryParam("limit"), 100);
        List<DeadLetter> letters = deadLetters.list(
                ctx.queryParam("sync"),
                AdminParams.since(ctx.queryParam("since"), clock),
                "true".equals(ctx.queryParam("all")),
                limit);
        ArrayNode out = JSON.createArrayNode();
        letters.forEach(d -> out.add(describe(d, false)));
        ctx.contentType("application/json").result(out.toString());
    }

    private void show(Context ctx) throws Exception {
        List<DeadLetter> letters = deadLetters.byIds(List.of(AdminParams.id(ctx.pathParam("id"))));
        if (letters.isEmpty()) {
            ctx.status(404)
                    .contentType("application/json")
                    .result("{\"success\":false,\"error\":\"no such dead letter\",\"rule\":\"not_found\"}");
            return;
        }
        // written through serialize(), not toString(), which walks the tree and would show the event re-serialised
        ctx.contentType("application/json").result(JSON.writeValueAsString(describe(letters.get(0), true)));
    }

    private void replay(Context ctx) throws Exception {
        JsonNode body = AdminParams.object(ctx.body());
        List<Long> ids = AdminParams.ids(body);
        String sync = AdminParams.text(body, "sync");
        Instant since = AdminParams.since(AdminParams.text(body, "since"), clock);
        AtomicInteger done = new AtomicInteger();
        DeadLetterReplay.Result replayed;
        try {
            replayed = replay.run(sync, since, ids, done::set);
        } catch (WriteHeldException e) {
            // Paused for a planned failover (or the writer is changing): a conflict with the current state, not a
            // fault.
            ctx.status(409)
                    .contentType("application/json")
                    .result(JSON.createObjectNode()
                            .put("success", false)
                            .put("rule", "writes_held")
                            .put("error", "dead letters cannot be replayed now: " + e.getMessage())
                            .put("paused", e.getMessage().contains("paused"))
                            .put("replayed", done.get())
                            .put(
                                    "hint",
                                    "run again after 'sluice db resume' (or POST /admin/db/resume); replay is safe to repeat")
                            .toString());
            return;
        }
        // replayed: every dead letter rerun, also those that failed in their function again at once (failedAgain);
        // ids: what to follow with /console/api/dead-letters/outcome
        ObjectNode out = JSON.createObjectNode()
                .put("replayed", replayed.rerun())
                .put("handedBack", replayed.handedBack())
                .put("failedAgain", replayed.failedAgain());
        ArrayNode rerun = out.putArray("ids");
        replayed.ids().forEach(rerun::add);
        ctx.contentType("application/json").result(out.toString());
    }

    private static ObjectNode describe(DeadLetter d, boolean withEvent) {
        ObjectNode node = JSON.createObjectNode()
                .put("id", d.id())
                .put("sync", d.syncId())
                .put("messageId", d.messageId())
                .put("attempts", d.attempts())
                .put("kind", d.kind().column())
                .put("error", d.error())
                .put("failedAt", d.failedAt().toString())
                .put("firstFailedAt", d.firstFailedAt().toString());
        if (d.statusCode() != null) node.put("statusCode", d.statusCode());
        if (d.replayedAt() != null) node.put("replayedAt", d.replayedAt().toString());
        if (withEvent) node.set("event", d.event());
        return node;
    }
}
