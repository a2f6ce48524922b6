package io.sluice.destination;

import java.time.Duration;

/**
 * Where a sync's events go. Lifecycle, always in this order: {@link DestinationFactory#validate} (settings only,
 * no I/O) → {@link #open()} → {@link #deliver} any number of times, possibly concurrently for different batches →
 * {@link #close()}.
 *
 * <p>Delivery is at-least-once: the same batch may be delivered again after a crash, a lease loss or a replay.
 * Implementations make that harmless (the warehouse by {@code messageId}, webhooks by {@code Idempotency-Key}).
 */
public interface Destination extends AutoCloseable {

    /** Connects or checks reachability; may be called again after a failure. */
    default void open() {}

    /**
     * Delivers the batch. Throwing means nothing was delivered (as far as this call knows) and the whole batch is
     * retried or dead-lettered: a {@link io.sluice.delivery.DeliveryException} says whether a retry can help, any
     * other exception is classified by {@link io.sluice.delivery.Failures#classify}. Destinations that deliver event
     * by event return a {@link DeliveryReport} naming the events that failed; the others were delivered and are
     * never sent again.
     */
    DeliveryReport deliver(DeliveryBatch batch) throws Exception;

    /**
     * Whether this destination delivers event by event and may report single events as failed (a webhook in event
     * mode). Only then does the worker keep a user's new events queued behind that user's failed ones.
     */
    default boolean deliversEventByEvent() {
        return false;
    }

    /**
     * How long this destination would fail anything handed to it without trying (an open circuit until its next
     * probe, a Retry-After pause); zero when it takes work now. The worker claims no new batches for it meanwhile, so
     * a destination that is down holds no slots, Kafka reads or retry rows: its batches wait, unread, in the queue.
     */
    default Duration unavailableFor() {
        return Duration.ZERO;
    }

    /**
     * Whether consecutive batches of one sync and partition may be delivered as one run (see {@code
     * QueueStore#completeAndClaimNext}). A destination that recognises a rerun by the exact batch range it committed
     * (the Kafka destination's delivery marker) says no: a rerun after a crash may otherwise be grouped differently
     * from the run that was committed, and a range that only partly overlaps a committed one cannot be split without
     * each event's offset.
     */
    default boolean deliversRuns() {
        return true;
    }

    @Override
    default void close() {}
}
