package io.sluice.runtime;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.admin.AdminServer;
import io.sluice.admin.KafkaHealth;
import io.sluice.collector.Collector;
import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.db.ControlTables;
import io.sluice.db.QueueDatabase;
import io.sluice.embedded.EmbeddedKafka;
import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.kafka.EventsTopic;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds and wires every part of one Sluice process from its configuration, explicitly,
 * and starts them in dependency order (embedded servers, topic, database, roles, admin). {@link #close()} stops
 * them in reverse order within {@link #SHUTDOWN_BUDGET}.
 */
public final class Sluice implements Service {
    private static final Logger log = LoggerFactory.getLogger(Sluice.class);
    public static final Duration SHUTDOWN_BUDGET = Duration.ofSeconds(9);

    /** The roles a process can run; {@code sluice start} runs all of them. */
    public enum Role { COLLECTOR }

    private final SluiceConfig config;
    private final Set<Role> roles;
    private final boolean standalone;
    private final Clock clock;
    private final List<Shutdown.Named> running = new ArrayList<>();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private String bootstrapServers;
    private String jdbcUrl;
    private Collector collector;
    private AdminServer admin;
    private boolean started;
    private boolean closed;

    /** @param standalone whether this process may embed Kafka/PostgreSQL (only {@code sluice start} does) */
    public Sluice(SluiceConfig config, Set<Role> roles, boolean standalone, Clock clock) {
        this.config = config;
        this.roles = EnumSet.copyOf(roles);
        this.standalone = standalone;
        this.clock = clock;
    }

    public static Sluice standalone(SluiceConfig config) {
        return new Sluice(config, EnumSet.allOf(Role.class), true, Clock.systemUTC());
    }

    @Override
    public synchronized void start() {
        if (started) return;
        started = true;
        log.info("Effective configuration (from {}): {}", config.origin(), config.effective());
        try {
            startKafka();
            if (standalone) startDatabase(); // the collector itself never needs the database
            new JvmMemoryMetrics().bindTo(registry);
            new JvmGcMetrics().bindTo(registry);
            new JvmThreadMetrics().bindTo(registry);
            new ProcessorMetrics().bindTo(registry);
            if (roles.contains(Role.COLLECTOR)) {
                collector = new Collector(config.collector(), config.sources(), bootstrapServers, config.kafka().eventsTopic(), registry, clock);
                run("collector", collector);
            }
            admin = new AdminServer(config.admin(), registry, new KafkaHealth(bootstrapServers));
            run("admin", admin);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void startKafka() {
        if (config.kafka().embedded()) {
            if (!standalone) {
                throw new ConfigException("kafka.bootstrapServers", "is 'embedded', but only 'sluice start' embeds Kafka; name an external cluster (host:port)");
            }
            EmbeddedKafka kafka = new EmbeddedKafka(config.dataDir().resolve("kafka"), config.kafka().embeddedPort());
            run("embedded Kafka", kafka);
            bootstrapServers = kafka.bootstrapServers();
        } else {
            bootstrapServers = config.kafka().bootstrapServers();
        }
        EventsTopic.ensure(bootstrapServers, config.kafka().eventsTopic(), config.kafka().partitions());
    }

    private void startDatabase() {
        var pg = config.postgres();
        if (pg.embedded()) {
            EmbeddedPostgres postgres = new EmbeddedPostgres(config.dataDir().resolve("postgres"), pg.embeddedPort(), pg.user());
            run("embedded PostgreSQL", postgres);
            jdbcUrl = postgres.jdbcUrl("sluice");
        } else {
            jdbcUrl = pg.url();
        }
        QueueDatabase database = new QueueDatabase(jdbcUrl, pg.user(), pg.password(), pg.maxPoolSize());
        run("queue database", database);
        ControlTables.upsertSources(database.dataSource(), config.sources());
    }

    private void run(String name, Service service) {
        running.add(new Shutdown.Named(name, service));
        service.start();
    }

    public SluiceConfig config() { return config; }

    public String bootstrapServers() { return bootstrapServers; }

    /** JDBC URL of the queue database, or null when this process does not use it. */
    public String jdbcUrl() { return jdbcUrl; }

    public String collectorUrl() { return collector == null ? null : url(config.collector().host(), collector.port()); }

    public String adminUrl() { return url(config.admin().host(), admin.port()); }

    public PrometheusMeterRegistry registry() { return registry; }

    private static String url(String host, int port) {
        return "http://" + (host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host) + ":" + port;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        List<Shutdown.Named> reversed = new ArrayList<>(running);
        java.util.Collections.reverse(reversed);
        Shutdown.closeInOrder(reversed, SHUTDOWN_BUDGET);
        registry.close();
    }
}
