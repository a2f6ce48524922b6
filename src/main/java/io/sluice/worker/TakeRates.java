package io.sluice.worker;

import io.sluice.destination.DeliveryReport.EventFailure;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How much of what each destination was sent by this worker it took lately: delivered over delivered plus failed (not
 * counting what was never sent or held back), averaged with weight 0.3 on the newest attempt. A row that keeps
 * failing on an answered error at a destination that {@link #acceptsMost accepts most} of what it is sent holds events it
 * refuses, not a destination that refuses everything (see {@link DeliveryDecision.Rules}).
 */
final class TakeRates {
    private final Map<String, Double> rates = new ConcurrentHashMap<>();

    /** Whether the destination took at least half of what it was sent lately (yes until it was sent anything). */
    boolean acceptsMost(String destination) {
        return rates.getOrDefault(destination, 1.0) >= 0.5;
    }

    void record(String destination, int delivered, List<EventFailure> failures) {
        long failed = failures.stream().filter(f -> f.error().usesAttempt()).count();
        if (delivered + failed == 0) return;
        double rate = (double) delivered / (delivered + failed);
        rates.merge(destination, 0.7 + 0.3 * rate, (old, ignored) -> 0.7 * old + 0.3 * rate);
    }
}
