package io.sluice.bench;

import io.sluice.config.SluiceConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The pipeline bench's summary (Markdown; the console shows the same text) and, with --threads, its details. */
final class PipelineReport {
    static final double TARGET_P99_MILLIS = 1_000;
    static final double TARGET_STATEMENTS = 50;

    /** Everything one run measured; filled in by {@link PipelineRun}. */
    static final class Figures {
        SluiceConfig config;
        double seconds;
        ResourceMonitor.Usage usage;
        Map<String, Double> pgCores;
        ServerDelta server;
        PacedLoad.Result load;
        long warehouseEvents;
        double drainedAfterSeconds;
        double otherCoresInWarmup;
        Map<String, long[]> edges;
        List<long[]> timeline;
        PipelineProbe.Latency latency;
        PipelineProbe.Loads loads;
        long[] committed;
        PipelineProbe.Batches batches;
        SampleProfile.Result profile;
        /** Which warehouse, in words; the separate warehouse server's cores (NaN: none, or not local). */
        String warehouse;

        double warehouseServerCores = Double.NaN;
        /** The load generator process (a separate JVM): cores over its window, and its pid. */
        double loadCores;

        long loadProcessPid;
        java.time.Instant firstSend;
        /** Closed loop: all events of the step divided by first send -> last warehouse row; else NaN. */
        double blastEventsPerSecond = Double.NaN;

        boolean closed;
        boolean commitTimestamps = true;
    }

    /** Server-side statement counts on the queue database over the window (pg_stat_statements, pg_stat_database). */
    record ServerDelta(long calls, long transactionControl, long commits, List<Map.Entry<String, Long>> top) {}

    static ServerDelta serverDelta(PipelineProbe.ServerCounts before, PipelineProbe.ServerCounts after) {
        long calls = 0;
        long control = 0;
        List<Map.Entry<String, Long>> top = new ArrayList<>();
        for (var e : after.calls().entrySet()) {
            long n = e.getValue() - before.calls().getOrDefault(e.getKey(), 0L);
            if (n <= 0) continue;
            calls += n;
            if (e.getKey().matches("(?i)(BEGIN|COMMIT|ROLLBACK|SET .*|SHOW .*)")) control += n;
            top.add(Map.entry(e.getKey(), n));
        }
        top.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        return new ServerDelta(
                calls, control, after.transactions() - before.transactions(), top.subList(0, Math.min(40, top.size())));
    }

    private final PipelineRun.Options o;
    private final Figures f;

    PipelineReport(PipelineRun.Options options, Figures figures) {
        this.o = options;
        this.f = figures;
    }

    private long delta(String edge) {
        return f.edges.get(edge)[1] - f.edges.get(edge)[0];
    }

