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
 *
 * <p>Besides, every {@link #TICK} it reads the counters' totals and keeps the last {@link #RECENT_KEPT} of them, so
 * that "what happened in the last few seconds" ({@link #countRecent}, which decides whether a sync is failing) does
 * not wait for the chart's 5 s grid: on that grid an outage that began just after a sample was first averaged with 5 s
 * of deliveries and showed only after the next sample but one. A counter that appears after the first reading
 * (Micrometer registers one at its first increment, e.g. the first failure) starts from 0, so its first increments
 * are counted, not taken as its baseline.
 */
final class MetricHistory implements Service {
    private static final Logger log = LoggerFactory.getLogger(MetricHistory.class);
    static final Duration INTERVAL = Duration.ofSeconds(5);
    /** How often the counters' totals are read for {@link #countRecent}. */
    static final Duration TICK = Duration.ofSeconds(1);
    /** How long those totals are kept: more than any window asked of {@link #countRecent}. */
    static final Duration RECENT_KEPT = Duration.ofSeconds(15);

    static final int POINTS = (int) (Duration.ofHours(1).toSeconds() / INTERVAL.toSeconds());
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A sync's backlog at one moment: events in unfinished batches and the oldest one's age. */
    record Backlog(long events, long ageSeconds) {}

    private final MeterRegistry registry;
    private final Clock clock;
    private final Supplier<Map<String, Backlog>> backlog; // null without a database
    private final Map<String, Deque<double[]>> series = new TreeMap<>();
    private final Map<String, Double> lastTotals = new HashMap<>();
    /** Per counter: [epochMillis, total] of the readings of the last {@link #RECENT_KEPT}. */
    private final Map<String, Deque<double[]>> recentTotals = new HashMap<>();

    private long lastReadingMillis; // 0 before the first reading
    private long lastChartMillis; // 0 before the first chart sample
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
            // at a fixed rate: a slow reading on a loaded machine does not push the later ones back
            long next = System.nanoTime();
            while (running) {
                try {
                    tick();
                } catch (RuntimeException e) {
                    log.debug("Console metric sample failed", e);
                }
                next += TICK.toNanos();
                long wait = next - System.nanoTime();
                if (wait < 0) next = System.nanoTime(); // fell behind: go on from now, no burst of catch-up readings
                try {
                    if (wait > 0) Thread.sleep(Duration.ofNanos(wait));
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /** Reads the counters now, and takes a chart sample when the last is an {@link #INTERVAL} old (the loop's step). */
    synchronized void tick() {
        long now = clock.millis();
        Map<String, Double> totals = totals();
        remember(now, totals);
        // half a tick of slack: readings at a fixed rate land a few ms either side of the interval
        if (lastChartMillis == 0 || now - lastChartMillis >= INTERVAL.toMillis() - TICK.toMillis() / 2)
            chart(now, totals);
    }

    /** Takes one chart sample now (and one reading). */
    synchronized void sample() {
        long now = clock.millis();
        Map<String, Double> totals = totals();
        remember(now, totals);
        chart(now, totals);
    }

    private void chart(long now, Map<String, Double> totals) {
        double seconds = INTERVAL.toMillis() / 1000.0;
        boolean first = lastChartMillis == 0;
        lastChartMillis = now;
        totals.forEach((key, total) -> {
            Double last = lastTotals.put(key, total);
            // a counter new since the last sample was registered by its first increment: all of it is new
            double base = last != null ? last : first ? total : 0;
            add(key, now, Math.max(0, total - base) / seconds);
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

    /** Keeps this reading of every counter for {@link #countRecent}; a counter new since the last reading starts at 0. */
    private void remember(long now, Map<String, Double> totals) {
        long previous = lastReadingMillis;
        lastReadingMillis = now;
        totals.forEach((key, total) -> {
            Deque<double[]> readings = recentTotals.computeIfAbsent(key, k -> new ArrayDeque<>());
            if (readings.isEmpty() && previous != 0) readings.addLast(new double[] {previous, 0});
            readings.addLast(new double[] {now, total});
            // keep one reading at or before the cut-off: it is the baseline of the longest window
            long cutoff = now - RECENT_KEPT.toMillis();
            while (readings.size() > 1) {
                double[] oldest = readings.pollFirst();
                if (readings.peekFirst()[0] > cutoff) {
                    readings.addFirst(oldest);
                    break;
                }
            }
        });
    }

    /**
     * How many a counter counted in about the last {@code window} (at most {@link #RECENT_KEPT}): its latest reading
     * minus the newest reading at least {@code window} older than now (or the oldest kept), 0 if it is unknown.
     */
    synchronized double countRecent(String key, Duration window) {
        Deque<double[]> readings = recentTotals.get(key);
        if (readings == null || readings.isEmpty()) return 0;
        long from = clock.millis() - window.toMillis();
        double base = readings.peekFirst()[1];
        for (double[] r : readings) {
            if (r[0] > from) break;
            base = r[1];
        }
        return Math.max(0, readings.peekLast()[1] - base);
    }

    /** The totals of the counters the console charts, by series name. */
    private Map<String, Double> totals() {
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
        return totals;
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
