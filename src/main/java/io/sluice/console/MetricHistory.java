package io.sluice.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.sluice.lifecycle.Service;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's charts without a Prometheus: every {@link #INTERVAL} it turns this process's counters into rates
 * (events/s accepted and rejected per source, delivered and dead-lettered per sync), the end-to-end latency histogram
 * into the window's p50/p99, and adds the queue's backlog per sync (when a database is used). Each series keeps the
 * last hour: {@link #POINTS} points, so memory is bounded whatever runs.
 */
final class MetricHistory implements Service {
    private static final Logger log = LoggerFactory.getLogger(MetricHistory.class);
    static final Duration INTERVAL = Duration.ofSeconds(5);
    static final int POINTS = (int) (Duration.ofHours(1).toSeconds() / INTERVAL.toSeconds());
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A sync's backlog at one moment: events in unfinished batches and the oldest one's age. */
    record Backlog(long events, long ageSeconds) {}

    private final MeterRegistry registry;
    private final Clock clock;
    private final Supplier<Map<String, Backlog>> backlog; // null without a database
    private final Map<String, Deque<double[]>> series = new TreeMap<>();
    private final Map<String, Double> lastTotals = new HashMap<>();
    private double[] lastLatencyCounts;
    private volatile boolean running;
    private Thread thread;

    MetricHistory(MeterRegistry registry, Clock clock, Supplier<Map<String, Backlog>> backlog) {
        this.registry = registry;
        this.clock = clock;
        this.backlog = backlog;
    }

    @Override
    public synchronized void start() {
        if (running) return;
        running = true;
        thread = Thread.ofVirtual().name("sluice-console-history").start(() -> {
            while (running) {
                try {
                    sample();
                } catch (RuntimeException e) {
                    log.debug("Console metric sample failed", e);
                }
                try {
                    Thread.sleep(INTERVAL);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /** Takes one sample now (the loop calls it every interval). */
    synchronized void sample() {
        long now = clock.millis();
        double seconds = INTERVAL.toMillis() / 1000.0;
        Map<String, Double> totals = new HashMap<>();
        for (Counter c : registry.find("sluice.collector.events").counters()) {
            String source = c.getId().getTag("source");
            String key = "accepted".equals(c.getId().getTag("outcome"))
                    ? "source." + source + ".accepted"
                    : "source." + source + ".rejected";
            totals.merge(key, c.count(), Double::sum);
        }
        for (Counter c : registry.find("sluice.delivery.events").counters())
            totals.merge("sync." + c.getId().getTag("sync") + ".delivered", c.count(), Double::sum);
        for (Counter c : registry.find("sluice.delivery.events.dead").counters())
            totals.merge("sync." + c.getId().getTag("sync") + ".dead", c.count(), Double::sum);
        for (Counter c : registry.find("sluice.delivery.events.retried").counters())
            totals.merge("sync." + c.getId().getTag("sync") + ".retried", c.count(), Double::sum);
        // batch outcomes: delivered, retried (waits as its row) or dead; the failure rate is taken from them
        for (Counter c : registry.find("sluice.delivery.batches").counters())
            totals.merge(
                    "sync." + c.getId().getTag("sync") + ".batches." + c.getId().getTag("outcome"),
                    c.count(),
                    Double::sum);
        for (Counter c : registry.find("sluice.function.errors").counters())
            totals.merge("sync." + c.getId().getTag("sync") + ".functionErrors", c.count(), Double::sum);
        totals.forEach((key, total) -> {
            Double last = lastTotals.put(key, total);
            add(key, now, last == null ? 0 : Math.max(0, total - last) / seconds);
        });
        latency(now);
        if (backlog != null) {
            try {
                backlog.get().forEach((sync, b) -> {
                    add("sync." + sync + ".backlog", now, b.events());
                    add("sync." + sync + ".age", now, b.ageSeconds());
                });
            } catch (RuntimeException e) {
                log.debug("Backlog sample failed", e);
            }
        }
    }

    /** p50 and p99 of the end-to-end latency over the last interval, from the histogram's bucket counts. */
    private void latency(long now) {
        Timer timer = registry.find("sluice.delivery.end.to.end").timer();
        if (timer == null) return;
        CountAtBucket[] buckets = timer.takeSnapshot().histogramCounts();
        double[] counts = new double[buckets.length];
        for (int i = 0; i < buckets.length; i++) counts[i] = buckets[i].count();
        double[] previous = lastLatencyCounts;
        lastLatencyCounts = counts;
        if (previous == null || previous.length != counts.length || counts.length == 0) return;
        double total = counts[counts.length - 1] - previous[previous.length - 1];
        if (total <= 0) return;
        add("latency.p50", now, percentile(buckets, counts, previous, total, 0.50));
        add("latency.p99", now, percentile(buckets, counts, previous, total, 0.99));
    }

    /** The upper bound (in ms) of the first bucket holding the q-th event of the window; buckets are cumulative. */
    private static double percentile(
            CountAtBucket[] buckets, double[] counts, double[] previous, double total, double q) {
        for (int i = 0; i < buckets.length; i++) {
            if (counts[i] - previous[i] >= q * total) return buckets[i].bucket(TimeUnit.MILLISECONDS);
        }
        return buckets[buckets.length - 1].bucket(TimeUnit.MILLISECONDS);
    }

    private void add(String key, long at, double value) {
        Deque<double[]> points = series.computeIfAbsent(key, k -> new ArrayDeque<>());
        points.addLast(new double[] {at, value});
        while (points.size() > POINTS) points.removeFirst();
    }

    /** Every series whose name starts with {@code prefix}: {"name": [[epochMillis, value], ...]}. */
    synchronized ObjectNode toJson(String prefix) {
        ObjectNode out = JSON.createObjectNode();
        series.forEach((key, points) -> {
            if (!key.startsWith(prefix)) return;
            ArrayNode array = out.putArray(key);
            for (double[] p : points) array.addArray().add((long) p[0]).add(Math.round(p[1] * 100) / 100.0);
        });
        return out;
    }

    /** How many happened in the last {@code window} of a rate series (rate × interval, summed), or 0. */
    synchronized double countWithin(String key, Duration window) {
        Deque<double[]> points = series.get(key);
        if (points == null) return 0;
        long from = clock.millis() - window.toMillis();
        double count = 0;
        for (double[] p : points) if (p[0] > from) count += p[1] * INTERVAL.toSeconds();
        return count;
    }

    /** When the last sample was taken (epoch millis), or 0 before the first. */
    synchronized long lastSampleMillis() {
        long last = 0;
        for (Deque<double[]> points : series.values())
            if (!points.isEmpty()) last = Math.max(last, (long) points.peekLast()[0]);
        return last;
    }

    /** The latest value of a series, or 0. */
    synchronized double latest(String key) {
        Deque<double[]> points = series.get(key);
        return points == null || points.isEmpty() ? 0 : points.peekLast()[1];
    }

    @Override
    public synchronized void close() {
        running = false;
        if (thread != null) thread.interrupt();
    }
}
