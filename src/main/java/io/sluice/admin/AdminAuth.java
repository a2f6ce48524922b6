package io.sluice.admin;

import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Every {@code /admin/...} route needs {@code Authorization: Bearer <admin.token>} (compared in constant time), or
 * a console session with its CSRF token ({@link ConsoleSessions}); with no token configured the admin API is
 * disabled (403). The token is never logged.
 */
final class AdminAuth {
    private final byte[] token;
    private final ConsoleSessions sessions;

    AdminAuth(String token, ConsoleSessions sessions) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.sessions = sessions;
    }

    void authorize(Context ctx) {
        if (token.length == 0) {
            ctx.skipRemainingHandlers()
                    .status(403)
                    .contentType("application/json")
                    .result(
                            "{\"success\":false,\"error\":\"the admin API is disabled: set admin.token\",\"rule\":\"admin_disabled\"}");
            return;
        }
        if (ctx.header("Authorization") == null && sessions.authorizesAction(ctx)) return;
        String header = ctx.header("Authorization");
        byte[] given = header != null && header.startsWith("Bearer ")
                ? header.substring(7).getBytes(StandardCharsets.UTF_8)
                : new byte[0];
        if (!MessageDigest.isEqual(given, token)) {
            ctx.skipRemainingHandlers()
                    .status(401)
                    .contentType("application/json")
                    .result(
                            "{\"success\":false,\"error\":\"missing or wrong admin token\",\"rule\":\"invalid_admin_token\"}");
        }
    }
}
