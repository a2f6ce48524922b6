package io.sluice.collector;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.config.SluiceConfig.CollectorSettings;
import io.sluice.config.SluiceConfig.SourceSettings;
import io.sluice.contract.Contracts;
import io.sluice.contract.ViolationPublisher;
import io.sluice.http.JsonErrors;
import io.sluice.kafka.KafkaClients;
import io.sluice.lifecycle.HttpServers;
import io.sluice.lifecycle.Service;
import io.sluice.suppression.Suppressions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collector stage: Segment's tracking API over HTTP (Javalin on Jetty 12, one virtual thread per request),
 * checking each source's contract (tracking plan) and writing accepted events to Kafka. {@link #close()} stops
 * accepting, lets in-flight requests finish, then flushes and closes the producers.
 */
public final class Collector implements Service {
    private static final Logger log = LoggerFactory.getLogger(Collector.class);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(4);

    private final CollectorSettings settings;
    private final EventPublisher publisher;
    private final ViolationPublisher violations; // null when no source has a contract
    private final RejectionPublisher rejections;
    private final IngestHandler handler;
    private final MeterRegistry registry;
    private Javalin server;
    private boolean closed;

    public Collector(
            CollectorSettings settings,
            List<SourceSettings> sources,
            KafkaClients kafka,
            String topic,
            MeterRegistry registry,
            Clock clock) {
        this(settings, sources, kafka, topic, Contracts.none(), registry, clock);
    }

    /** @param contracts the sources' tracking plans, checked before Kafka; violations go to their topic */
    public Collector(
            CollectorSettings settings,
            List<SourceSettings> sources,
            KafkaClients kafka,
            String topic,
            Contracts contracts,
            MeterRegistry registry,
            Clock clock) {
        this(settings, sources, kafka, topic, contracts, Suppressions.NONE, registry, clock);
    }

    /** @param suppressions the people whose events are dropped (docs/privacy.md) */
    public Collector(
            CollectorSettings settings,
            List<SourceSettings> sources,
            KafkaClients kafka,
            String topic,
            Contracts contracts,
            Suppressions suppressions,
            MeterRegistry registry,
            Clock clock) {
        this.settings = settings;
        this.registry = registry;
        CollectorMetrics metrics = new CollectorMetrics(registry);
        this.publisher = new EventPublisher(kafka, topic, settings, metrics.produceLatency);
        this.violations =
                contracts.isEmpty() ? null : new ViolationPublisher(kafka, contracts.violationsTopic(), registry);
        this.rejections = new RejectionPublisher(kafka, topic);
        this.handler = new IngestHandler(
                new ObjectMapper(),
                new Sources(sources),
                contracts,
                settings,
                publisher,
                violations,
                rejections,
                metrics,
                clock,
                suppressions);
    }

    @Override
    public synchronized void start() {
        if (server != null || closed) return;
        if (violations != null) violations.ensureTopic();
        rejections.ensureTopic();
        server = HttpServers.create(settings.host(), settings.port(), settings.minBodyRate(), config -> {
            new JsonErrors("collector", registry).install(config);
            config.jetty.modifyServer(jetty -> jetty.setStopTimeout(DRAIN_TIMEOUT.toMillis()));
            config.routes.before(Collector::allowCrossOrigin);
            config.routes.options("/v1/*", Collector::preflight);
            for (Endpoint endpoint : Endpoint.ALL) {
                config.routes.post(endpoint.path(), ctx -> handler.handle(ctx, endpoint));
            }
        });
        server.start();
        log.info("Collector listening on http://{}:{}", settings.host(), port());
    }

    /** The bound port (differs from the configured one when that is 0). */
    public int port() {
        return server.port();
    }

    /** Browsers post from any origin; write keys are public by design, so every origin is allowed. */
    private static void allowCrossOrigin(Context ctx) {
        String origin = ctx.header("Origin");
        if (origin != null) {
            ctx.header("Access-Control-Allow-Origin", origin);
            ctx.header("Vary", "Origin");
            ctx.header("Access-Control-Allow-Credentials", "true");
        }
    }

    private static void preflight(Context ctx) {
        String requested = ctx.header("Access-Control-Request-Headers");
        ctx.header("Access-Control-Allow-Methods", "POST, OPTIONS");
        ctx.header(
                "Access-Control-Allow-Headers",
                requested != null ? requested : "Content-Type, Authorization, Content-Encoding");
        ctx.header("Access-Control-Max-Age", "86400");
        ctx.status(204);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (server != null) {
            server.stop(); // stops accepting, waits up to DRAIN_TIMEOUT for in-flight requests
        }
        publisher.close(Duration.ofSeconds(3));
        if (violations != null) violations.close(Duration.ofSeconds(1));
        rejections.close();
        log.info("Collector stopped");
    }
}
