package io.sluice.console;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;

/**
 * A sync's state as the console names it, from what its queue holds and what its deliveries did lately. The rule
 * that matters: some failures among mostly successful deliveries (a normal 6 % error rate) are "retrying", a
 * destination that takes almost nothing (or an open circuit) is "failing", and a backlog the planner cannot record
 * (database writes held) is "held" — never "idle".
 */
final class SyncHealth {
    /** The window over which deliveries and failures are counted. */
    static final Duration WINDOW = Duration.ofMinutes(1);
    /**
     * The window that decides "failing", from the counters read every second ({@link MetricHistory#countRecent}), not
     * from the chart's 5 s samples, so an outage and its end show within 10 s wherever they fall between samples.
     */
    static final Duration RECENT = Duration.ofSeconds(5);
    /** At or above this failure rate (or with nothing delivered) failures are an outage, not noise. */
    static final double FAILING_RATE = 0.5;

    private SyncHealth() {}

    /** Deliveries and failures of the last {@link #WINDOW} and {@link #RECENT} (dead letters, function errors: 5 min). */
    record Stats(
            double delivered,
            double failed,
            double retriedEvents,
            double deadLettered5m,
            double functionErrors5m,
            double recentDelivered,
            double recentFailed) {
        Stats(double delivered, double failed, double retried, double dead, double functionErrors) {
            this(delivered, failed, retried, dead, functionErrors, delivered, failed);
        }

        /** Failures over all attempts in the last {@link #RECENT}, 0 to 1. */
        double recentFailureRate() {
            double all = recentDelivered + recentFailed;
            return all == 0 ? 0 : recentFailed / all;
        }

        /** Failures over all attempts, 0 to 1 (0 when there were none). */
        double failureRate() {
            double all = delivered + failed;
            return all == 0 ? 0 : failed / all;
        }

        void write(ObjectNode out) {
            out.put("errorRatePercent", Math.round(failureRate() * 1000) / 10.0)
                    .put("delivered1m", Math.round(delivered))
                    .put("failed1m", Math.round(failed))
                    .put("recentErrorRatePercent", Math.round(recentFailureRate() * 1000) / 10.0)
                    .put("retriedEvents1m", Math.round(retriedEvents))
                    .put("deadLettered5m", Math.round(deadLettered5m))
                    .put("functionErrors5m", Math.round(functionErrors5m));
        }
    }

    /**
     * Delivered counts events; failed counts events refused (handed to the retry queue or dead-lettered, as an
     * event-by-event webhook reports them) plus whole batches that failed (waiting as their row, or dead).
     */
    static Stats stats(MetricHistory history, String sync) {
        String p = "sync." + sync + ".";
        Duration five = Duration.ofMinutes(5);
        return new Stats(
                history.countWithin(p + "delivered", WINDOW),
                failed(history, p, WINDOW),
                history.countWithin(p + "retried", WINDOW),
                history.countWithin(p + "dead", five),
                history.countWithin(p + "functionErrors", five),
                history.countRecent(p + "delivered", RECENT),
                history.countRecent(p + "retried", RECENT)
                        + history.countRecent(p + "dead", RECENT)
                        + history.countRecent(p + "batches.retried", RECENT)
                        + history.countRecent(p + "batches.dead", RECENT));
    }

    private static double failed(MetricHistory history, String p, Duration window) {
        return history.countWithin(p + "retried", window)
                + history.countWithin(p + "dead", window)
                + history.countWithin(p + "batches.retried", window)
                + history.countWithin(p + "batches.dead", window);
    }

    static String state(
            boolean paused, boolean databaseHeld, boolean circuitOpen, boolean queueFailing, long lag, Stats stats) {
        if (paused) return "paused";
        if (circuitOpen) return "failing";
        if (stats.recentFailed() > 0 && (stats.recentDelivered() == 0 || stats.recentFailureRate() >= FAILING_RATE))
            return "failing";
        if (databaseHeld && lag > 0) return "held";
        // failures in the last minute but none lately: over (the rate stays in the row for the minute)
        if (queueFailing || stats.recentFailed() > 0) return "retrying";
        return lag > 0 ? "delivering" : "idle";
    }
}
