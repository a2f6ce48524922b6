package io.sluice.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sluice bench load}: the load generator as its own process, so that the process under test spends its CPU
 * on Sluice alone. Hidden: the benches spawn it ({@link LoadProcess}) with the same java and classpath. It speaks
 * on stdout in lines starting with {@link #PREFIX} followed by one JSON object: the window's edges (with this
 * process's CPU time at each), progress every 500 ms, and the result. Logs go to stderr.
 */
@Command(
        name = "load",
        hidden = true,
        description = "Load generator process for the benches (paced, closed-loop or raw producer); JSON on stdout.")
final class LoadCommand implements Callable<Integer> {
    static final String PREFIX = "@load ";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--mode", required = true, description = "paced, closed or raw.")
    String mode;

    @Option(names = "--target", description = "host:port of the collector (paced, closed).")
    String target;

    @Option(names = "--rate", defaultValue = "20000", description = "Events/s (paced).")
    int rate;

    @Option(names = "--batch-size", defaultValue = "100", description = "Events per /v1/batch request.")
    int batchSize;

    @Option(
            names = "--connections",
            defaultValue = "256",
            description = "Connections: at most (paced), exactly (closed).")
    int connections;

    @Option(names = "--first-id", defaultValue = "0", description = "Number of the first messageId.")
    long firstId;

    @Option(names = "--warmup", defaultValue = "0s", converter = BenchCommand.DurationConverter.class)
    Duration warmup;

    @Option(names = "--duration", required = true, converter = BenchCommand.DurationConverter.class)
    Duration duration;

    @Option(names = "--drain", defaultValue = "10s", converter = BenchCommand.DurationConverter.class)
    Duration drain;

    @Option(names = "--topic", description = "Topic (raw).")
    String topic;

    @Option(names = "--producer", description = "Producer property key=value (raw); repeatable.")
    Map<String, String> producer = new HashMap<>();

    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    @Override
    public Integer call() throws Exception {
        Window window = null; // starts once the requests are built: building them is no part of the warm-up
        long startedEpochMillis = 0;
        ObjectNode result = JSON.createObjectNode();
        switch (mode) {
            case "paced", "closed" -> {
                String[] hp = target.split(":");
                PacedLoad load = new PacedLoad(
                        new InetSocketAddress(hp[0], Integer.parseInt(hp[1])),
                        new BenchEvents(),
                        batchSize,
                        rate,
                        connections,
                        firstId);
                if (mode.equals("closed")) load.closedLoop();
                window = Window.after(warmup, duration);
                startedEpochMillis = System.currentTimeMillis();
                ObjectNode edges = watch(window, load::accepted);
                PacedLoad.Result r = load.run(window, drain.toNanos());
                result.put("acceptedEvents", r.acceptedEvents())
                        .put("sentEvents", r.sentEvents())
                        .put("okInWindow", r.okInWindow())
                        .put("errors", r.errors())
                        .put("unfinished", r.unfinished())
                        .put("connectionsUsed", r.connectionsUsed())
                        .put("averageBodyBytes", load.averageBodyBytes());
                result.putPOJO("non200", r.non200());
                latency(result, r.latencyMicros());
                result.setAll(edges);
            }
            case "raw" -> {
                BenchEvents generator = new BenchEvents();
                List<ObjectNode> events = generator.events(4_000);
                List<byte[]> values = generator.eventBodies(events);
                List<byte[]> keys =
                        events.stream().map(BenchEvents::partitionKey).toList();
                Map<String, Object> props = new HashMap<>(producer);
                ObjectNode[] edges = new ObjectNode[1];
                RawProducerLoad.Result r = RawProducerLoad.run(props, topic, values, keys, () -> {
                    Window w = Window.after(warmup, duration);
                    edges[0] = watch(w, () -> 0);
                    return w;
                });
                result.put("acked", r.acked()).put("failed", r.failed());
                latency(result, r.ackLatencyMicros());
                result.setAll(edges[0]);
            }
            default -> throw new IllegalArgumentException("--mode is paced, closed or raw, not " + mode);
        }
        result.put("startedEpochMillis", startedEpochMillis);
        emit(JSON.createObjectNode().set("result", result));
        return 0;
    }

    /**
     * A thread that announces the window's edges (with this process's CPU time and the accepted count at each) and
     * the progress; the returned node gets the edge figures for the result once the window is over.
     */
    private static ObjectNode watch(Window window, LongSupplier accepted) {
        ObjectNode edges = JSON.createObjectNode();
        Thread.ofPlatform().daemon().name("bench-load-watch").start(() -> {
            try {
                long next = System.nanoTime();
                boolean started = false;
                while (true) {
                    long now = System.nanoTime();
                    if (!started && now >= window.start()) {
                        started = true;
                        edges.put("cpuNanosAtStart", OS.getProcessCpuTime())
                                .put("acceptedAtStart", accepted.getAsLong());
                        emit(JSON.createObjectNode().put("edge", "start"));
                    }
                    if (now >= window.end()) {
                        edges.put("cpuNanosAtEnd", OS.getProcessCpuTime())
                                .put("acceptedAtEnd", accepted.getAsLong())
                                .put("windowSeconds", window.seconds());
                        emit(JSON.createObjectNode().put("edge", "end"));
                        window.snapshotTaken();
                        return;
                    }
                    if (now >= next) {
                        emit(JSON.createObjectNode().put("progress", accepted.getAsLong()));
                        next += 500_000_000L;
                    }
                    long wake = Math.min(next, started ? window.end() : window.start());
                    Thread.sleep(Math.max(1, (wake - System.nanoTime()) / 1_000_000));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return edges;
    }

    private static void latency(ObjectNode result, LatencyHistogram h) {
        result.put("latencyCount", h.count())
                .put("p50Micros", h.percentile(50))
                .put("p99Micros", h.percentile(99))
                .put("maxMicros", h.max());
        var buckets = result.putArray("histogram");
        for (long v : h.sparse()) buckets.add(v);
    }

    private static synchronized void emit(ObjectNode line) {
        System.out.println(PREFIX + line);
        System.out.flush();
    }
}
