package io.sluice.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.support.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * How fast the console sees a failing sync (the cause of ConsoleOutageBrowserTest's flake): the failure counters are
 * registered at their first increment, and the state was read from the chart's 5 s samples. Both are driven here on
 * a hand-moved clock, with real Micrometer counters and the real {@link SyncHealth} rule.
 */
class MetricHistoryTest {
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    final MetricHistory history = new MetricHistory(registry, clock, null);

    @Test
    void aCounterThatAppearsAfterTheFirstSampleCountsFromZeroNotFromItsFirstTotal() {
        delivered(10);
        history.sample();
        clock.tick(MetricHistory.INTERVAL);
        batchesRetried(7); // registered by this first failure
        history.sample();
        assertThat(history.countWithin("sync.s.batches.retried", Duration.ofMinutes(1)))
                .as("the first failures are counted, not taken as the counter's baseline")
                .isEqualTo(7);
        assertThat(history.countRecent("sync.s.batches.retried", SyncHealth.RECENT))
                .isEqualTo(7);
    }

    @Test
    void countersPresentAtTheFirstReadingAreItsBaseline() {
        delivered(500); // counted before the console started
        history.sample();
        assertThat(history.countWithin("sync.s.delivered", Duration.ofMinutes(1)))
                .isZero();
        assertThat(history.countRecent("sync.s.delivered", SyncHealth.RECENT)).isZero();
    }

    @Test
    void anOutageThatStartsJustAfterAChartSampleIsFailingWithinSecondsNotAfterTheNextSampleButOne() {
        // 5 events/s delivered, one chart sample every 5 s and a reading every second, as the loop does
        for (int s = 0; s < 20; s++) second(5, 0);
        assertThat(state()).isEqualTo("delivering");
        // the outage starts just after a chart sample: from now on 4 failed attempts per second, nothing delivered
        int seconds = 0;
        while (!"failing".equals(state())) {
            second(0, 4);
            seconds++;
            assertThat(seconds).as("seconds until failing").isLessThanOrEqualTo(4);
        }
        // and its end: deliveries again, no failures
        seconds = 0;
        while ("failing".equals(state())) {
            second(5, 0);
            seconds++;
            assertThat(seconds).as("seconds until no longer failing").isLessThanOrEqualTo(3);
        }
    }

    @Test
    void readingsOlderThanTheKeptSpanAreDroppedButTheBaselineStays() {
        for (int s = 0; s < 60; s++) second(1, 0);
        assertThat(history.countRecent("sync.s.delivered", Duration.ofSeconds(5)))
                .isEqualTo(5);
        assertThat(history.countRecent("sync.s.delivered", MetricHistory.RECENT_KEPT))
                .isEqualTo(MetricHistory.RECENT_KEPT.toSeconds());
        assertThat(history.countRecent("sync.s.delivered", Duration.ofHours(1)))
                .as("at most what is kept")
                .isEqualTo(MetricHistory.RECENT_KEPT.toSeconds());
    }

    /** One second passes with these deliveries and failed batch attempts, then the loop's step. */
    private void second(int deliveredEvents, int failedAttempts) {
        clock.tick(MetricHistory.TICK);
        if (deliveredEvents > 0) delivered(deliveredEvents);
        if (failedAttempts > 0) batchesRetried(failedAttempts);
        history.tick();
    }

    private String state() {
        return SyncHealth.state(false, false, false, false, 10, SyncHealth.stats(history, "s"));
    }

    private void delivered(int n) {
        Counter.builder("sluice.delivery.events")
                .tag("sync", "s")
                .register(registry)
                .increment(n);
    }

    private void batchesRetried(int n) {
        Counter.builder("sluice.delivery.batches")
                .tag("sync", "s")
                .tag("outcome", "retried")
                .register(registry)
                .increment(n);
    }
}
