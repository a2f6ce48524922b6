package io.sluice.admin;

import io.javalin.config.JavalinConfig;
import io.sluice.failover.ControlTopic;
import java.time.Clock;
import java.time.Instant;
import java.util.stream.Collectors;

/**
 * The admin API's database operations, the same as {@code sluice db}: {@code POST /admin/db/pause},
 * {@code POST /admin/db/resume}, {@code GET /admin/db/status}. Authorization: see {@link AdminAuth}.
 */
final class DbAdminRoutes implements AdminRoutes {
    private final ControlTopic control;
    private final Clock clock;

    DbAdminRoutes(ControlTopic control, Clock clock) {
        this.control = control;
        this.clock = clock;
    }

    @Override
    public void register(JavalinConfig config) {
        config.routes.post("/admin/db/pause", ctx -> {
            control.setPaused(true, "admin API");
            ctx.status(202).contentType("application/json").result("{\"paused\":true}");
        });
        config.routes.post("/admin/db/resume", ctx -> {
            control.setPaused(false, "admin API");
            ctx.status(202).contentType("application/json").result("{\"paused\":false}");
        });
        config.routes.get("/admin/db/status", ctx -> {
            Instant now = clock.instant();
            String processes = control.reports().values().stream()
                    .map(r -> "{\"id\":\"" + r.id() + "\",\"roles\":\"" + r.roles() + "\",\"state\":\"" + r.state()
                            + "\",\"live\":" + r.live(now) + ",\"writer\":" + quote(r.writer()) + ",\"heldBecause\":"
                            + quote(r.heldBecause()) + "}")
                    .collect(Collectors.joining(","));
            ctx.contentType("application/json")
                    .result("{\"paused\":" + control.paused() + ",\"processes\":[" + processes + "]}");
        });
    }

    private static String quote(String value) {
        return value == null ? "null" : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
