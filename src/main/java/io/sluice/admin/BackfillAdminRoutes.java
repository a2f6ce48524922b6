package io.sluice.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.http.JsonErrors;
import io.sluice.planner.BackfillWindows;
import io.sluice.queue.Backfill;
import io.sluice.queue.BackfillStore;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * Backfills over the admin API (docs/replay.md), the same as {@code sluice sync backfill}: {@code POST
 * /admin/syncs/{id}/backfill} with {@code {"from", "to", "rate", "dryRun"}}, {@code GET /admin/backfills}, {@code GET
 * /admin/backfills/{id}}, {@code POST /admin/backfills/{id}/pause|resume|cancel}. Authorization: see {@link AdminAuth}.
 */
public final class BackfillAdminRoutes implements AdminRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BackfillStore store;
    private final BackfillWindows windows;
    private final Map<String, SyncSettings> syncs;
    private final Clock clock;

    public BackfillAdminRoutes(
            BackfillStore store, BackfillWindows windows, Map<String, SyncSettings> syncs, Clock clock) {
        this.store = store;
        this.windows = windows;
        this.syncs = Map.copyOf(syncs);
        this.clock = clock;
    }

    @Override
    public void register(JavalinConfig config) {
        config.routes.post("/admin/syncs/{id}/backfill", this::start);
        config.routes.get("/admin/backfills", ctx -> {
            ArrayNode out = JSON.createArrayNode();
            store.list(AdminParams.limit(ctx.queryParam("limit"), 100)).forEach(b -> out.add(describe(b)));
            ctx.contentType("application/json").result(out.toString());
        });
        config.routes.get("/admin/backfills/{id}", ctx -> {
            Optional<Backfill> found = store.get(id(ctx));
            if (found.isEmpty()) notFound(ctx);
            else
                ctx.contentType("application/json").result(describe(found.get()).toString());
        });
        config.routes.post("/admin/backfills/{id}/pause", ctx -> change(ctx, store.pause(id(ctx), clock.instant())));
        config.routes.post("/admin/backfills/{id}/resume", ctx -> change(ctx, store.resume(id(ctx), clock.instant())));
        config.routes.post("/admin/backfills/{id}/cancel", ctx -> change(ctx, store.cancel(id(ctx), clock.instant())));
    }

    private void start(Context ctx) throws Exception {
        SyncSettings sync = syncs.get(ctx.pathParam("id"));
        if (sync == null) {
            ctx.status(404)
                    .contentType("application/json")
                    .result("{\"error\":\"no such sync\",\"rule\":\"not_found\"}");
            return;
        }
        JsonNode body = AdminParams.object(ctx.body());
        Instant from = instant(body, "from", true);
        Instant to = instant(body, "to", false);
        int rate = body.path("rate").asInt(BackfillWindows.DEFAULT_RATE);
        if (rate < 1 || (to != null && !to.isAfter(from)))
            throw JsonErrors.badRequest("invalid_parameter", "'rate' must be >= 1 and 'to' after 'from'");
        if (body.path("dryRun").asBoolean(false)) {
            var dry = windows.dryRun(sync, windows.resolve(from, to));
            ObjectNode out = JSON.createObjectNode()
                    .put("dryRun", true)
                    .put("sync", dry.syncId())
                    .put("destination", dry.destination())
                    .put("events", dry.events())
                    .put("batches", dry.batches());
            ctx.contentType("application/json").result(out.toString());
            return;
        }
        String by = ctx.header("Authorization") == null ? "console" : "admin API";
        try {
            long id = windows.create(store, sync, from, to, rate, by, clock.instant());
            ctx.status(201)
                    .contentType("application/json")
                    .result(describe(store.get(id).orElseThrow()).toString());
        } catch (BackfillStore.AlreadyOpenException e) {
            ctx.status(409)
                    .contentType("application/json")
                    .result(JSON.createObjectNode()
                            .put("error", e.getMessage())
                            .put("rule", "backfill_open")
                            .toString());
        }
    }

    /** A backfill as JSON (the console's replay page shows these fields). */
    static ObjectNode describe(Backfill b) {
        ObjectNode node = JSON.createObjectNode()
                .put("id", b.id())
                .put("sync", b.syncId())
                .put("from", b.from().toString())
                .put("to", b.to() == null ? null : b.to().toString())
                .put("rate", b.ratePerSecond())
                .put("status", b.status().sql())
                .put("requestedBy", b.requestedBy())
                .put("plannedEvents", b.plannedEvents())
                .put("plannedBatches", b.plannedBatches())
                .put("deliveredBatches", b.deliveredBatches())
                .put("unfinishedBatches", b.unfinishedBatches())
                .put("deadBatches", b.deadBatches())
                .put("offsetsLeft", b.offsetsLeft())
                .put("createdAt", b.createdAt().toString())
                .put(
                        "finishedAt",
                        b.finishedAt() == null ? null : b.finishedAt().toString());
        ArrayNode partitions = node.putArray("partitions");
        for (Backfill.Partition p : b.partitions()) {
            partitions
                    .addObject()
                    .put("partition", p.partition())
                    .put("next", p.next())
                    .put("end", p.end());
        }
        return node;
    }

    private void change(Context ctx, boolean changed) throws Exception {
        Optional<Backfill> found = store.get(id(ctx));
        if (found.isEmpty()) {
            notFound(ctx);
            return;
        }
        ObjectNode out = describe(found.get()).put("changed", changed);
        ctx.status(changed ? 200 : 409).contentType("application/json").result(out.toString());
    }

    private static long id(Context ctx) {
        try {
            long id = Long.parseLong(ctx.pathParam("id"));
            if (id > 0) return id;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw JsonErrors.badRequest("invalid_parameter", "the backfill id must be a positive integer");
    }

    private static Instant instant(JsonNode body, String field, boolean required) {
        String text = AdminParams.text(body, field);
        if (text == null) {
            if (required) throw JsonErrors.badRequest("invalid_parameter", "'" + field + "' is required");
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeException e) {
            throw JsonErrors.badRequest(
                    "invalid_parameter", "'" + field + "' must be an ISO instant such as 2026-05-01T10:00:00Z");
        }
    }

    private static void notFound(Context ctx) {
        ctx.status(404)
                .contentType("application/json")
                .result("{\"error\":\"no such backfill\",\"rule\":\"not_found\"}");
    }
}
