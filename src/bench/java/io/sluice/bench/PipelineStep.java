package io.sluice.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.management.OperatingSystemMXBean;
import io.sluice.runtime.Sluice;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One measured step of the pipeline bench: a {@code sluice bench load} child process (paced at a rate, or closed loop
 * for the maximum) against the collector, this process's snapshots taken when the child announces its window's
 * edges, then the drain and the read-out from the databases. Fills a {@link PipelineReport.Figures}.
 */
final class PipelineStep {
    private static final Duration ANSWER_DRAIN = Duration.ofSeconds(10);

    /** What the run shares with every step. */
    record Context(
            Sluice sluice,
            PipelineProbe probe,
            PostgresCpu queueServer,
            PostgresCpu warehouseServer,
            InetSocketAddress collector,
            ResourceMonitor monitor,
            Path logDir) {}

    private final Context x;
    private final PipelineRun.Options o;

    /** @param options the run's options with this step's rate ({@code closed}: the rate is ignored) */
    PipelineStep(Context context, PipelineRun.Options options) {
        this.x = context;
        this.o = options;
    }

    PipelineReport.Figures run(int step, boolean closed, int connections) throws Exception {
        Sluice sluice = x.sluice();
        long warehouseBefore = x.probe().warehouseEvents();
        long deliveredBefore = PipelineRun.delivered(sluice);
        long epochOffsetNanos = System.currentTimeMillis() * 1_000_000L - System.nanoTime();
        List<String> args = new ArrayList<>(List.of(
                "--mode",
                closed ? "closed" : "paced",
                "--target",
                x.collector().getHostString() + ":" + x.collector().getPort(),
                "--rate",
                Integer.toString(Math.max(1, o.rate())),
                "--batch-size",
                Integer.toString(o.requestEvents()),
                "--connections",
                Integer.toString(connections),
                "--first-id",
                Long.toString((step + 1L) << 40),
                "--warmup",
                o.warmup().toMillis() + "ms",
                "--duration",
                o.duration().toMillis() + "ms",
                "--drain",
                ANSWER_DRAIN.toMillis() + "ms"));
        PipelineReport.Figures w = new PipelineReport.Figures();
        List<long[]> timeline = new ArrayList<>();
        Map<String, long[]> edges = new java.util.LinkedHashMap<>();
        long windowStart;
        long windowEnd;
        long loadStarted;
        // a JFR recording cannot restart once stopped: one per step
        try (SampleProfile profile = new SampleProfile(PipelineRun::group);
                LoadProcess load = LoadProcess.start(args, x.logDir().resolve("load-" + step + ".log"))) {
            long started = System.nanoTime();
            loadStarted = started;
            long[] warmupCpu = {
                ResourceMonitor.machineBusyNanos(), processCpuNanos() + PostgresCpu.cpuNanosOf(load.pid())
            };
            PostgresCpu.Snapshot q0 = x.queueServer().snapshot();
            PostgresCpu.Snapshot wh0 =
                    x.warehouseServer() == null ? null : x.warehouseServer().snapshot();
            long deadline =
                    started + o.warmup().plus(o.duration()).plusSeconds(60).toNanos();
            long nextSample = started + 1_000_000_000L;
            while (!load.windowStarted()) {
                sample(load, started, deliveredBefore, timeline, nextSample, true);
                if (System.nanoTime() >= nextSample) nextSample += 1_000_000_000L;
                if (System.nanoTime() > deadline) throw new IllegalStateException("the load never started its window");
                Thread.sleep(20);
            }
            windowStart = System.nanoTime();
            double warm = (windowStart - started) / 1e9;
            double pgWarm = PostgresCpu.total(q0, x.queueServer().snapshot(), warm)
                    + (wh0 == null
                            ? 0
                            : PostgresCpu.total(wh0, x.warehouseServer().snapshot(), warm));
            w.otherCoresInWarmup = Math.max(
                    0,
                    (ResourceMonitor.machineBusyNanos()
                                            - warmupCpu[0]
                                            - (processCpuNanos() + PostgresCpu.cpuNanosOf(load.pid()) - warmupCpu[1]))
                                    / 1e9
                                    / warm
                            - pgWarm);
            x.monitor().begin();
            profile.start();
            PostgresCpu.Snapshot pg0 = x.queueServer().snapshot();
            PostgresCpu.Snapshot whStart =
                    x.warehouseServer() == null ? null : x.warehouseServer().snapshot();
            PipelineProbe.ServerCounts server0 = x.probe().serverCounts();
            edges.put("statements", new long[] {sluice.queueStore().statementCount(), 0});
            edges.put("delivered", new long[] {PipelineRun.delivered(sluice) - deliveredBefore, 0});
            edges.put("batchTimer", new long[] {PipelineRun.batchCount(sluice), (long) PipelineRun.batchNanos(sluice)});
            while (!load.windowEnded()) {
                sample(load, started, deliveredBefore, timeline, nextSample, false);
                if (System.nanoTime() >= nextSample) nextSample += 1_000_000_000L;
                if (System.nanoTime() > deadline) throw new IllegalStateException("the load never ended its window");
                Thread.sleep(20);
            }
            windowEnd = System.nanoTime();
            double seconds = (windowEnd - windowStart) / 1e9;
            w.usage = x.monitor().end();
            profile.stopRecording();
            w.pgCores = PostgresCpu.cores(pg0, x.queueServer().snapshot(), seconds);
            w.warehouseServerCores = whStart == null
                    ? Double.NaN
                    : PostgresCpu.total(whStart, x.warehouseServer().snapshot(), seconds);
            edges.get("statements")[1] = sluice.queueStore().statementCount();
            edges.get("delivered")[1] = PipelineRun.delivered(sluice) - deliveredBefore;
            edges.put("batchTimer", new long[] {
                PipelineRun.batchCount(sluice) - edges.get("batchTimer")[0],
                (long) PipelineRun.batchNanos(sluice) - edges.get("batchTimer")[1]
            });
            w.server = PipelineReport.serverDelta(server0, x.probe().serverCounts());
            JsonNode r = load.result(ANSWER_DRAIN.plusSeconds(30));
            w.load = LoadProcess.pacedResult(r);
            w.loadCores = LoadProcess.windowCores(r);
            w.loadProcessPid = load.pid();
            edges.put("accepted", new long[] {
                r.path("acceptedAtStart").asLong(), r.path("acceptedAtEnd").asLong()
            });
            w.firstSend = Instant.ofEpochMilli(r.path("startedEpochMillis").asLong());
            w.seconds = seconds;
            w.profile = profile.summarise(o.jfr());
        }
        System.out.printf(
                "Window over: %,d events accepted in total; waiting up to %ds for the warehouse to hold them all%n",
                w.load.acceptedEvents(), o.drainTimeout().toSeconds());
        long drainDeadline = windowEnd + o.drainTimeout().toNanos();
        // the drain goes on the timeline too: how fast the backlog empties once the load stops, and what memory does
        long drainStarted = System.nanoTime();
        long nextDrainSample = drainStarted;
        while (System.nanoTime() < drainDeadline
                && (w.warehouseEvents = x.probe().warehouseEvents() - warehouseBefore) < w.load.acceptedEvents()) {
            if (System.nanoTime() >= nextDrainSample) {
                long now = System.nanoTime();
                timeline.add(point(
                        Math.round((now - loadStarted) / 1e9),
                        w.load.acceptedEvents(),
                        PipelineRun.delivered(sluice) - deliveredBefore));
                nextDrainSample += 1_000_000_000L;
            }
            Thread.sleep(250);
        }
        boolean drained = w.warehouseEvents >= w.load.acceptedEvents();
        w.drainedAfterSeconds =
                drained ? x.probe().lastCommitAfter(PipelineRun.toInstant(windowEnd, epochOffsetNanos)) : Double.NaN;
        // the blast figure: every event of the step, warm-up included, from its first send to the last warehouse row
        w.blastEventsPerSecond =
                closed && drained ? w.load.acceptedEvents() / x.probe().lastCommitAfter(w.firstSend) : Double.NaN;
        Instant from = PipelineRun.toInstant(windowStart, epochOffsetNanos);
        Instant to = PipelineRun.toInstant(windowEnd, epochOffsetNanos);
        System.out.println("Reading latency, loads and batches from the databases...");
        w.config = sluice.config();
        w.edges = edges;
        w.timeline = timeline;
        w.closed = closed;
        w.commitTimestamps = x.probe().commitTimestamps();
        w.latency = x.probe().latency(from, to);
        w.loads = x.probe().loads(from, to);
        w.committed = x.probe().committedIn(from, to, PipelineRun.SCHEMA);
        w.batches = x.probe().batches(from, to);
        return w;
    }

