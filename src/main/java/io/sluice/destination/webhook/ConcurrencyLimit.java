package io.sluice.destination.webhook;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A destination's own request slots with an AIMD limit (as TCP congestion control, or Netflix's concurrency-limits
 * AIMDLimit): the limit starts at {@code max}; every success adds {@code 1/limit} (about one slot per round of
 * requests); a throttle (429/503) halves it, at most once per {@code decreaseEvery} so a burst of throttles answered to
 * one round of requests counts once; never below 1. One log line per halving.
 */
final class ConcurrencyLimit {
    private static final Logger log = LoggerFactory.getLogger(ConcurrencyLimit.class);

    private final String name;
    private final int max;
    private final Duration decreaseEvery;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock(true);
    private final Condition freed = lock.newCondition();
    private double limit;
    private int inFlight;
    private Instant lastDecrease = Instant.MIN;

    ConcurrencyLimit(String name, int max, Duration decreaseEvery, Clock clock) {
        this.name = name;
        this.max = max;
        this.limit = max;
        this.decreaseEvery = decreaseEvery;
        this.clock = clock;
    }

    /** Takes a slot, waiting at most {@code maxWait}; false when none freed up in time. */
    boolean tryAcquire(Duration maxWait) throws InterruptedException {
        long nanos = maxWait.toNanos();
        lock.lockInterruptibly();
        try {
            while (inFlight >= current()) {
                if (nanos <= 0) return false;
                nanos = freed.awaitNanos(nanos);
            }
            inFlight++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Gives the slot back; {@code throttled}: the destination asked to slow down, {@code succeeded}: it took the request. */
    void release(boolean succeeded, boolean throttled) {
        lock.lock();
        try {
            inFlight--;
            if (throttled) {
                Instant now = clock.instant();
                if (!now.isBefore(lastDecrease.plus(decreaseEvery)) && limit > 1) {
                    double before = limit;
                    limit = Math.max(1, limit / 2);
                    lastDecrease = now;
                    log.info(
                            "Webhook destination {} asked to slow down: concurrency limit {} -> {}",
                            name,
                            (int) before,
                            current());
                }
            } else if (succeeded && limit < max) {
                limit = Math.min(max, limit + 1 / limit);
            }
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The current limit (whole slots). */
    int current() {
        return (int) Math.floor(limit);
    }

    int inFlight() {
        lock.lock();
        try {
            return inFlight;
        } finally {
            lock.unlock();
        }
    }
}
