package io.sluice.runtime;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.admin.AdminServer;
import io.sluice.admin.BackfillAdminRoutes;
import io.sluice.admin.DlqAdminRoutes;
import io.sluice.admin.FunctionAdminRoutes;
import io.sluice.admin.KafkaHealth;
import io.sluice.admin.PrivacyAdminRoutes;
import io.sluice.admin.SyncAdminRoutes;
import io.sluice.archive.Archive;
import io.sluice.archive.Archiver;
import io.sluice.collector.Collector;
import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.console.Console;
import io.sluice.contract.Contracts;
import io.sluice.db.ControlTables;
import io.sluice.db.QueueDatabase;
import io.sluice.db.WritePermits;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationContext;
import io.sluice.destination.OwnInfrastructure;
import io.sluice.embedded.EmbeddedKafka;
import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.failover.ControlChannel;
import io.sluice.failover.ControlTopic;
import io.sluice.failover.FailoverGuard;
import io.sluice.failover.WriteHeldException;
import io.sluice.failover.WriterMonitor;
import io.sluice.function.Functions;
import io.sluice.kafka.EventsTopic;
import io.sluice.kafka.KafkaClients;
import io.sluice.kafka.TopicSetup;
import io.sluice.lifecycle.Service;
import io.sluice.lifecycle.Shutdown;
import io.sluice.planner.BackfillPlanner;
import io.sluice.planner.BackfillWindows;
import io.sluice.planner.Planner;
import io.sluice.privacy.ErasedUsers;
import io.sluice.privacy.PrivacyExecutor;
import io.sluice.privacy.PrivacyRequests;
import io.sluice.privacy.PrivacyStore;
import io.sluice.queue.BackfillStore;
import io.sluice.queue.DeadLetterReplay;
import io.sluice.queue.DeadLetterStore;
import io.sluice.queue.QueueStore;
import io.sluice.queue.RetryStore;
import io.sluice.queue.SyncPauseStore;
import io.sluice.suppression.SuppressedIds;
import io.sluice.suppression.SuppressionTopic;
import io.sluice.violations.ViolationWriter;
import io.sluice.worker.BatchReader;
import io.sluice.worker.Worker;
import io.sluice.worker.WorkerIdentity;
import io.sluice.worker.WorkerStores;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds and wires every part of one Sluice process from its configuration, explicitly,
 * and starts them in dependency order (embedded servers, topic, database, roles, admin). {@link #close()} stops
 * them in reverse order within {@link #SHUTDOWN_BUDGET}. It owns the process's one {@link Clock} (given) and one
 * meter registry, and hands both to every part that tells time or counts: nothing uses Micrometer's global registry.
 */
public final class Sluice implements Service {
    private static final Logger log = LoggerFactory.getLogger(Sluice.class);
    public static final Duration SHUTDOWN_BUDGET = Duration.ofSeconds(9);
    public static final String WAREHOUSE_DATABASE = "warehouse";

    /** The roles a process can run; {@code sluice start} runs all of them. */
    public enum Role {
        COLLECTOR,
        PLANNER,
        WORKER
    }

    private final SluiceConfig config;
    private final Set<Role> roles;
    private final boolean standalone;
    private final Clock clock;
    private final List<Shutdown.Named> running = new ArrayList<>();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** The events topic's archive (archive.enabled), opened once when a role needs it; null until then. */
    private Optional<Archive> archive;

    private KafkaClients kafka;
    private BackfillStore backfills;
    private String jdbcUrl;
    private Collector collector;
    private AdminServer admin;
    private EmbeddedPostgres embeddedPostgres;
    private QueueDatabase database;
    private QueueStore queueStore;
    private FailoverGuard guard;
    private WriterMonitor writerMonitor;
    private ControlTopic controlTopic;
    private final String processId = WorkerIdentity.create();
    private Worker worker;
    private Functions functions;
    private ViolationWriter violationWriter;
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
            // The collector itself never needs the database: it keeps accepting events while the database is down.
            if (standalone || roles.contains(Role.PLANNER) || roles.contains(Role.WORKER)) startDatabase();
            new JvmMemoryMetrics().bindTo(registry);
            new JvmGcMetrics().bindTo(registry);
            new JvmThreadMetrics().bindTo(registry);
            new ProcessorMetrics().bindTo(registry);
            if (roles.contains(Role.COLLECTOR)) {
                // Privacy (docs/privacy.md): the suppressed ids, followed from their compacted topic, not the database.
                SuppressedIds suppressed = new SuppressedIds(
                        kafka, SuppressionTopic.name(config.kafka().eventsTopic()), registry);
                run("suppressions", suppressed);
                collector = new Collector(
                        config.collector(),
                        config.sources(),
                        kafka,
                        config.kafka().eventsTopic(),
                        Contracts.from(config),
                        suppressed,
                        registry,
                        clock);
                run("collector", collector);
            }
            if (roles.contains(Role.PLANNER)) {
                run("planner", new Planner(config, kafka, queueStore, clock, registry));
                run("backfill planner", new BackfillPlanner(config, kafka, backfills(), clock, archive()));
                if (archive().isPresent()) {
                    run(
                            "archiver",
                            new Archiver(
                                    config.archive(),
                                    archive().get(),
                                    kafka,
                                    config.kafka().eventsTopic(),
                                    config.dataDir().resolve("archive-spool"),
                                    clock,
                                    registry));
                }
                violationWriter = new ViolationWriter(
                        database.dataSource(),
                        guard.gate(),
                        kafka,
                        config.kafka().violationsTopic(),
                        registry,
                        clock);
                run("violation writer", violationWriter);
            }
            if (roles.contains(Role.WORKER)) startWorker();
            admin = new AdminServer(
                    config.admin(),
                    registry,
                    new KafkaHealth(kafka, config.kafka().eventsTopic()),
                    controlTopic,
                    clock);
            admin.add(new FunctionAdminRoutes(config.functions().timeout()));
            DeadLetterStore deadLetters = null;
            SyncPauseStore pauses = null;
            if (database != null) {
                deadLetters = new DeadLetterStore(database.dataSource(), guard.gate());
                admin.add(new DlqAdminRoutes(
                        deadLetters,
                        new DeadLetterReplay(
                                deadLetters,
                                new RetryStore(database.dataSource(), guard.gate()),
                                clock,
                                FunctionReplay.of(functions)),
                        clock));
                admin.add(new BackfillAdminRoutes(
                        backfills(),
                        new BackfillWindows(kafka, config.kafka().eventsTopic(), archive()),
                        config.syncs().stream().collect(Collectors.toMap(SluiceConfig.SyncSettings::id, s -> s)),
                        clock));
                admin.add(new PrivacyAdminRoutes(
                        new PrivacyRequests(new PrivacyStore(database.dataSource(), guard.gate()), config, clock)));
                pauses = new SyncPauseStore(database.dataSource(), guard.gate());
                admin.add(new SyncAdminRoutes(
                        pauses,
                        config.syncs().stream()
                                .map(SluiceConfig.SyncSettings::id)
                                .collect(Collectors.toSet()),
                        clock));
            }
            Console console = new Console(new Console.Parts(
                    config,
                    registry,
                    admin.sessions(),
                    admin::kafka,
                    kafka,
                    database == null ? null : database.dataSource(),
                    guard == null ? null : guard.gate(),
                    writerMonitor,
                    controlTopic,
                    pauses,
                    deadLetters,
                    this::quiesceState,
                    clock));
            admin.add(console);
            run("console", console);
            run("admin", admin);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void startKafka() {
        if (config.kafka().embedded()) {
            if (!standalone) {
                throw new ConfigException(
                        "kafka.bootstrapServers",
                        "is 'embedded', but only 'sluice start' embeds Kafka; name an external cluster (host:port)");
            }
            EmbeddedKafka embedded = new EmbeddedKafka(
                    config.dataDir().resolve("kafka"), config.kafka().embeddedPort());
            run("embedded Kafka", embedded);
            kafka = new KafkaClients(embedded.bootstrapServers(), config.kafka().clientProperties());
        } else {
            kafka = new KafkaClients(
                    config.kafka().bootstrapServers(), config.kafka().clientProperties());
        }
        TopicSetup.events(kafka, config.kafka());
        // Before the components that would otherwise create them with the cluster's default replication.
        if (roles.contains(Role.PLANNER)
                || (roles.contains(Role.COLLECTOR) && config.sources().stream().anyMatch(s -> s.contract() != null))) {
            TopicSetup.violations(kafka, config.kafka());
        }
    }

    private void startDatabase() {
        var pg = config.postgres();
        jdbcUrl = pg.embedded() ? embeddedPostgres().jdbcUrl("sluice") : pg.url();
        guard = new FailoverGuard(clock, pg.writeHold(), registry);
        TopicSetup.control(kafka, config.kafka());
        controlTopic = new ControlTopic(kafka, config.kafka().controlTopic(), clock);
        writerMonitor = new WriterMonitor(
                jdbcUrl, pg.instances(), pg.user(), pg.password(), guard.gate(), pg.probeInterval(), registry, clock);
        // Joined before anything writes, so that a process started while paused stays paused.
        run(
                "control channel",
                new ControlChannel(
                        controlTopic,
                        processId,
                        roleNames(),
                        guard.gate(),
                        this::quiesceState,
                        writerMonitor::lastChange,
                        clock));
        database = new QueueDatabase(
                jdbcUrl,
                pg.user(),
                pg.password(),
                pg.maxPoolSize(),
                guard.exceptionOverride(),
                guard.gate(),
                pg.socketTimeout());
        run("queue database", database);
        guard.guard(database);
        try (var permit = guard.gate().enter(WritePermits.Work.NEW)) {
            ControlTables.upsert(database.dataSource(), config);
        } catch (WriteHeldException e) {
            log.warn("Not storing the configuration in the control tables now: {}", e.getMessage());
        }
        run("writer monitor", writerMonitor);
        queueStore = new QueueStore(database.dataSource(), config.kafka().eventsTopic(), registry, guard.gate());
    }

    /** The embedded server, started on first need (queue database or an 'embedded' warehouse). */
    private EmbeddedPostgres embeddedPostgres() {
        if (embeddedPostgres == null) {
            if (!standalone) {
                throw new ConfigException(
                        "postgres.url",
                        "is 'embedded', but only 'sluice start' embeds PostgreSQL; name an external database");
            }
            var pg = config.postgres();
            embeddedPostgres = new EmbeddedPostgres(config.dataDir().resolve("postgres"), pg.embeddedPort(), pg.user());
            run("embedded PostgreSQL", embeddedPostgres);
        }
        return embeddedPostgres;
    }

    private void startWorker() {
        Map<String, Destination> destinations = new LinkedHashMap<>();
        DestinationContext context = new DestinationContext(ownInfrastructure(), registry, clock);
        for (DestinationSettings settings : config.destinations()) {
            Destination destination = DestinationRegistry.create(settings, context);
            running.add(new Shutdown.Named("destination " + settings.id(), destination::close));
            destination.open();
            destinations.put(settings.id(), destination);
        }
        if (config.syncs().stream().anyMatch(SluiceConfig.SyncSettings::hasFunction)) {
            functions = new Functions(config, registry, clock);
            run("functions", functions);
        }
        var stores = new WorkerStores(
                queueStore,
                new RetryStore(database.dataSource(), guard.gate()),
                new DeadLetterStore(database.dataSource(), guard.gate()));
        worker = new Worker(
                config,
                stores,
                destinations,
                functions,
                new BatchReader(kafka, config.worker().concurrency(), archive()),
                clock,
                registry,
                processId);
        worker.topicRetention(EventsTopic.retention(kafka, config.kafka().eventsTopic()));
        ErasedUsers erased = new ErasedUsers(registry, clock);
        worker.erasedUsers(erased);
        // Before the worker: its first claims already discard what deletion requests cover.
        run(
                "privacy requests",
                new PrivacyExecutor(
                        config,
                        database.dataSource(),
                        guard.gate(),
                        new SuppressionTopic.Writer(
                                kafka, SuppressionTopic.name(config.kafka().eventsTopic())),
                        destinations,
                        erased,
                        processId,
                        clock));
        run("worker", worker);
    }

    /**
     * 'embedded' in a destination means this deployment's own infrastructure: for a warehouse the database
     * 'warehouse' on the embedded PostgreSQL (created on first use), for a Kafka destination this process's cluster.
     */
    private OwnInfrastructure ownInfrastructure() {
        return new OwnInfrastructure(kafka, () -> {
            EmbeddedPostgres postgres = embeddedPostgres();
            postgres.createDatabase(WAREHOUSE_DATABASE);
            return new OwnInfrastructure.Warehouse(postgres.jdbcUrl(WAREHOUSE_DATABASE), postgres.user());
        });
    }

    /** JDBC URL of the standalone warehouse (the embedded 'warehouse' database), or null without one. */
    public String warehouseUrl() {
        return embeddedPostgres == null ? null : embeddedPostgres.jdbcUrl(WAREHOUSE_DATABASE);
    }

    public QueueStore queueStore() {
        return queueStore;
    }

    /** This process's failover defence, or null when it does not use the queue database. */
    public FailoverGuard guard() {
        return guard;
    }

    public WriterMonitor writerMonitor() {
        return writerMonitor;
    }

    /** The control topic link (db pause/resume/status), or null when this process does not use the database. */
    public ControlTopic controlTopic() {
        return controlTopic;
    }

    /**
     * {@code running}; or, while paused, {@code quiescing} until no queue write runs and no batch is held, then
     * {@code quiesced}: from then on this process sends no writes to the queue database.
     */
    public String quiesceState() {
        if (!guard.gate().paused()) return "running";
        // Every writer of this process (planner, worker, retry chains, violation writer, pruning, dead-letter replay,
        // configuration upserts) passes this one gate, which counts their running writes.
        return guard.gate().quiesce(() -> worker == null || worker.idle()) ? "quiesced" : "quiescing";
    }

    private String roleNames() {
        return roles.stream().map(r -> r.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(","));
    }

    private void run(String name, Service service) {
        running.add(new Shutdown.Named(name, service));
        service.start();
    }

    public SluiceConfig config() {
        return config;
    }

    public String bootstrapServers() {
        return kafka == null ? null : kafka.bootstrapServers();
    }

    /** JDBC URL of the queue database, or null when this process does not use it. */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    public String collectorUrl() {
        return collector == null ? null : url(config.collector().host(), collector.port());
    }

    public String adminUrl() {
        return url(config.admin().host(), admin.port());
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    private static String url(String host, int port) {
        return "http://" + (host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host) + ":" + port;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        List<Shutdown.Named> reversed = new ArrayList<>(running);
        Collections.reverse(reversed);
        Shutdown.closeInOrder(reversed, SHUTDOWN_BUDGET);
        registry.close();
    }

    /** The backfills of the queue database (planner and admin API share one). */
    private BackfillStore backfills() {
        if (backfills == null)
            backfills = new BackfillStore(database.dataSource(), config.kafka().eventsTopic(), guard.gate());
        return backfills;
    }

    private synchronized Optional<Archive> archive() {
        if (archive == null)
            archive = Archive.open(config.archive(), config.kafka().eventsTopic());
        return archive;
    }
}
