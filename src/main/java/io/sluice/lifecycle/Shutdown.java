package io.sluice.lifecycle;

import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Closes services one after another, each within what is left of a total budget, logging any that overrun. */
public final class Shutdown {
    private static final Logger log = LoggerFactory.getLogger(Shutdown.class);

    private Shutdown() {}

    public static void closeInOrder(List<Named> services, Duration budget) {
        long deadline = System.nanoTime() + budget.toNanos();
        for (Named named : services) {
            long left = Math.max(
                    deadline - System.nanoTime(), Duration.ofMillis(200).toNanos());
            Thread closer = Thread.ofVirtual().name("close-" + named.name()).start(() -> {
                try {
                    named.service().close();
                } catch (Exception e) {
                    log.warn("{} did not close cleanly", named.name(), e);
                }
            });
            try {
                if (!closer.join(Duration.ofNanos(left))) {
                    log.warn("{} did not stop within the shutdown budget; moving on", named.name());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    public record Named(String name, AutoCloseable service) {}
}