    private void sample(
            LoadProcess load, long started, long deliveredBefore, List<long[]> timeline, long due, boolean warmup) {
        long now = System.nanoTime();
        if (now < due) return;
        long[] point = point(
                Math.round((now - started) / 1e9),
                load.accepted(),
                PipelineRun.delivered(x.sluice()) - deliveredBefore);
        timeline.add(point);
        if (point[0] % 5 == 0) {
            System.out.printf(
                    "  +%3ds%s accepted %,11d  delivered %,11d  backlog %,9d  heap %,6d MB  RSS %,6d MB  JIT %,6.1f s%n",
                    point[0],
                    warmup ? " (warm-up)" : "          ",
                    point[1],
                    point[2],
                    point[1] - point[2],
                    point[3],
                    point[4],
                    point[5] / 1000.0);
        }
    }

    /**
     * One timeline point: seconds since the load started, accepted, delivered, used heap MB, RSS MB, and the JIT
     * compilers' accumulated time in ms since the JVM started (how long warm-up compiles go on).
     */
    private static long[] point(long seconds, long accepted, long delivered) {
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
        var jit = ManagementFactory.getCompilationMXBean();
        long jitMillis = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
        return new long[] {seconds, accepted, delivered, heap, ResourceMonitor.rssBytes() >> 20, jitMillis};
    }

    private static long processCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
