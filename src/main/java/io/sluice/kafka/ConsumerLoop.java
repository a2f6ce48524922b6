package io.sluice.kafka;

import io.sluice.lifecycle.Service;
import io.sluice.retry.Recovery;
import io.sluice.retry.RetryPolicy;
import java.time.Clock;
import java.time.Duration;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The poll loop of a group consumer that stores what it reads (the planner, the violation writer): one named thread
 * calls {@link Body#pollOnce()} until closed; an unexpected failure is logged and the loop backs off by
 * {@link RetryPolicy#RECOVERY} (time from the injected clock) instead of spinning; {@link #close()} wakes the
 * consumer, lets the body finish ({@link Body#beforeClose()}) and closes the consumer on the loop's own thread,
 * since a KafkaConsumer must only be used by one thread.
 */
public final class ConsumerLoop implements Service {
    private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(5);

    /** What the loop runs. */
    public interface Body {
        /** One poll and whatever follows from it; may throw {@link WakeupException} when the loop is closed. */
        void pollOnce() throws Exception;

        /** Last work before the consumer closes (e.g. one more flush); runs on the loop's thread. */
        default void beforeClose() {}
    }

    private final String name;
    private final Consumer<?, ?> consumer;
    private final Body body;
    private final Recovery recovery;
    private Thread thread;
    private volatile boolean running;

    public ConsumerLoop(String name, Consumer<?, ?> consumer, Body body, Clock clock) {
        this.name = name;
        this.consumer = consumer;
        this.body = body;
        this.recovery = RetryPolicy.RECOVERY.recovery(clock);
    }

    @Override
    public synchronized void start() {
        if (thread != null) return;
        running = true;
        thread = Thread.ofPlatform().name(name).start(this::run);
    }

    public boolean running() {
        return running;
    }

    private void run() {
        while (running) {
            try {
                body.pollOnce();
                recovery.succeeded();
            } catch (WakeupException e) {
                if (running) log.warn("{} woken unexpectedly", name);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Exception e) {
                Duration delay = recovery.failed();
                log.error("{} loop failed; continuing in {} ms", name, delay.toMillis(), e);
                sleep(delay);
            }
        }
        try {
            body.beforeClose();
        } catch (RuntimeException e) {
            log.warn("{} did not finish cleanly", name, e);
        }
        try {
            consumer.close(CLOSE_TIMEOUT);
        } catch (RuntimeException e) {
            log.warn("{} consumer did not close cleanly", name, e);
        }
    }

    private void sleep(Duration delay) {
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            t = thread;
            if (t == null || !running) return;
            running = false;
        }
        consumer.wakeup();
        try {
            t.join(JOIN_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