    String render() {
        StringBuilder out = new StringBuilder();
        out.append("Command: `").append(o.command()).append("`\n\n");
        out.append("Date: ")
                .append(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
                .append("; machine load before the run: ")
                .append(CurveReport.loadAverage())
                .append("\n\n");
        out.append("Machine: ").append(BenchReport.machine()).append("\n\n");
        out.append("Warehouse: ")
                .append(f.warehouse)
                .append(". Load: a separate JVM (`sluice bench load`, pid ")
                .append(f.loadProcessPid)
                .append(", ")
                .append(String.join(" ", LoadProcess.JVM_OPTIONS))
                .append(")")
                .append(
                        f.closed
                                ? String.format(Locale.ROOT, ", closed loop on %d connections", o.blastConnections())
                                : "")
                .append(".\n\n");
        var sync = f.config.syncs().get(0);
        out.append(String.format(
                Locale.ROOT,
                "Settings: %d partitions; sync batch maxEvents %d, maxBytes %d, maxAge %d ms; worker concurrency %d, "
                        + "pollInterval %d ms; planner poll 50 ms and warehouse pool 4 (fixed in code); load %s as POST /v1/batch x%d, "
                        + "warm-up %ds, measured %.0fs; embedded PostgreSQL with track_commit_timestamp and pg_stat_statements.%n%n",
                f.config.kafka().partitions(),
                sync.maxEvents(),
                sync.maxBytes(),
                sync.maxAge().toMillis(),
                f.config.worker().concurrency(),
                f.config.worker().pollInterval().toMillis(),
                f.closed ? "closed loop" : String.format(Locale.ROOT, "%,d events/s", o.rate()),
                o.requestEvents(),
                o.warmup().toSeconds(),
                f.seconds));
        double accepted = delta("accepted") / f.seconds;
        long backlog = f.edges.get("accepted")[1] - f.edges.get("delivered")[1];
        LatencyHistogram e2e = f.latency.toCommitMicros();
        double perTenK = delta("statements") * 10_000.0 / Math.max(1, delta("accepted"));
        out.append(
                "| offered events/s | accepted events/s | warehouse events/s (rows/s, all tables) | backlog at window end | tail drained after | e2e p50 | p95 | p99 | max | queue statements / 10k events |\n");
        out.append("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        out.append(String.format(
                Locale.ROOT,
                "| %s | %s | %s (%s) | %s events | %s | %s | %s | %s | %s | %.1f |%n%n",
                f.closed ? "closed loop" : num(o.rate()),
                num(accepted),
                num(f.committed[0] / f.seconds),
                num(f.committed[1] / f.seconds),
                num(backlog),
                Double.isNaN(f.drainedAfterSeconds)
                        ? "NOT drained in " + o.drainTimeout().toSeconds() + " s"
                        : String.format(Locale.ROOT, "%.1f s", f.drainedAfterSeconds),
                ms(e2e, 50),
                ms(e2e, 95),
                ms(e2e, 99),
                msMax(e2e),
                perTenK));
        out.append(
                f.commitTimestamps
                        ? "Latency, in ms (events received in the window; e2e = commit of the warehouse transaction minus received_at):\n\n"
                        : "Latency, in ms (events received in the window; e2e = uuid_ts minus received_at, because the warehouse "
                                + "server has track_commit_timestamp off: the load transaction's own time is not included):\n\n");
        out.append("| measure | count | p50 | p95 | p99 | max |\n|---|--:|--:|--:|--:|--:|\n");
        row(
                out,
                f.commitTimestamps
                        ? "received_at -> warehouse commit (end to end)"
                        : "received_at -> uuid_ts (end to end)",
                e2e);
        row(out, "received_at -> uuid_ts (start of the load transaction)", f.latency.toLoadStartMicros());
        row(out, "HTTP /v1/batch answer, from when the request was due", f.load.latencyMicros());
        row(out, "warehouse load transaction (uuid_ts -> commit), per transaction", f.loads.loadMicros());
        row(
                out,
                "queue batch created -> finished (wait, read back, load, complete)",
                f.batches.createdToFinishedMicros());
        out.append("\nEnd-to-end p99 (max) in ms of the events received in each ")
                .append(PipelineProbe.SLICE_SECONDS)
                .append(" s of the window:");
        for (LatencyHistogram slice : f.latency.slices())
            out.append(' ')
                    .append(ms(slice, 99))
                    .append(" (")
                    .append(msMax(slice))
                    .append(')');
        out.append('\n');
        long timed = f.edges.get("batchTimer")[0];
        out.append(String.format(
                Locale.ROOT,
                "%nPlanner batches created in the window: %,d, events per batch mean %.0f, median %d, max %d; "
                        + "unfinished at the end %d, retried %d. Warehouse transactions: %,d, mean %.0f events. Worker read-back + "
                        + "delivery per batch (sluice.delivery.batch): mean %.0f ms over %,d batches.%n",
                f.batches.count(),
                f.batches.meanEvents(),
                f.batches.p50Events(),
                f.batches.maxEvents(),
                f.batches.unfinished(),
                f.batches.retried(),
                f.loads.transactions(),
                f.loads.meanEvents(),
                timed == 0 ? Double.NaN : f.edges.get("batchTimer")[1] / 1e6 / timed,
                timed));
        out.append(String.format(
                Locale.ROOT,
                "%nQueue database statements in the window: %,d counted by QueueStore (%.1f per 10,000 accepted events, "
                        + "%.1f per 10,000 delivered); server side (pg_stat_statements, database sluice): %,d calls, of which %,d "
                        + "BEGIN/COMMIT/SET, i.e. %.1f per 10,000 accepted events without them; pg_stat_database xact_commit + xact_rollback: %,d.%n",
                delta("statements"),
                perTenK,
                delta("statements") * 10_000.0 / Math.max(1, delta("delivered")),
                f.server.calls(),
                f.server.transactionControl(),
                (f.server.calls() - f.server.transactionControl()) * 10_000.0 / Math.max(1, delta("accepted")),
                f.server.commits()));
        out.append("\n").append(cpu());
        if (!Double.isNaN(f.blastEventsPerSecond))
            out.append(String.format(
                    Locale.ROOT,
                    "%nBlast: %,d events (warm-up included) from the first send (%s) to the last warehouse row: **%s events/s**.%n",
                    f.load.acceptedEvents(),
                    f.firstSend,
                    num(f.blastEventsPerSecond)));
        out.append(String.format(
                Locale.ROOT,
                "%nSluice process: RSS peak %d MB. Heap: peak %d MB used; %d GCs, %d ms in total. Load generator: %d connections, "
                        + "%,d events sent, %,d accepted (200), non-200 %s, errors %d, unanswered %d.%n",
                f.usage.rssPeakBytes() >> 20,
                f.usage.heapPeakBytes() >> 20,
                f.usage.gcCount(),
                f.usage.gcMillis(),
                f.load.connectionsUsed(),
                f.load.sentEvents(),
                f.load.acceptedEvents(),
                f.load.non200(),
                f.load.errors(),
                f.load.unfinished()));
        out.append(
                "\nProgress (seconds since the load started, the drain after the window included; events accepted by the"
                        + " collector and delivered to the warehouse; the Sluice process's used heap and RSS; the JIT"
                        + " compilers' time since the JVM started):\n\n");
        out.append(
                "| s | accepted | delivered | backlog | heap MB | RSS MB | JIT s |\n|--:|--:|--:|--:|--:|--:|--:|\n");
        long lastRow = -10;
        for (long[] p : f.timeline) {
            if (p[0] % 10 == 0 && p[0] != lastRow) {
                lastRow = p[0];
                out.append(String.format(
                        Locale.ROOT,
                        "| %d | %,d | %,d | %,d | %,d | %,d | %.1f |%n",
                        p[0],
                        p[1],
                        p[2],
                        p[1] - p[2],
                        p[3],
                        p[4],
                        p[5] / 1000.0));
            }
        }
        out.append("\n").append(targets(e2e, perTenK, backlog));
        return out.toString();
    }

