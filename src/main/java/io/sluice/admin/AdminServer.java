package io.sluice.admin;

import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.config.SluiceConfig.AdminSettings;
import io.sluice.failover.ControlTopic;
import io.sluice.http.JsonErrors;
import io.sluice.lifecycle.HttpServers;
import io.sluice.lifecycle.Service;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operational endpoints on their own port: {@code /health} (the process is alive), {@code /ready} (every partition
 * of the events topic can take an acknowledged write now, see {@link KafkaHealth}) and {@code /metrics}
 * (Prometheus text format).
 */
public final class AdminServer implements Service {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private final AdminSettings settings;
    private final PrometheusMeterRegistry registry;
    private final KafkaHealth kafkaHealth;
    private final List<AdminRoutes> routes = new ArrayList<>();
    private final ConsoleSessions sessions;
    private Javalin server;
    private boolean closed;

    /**
     * @param control the control topic for the db operations, or null in processes without a database
     * @param clock the process's clock (console sessions, process liveness)
     */
    public AdminServer(
            AdminSettings settings,
            PrometheusMeterRegistry registry,
            KafkaHealth kafkaHealth,
            ControlTopic control,
            Clock clock) {
        this.settings = settings;
        this.registry = registry;
        this.kafkaHealth = kafkaHealth;
        this.sessions = new ConsoleSessions(settings.token(), clock);
        if (control != null) routes.add(new DbAdminRoutes(control, clock));
    }

    /** Adds a group of /admin routes (before {@link #start()}). */
    public void add(AdminRoutes group) {
        routes.add(group);
    }

    @Override
    public synchronized void start() {
        if (server != null || closed) return;
        server = HttpServers.create(settings.host(), settings.port(), config -> {
            new JsonErrors("admin", registry).install(config);
            config.routes.get(
                    "/health", ctx -> ctx.contentType("application/json").result("{\"status\":\"up\"}"));
            config.routes.get("/ready", ctx -> {
                KafkaHealth.Status status = kafkaHealth.check();
                ctx.status(status.reachable() ? 200 : 503)
                        .contentType("application/json")
                        .result("{\"ready\":" + status.reachable() + ",\"kafka\":\""
                                + status.detail().replace("\"", "'") + "\"}");
            });
            config.routes.get(
                    "/metrics",
                    ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                            .result(registry.scrape()));
            AdminAuth auth = new AdminAuth(settings.token(), sessions);
            config.routes.before("/admin/*", auth::authorize);
            routes.forEach(group -> group.register(config));
        });
        server.start();
        log.info("Admin server listening on http://{}:{}", settings.host(), port());
    }

    /** The console's browser sessions, which also authorize /admin actions (with their CSRF token). */
    public ConsoleSessions sessions() {
        return sessions;
    }

    /** Whether Kafka answers (cached briefly), for the console. */
    public KafkaHealth.Status kafka() {
        return kafkaHealth.check();
    }

    public int port() {
        return server.port();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (server != null) server.stop();
        kafkaHealth.close();
    }
}
