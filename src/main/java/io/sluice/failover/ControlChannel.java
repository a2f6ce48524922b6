package io.sluice.failover;

import io.sluice.lifecycle.Service;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A database-writing process's link to the control topic: applies {@code db pause}/{@code db resume} to its
 * {@link WriteGate}, and reports its state every second so {@code sluice db pause} can tell when every process is
 * quiesced. It catches up with the topic before the roles start, so a process that starts while paused stays paused.
 */
public final class ControlChannel implements Service {
    private static final Logger log = LoggerFactory.getLogger(ControlChannel.class);
    private static final Duration REPORT_EVERY = Duration.ofSeconds(1);

    private final ControlTopic topic;
    private final String processId;
    private final String roles;
    private final WriteGate gate;
    private final Supplier<String> state;
    private final Supplier<String> lastWriterChange;
    private final Clock clock;
    private volatile boolean running;
    private volatile long appliedPause = -1;
    private Thread thread;

    public ControlChannel(
            ControlTopic topic,
            String processId,
            String roles,
            WriteGate gate,
            Supplier<String> state,
            Supplier<String> lastWriterChange,
            Clock clock) {
        this.topic = topic;
        this.processId = processId;
        this.roles = roles;
        this.gate = gate;
        this.state = state;
        this.lastWriterChange = lastWriterChange;
        this.clock = clock;
    }

    @Override
    public synchronized void start() {
        if (running) return;
        // Report first, then read to the end: a pause requested before this report was stored is read by the
        // catch-up; one requested after it finds this process in the reports and waits for it to quiesce.
        try {
            topic.report(report());
        } catch (Exception e) {
            log.warn("Could not report on the control topic ({}); continuing", e.toString());
        }
        topic.catchUp(Duration.ofSeconds(30));
        apply();
        if (topic.paused()) log.warn("Queue-database writes are paused (sluice db pause); this process starts paused");
        running = true;
        thread = Thread.ofPlatform().name("sluice-control").daemon().start(this::loop);
    }

    private void loop() {
        long nextReport = 0;
        while (running) {
            try {
                topic.poll(Duration.ofMillis(200));
                apply();
                if (System.nanoTime() >= nextReport) {
                    topic.report(report());
                    nextReport = System.nanoTime() + REPORT_EVERY.toNanos();
                }
            } catch (Exception e) {
                if (running)
                    log.warn("Control topic unavailable ({}); keeping the last known pause state", e.toString());
                sleep();
            }
        }
    }

    private void apply() {
        long offset = topic.pauseOffset();
        gate.pause(topic.paused());
        appliedPause = offset;
    }

    ProcessReport report() {
        WriterIdentity writer = gate.writer();
        long applied = appliedPause; // read before the state: a "quiesced" is never credited to a later request
        return new ProcessReport(
                processId,
                roles,
                state.get(),
                writer == null ? null : writer.toString(),
                gate.heldBecause(),
                lastWriterChange.get(),
                clock.instant(),
                applied);
    }

    private static void sleep() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public synchronized void close() {
        if (!running) return;
        running = false;
        try {
            thread.join(Duration.ofSeconds(2));
            topic.forget(processId);
        } catch (Exception e) {
            log.debug("Could not remove this process's report", e);
        }
        topic.close();
    }
}
