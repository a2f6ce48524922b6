package io.sluice.admin;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.sluice.queue.SyncPauseStore;
import java.time.Clock;
import java.util.Set;

/**
 * Pausing a sync's delivery over the admin API: {@code POST /admin/syncs/{id}/pause} and {@code .../resume}. A
 * paused sync keeps being planned, and delivers nothing until resumed; the pause is a row in the queue database, so
 * it holds for every worker and across restarts. Authorization: see {@link AdminAuth}.
 */
public final class SyncAdminRoutes implements AdminRoutes {
    private final SyncPauseStore pauses;
    private final Set<String> syncIds;
    private final Clock clock;

    public SyncAdminRoutes(SyncPauseStore pauses, Set<String> syncIds, Clock clock) {
        this.pauses = pauses;
        this.syncIds = Set.copyOf(syncIds);
        this.clock = clock;
    }

    @Override
    public void register(JavalinConfig config) {
        config.routes.post("/admin/syncs/{id}/pause", ctx -> {
            if (!known(ctx)) return;
            pauses.pause(
                    ctx.pathParam("id"),
                    ctx.header("Authorization") == null ? "console" : "admin API",
                    clock.instant());
            ctx.contentType("application/json").result("{\"paused\":true}");
        });
        config.routes.post("/admin/syncs/{id}/resume", ctx -> {
            if (!known(ctx)) return;
            pauses.resume(ctx.pathParam("id"));
            ctx.contentType("application/json").result("{\"paused\":false}");
        });
    }

    private boolean known(Context ctx) {
        if (syncIds.contains(ctx.pathParam("id"))) return true;
        ctx.status(404).contentType("application/json").result("{\"error\":\"no such sync\"}");
        return false;
    }
}
