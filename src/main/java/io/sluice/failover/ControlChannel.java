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
    private Thread thread;

    public ControlChannel(ControlTopic topic, String processId, String roles, WriteGate gate, Supplier<String> state,
                          Supplier<String> lastWriterChange, Clock clock) {
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
        topic.catchUp(Duration.ofSeconds(30));
        gate.pause(topic.paused());
        if (topic.paused()) log.warn("Queue-database writes are paused (sluice db pause); this process starts paused");
        running = true;
        thread = Thread.ofPlatform().name("sluice-control").daemon().start(this::loop);
    }

    private void loop() {
        long nextReport = 0;
        while (running) {
            try {
                topic.poll(Duration.ofMillis(200));
                gate.pause(topic.paused());
                if (System.nanoTime() >= nextReport) {
                    topic.report(report());
                    nextReport = System.nanoTime() + REPORT_EVERY.toNanos();
                }
            } catch (Exception e) {
                if (running) log.warn("Control topic unavailable ({}); keeping the last known pause state", e.toString());
                sleep();
            }
        }
    }

    ProcessReport report() {
        WriterIdentity writer = gate.writer();
        return new ProcessReport(processId, roles, state.get(), writer == null ? null : writer.toString(), gate.heldBecause(),
                lastWriterChange.get(), clock.instant());
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
