package io.sluice.console;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.admin.AdminRoutes;
import io.sluice.admin.ConsoleSessions;
import io.sluice.admin.KafkaHealth;
import io.sluice.config.SluiceConfig;
import io.sluice.failover.ControlTopic;
import io.sluice.failover.WriteGate;
import io.sluice.failover.WriterMonitor;
import io.sluice.kafka.KafkaClients;
import io.sluice.kafka.RejectionsTopic;
import io.sluice.lifecycle.Service;
import io.sluice.queue.DeadLetterStore;
import io.sluice.queue.SyncPauseStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * The operator console on the admin port: a few static pages from the jar (plain HTML, CSS and JavaScript, no
 * external resources) reading JSON from {@code /console/api/...} and acting through the token-protected
 * {@code /admin/...} routes with the session's CSRF token. See docs/console.md.
 */
public final class Console implements AdminRoutes, Service {
    /** Client-side routes: every one answers the same page, which renders the view for its path. */
    private static final String[] PAGES = {
        "/",
        "/sources/{id}",
        "/syncs/{id}",
        "/syncs/{id}/accounting",
        "/dead-letters",
        "/database",
        "/functions",
        "/backfills",
        "/privacy",
        "/login"
    };

    private static final Map<String, String> ASSETS = Map.ofEntries(
            Map.entry("app.js", "text/javascript; charset=utf-8"),
            Map.entry("replay.js", "text/javascript; charset=utf-8"),
            Map.entry("privacy.js", "text/javascript; charset=utf-8"),
            Map.entry("accounting.js", "text/javascript; charset=utf-8"),
            Map.entry("deadletters.js", "text/javascript; charset=utf-8"),
            Map.entry("app.css", "text/css; charset=utf-8"),
            Map.entry("accounting.css", "text/css; charset=utf-8"),
            Map.entry("favicon.svg", "image/svg+xml"));
    private static final String CSP =
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
                    + "frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    /**
     * What the console reads. Database parts are null in a process without the queue database (a collector-only
     * process): its console shows the collector's view and says the rest is elsewhere.
     */
    public record Parts(
            SluiceConfig config,
            MeterRegistry registry,
            ConsoleSessions sessions,
            Supplier<KafkaHealth.Status> kafka,
            KafkaClients kafkaClients,
            DataSource queueDatabase,
            WriteGate gate,
            WriterMonitor writerMonitor,
            ControlTopic control,
            SyncPauseStore pauses,
            DeadLetterStore deadLetters,
            Supplier<String> quiesceState,
            Clock clock) {}

    private final Parts parts;
    private final ConsoleAccess access;
    private final EventTail tail;
    private final MetricHistory history;
    private final ConsoleApi api;
    private final LiveStream live;
    private final AccountingApi accounting;
    private final DeadLetterGroups deadLetterGroups;

    public Console(Parts parts) {
        this.parts = parts;
        this.access = new ConsoleAccess(parts.sessions());
        var kafka = parts.config().kafka();
        this.tail = new EventTail(
                parts.kafkaClients(),
                kafka.eventsTopic(),
                RejectionsTopic.name(kafka.eventsTopic()),
                kafka.violationsTopic());
        QueueView queue =
                parts.queueDatabase() == null ? null : new QueueView(parts.queueDatabase(), kafka.eventsTopic());
        this.history = new MetricHistory(parts.registry(), parts.clock(), queue == null ? null : () -> backlog(queue));
        this.api = new ConsoleApi(
                parts, access, queue, history, new KafkaOffsets(parts.kafkaClients(), kafka.eventsTopic()));
        this.live = new LiveStream(tail, access);
        this.accounting = new AccountingApi(parts.config(), parts.queueDatabase(), parts.registry(), parts.clock());
        this.deadLetterGroups = new DeadLetterGroups(parts.queueDatabase(), parts.deadLetters(), access, parts.clock());
    }

    private Map<String, MetricHistory.Backlog> backlog(QueueView queue) {
        try {
            Map<String, MetricHistory.Backlog> out = new HashMap<>();
            var now = parts.clock().instant();
            queue.syncs()
                    .forEach((id, q) -> out.put(id, new MetricHistory.Backlog(q.backlogEvents(), q.ageSeconds(now))));
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void register(JavalinConfig config) {
        byte[] page = resource("index.html");
        for (String path : PAGES) {
            config.routes.get(path, ctx -> {
                secure(ctx);
                ctx.header("Cache-Control", "no-store")
                        .contentType("text/html; charset=utf-8")
                        .result(page);
            });
        }
        ASSETS.forEach((name, type) -> {
            byte[] body = resource(name);
            config.routes.get("/console/" + name, ctx -> {
                secure(ctx);
                ctx.header("Cache-Control", "no-cache").contentType(type).result(body);
            });
        });
        config.routes.post("/console/login", ctx -> {
            boolean ok = parts.sessions().login(ctx, ctx.formParam("token"));
            ctx.redirect(ok ? "/" : "/login?failed=1", HttpStatus.SEE_OTHER);
        });
        config.routes.post("/console/logout", ctx -> {
            parts.sessions().logout(ctx);
            ctx.status(204);
        });
        config.routes.before("/console/api/*", ctx -> {
            tail.start(); // the first look at the console starts the debugger's tail
            ctx.header("Cache-Control", "no-store");
        });
        api.register(config);
        accounting.register(config);
        deadLetterGroups.register(config);
        config.routes.sse("/console/api/sources/{id}/live", live::open);
        // Open debugger streams end before Jetty stops, while their responses still exist (issue 25, bug 1).
        config.events.serverStopping(live::close);
    }

    private static void secure(Context ctx) {
        ctx.header("Content-Security-Policy", CSP)
                .header("X-Content-Type-Options", "nosniff")
                .header("X-Frame-Options", "DENY")
                .header("Referrer-Policy", "no-referrer");
    }

    private static byte[] resource(String name) {
        try (InputStream in = Console.class.getResourceAsStream("/console/" + name)) {
            if (in == null) throw new IllegalStateException("console asset " + name + " is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void start() {
        history.start();
    }

    @Override
    public void close() {
        live.close();
        tail.close();
        history.close();
        api.close();
    }
}
