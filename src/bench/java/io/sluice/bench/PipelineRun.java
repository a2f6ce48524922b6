package io.sluice.bench;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The end-to-end benchmark: Sluice in standalone mode (embedded Kafka and PostgreSQL, all roles, warehouse = the
 * embedded 'warehouse' database) in a temp dir, a paced /v1/batch load for warm-up + window, then the wait until the
 * warehouse holds every accepted event. Latency, throughput and load times come from the warehouse afterwards
 * ({@link PipelineProbe}); statement counts, CPU and heap are taken at the window's edges.
 */
public final class PipelineRun {
    static final String USER = "sluice";
    static final String SCHEMA = "web";
    static final List<String> GROUPS = List.of(
            "load generator",
            "collector",
            "planner",
            "worker",
            "virtual threads",
            "kafka broker",
            "other sluice",
            "jvm (gc, jit)");
    private static final Duration ANSWER_DRAIN = Duration.ofSeconds(10);
    private static final long PRIMER_IDS = 0x7000_0000_0000_0000L;

    /**
     * What to run. Batch and worker settings are passed to the configuration as written (e.g. 500ms, 1MB); null
     * leaves Sluice's default. {@code curve}: the steps (events/s, or "max" for the closed-loop blast); empty = one
     * step at {@code rate}. {@code warehouseUrl} null and {@code externalWarehouse} false: the embedded warehouse.
     */
    public record Options(
            int rate,
            Duration duration,
            Duration warmup,
            int requestEvents,
            int partitions,
            Integer maxEvents,
            String maxBytes,
            String maxAge,
            Integer workerConcurrency,
            String pollInterval,
            Duration drainTimeout,
            Path report,
            boolean threads,
            Path jfr,
            String command,
            List<String> curve,
            int pacedConnections,
            int blastConnections,
            String warehouseUrl,
            String warehouseUser,
            String warehousePassword,
            boolean externalWarehouse,
            Path externalWarehouseBin,
            int externalWarehousePort) {

        Options withRate(int stepRate) {
            return new Options(
                    stepRate,
                    duration,
                    warmup,
                    requestEvents,
                    partitions,
                    maxEvents,
                    maxBytes,
                    maxAge,
                    workerConcurrency,
                    pollInterval,
                    drainTimeout,
                    report,
                    threads,
                    jfr,
                    command,
                    curve,
                    pacedConnections,
                    blastConnections,
                    warehouseUrl,
                    warehouseUser,
                    warehousePassword,
                    externalWarehouse,
                    externalWarehouseBin,
                    externalWarehousePort);
        }
    }

    private final Options o;

    public PipelineRun(Options options) {
        this.o = options;
    }

    public String run() throws Exception {
        Path dir = Files.createTempDirectory("sluice-bench-pipeline");
        Sluice sluice = null;
        WarehouseServer external = null;
        try (ResourceMonitor monitor = new ResourceMonitor(GROUPS, PipelineRun::group)) {
            String whUrl = o.warehouseUrl();
            String whUser = o.warehouseUser();
            String whPassword = o.warehousePassword();
            String warehouse = "embedded (database 'warehouse' on the queue's PostgreSQL)";
            if (o.externalWarehouse()) {
                external = new WarehouseServer(
                        o.externalWarehouseBin(), dir.resolve("warehouse-pg"), o.externalWarehousePort(), USER);
                System.out.println("Starting a separate PostgreSQL for the warehouse from " + o.externalWarehouseBin());
                external.start();
                whUrl = external.url();
                whUser = USER;
                whPassword = "";
                warehouse = "external PostgreSQL " + external.version() + " started by the bench (" + whUrl + ")";
            } else if (whUrl != null) {
                warehouse = "external " + whUrl;
            }
            System.out.println(
                    "Preparing the embedded PostgreSQL (track_commit_timestamp, pg_stat_statements) in " + dir);
            PipelineProbe.prepare(dir.resolve("data").resolve("postgres"), USER);
            sluice = Sluice.standalone(new ConfigLoader(Map.of())
                    .loadYaml(PipelineYaml.of(o, dir.resolve("data"), whUrl, whUser, whPassword)));
            sluice.start();
            String probeUrl = whUrl == null ? sluice.warehouseUrl() : whUrl;
            PipelineProbe probe = new PipelineProbe(
                    USER,
                    sluice.jdbcUrl(),
                    probeUrl,
                    whUrl == null ? USER : whUser,
                    whUrl == null ? "" : whPassword,
                    SCHEMA);
            probe.enableStatementStatistics();
            PostgresCpu queueServer = new PostgresCpu(
                    dir.resolve("data").resolve("postgres").resolve("pgdata"), "sluice", Sluice.WAREHOUSE_DATABASE);
            PostgresCpu warehouseServer = null;
            if (whUrl != null) {
                long pm = PostgresCpu.postmasterOf(whUrl, whUser, whPassword);
                if (pm < 0) System.out.println("The warehouse server is not a local process: its CPU is not measured");
                else warehouseServer = new PostgresCpu(pm, "-", PipelineYaml.databaseOf(whUrl));
            }
            URI url = URI.create(sluice.collectorUrl());
            InetSocketAddress collector = new InetSocketAddress(url.getHost(), url.getPort());
            prime(collector, probe);
            if (!probe.detectCommitTimestamps())
                System.out.println("The warehouse has track_commit_timestamp off: latency ends at uuid_ts");
            var context = new PipelineStep.Context(
                    sluice,
                    probe,
                    queueServer,
                    warehouseServer,
                    collector,
                    monitor,
                    Files.createDirectories(dir.resolve("logs")));
            List<String> steps = o.curve().isEmpty() ? List.of(Integer.toString(o.rate())) : o.curve();
            List<PipelineReport.Figures> figures = new ArrayList<>();
            StringBuilder summaries = new StringBuilder();
            for (int i = 0; i < steps.size(); i++) {
                boolean closed = steps.get(i).equals("max");
                Options step = o.withRate(closed ? 0 : Integer.parseInt(steps.get(i)));
                System.out.printf(
                        "%nStep %d of %d: %s, warm-up %ds, measured %ds%n",
                        i + 1,
                        steps.size(),
                        closed
                                ? "closed-loop blast, " + o.blastConnections() + " connections"
                                : String.format("%,d events/s paced", step.rate()),
                        o.warmup().toSeconds(),
                        o.duration().toSeconds());
                PipelineReport.Figures w = new PipelineStep(context, step)
                        .run(i, closed, closed ? o.blastConnections() : o.pacedConnections());
                w.warehouse = warehouse;
                figures.add(w);
                PipelineReport report = new PipelineReport(step, w);
                String summary = report.render();
                System.out.println("\n" + summary);
                if (o.threads()) System.out.println(report.details());
                summaries
                        .append("## Step ")
                        .append(i + 1)
                        .append(": ")
                        .append(steps.get(i))
                        .append("\n\n")
                        .append(summary)
                        .append(o.threads() ? "\n```\n" + report.details() + "```\n" : "")
                        .append('\n');
            }
            String out = summaries.toString();
            if (figures.size() > 1 || !o.curve().isEmpty()) {
                String curve = CurveReport.render(o, steps, figures);
                System.out.println("\n" + curve);
                out = curve + "\n" + out;
            }
            if (o.report() != null) {
                Files.writeString(o.report(), out);
                System.out.println("Summary written to " + o.report());
            }
            return out;
        } finally {
            if (sluice != null) sluice.close();
            if (external != null) external.close();
            BenchRun.deleteRecursively(dir);
        }
    }

