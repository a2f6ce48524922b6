package io.sluice.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@code sluice bench load} child process (same java binary and classpath as this one; its own small heap and
 * serial GC, so it costs little CPU), and what it reports on stdout: the window's edges, progress and the result.
 * Its stderr goes to a log file. The bench takes its own snapshots when the child announces an edge; the few
 * milliseconds of pipe latency are noise against windows of seconds.
 */
final class LoadProcess implements AutoCloseable {
    /** Kept small and cheap: the generator needs a few MB of templates and no throughput GC. */
    static final List<String> JVM_OPTIONS = List.of("-Xms128m", "-Xmx256m", "-XX:+UseSerialGC");

    private static final ObjectMapper JSON = new ObjectMapper();
    private final Process process;
    private final Path log;
    private final CompletableFuture<JsonNode> started = new CompletableFuture<>();
    private final CompletableFuture<JsonNode> ended = new CompletableFuture<>();
    private final CompletableFuture<JsonNode> result = new CompletableFuture<>();
    private volatile long progress;

    private LoadProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
        Thread.ofPlatform().daemon().name("bench-load-reader").start(this::read);
    }

    /** Starts {@code sluice bench load <args>}; its stderr goes to {@code log}. */
    static LoadProcess start(List<String> args, Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(javaBinary());
        command.addAll(JVM_OPTIONS);
        command.addAll(
                List.of("-cp", System.getProperty("java.class.path"), "io.sluice.cli.SluiceCli", "bench", "load"));
        command.addAll(args);
        Process p = new ProcessBuilder(command)
                .redirectError(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        return new LoadProcess(p, log);
    }

    /** This JVM's own java binary, so the child runs on the same JDK. */
    static String javaBinary() {
        return ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** Arguments {@code --producer k=v} for a raw child from producer properties. */
    static List<String> producerArgs(Map<String, Object> properties) {
        List<String> args = new ArrayList<>();
        new TreeMap<>(properties).forEach((k, v) -> args.addAll(List.of("--producer", k + "=" + v)));
        return args;
    }

    long pid() {
        return process.pid();
    }

    /** The child's last reported count of events answered 200 (every 500 ms). */
    long accepted() {
        return progress;
    }

    void awaitWindowStart(Duration timeout) throws Exception {
        await(started, timeout, "announce its window start");
    }

    void awaitWindowEnd(Duration timeout) throws Exception {
        await(ended, timeout, "announce its window end");
    }

    JsonNode result(Duration timeout) throws Exception {
        JsonNode r = await(result, timeout, "report its result");
        process.waitFor(10, TimeUnit.SECONDS);
        return r;
    }

    boolean windowStarted() {
        failIfGone();
        return started.isDone();
    }

    boolean windowEnded() {
        failIfGone();
        return ended.isDone();
    }

    private void failIfGone() {
        if (result.isCompletedExceptionally())
            throw new IllegalStateException("the load process ended early (exit "
                    + (process.isAlive() ? "?" : process.exitValue()) + "; see " + log + ")");
    }

    /** The latency histogram a result carries. */
    static LatencyHistogram histogram(JsonNode r) {
        JsonNode h = r.path("histogram");
        long[] sparse = new long[h.size()];
        for (int i = 0; i < sparse.length; i++) sparse[i] = h.get(i).asLong();
        return LatencyHistogram.of(sparse, r.path("maxMicros").asLong());
    }

    /** A paced/closed child's result in the in-process load's terms, for the report. */
    static PacedLoad.Result pacedResult(JsonNode r) {
        Map<Integer, Long> non200 = new TreeMap<>();
        r.path("non200")
                .properties()
                .forEach(e ->
                        non200.put(Integer.parseInt(e.getKey()), e.getValue().asLong()));
        return new PacedLoad.Result(
                r.path("acceptedEvents").asLong(),
                r.path("sentEvents").asLong(),
                r.path("okInWindow").asLong(),
                non200,
                r.path("errors").asLong(),
                r.path("unfinished").asLong(),
                r.path("connectionsUsed").asInt(),
                histogram(r));
    }

    /** Cores the child used over its own window (CPU time between the edges it reported). */
    static double windowCores(JsonNode r) {
        return (r.path("cpuNanosAtEnd").asLong() - r.path("cpuNanosAtStart").asLong())
                / 1e9
                / r.path("windowSeconds").asDouble(Double.NaN);
    }

    private JsonNode await(CompletableFuture<JsonNode> f, Duration timeout, String what) throws Exception {
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the load process did not " + what + " within " + timeout.toSeconds()
                    + " s (alive: " + process.isAlive() + "; see " + log + ")");
        } catch (java.util.concurrent.ExecutionException e) {
            process.waitFor(5, TimeUnit.SECONDS);
            throw new IllegalStateException(
                    e.getCause().getMessage() + " (exit " + (process.isAlive() ? "?" : process.exitValue())
                            + "); the end of its log " + log + ":\n" + logTail(),
                    e.getCause());
        }
    }

    /** The last lines of the child's log (the bench's temp dir, and so the log, is removed at the end). */
    private String logTail() {
        try {
            List<String> lines = java.nio.file.Files.readAllLines(log).stream()
                    .filter(l -> !l.startsWith("WARNING:"))
                    .toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private void read() {
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.startsWith(LoadCommand.PREFIX)) continue;
                JsonNode n = JSON.readTree(line.substring(LoadCommand.PREFIX.length()));
                if (n.has("progress")) progress = n.get("progress").asLong();
                else if ("start".equals(n.path("edge").asText())) started.complete(n);
                else if ("end".equals(n.path("edge").asText())) ended.complete(n);
                else if (n.has("result")) result.complete(n.get("result"));
            }
        } catch (IOException e) {
            // the stream ends with the process; the futures below say what was missing
        }
        IllegalStateException gone = new IllegalStateException("the load process ended early");
        started.completeExceptionally(gone);
        ended.completeExceptionally(gone);
        result.completeExceptionally(gone);
    }

    @Override
    public void close() {
        if (process.isAlive()) process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS); // reaped now, so its CPU never lands in a later child's figures
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
