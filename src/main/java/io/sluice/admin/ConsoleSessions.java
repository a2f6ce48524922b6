package io.sluice.admin;

import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Browser sessions of the operator console: logging in with {@code admin.token} creates one, held in an HttpOnly,
 * SameSite=Strict cookie; each has its own CSRF token, which every action must echo in {@value #CSRF_HEADER}. The
 * cookie alone therefore never authorizes an action, and the console's JSON (where the page reads the CSRF token)
 * is not readable cross-origin. Sessions live in memory: a restart logs everyone out, which is fine for operators.
 */
public final class ConsoleSessions {
    public static final String COOKIE = "sluice_console";
    public static final String CSRF_HEADER = "X-CSRF-Token";
    private static final Duration IDLE_TIMEOUT = Duration.ofHours(12);
    private static final int MAX_SESSIONS = 200;
    private static final SecureRandom RANDOM = new SecureRandom();

    private record Session(String csrf, Instant lastUsed) {}

    private final byte[] token;
    private final Clock clock;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    public ConsoleSessions(String adminToken, Clock clock) {
        this.token = adminToken.getBytes(StandardCharsets.UTF_8);
        this.clock = clock;
    }

    /** Whether an admin token is configured (without one the console is read-only). */
    public boolean tokenConfigured() {
        return token.length > 0;
    }

    /** Compares in constant time; false when no token is configured. */
    public boolean tokenMatches(String given) {
        return token.length > 0
                && given != null
                && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token);
    }

    /** Logs in when {@code given} is the admin token: sets the session cookie and returns true. */
    public boolean login(Context ctx, String given) {
        if (!tokenMatches(given)) return false;
        if (sessions.size() >= MAX_SESSIONS) evictOldest();
        String id = random();
        sessions.put(id, new Session(random(), clock.instant()));
        ctx.header("Set-Cookie", COOKIE + "=" + id + "; Path=/; HttpOnly; SameSite=Strict");
        return true;
    }

    public void logout(Context ctx) {
        String id = ctx.cookie(COOKIE);
        if (id != null) sessions.remove(id);
        ctx.header("Set-Cookie", COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    }

    /** The CSRF token of the request's live session, or null when it has none. */
    public String csrf(Context ctx) {
        String id = ctx.cookie(COOKIE);
        if (id == null || token.length == 0) return null;
        Session session = sessions.get(id);
        Instant now = clock.instant();
        if (session == null) return null;
        if (session.lastUsed().plus(IDLE_TIMEOUT).isBefore(now)) {
            sessions.remove(id);
            return null;
        }
        sessions.put(id, new Session(session.csrf(), now));
        return session.csrf();
    }

    /** A live session and, in {@value #CSRF_HEADER}, its CSRF token: what an action from the console needs. */
    public boolean authorizesAction(Context ctx) {
        String csrf = csrf(ctx);
        String given = ctx.header(CSRF_HEADER);
        return csrf != null
                && given != null
                && MessageDigest.isEqual(csrf.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    private void evictOldest() {
        sessions.entrySet().stream()
                .min(Map.Entry.comparingByValue((a, b) -> a.lastUsed().compareTo(b.lastUsed())))
                .ifPresent(oldest -> sessions.remove(oldest.getKey()));
    }

    private static String random() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
