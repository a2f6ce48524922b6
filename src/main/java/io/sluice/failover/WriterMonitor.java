package io.sluice.failover;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.sluice.lifecycle.Service;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches who the writer is, once per interval: through the cluster endpoint (feeding the {@link WriteGate}) and,
 * when {@code postgres.instances} are configured, each instance directly. Raises alarms (ERROR log + metrics):
 * two instances claim the writer role at once, the endpoint answers as a non-writer, the writer changed.
 */
public final class WriterMonitor implements Service {
    private static final Logger log = LoggerFactory.getLogger(WriterMonitor.class);

    private final ServerProbe endpoint;
    private final String endpointLabel;
    private final Map<String, ServerProbe> instances = new LinkedHashMap<>();
    private final Map<String, AtomicInteger> instanceWriter = new LinkedHashMap<>();
    private final WriteGate gate;
    private final Duration interval;
    private final MeterRegistry registry;
    private final Clock clock;
    private final Alarms alarms;
    private final AtomicInteger endpointWriter = new AtomicInteger();
    private final Counter writerChanges;
    private String lastWriter;
    private volatile String lastChange;
    /** Each instance's role at the last round: writer, reader or unreachable (for the console). */
    private final Map<String, String> roles = new ConcurrentHashMap<>();
    /** The writer changes seen by this process, oldest first, bounded. */
    private final Deque<WriterChange> history = new ConcurrentLinkedDeque<>();

    private static final int HISTORY = 50;

    /** A writer change: from (null for the first writer seen) to, at. */
    public record WriterChange(String from, String to, Instant at) {}

    private volatile boolean running;
    private Thread thread;

    public WriterMonitor(
            String endpointUrl,
            List<String> instanceUrls,
            String user,
            String password,
            WriteGate gate,
            Duration interval,
            MeterRegistry registry,
            Clock clock) {
        this.clock = clock;
        this.endpoint = new ServerProbe(endpointUrl, user, password);
        this.endpointLabel = ServerProbe.label(endpointUrl);
        for (String url : instanceUrls) {
            String label = ServerProbe.label(url);
            instances.put(label, new ServerProbe(url, user, password));
            instanceWriter.put(
                    label,
                    registry.gauge(
                            "sluice.db.instance.writer", List.of(Tag.of("instance", label)), new AtomicInteger()));
        }
        this.gate = gate;
        this.interval = interval;
        this.registry = registry;
        this.alarms = new Alarms(registry);
        registry.gauge("sluice.db.endpoint.writer", endpointWriter);
        this.writerChanges = Counter.builder("sluice.db.writer.changes")
                .description("Times the writer instance changed")
                .register(registry);
    }

    @Override
    public synchronized void start() {
        if (running) return;
        running = true;
        thread = Thread.ofVirtual().name("sluice-writer-monitor").start(() -> {
            while (running) {
                try {
                    checkOnce();
                } catch (RuntimeException e) {
                    log.warn("Writer monitor check failed; continuing", e);
                }
                try {
                    Thread.sleep(interval);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /** One round: the endpoint, then every instance. Public for tests that drive it step by step. */
    public void checkOnce() {
        try {
            ServerProbe.Answer answer = endpoint.ask();
            endpointWriter.set(answer.writable() ? 1 : 0);
            roles.put("endpoint", answer.writable() ? "writer" : "reader");
            gate.observe(answer.identity(), answer.writable());
            alarms.set(
                    Alarms.ENDPOINT_NOT_WRITER,
                    !answer.writable(),
                    "the cluster endpoint answers as a non-writer (" + answer.identity()
                            + "): writes through it fail with 25006");
        } catch (SQLException e) {
            endpointWriter.set(0);
            roles.put("endpoint", "unreachable");
            gate.observe(null, false);
        }
        if (instances.isEmpty()) return;
        List<String> writers = new ArrayList<>();
        instances.forEach((label, probe) -> {
            boolean writer = false;
            try {
                writer = probe.ask().writable();
                count(label, "ok");
                roles.put(label, writer ? "writer" : "reader");
            } catch (SQLException e) {
                count(label, e.getSQLState() == null ? "none" : e.getSQLState());
                roles.put(label, "unreachable");
            }
            instanceWriter.get(label).set(writer ? 1 : 0);
            if (writer) writers.add(label);
        });
        alarms.set(
                Alarms.SPLIT_WRITER,
                writers.size() > 1,
                "instances " + writers + " all accept writes at once (split brain)");
        if (writers.size() == 1 && !writers.get(0).equals(lastWriter)) {
            history.addLast(new WriterChange(lastWriter, writers.get(0), clock.instant()));
            while (history.size() > HISTORY) history.pollFirst();
            if (lastWriter != null) {
                writerChanges.increment();
                lastChange = lastWriter + " -> " + writers.get(0) + " at " + clock.instant();
                alarms.fire(Alarms.WRITER_CHANGED, "the writer changed from " + lastWriter + " to " + writers.get(0));
                gate.writerLost("the writer changed to " + writers.get(0));
            }
            lastWriter = writers.get(0);
        }
    }

    private void count(String instance, String outcome) {
        Counter.builder("sluice.db.instance.queries")
                .description("Monitor queries per instance, by SQLSTATE outcome")
                .tag("instance", instance)
                .tag("outcome", outcome)
                .register(registry)
                .increment();
    }

    /** The instance that last answered as the only writer, or null. */
    public String lastWriter() {
        return lastWriter;
    }

    /** The most recent writer change seen, e.g. "a:5432 -> b:5432 at 2026-…", or null. */
    public String lastChange() {
        return lastChange;
    }

    /** The configured instances (label → writer / reader / unreachable; "unknown" before the first round). */
    public Map<String, String> instanceRoles() {
        Map<String, String> out = new LinkedHashMap<>();
        instances.keySet().forEach(label -> out.put(label, roles.getOrDefault(label, "unknown")));
        return out;
    }

    /** The cluster endpoint (host:port) and what it answered at the last round: writer, reader, unreachable. */
    public String endpointLabel() {
        return endpointLabel;
    }

    public String endpointRole() {
        return roles.getOrDefault("endpoint", "unknown");
    }

    /** The writer changes this process saw (the first writer seen included), oldest first, at most 50. */
    public List<WriterChange> history() {
        return List.copyOf(history);
    }

    public Alarms alarms() {
        return alarms;
    }

    @Override
    public synchronized void close() {
        running = false;
        if (thread != null) thread.interrupt();
    }
}
