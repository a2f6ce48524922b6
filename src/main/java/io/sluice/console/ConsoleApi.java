package io.sluice.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.admin.AdminParams;
import io.sluice.config.SluiceConfig.SourceSettings;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.function.FunctionHealth;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.SyncPauseStore;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The console's read-only JSON under {@code /console/api}: one object per page, built from metrics, the queue and Kafka. */
final class ConsoleApi implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Console.Parts parts;
    private final ConsoleAccess access;
    private final QueueView queue; // null without a database
    private final MetricHistory history;
    private final KafkaOffsets offsets;
    private final DatabaseView database;

    ConsoleApi(
            Console.Parts parts, ConsoleAccess access, QueueView queue, MetricHistory history, KafkaOffsets offsets) {
        this.parts = parts;
        this.access = access;
        this.queue = queue;
        this.history = history;
        this.offsets = offsets;
        this.database = new DatabaseView(parts);
    }

    void register(JavalinConfig config) {
        config.routes.get("/console/api/session", this::session);
        config.routes.get(
                "/console/api/overview",
                ctx -> json(ctx, DeadLetterGroups.hideErrors(overview(), access.payloads(ctx))));
        config.routes.get("/console/api/sources/{id}", this::source);
        config.routes.get("/console/api/syncs/{id}", this::sync);
        config.routes.get("/console/api/dead-letters", this::deadLetters);
        config.routes.get("/console/api/database", ctx -> json(ctx, database.toJson()));
        config.routes.get(
                "/console/api/functions", ctx -> json(ctx, FunctionsView.toJson(parts.config(), access.payloads(ctx))));
    }

    private void session(Context ctx) {
        String csrf = access.sessions().csrf(ctx);
        ObjectNode out = JSON.createObjectNode()
                .put("tokenConfigured", access.sessions().tokenConfigured())
                .put("authenticated", csrf != null)
                .put("payloads", access.payloads(ctx));
        if (csrf != null) out.put("csrf", csrf);
        json(ctx, out);
    }

    private ObjectNode overview() throws Exception {
        ObjectNode out = JSON.createObjectNode();
        var kafka = parts.kafka().get();
        out.putObject("kafka").put("reachable", kafka.reachable()).put("detail", kafka.detail());
        out.put("database", queue != null);
        ArrayNode sources = out.putArray("sources");
        for (SourceSettings source : parts.config().sources()) sources.add(sourceSummary(source));
        ArrayNode syncs = out.putArray("syncs");
        // A queue database that cannot be read (endpoint gone, mid-failover) is an outage to show, not a reason to
        // fail the page: the rest (Kafka, rates, the write gate, alarms) is still true.
        Map<String, QueueView.SyncQueue> queues = Map.of();
        Map<String, SyncPauseStore.Pause> paused = Map.of();
        String unreadable = null;
        try {
            queues = queues();
            paused = paused();
        } catch (SQLException e) {
            unreadable = e.getMessage();
        }
        for (SyncSettings sync : parts.config().syncs()) {
            ObjectNode summary = syncSummary(sync, queues.get(sync.id()), paused.get(sync.id()));
            // what only the queue knows is unknown now, not 0: a backlog of 0 would read as "all delivered"
            if (unreadable != null)
                summary.put("queueReadable", false)
                        .remove(List.of("backlogEvents", "unplannedEvents", "ageSeconds", "lagEvents"));
            syncs.add(summary);
        }
        out.putObject("latency").put("p50", history.latest("latency.p50")).put("p99", history.latest("latency.p99"));
        out.set("alarms", database.overviewAlarms());
        ObjectNode databaseState = databaseState();
        if (unreadable != null) databaseState.put("readable", false).put("readError", unreadable);
        out.set("databaseState", databaseState);
        out.set("history", history.toJson(""));
        out.put("generatedAt", parts.clock().instant().toString());
        out.set("problems", Problems.of(out));
        return out;
    }

    private void source(Context ctx) throws Exception {
        SourceSettings source = parts.config().sources().stream()
                .filter(s -> s.id().equals(ctx.pathParam("id")))
                .findFirst()
                .orElse(null);
        if (source == null) {
            ctx.status(404).contentType("application/json").result("{\"error\":\"no such source\"}");
            return;
        }
        ObjectNode out = sourceSummary(source);
        out.put("contract", source.contract() != null);
        ArrayNode syncs = out.putArray("syncs");
        Map<String, QueueView.SyncQueue> queues = queues();
        Map<String, SyncPauseStore.Pause> paused = paused();
        parts.config().syncs().stream()
                .filter(s -> s.source().equals(source.id()))
                .forEach(s -> syncs.add(syncSummary(s, queues.get(s.id()), paused.get(s.id()))));
        out.set("history", history.toJson("source." + source.id() + "."));
        json(ctx, DeadLetterGroups.hideErrors(out, access.payloads(ctx)));
    }

    private void sync(Context ctx) throws Exception {
        SyncSettings sync = parts.config().syncs().stream()
                .filter(s -> s.id().equals(ctx.pathParam("id")))
                .findFirst()
                .orElse(null);
        if (sync == null) {
            ctx.status(404).contentType("application/json").result("{\"error\":\"no such sync\"}");
            return;
        }
        ObjectNode out = syncSummary(sync, queues().get(sync.id()), paused().get(sync.id()));
        Timer batch = parts.registry()
                .find("sluice.delivery.batch")
                .tag("sync", sync.id())
                .timer();
        if (batch != null) {
            out.putObject("batchDelivery")
                    .put("count", batch.count())
                    .put("meanMs", round(batch.mean(TimeUnit.MILLISECONDS)))
                    .put("maxMs", round(batch.max(TimeUnit.MILLISECONDS)));
        }
        Gauge functionState = parts.registry()
                .find("sluice.function.state")
                .tag("sync", sync.id())
                .gauge();
        if (functionState != null) out.put("functionState", FunctionHealth.name(functionState.value()));
        out.put("p99Ms", history.latest("latency.p99"));
        out.put("workerConcurrency", parts.config().worker().concurrency());
        out.set("history", history.toJson("sync." + sync.id() + "."));
        json(ctx, DeadLetterGroups.hideErrors(out, access.payloads(ctx)));
    }

    private void deadLetters(Context ctx) throws Exception {
        if (parts.deadLetters() == null) {
            ObjectNode none = JSON.createObjectNode().put("database", false);
            none.putArray("letters");
            json(ctx, none);
            return;
        }
        String kind = blankToNull(ctx.queryParam("kind"));
        // checked like the admin API's: a bad value is a 400 naming it, never a 500 with a stack trace
        int limit = Math.min(1000, AdminParams.limit(ctx.queryParam("limit"), 200));
        Instant since = AdminParams.since(blankToNull(ctx.queryParam("since")), parts.clock());
        List<DeadLetter> letters = parts.deadLetters()
                .list(
                        blankToNull(ctx.queryParam("sync")),
                        since,
                        "true".equals(ctx.queryParam("all")),
                        kind == null ? limit : 1000);
        boolean payloads = access.payloads(ctx);
        ObjectNode out = JSON.createObjectNode().put("database", true).put("payloads", payloads);
        ArrayNode list = out.putArray("letters");
        for (DeadLetter d : letters) {
            if (kind != null && !kind.equals(ErrorKind.of(d))) continue;
            if (list.size() >= limit) break;
            ObjectNode node = list.addObject()
                    .put("id", d.id())
                    .put("sync", d.syncId())
                    .put("messageId", d.messageId())
                    .put("attempts", d.attempts())
                    // the error quotes the destination's answer (its body): shown like payloads (DeadLetterGroups)
                    .put("error", payloads ? d.error() : DeadLetterGroups.hiddenError(d.statusCode()))
                    .put("kind", ErrorKind.of(d))
                    .put("failedAt", d.failedAt().toString())
                    .put("firstFailedAt", d.firstFailedAt().toString());
            if (d.statusCode() != null) node.put("statusCode", d.statusCode());
            if (d.replayedAt() != null) node.put("replayedAt", d.replayedAt().toString());
            if (payloads) node.set("event", d.event());
        }
        // through serialize(), not toString() (which walks the tree): each event as stored, byte for byte
        ctx.contentType("application/json").result(JSON.writeValueAsString(out));
    }

    private ObjectNode sourceSummary(SourceSettings source) {
        double accepted = 0;
        double rejected = 0;
        for (Counter c : parts.registry()
                .find("sluice.collector.events")
                .tag("source", source.id())
                .counters()) {
            if ("accepted".equals(c.getId().getTag("outcome"))) accepted += c.count();
            else rejected += c.count();
        }
        return JSON.createObjectNode()
                .put("id", source.id())
                .put("acceptedTotal", (long) accepted)
                .put("rejectedTotal", (long) rejected)
                .put("acceptedPerSec", history.latest("source." + source.id() + ".accepted"))
                .put("rejectedPerSec", history.latest("source." + source.id() + ".rejected"));
    }

    private ObjectNode syncSummary(SyncSettings sync, QueueView.SyncQueue q, SyncPauseStore.Pause pause) {
        MeterRegistry registry = parts.registry();
        Counter delivered =
                registry.find("sluice.delivery.events").tag("sync", sync.id()).counter();
        Counter dead = registry.find("sluice.delivery.events.dead")
                .tag("sync", sync.id())
                .counter();
        ObjectNode out = JSON.createObjectNode()
                .put("id", sync.id())
                .put("source", sync.source())
                .put("destination", sync.destination())
                .put("function", sync.hasFunction())
                .put("deliveredTotal", delivered == null ? 0 : (long) delivered.count())
                .put("deadLetteredTotal", dead == null ? 0 : (long) dead.count())
                .put("deliveredPerSec", history.latest("sync." + sync.id() + ".delivered"));
        parts.config().destinations().stream()
                .filter(d -> d.id().equals(sync.destination()))
                .findFirst()
                .ifPresent(d -> out.put("destinationType", d.type()));
        ObjectNode health = out.putObject("destinationHealth");
        Gauge circuit = registry.find("sluice.webhook.circuit.state")
                .tag("destination", sync.destination())
                .gauge();
        if (circuit != null)
            health.put(
                    "circuit",
                    switch ((int) circuit.value()) {
                        case 1 -> "open";
                        case 2 -> "half-open";
                        default -> "closed";
                    });
        Gauge inFlight = registry.find("sluice.webhook.in.flight")
                .tag("destination", sync.destination())
                .gauge();
        if (inFlight != null) health.put("inFlight", (long) inFlight.value());
        if (queue == null) {
            out.put("state", "unknown (no queue database in this process)");
            return out;
        }
        Instant now = parts.clock().instant();
        out.put("paused", pause != null);
        if (pause != null)
            out.put("pausedBy", pause.by()).put("pausedAt", pause.at().toString());
        Map<Integer, Long> planned = q == null ? Map.of() : q.planned();
        long unplanned = unplanned(planned);
        long lag = (q == null ? 0 : q.backlogEvents()) + unplanned;
        // The oldest event not delivered yet: in a batch row, or not even planned (a held planner plans nothing).
        long age = q == null ? 0 : Math.max(q.ageSeconds(now), unplannedAgeSeconds(planned, now));
        SyncHealth.Stats stats = SyncHealth.stats(history, sync.id());
        boolean held = parts.gate() != null && !parts.gate().isWritable();
        String state = SyncHealth.state(
                pause != null,
                held,
                "open".equals(health.path("circuit").asText()),
                q != null && (q.failing() > 0 || q.retryDepth() > 0),
                lag,
                stats);
        out.put("state", state)
                .put("backlogEvents", q == null ? 0 : q.backlogEvents())
                .put("unplannedEvents", unplanned)
                .put("ageSeconds", age)
                .put("lagEvents", lag);
        stats.write(out);
        if (q == null) return out;
        out.put("pending", q.pending())
                .put("running", q.running())
                .put("failing", q.failing())
                .put("deadBatches", q.deadBatches())
                .put("retryDepth", q.retryDepth())
                .put(
                        "oldestRetrySeconds",
                        q.oldestRetry() == null
                                ? 0
                                : Duration.between(q.oldestRetry(), now).toSeconds())
                .put("deadLetters", q.deadLetters());
        if (q.lastError() != null)
            out.put("lastError", q.lastError())
                    .put("lastErrorAt", q.lastErrorAt().toString());
        return out;
    }

    /** Age of the oldest event of the topic this sync has not planned yet (0 when none or unknown). */
    private long unplannedAgeSeconds(Map<Integer, Long> planned, Instant now) {
        long oldest = Long.MAX_VALUE;
        for (var end : offsets.ends().entrySet()) {
            long next = planned.getOrDefault(end.getKey(), 0L);
            if (next >= end.getValue() || !planned.containsKey(end.getKey())) continue;
            long at = offsets.timestampAt(end.getKey(), next);
            if (at > 0) oldest = Math.min(oldest, at);
        }
        return oldest == Long.MAX_VALUE ? 0 : Math.max(0, (now.toEpochMilli() - oldest) / 1000);
    }

    /** Whether queue-database writes go ahead in this process, and why not. */
    private ObjectNode databaseState() {
        ObjectNode out = JSON.createObjectNode().put("present", parts.gate() != null);
        if (parts.gate() == null) return out;
        out.put("writable", parts.gate().isWritable())
                .put("paused", parts.gate().paused())
                .put("heldBecause", parts.gate().heldBecause());
        if (parts.control() != null) out.put("pauseRequested", parts.control().paused());
        return out;
    }

    /** Offsets of the events topic not yet planned by this sync (every source's events count: the topic is shared). */
    private long unplanned(Map<Integer, Long> planned) {
        long lag = 0;
        for (var end : offsets.ends().entrySet())
            lag += Math.max(0, end.getValue() - planned.getOrDefault(end.getKey(), 0L));
        return lag;
    }

    private Map<String, QueueView.SyncQueue> queues() throws SQLException {
        return queue == null ? Map.of() : queue.syncs();
    }

    private Map<String, SyncPauseStore.Pause> paused() throws SQLException {
        return parts.pauses() == null ? Map.of() : parts.pauses().paused();
    }

    private static double round(double value) {
        return Math.round(value * 10) / 10.0;
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    private static void json(Context ctx, ObjectNode node) {
        ctx.contentType("application/json").result(node.toString());
    }

    @Override
    public void close() {
        offsets.close();
    }
}
