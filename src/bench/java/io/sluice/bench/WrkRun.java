package io.sluice.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.collector.EventPublisher;
import io.sluice.embedded.EmbeddedKafka;
import io.sluice.runtime.Sluice;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code sluice bench wrk}: embedded Kafka and a collector in this JVM (so this process's CPU is the collector's and
 * the broker's), and per round each arm in turn: {@code wrk} on /v1/batch, a raw producer in a separate JVM into the
 * collector's own topic, {@code wrk} on /v1/track. Every arm warms up on its own (a wrk run that is thrown away; the
 * producer JVM's own warm-up), so JIT warm-up is excluded from both sides of the ratio.
 */
final class WrkRun {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long NANOS_PER_TICK = 10_000_000L;

    record Options(
            Duration duration,
            Duration warmup,
            int rounds,
            int batchConnections,
            int trackConnections,
            int wrkThreads,
            int batchSize,
            int partitions,
            List<String> arms,
            String wrk,
            String command) {}

    /** One measured arm of one round. */
    record Arm(
            int round,
            String arm,
            double seconds,
            double requestsPerSecond,
            double eventsPerSecond,
            long errors,
            double p50Millis,
            double p99Millis,
            double sluiceCores,
            double loadCores,
            double otherCores,
            double allocatedBytesPerEvent) {}

    private final Options o;
    private final ResourceMonitor monitor = new ResourceMonitor();

    WrkRun(Options options) {
        this.o = options;
    }

    String run() throws Exception {
        String loadBefore = CurveReport.loadAverage();
        Path dir = Files.createTempDirectory("sluice-bench-wrk");
        EmbeddedKafka kafka = new EmbeddedKafka(dir.resolve("kafka"), 0);
        Sluice sluice = null;
        List<Arm> arms = new ArrayList<>();
        try {
            kafka.start();
            sluice = BenchRun.startCollector(kafka.bootstrapServers(), dir, o.partitions());
            URI url = URI.create(sluice.collectorUrl());
            BenchEvents generator = new BenchEvents();
            List<ObjectNode> events = generator.events(4_000);
            byte[] batch = generator.batchBodies(events, o.batchSize()).get(0);
            byte[] track = generator.eventBodies(events).get(0);
            Path batchLua = script(dir, "batch", batch);
            Path trackLua = script(dir, "track", track);
            var collector = sluice.config().collector();
            Map<String, Object> producer = EventPublisher.producerProperties(
                    kafka.bootstrapServers(), collector.ackTimeout(), collector.maxInFlightBytes());
            String topic = sluice.config().kafka().eventsTopic();
            System.out.printf(
                    "wrk %s; /v1/batch body %d bytes (%d events), /v1/track body %d bytes; raw producer into %s; "
                            + "%d rounds of %s, each arm %ds warm-up + %ds measured%n",
                    o.wrk(),
                    batch.length,
                    o.batchSize(),
                    track.length,
                    topic,
                    o.rounds(),
                    o.arms(),
                    o.warmup().toSeconds(),
                    o.duration().toSeconds());
            for (int round = 1; round <= o.rounds(); round++) {
                for (String arm : o.arms()) {
                    Arm a = switch (arm) {
                        case "batch" ->
                            wrk(round, arm, batchLua, url + "/v1/batch", o.batchConnections(), o.batchSize());
                        case "track" -> wrk(round, arm, trackLua, url + "/v1/track", o.trackConnections(), 1);
                        default -> raw(round, dir, producer, topic);
                    };
                    arms.add(a);
                    System.out.printf(
                            Locale.ROOT,
                            "  round %d %-5s %,10.0f events/s (%,.0f req/s), p99 %.1f ms, Sluice JVM %.2f cores, load %.2f cores%n",
                            round,
                            arm,
                            a.eventsPerSecond(),
                            a.requestsPerSecond(),
                            a.p99Millis(),
                            a.sluiceCores(),
                            a.loadCores());
                }
            }
        } finally {
            monitor.close();
            if (sluice != null) sluice.close();
            kafka.close();
            BenchRun.deleteRecursively(dir);
        }
        String summary = WrkReport.render(o, arms, loadBefore);
        System.out.println("\n" + summary);
        return summary;
    }

    /** A Lua script that posts {@code body} with the write key and prints wrk's summary as one JSON line. */
    private static Path script(Path dir, String name, byte[] body) throws Exception {
        Path bodyFile = dir.resolve(name + ".json");
        Files.write(bodyFile, body);
        String auth =
                Base64.getEncoder().encodeToString((BenchEvents.WRITE_KEY + ":").getBytes(StandardCharsets.UTF_8));
        String lua = """
                local f = assert(io.open("%s", "rb"))
                wrk.body = f:read("*a")
                f:close()
                wrk.method = "POST"
                wrk.headers["Content-Type"] = "application/json"
                wrk.headers["Authorization"] = "Basic %s"
                done = function(summary, latency, requests)
                  local e = summary.errors
                  io.write(string.format('WRK_JSON {"requests":%%d,"durationMicros":%%d,"connect":%%d,"read":%%d,' ..
                    '"write":%%d,"status":%%d,"timeout":%%d,"p50Micros":%%d,"p99Micros":%%d}\\n',
                    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
                    latency:percentile(50), latency:percentile(99)))
                end
                """.formatted(bodyFile, auth);
        Path file = dir.resolve(name + ".lua");
        Files.writeString(file, lua);
        return file;
    }

    private Arm wrk(int round, String arm, Path lua, String url, int connections, int eventsPerRequest)
            throws Exception {
        if (!o.warmup().isZero())
            runWrk(lua, url, connections, Math.max(1, o.warmup().toSeconds()));
        long childTicks = childrenTicks();
        long machine = ResourceMonitor.machineBusyNanos();
        long allocated = allocatedBytes();
        monitor.begin();
        JsonNode r = runWrk(lua, url, connections, o.duration().toSeconds());
        ResourceMonitor.Usage usage = monitor.end();
        allocated = allocatedBytes() - allocated;
        double wrkCores = (childrenTicks() - childTicks) * NANOS_PER_TICK / 1e9 / usage.wallSeconds();
        double seconds = r.path("durationMicros").asLong() / 1e6;
        long errors = r.path("connect").asLong()
                + r.path("read").asLong()
                + r.path("write").asLong()
                + r.path("status").asLong()
                + r.path("timeout").asLong();
        long ok = r.path("requests").asLong() - r.path("status").asLong(); // wrk counts non-2xx/3xx as status errors
        double others = Math.max(
                0,
                (ResourceMonitor.machineBusyNanos() - machine) / 1e9 / usage.wallSeconds()
                        - usage.processCores()
                        - wrkCores);
        return new Arm(
                round,
                arm,
                seconds,
                ok / seconds,
                ok * (double) eventsPerRequest / seconds,
                errors,
                r.path("p50Micros").asLong() / 1000.0,
                r.path("p99Micros").asLong() / 1000.0,
                usage.processCores(),
                wrkCores,
                others,
                ok > 0 ? allocated / (ok * (double) eventsPerRequest) : Double.NaN);
    }

    /**
     * Bytes allocated by this JVM's threads so far (virtual threads count on their carriers): allocation per event
     * does not depend on what else the machine runs, unlike CPU per event, so it compares builds on a busy machine.
     */
    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                .getTotalThreadAllocatedBytes();
    }

    private JsonNode runWrk(Path lua, String url, int connections, long seconds) throws Exception {
        Process p = new ProcessBuilder(
                        o.wrk(),
                        "-t",
                        Integer.toString(Math.min(o.wrkThreads(), connections)),
                        "-c",
                        Integer.toString(connections),
                        "-d",
                        seconds + "s",
                        "--timeout",
                        "10s",
                        "-s",
                        lua.toString(),
                        url)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("wrk did not finish");
        }
        for (String line : out.split("\n")) {
            if (line.startsWith("WRK_JSON ")) return JSON.readTree(line.substring(9));
        }
        throw new IllegalStateException("wrk failed (exit " + p.exitValue() + "): " + out.strip());
    }

    private Arm raw(int round, Path dir, Map<String, Object> producer, String topic) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "--mode",
                "raw",
                "--topic",
                topic,
                "--warmup",
                o.warmup().toMillis() + "ms",
                "--duration",
                o.duration().toMillis() + "ms"));
        args.addAll(LoadProcess.producerArgs(producer));
        Duration bound = o.warmup().plus(o.duration()).plusSeconds(60);
        try (LoadProcess load = LoadProcess.start(args, dir.resolve("raw-" + round + ".log"))) {
            load.awaitWindowStart(bound);
            long machine = ResourceMonitor.machineBusyNanos();
            long loadCpu = PostgresCpu.cpuNanosOf(load.pid());
            long allocated = allocatedBytes();
            monitor.begin();
            load.awaitWindowEnd(bound);
            ResourceMonitor.Usage usage = monitor.end();
            allocated = allocatedBytes() - allocated;
            double loadCores = (PostgresCpu.cpuNanosOf(load.pid()) - loadCpu) / 1e9 / usage.wallSeconds();
            double others = Math.max(
                    0,
                    (ResourceMonitor.machineBusyNanos() - machine) / 1e9 / usage.wallSeconds()
                            - usage.processCores()
                            - loadCores);
            JsonNode r = load.result(bound);
            double seconds = r.path("windowSeconds").asDouble();
            double rate = r.path("acked").asLong() / seconds;
            return new Arm(
                    round,
                    "raw",
                    seconds,
                    Double.NaN,
                    rate,
                    r.path("failed").asLong(),
                    r.path("p50Micros").asLong() / 1000.0,
                    r.path("p99Micros").asLong() / 1000.0,
                    usage.processCores(),
                    loadCores,
                    others,
                    r.path("acked").asLong() > 0
                            ? allocated / (double) r.path("acked").asLong()
                            : Double.NaN);
        }
    }

    /** CPU ticks of this process's children that have exited and been waited for (cutime + cstime). */
    private static long childrenTicks() throws Exception {
        String s = Files.readString(Path.of("/proc/self/stat"));
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }

    static String today() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
