package io.sluice.worker;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether the worker's retry loop may skip a poll of the retry queue. Rows come due by time, which nobody announces, so
 * a queue that holds rows is polled every round as before; but rows only ever arrive by an insert, and every insert
 * announces itself ({@code NOTIFY sluice_retries} in its transaction, heard by {@link io.sluice.queue.BatchNotifications}).
 * So once a poll found nothing and the queue held no row at all, the loop skips until something is announced: an
 * empty retry queue, the usual case, costs no queue transaction. A missed announcement (the listening connection is
 * down; it announces everything again when it reconnects) costs at most {@link #RECHECK}.
 */
final class RetryQueueWatch {
    /** How long an empty queue is believed without an announcement. */
    static final Duration RECHECK = Duration.ofSeconds(10);

    private final AtomicLong announcements = new AtomicLong();
    /** The announcement count when the queue was last seen empty; -1: it held rows, or was not looked at. */
    private volatile long emptyAt = -1;

    private volatile long emptySince;
    /** Whether chains were found since the last look at the whole queue (so it may have emptied meanwhile). */
    private volatile boolean rowsSinceLook = true;

    private volatile long lookedAt;

    /** Rows were inserted (or may have been, while nobody listened). */
    void announced() {
        announcements.incrementAndGet();
    }

    /** The announcement count now: read before the poll whose result {@link #looked} reports. */
    long announcements() {
        return announcements.get();
    }

    /** Whether the next poll would find nothing: the queue was empty and nothing was announced since. */
    boolean skip() {
        long at = emptyAt;
        return at >= 0 && at == announcements.get() && System.nanoTime() - emptySince < RECHECK.toNanos();
    }

    /** The poll found chains, or some are being delivered: poll every round. */
    void seenRows() {
        emptyAt = -1;
        rowsSinceLook = true;
    }

    /**
     * Whether a poll that found nothing should look whether the queue holds any row at all: after chains were found
     * (they may have been the last), else once per {@link #RECHECK} (rows not due yet, or leased by another worker).
     */
    boolean worthLooking() {
        return rowsSinceLook || System.nanoTime() - lookedAt >= RECHECK.toNanos();
    }

    /** A look at the whole queue, for a poll that started at {@code announcementsBefore}, found it {@code empty} or not. */
    void looked(boolean empty, long announcementsBefore) {
        long now = System.nanoTime();
        lookedAt = now;
        rowsSinceLook = false;
        if (empty) {
            emptySince = now;
            emptyAt = announcementsBefore;
        } else {
            emptyAt = -1;
        }
    }
}
