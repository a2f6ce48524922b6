package io.sluice.console;

import io.javalin.http.Context;
import io.sluice.admin.ConsoleSessions;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Who may see what in the console. With {@code admin.token} set: anyone may look, only a logged-in operator sees
 * event payloads and may act. Without a token: read-only for everyone, payloads only for clients on a loopback
 * address (the socket's address, never a forwarded header), so a laptop's default setup exposes no data.
 */
final class ConsoleAccess {
    private final ConsoleSessions sessions;

    ConsoleAccess(ConsoleSessions sessions) {
        this.sessions = sessions;
    }

    boolean authenticated(Context ctx) {
        return sessions.csrf(ctx) != null;
    }

    boolean payloads(Context ctx) {
        return sessions.tokenConfigured()
                ? authenticated(ctx)
                : loopback(ctx.req().getRemoteAddr());
    }

    ConsoleSessions sessions() {
        return sessions;
    }

    static boolean loopback(String address) {
        try {
            // the socket's peer address is always a literal, so this never asks DNS
            return address != null
                    && !address.isBlank()
                    && InetAddress.getByName(address.replaceAll("^\\[|]$", "")).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
