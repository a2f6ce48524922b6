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
    /** The window that decides "failing": the last sample (taken every 5 s), so an outage and its end show within 10 s. */
    static final Duration RECENT = Duration.ofSeconds(6);
    /** At or above this failure rate (or with nothing delivered) failures are an outage, not noise. */
    static final double FAILING_RATE = 0.5;

    private SyncHealth() {}

    /** Batch outcomes and event counts of the last {@link #WINDOW} (dead letters and function errors: 5 min). */
    record Stats(
            double deliveredBatches,
            double failedBatches,
            double retriedEvents,
            double deadLettered5m,
            double functionErrors5m,
            double recentDelivered,
            double recentFailed) {
        Stats(double delivered, double failed, double retried, double dead, double functionErrors) {
            this(delivered, failed, retried, dead, functionErrors, delivered, failed);
        }

        /** Failed batch attempts over all in the last {@link #RECENT}, 0 to 1. */
        double recentFailureRate() {
            double all = recentDelivered + recentFailed;
            return all == 0 ? 0 : recentFailed / all;
        }

        /** Failed batch attempts over all, 0 to 1 (0 when there were none). */
        double failureRate() {
            double all = deliveredBatches + failedBatches;
            return all == 0 ? 0 : failedBatches / all;
        }

        void write(ObjectNode out) {
            out.put("errorRatePercent", Math.round(failureRate() * 1000) / 10.0)
                    .put("deliveredBatches1m", Math.round(deliveredBatches))
                    .put("failedBatches1m", Math.round(failedBatches))
                    .put("recentErrorRatePercent", Math.round(recentFailureRate() * 1000) / 10.0)
                    .put("retriedEvents1m", Math.round(retriedEvents))
                    .put("deadLettered5m", Math.round(deadLettered5m))
                    .put("functionErrors5m", Math.round(functionErrors5m));
        }
    }

    static Stats stats(MetricHistory history, String sync) {
        String p = "sync." + sync + ".";
        Duration five = Duration.ofMinutes(5);
        return new Stats(
                history.countWithin(p + "batches.delivered", WINDOW),
                history.countWithin(p + "batches.retried", WINDOW) + history.countWithin(p + "batches.dead", WINDOW),
                history.countWithin(p + "retried", WINDOW),
                history.countWithin(p + "dead", five),
                history.countWithin(p + "functionErrors", five),
                history.countWithin(p + "batches.delivered", RECENT),
                history.countWithin(p + "batches.retried", RECENT) + history.countWithin(p + "batches.dead", RECENT));
    }

    static String state(
            boolean paused, boolean databaseHeld, boolean circuitOpen, boolean queueFailing, long lag, Stats stats) {
        if (paused) return "paused";
        if (circuitOpen) return "failing";
        if (stats.recentFailed() > 0 && (stats.recentDelivered() == 0 || stats.recentFailureRate() >= FAILING_RATE))
            return "failing";
        if (databaseHeld && lag > 0) return "held";
        // failures in the last minute but none lately: over (the rate stays in the row for the minute)
        if (queueFailing || stats.recentFailed() > 0 || stats.retriedEvents() > 0) return "retrying";
        return lag > 0 ? "delivering" : "idle";
    }
}
