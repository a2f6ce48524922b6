package io.sluice.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.http.JsonErrors;
import io.sluice.queue.DeliveryAccounting;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * Per-sync delivery accounting ({@code /console/api/syncs/{id}/accounting?range=1h|24h|7d}, or {@code from} and
 * {@code to}): every event the sync received and its fate, from the queue database ({@link DeliveryAccounting}),
 * so it covers every process and survives restarts; and the functions' meters per sync
 * ({@code /console/api/functions/stats}, this process's). See docs/console.md, "Delivery accounting".
 */
final class AccountingApi {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SluiceConfig config;
    private final DeliveryAccounting accounting; // null without a queue database
    private final MeterRegistry registry;
    private final Clock clock;

    AccountingApi(SluiceConfig config, DataSource queueDatabase, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.accounting = queueDatabase == null ? null : new DeliveryAccounting(queueDatabase);
        this.registry = registry;
        this.clock = clock;
    }

    void register(JavalinConfig javalin) {
        javalin.routes.get("/console/api/syncs/{id}/accounting", this::accounting);
        javalin.routes.get("/console/api/functions/stats", this::functionStats);
    }

    /** A range: its start, end and trend step. */
    record Range(Instant from, Instant to, Duration step) {}

    /** {@code range} (1h, 24h, 7d; default 1h), or {@code from} and {@code to} (ISO instants); a bad one is a 400. */
    static Range range(String range, String from, String to, Instant now) {
        Instant end = now.truncatedTo(ChronoUnit.MINUTES).plus(Duration.ofMinutes(1)); // the current minute counts
        if (from != null || to != null) {
            try {
                Instant start = Instant.parse(from == null ? "" : from);
                Instant stop = to == null ? end : Instant.parse(to);
                if (!start.isBefore(stop)) throw invalid("'from' must be before 'to'");
                if (Duration.between(start, stop).compareTo(Duration.ofDays(31)) > 0)
                    throw invalid("the range may span at most 31 days");
                long minutes = Math.max(1, (Duration.between(start, stop).toMinutes() + 59) / 60);
                return new Range(start, stop, Duration.ofMinutes(minutes));
            } catch (DateTimeParseException e) {
                throw invalid("'from' and 'to' must be ISO instants such as 2026-12-07T10:00:00Z");
            }
        }
        return switch (range == null || range.isBlank() ? "1h" : range) {
            case "1h" -> new Range(end.minus(Duration.ofHours(1)), end, Duration.ofMinutes(1));
            case "24h" -> new Range(end.minus(Duration.ofHours(24)), end, Duration.ofMinutes(15));
            case "7d" -> new Range(end.minus(Duration.ofDays(7)), end, Duration.ofHours(2));
            default -> throw invalid("'range' must be 1h, 24h or 7d, got '" + range + "'");
        };
    }

    private static RuntimeException invalid(String message) {
        return JsonErrors.badRequest("invalid_parameter", message);
    }

    private void accounting(Context ctx) throws Exception {
        SyncSettings sync = config.syncs().stream()
                .filter(s -> s.id().equals(ctx.pathParam("id")))
                .findFirst()
                .orElse(null);
        if (sync == null) {
            ctx.status(404).contentType("application/json").result("{\"error\":\"no such sync\"}");
            return;
        }
        Range range = range(ctx.queryParam("range"), ctx.queryParam("from"), ctx.queryParam("to"), clock.instant());
        ObjectNode out = JSON.createObjectNode()
                .put("sync", sync.id())
                .put("source", sync.source())
                .put("from", range.from().toString())
                .put("to", range.to().toString())
                .put("stepSeconds", range.step().toSeconds())
                .put("database", accounting != null);
        if (accounting == null) {
            json(ctx, out);
            return;
        }
        DeliveryAccounting.Report r = accounting.read(sync.id(), sync.source(), range.from(), range.to(), range.step());
        DeliveryAccounting.Totals t = r.totals();
        long received = t.received() + r.blocked();
        long pending = r.pendingInBatches() + r.pendingRetries();
        long discarded = t.discarded(); // events of people a privacy request deleted (docs/privacy.md)
        long accounted = t.delivered()
                + t.functionDropped()
                + t.filtered()
                + r.blocked()
                + discarded
                + t.deadLettered()
                + pending;
        out.put("received", received)
                .put("replayed", t.replayed())
                .put("delivered", t.delivered())
                .put("functionDropped", t.functionDropped())
                .put("filtered", t.filtered())
                .put("blocked", r.blocked())
                .put("discarded", discarded)
                .put("deadLettered", t.deadLettered())
                .put("pending", pending)
                .put("pendingInBatches", r.pendingInBatches())
                .put("pendingRetries", r.pendingRetries())
                .put("backfilled", t.backfilled())
                .put("inTransit", received + t.replayed() + t.backfilled() - accounted);
        long attempted = t.delivered() + t.failed();
        out.putObject("failures")
                .put("total", t.failed())
                .put("http4xx", t.failed4xx())
                .put("http5xx", t.failed5xx())
                .put("network", t.failedNetwork())
                .put("rate", attempted == 0 ? 0 : Math.round(10_000.0 * t.failed() / attempted) / 10_000.0);
        ObjectNode latency = out.putObject("latency");
        latency.put("measured", t.delivered() > 0);
        putPercentile(latency, "p95AtMostMs", t.percentileAtMost(0.95));
        putPercentile(latency, "p99AtMostMs", t.percentileAtMost(0.99));
        ArrayNode trend = out.putArray("trend");
        for (DeliveryAccounting.Point p : r.trend())
            trend.addObject()
                    .put("at", p.at().toString())
                    .put("received", p.received() + p.blocked())
                    .put("delivered", p.delivered())
                    .put("failed", p.failed())
                    .put("deadLettered", p.deadLettered());
        json(ctx, out);
    }

    private static void putPercentile(ObjectNode node, String name, long atMost) {
        if (atMost < 0) node.putNull(name);
        else if (atMost == Long.MAX_VALUE) node.put(name, "over an hour");
        else node.put(name, atMost);
    }

    private void functionStats(Context ctx) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode list = out.putArray("functions");
        for (SyncSettings sync : config.syncs()) {
            if (!sync.hasFunction()) continue;
            Timer time =
                    registry.find("sluice.function.time").tag("sync", sync.id()).timer();
            list.addObject()
                    .put("sync", sync.id())
                    .put("invocations", count("sluice.function.invocations", sync.id(), null))
                    .put("errors", count("sluice.function.errors", sync.id(), null))
                    .put("drops", count("sluice.function.drops", sync.id(), null))
                    .put("timeouts", count("sluice.function.timeouts", sync.id(), null))
                    .put("reloads", count("sluice.function.reloads", sync.id(), "applied"))
                    .put("rejectedReloads", count("sluice.function.reloads", sync.id(), "rejected"))
                    .put(
                            "meanMs",
                            time == null || time.count() == 0
                                    ? 0
                                    : Math.round(time.mean(TimeUnit.MICROSECONDS)) / 1000.0);
        }
        json(ctx, out);
    }

    private long count(String name, String sync, String outcome) {
        var search = registry.find(name).tag("sync", sync);
        if (outcome != null) search = search.tag("outcome", outcome);
        double total = 0;
        for (Counter c : search.counters()) total += c.count();
        return (long) total;
    }

    private static void json(Context ctx, ObjectNode node) {
        ctx.contentType("application/json").result(node.toString());
    }
}
