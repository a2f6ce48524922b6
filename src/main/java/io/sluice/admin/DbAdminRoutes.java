package io.sluice.admin;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.sluice.failover.ControlTopic;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.stream.Collectors;

/**
 * The admin API's database operations, the same as {@code sluice db}: {@code POST /admin/db/pause},
 * {@code POST /admin/db/resume}, {@code GET /admin/db/status}. Every {@code /admin} route needs
 * {@code Authorization: Bearer <admin.token>}; without a configured token they are disabled.
 */
final class DbAdminRoutes {
    private final ControlTopic control;
    private final byte[] token;

    DbAdminRoutes(ControlTopic control, String token) {
        this.control = control;
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    void register(JavalinConfig config) {
        config.routes.before("/admin/*", this::authorize);
        config.routes.post("/admin/db/pause", ctx -> {
            control.setPaused(true, "admin API");
            ctx.status(202).contentType("application/json").result("{\"paused\":true}");
        });
        config.routes.post("/admin/db/resume", ctx -> {
            control.setPaused(false, "admin API");
            ctx.status(202).contentType("application/json").result("{\"paused\":false}");
        });
        config.routes.get("/admin/db/status", ctx -> {
            Instant now = Instant.now();
            String processes = control.reports().values().stream()
                    .map(r -> "{\"id\":\"" + r.id() + "\",\"roles\":\"" + r.roles() + "\",\"state\":\"" + r.state() + "\",\"live\":" + r.live(now)
                            + ",\"writer\":" + quote(r.writer()) + ",\"heldBecause\":" + quote(r.heldBecause()) + "}")
                    .collect(Collectors.joining(","));
            ctx.contentType("application/json").result("{\"paused\":" + control.paused() + ",\"processes\":[" + processes + "]}");
        });
    }

    private void authorize(Context ctx) {
        if (token.length == 0) {
            ctx.skipRemainingHandlers().status(403).contentType("application/json").result("{\"error\":\"the admin API is disabled: set admin.token\"}");
            return;
        }
        String header = ctx.header("Authorization");
        byte[] given = header != null && header.startsWith("Bearer ") ? header.substring(7).getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(given, token)) {
            ctx.skipRemainingHandlers().status(401).contentType("application/json").result("{\"error\":\"missing or wrong admin token\"}");
        }
    }

    private static String quote(String value) {
        return value == null ? "null" : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

}
