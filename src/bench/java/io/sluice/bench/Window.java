package io.sluice.bench;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The measured window of one phase in {@link System#nanoTime()} terms, shared by the load generator (which counts
 * only what completes inside it) and the resource monitor (which samples CPU over exactly this span). A load calls
 * {@link #awaitSnapshot()} before tearing down, so its threads are still alive when their CPU time is read.
 */
record Window(long start, long end, CountDownLatch snapshot) {

    static Window after(Duration warmup, Duration duration) {
        long start = System.nanoTime() + warmup.toNanos();
        return new Window(start, start + duration.toNanos(), new CountDownLatch(1));
    }

    boolean contains(long nanoTime) {
        return nanoTime >= start && nanoTime < end;
    }

    double seconds() {
        return (end - start) / 1e9;
    }

    void snapshotTaken() {
        snapshot.countDown();
    }

    /** Waits (at most 10 s) until the monitor has read the window's CPU figures. */
    void awaitSnapshot() {
        try {
            snapshot.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