    private String cpu() {
        Map<String, Double> c = f.usage.cores();
        double virtual = c.get("virtual threads");
        boolean split = f.profile.virtualByGroup().values().stream()
                        .mapToLong(Long::longValue)
                        .sum()
                > 0;
        double collector = c.get("collector") + (split ? virtual * f.profile.virtualShare("collector") : 0);
        double worker = c.get("worker") + (split ? virtual * f.profile.virtualShare("worker") : 0);
        double pg = f.pgCores.values().stream().mapToDouble(Double::doubleValue).sum();
        double wh = Double.isNaN(f.warehouseServerCores) ? 0 : f.warehouseServerCores;
        double others = Math.max(0, f.usage.otherProcessCores() - pg - wh - f.loadCores);
        StringBuilder out = new StringBuilder(String.format(
                Locale.ROOT,
                "CPU in cores (of %d) over the window%s:%n%n",
                Runtime.getRuntime().availableProcessors(),
                split
                        ? String.format(
                                Locale.ROOT,
                                "; the virtual-thread carriers' %.2f cores split by JFR samples (%.0f %% worker)",
                                virtual,
                                100 * f.profile.virtualShare("worker"))
                        : "; virtual threads NOT split (no JFR samples of them)"));
        out.append(
                        "| load process (separate JVM) | collector | planner | worker | Kafka broker | other Sluice | JVM GC+JIT | Sluice JVM total "
                                + "| PG queue db | PG warehouse | PG other | external warehouse server | other processes |\n|")
                .append("--:|".repeat(13))
                .append('\n');
        out.append(String.format(
                Locale.ROOT,
                "| %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %.2f |%n",
                f.loadCores,
                collector,
                c.get("planner"),
                worker + (split ? 0 : virtual),
                c.get("kafka broker"),
                c.get("other sluice")
                        + (split
                                ? virtual * (1 - f.profile.virtualShare("collector") - f.profile.virtualShare("worker"))
                                : 0),
                c.get("jvm (gc, jit)"),
                f.usage.processCores(),
                f.pgCores.get("pg queue db"),
                f.pgCores.get("pg warehouse"),
                f.pgCores.get("pg other"),
                Double.isNaN(f.warehouseServerCores) ? "-" : String.format(Locale.ROOT, "%.2f", f.warehouseServerCores),
                others));
        if (others > 0.1) {
            out.append(String.format(
                    Locale.ROOT,
                    "%n- WARNING: other processes used %.2f cores during the window; the figures are disturbed.%n",
                    others));
        }
        out.append(String.format(
                Locale.ROOT,
                "%sOther processes during the warm-up: %.2f cores.%n",
                others > 0.1 ? "- " : "\n",
                f.otherCoresInWarmup));
        return out.toString();
    }