    /**
     * A short in-process load at 10 % of the rate (at least 1,000 events/s) for 3 s, then the wait until the
     * warehouse holds it: the warehouse tables exist and every part has handled events before any clock starts.
     */
    private long prime(InetSocketAddress collector, PipelineProbe probe) throws Exception {
        long started = System.nanoTime();
        long accepted = 0;
        // a cold JVM on a busy machine may answer nothing in the first seconds: prime until something got through
        for (int attempt = 0; attempt < 5 && accepted == 0; attempt++) {
            PacedLoad primer = new PacedLoad(
                    collector,
                    new BenchEvents(),
                    o.requestEvents(),
                    Math.max(1_000, o.rate() / 10),
                    32,
                    PRIMER_IDS + ((long) attempt << 32));
            Window window = Window.after(Duration.ZERO, Duration.ofSeconds(3));
            window.snapshotTaken(); // no resources are sampled for the priming load: it need not wait for that
            accepted += primer.run(window, ANSWER_DRAIN.toNanos()).acceptedEvents();
        }
        if (accepted == 0) throw new IllegalStateException("the collector accepted none of the priming events");
        long deadline = System.nanoTime() + o.drainTimeout().toNanos();
        long seen = -1;
        long now;
        // until the warehouse holds them all and stops growing (requests answered after the primer gave up count too)
        while ((now = probe.warehouseEvents()) < accepted || now != seen) {
            if (System.nanoTime() > deadline)
                throw new IllegalStateException(
                        "the priming events did not reach the warehouse within --drain-timeout");
            seen = now;
            Thread.sleep(1_000);
        }
        System.out.printf(
                "Primed: %,d events accepted, %,d in the warehouse %.1f s after the first was sent%n",
                accepted, now, (System.nanoTime() - started) / 1e9);
        return accepted;
    }

    static Instant toInstant(long nanoTime, long epochOffsetNanos) {
        long epochNanos = nanoTime + epochOffsetNanos;
        return Instant.ofEpochSecond(
                Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L));
    }

    static long delivered(Sluice sluice) {
        return (long) sluice.registry().find("sluice.delivery.events").counters().stream()
                .mapToDouble(Counter::count)
                .sum();
    }

    static long batchCount(Sluice sluice) {
        return sluice.registry().find("sluice.delivery.batch").timers().stream()
                .mapToLong(Timer::count)
                .sum();
    }

    static double batchNanos(Sluice sluice) {
        return sluice.registry().find("sluice.delivery.batch").timers().stream()
                .mapToDouble(t -> t.totalTime(TimeUnit.NANOSECONDS))
                .sum();
    }

    /** Platform threads by name; the carriers of virtual threads are split later with the JFR samples. */
    static String group(String name) {
        if (name.startsWith("bench-")) return "load generator";
        if (name.contains("sluice-collector")
                || name.startsWith("qtp")
                || name.startsWith("Javalin")
                || name.contains("jetty")) return "collector";
        if (name.contains("sluice-planner")) return "planner";
        if (name.contains("sluice-worker") || name.contains("sluice-warehouse") || name.contains("sluice-delivery"))
            return "worker";
        if (name.matches("ForkJoinPool-\\d+-worker-\\d+") || name.startsWith("ForkJoinPool-delayScheduler"))
            return "virtual threads";
        if (name.contains("sluice") || name.startsWith("HikariPool") || name.startsWith("ForkJoinPool.commonPool"))
            return "other sluice";
        return "kafka broker";
    }
}