    private String targets(LatencyHistogram e2e, double perTenK, long backlog) {
        double p99 = e2e.count() == 0 ? Double.NaN : e2e.percentile(99) / 1000.0;
        boolean keptUp = backlog <= o.rate() * 2L && !Double.isNaN(f.drainedAfterSeconds) && f.drainedAfterSeconds <= 5;
        return String.format(
                        Locale.ROOT,
                        "- End-to-end p99 **%.0f ms** at %,d events/s offered (target <= %.0f ms): %s%n",
                        p99,
                        o.rate(),
                        TARGET_P99_MILLIS,
                        p99 <= TARGET_P99_MILLIS ? "met" : "MISSED")
                + String.format(
                        Locale.ROOT,
                        "- Queue statements per 10,000 events: **%.1f** (target <= %.0f): %s%n",
                        perTenK,
                        TARGET_STATEMENTS,
                        perTenK <= TARGET_STATEMENTS ? "met" : "MISSED")
                + String.format(
                        Locale.ROOT,
                        "- Kept up (backlog at the end <= 2 s of load and drained within 5 s): %s%n",
                        keptUp ? "yes" : "NO")
                + (f.warehouseEvents < f.load.acceptedEvents()
                        ? String.format(
                                Locale.ROOT,
                                "- %,d accepted events were not in the warehouse "
                                        + "by the end of the drain: they are missing from the latency figures.%n",
                                f.load.acceptedEvents() - f.warehouseEvents)
                        : "");
    }

    /** Busiest threads, samples per group and hottest methods (top frame) per group. */
    String details() {
        StringBuilder out = new StringBuilder("Busiest threads (cores):\n");
        f.usage
                .topThreads()
                .forEach((name, cores) -> out.append(String.format(Locale.ROOT, "  %5.2f  %s%n", cores, name)));
        out.append(String.format(
                Locale.ROOT,
                "JFR execution samples: %,d; by group %s; virtual threads %s%n",
                f.profile.samples(),
                f.profile.byGroup(),
                f.profile.virtualByGroup()));
        f.profile.hot().forEach((group, methods) -> top(out, "Hottest methods (top frame), " + group, methods));
        f.profile
                .sluice()
                .forEach((group, methods) -> top(out, "Innermost Sluice method on the stack, " + group, methods));
        out.append("Queue-database statements in the window (server side, calls):\n");
        f.server
                .top()
                .forEach(e -> out.append(String.format(
                        Locale.ROOT,
                        "  %,7d  %s%n",
                        e.getValue(),
                        e.getKey().length() > 110 ? e.getKey().substring(0, 110) + "..." : e.getKey())));
        return out.toString();
    }

    private static void top(StringBuilder out, String title, Map<String, Long> methods) {
        long total = methods.values().stream().mapToLong(Long::longValue).sum();
        out.append(title).append(" (").append(total).append(" samples):\n");
        methods.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(10)
                .forEach(e -> out.append(
                        String.format(Locale.ROOT, "  %5.1f %%  %s%n", 100.0 * e.getValue() / total, e.getKey())));
    }

    private static void row(StringBuilder out, String name, LatencyHistogram h) {
        out.append(String.format(
                Locale.ROOT,
                "| %s | %,d | %s | %s | %s | %s |%n",
                name,
                h.count(),
                ms(h, 50),
                ms(h, 95),
                ms(h, 99),
                msMax(h)));
    }

    private static String ms(LatencyHistogram h, double percentile) {
        return h.count() == 0 ? "-" : String.format(Locale.ROOT, "%.0f", h.percentile(percentile) / 1000.0);
    }

    private static String msMax(LatencyHistogram h) {
        return h.count() == 0 ? "-" : String.format(Locale.ROOT, "%.0f", h.max() / 1000.0);
    }

    private static String num(double value) {
        return BenchReport.num(value);
    }
}
