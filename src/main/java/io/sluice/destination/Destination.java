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
     * Delivers the batch. Throwing means nothing was delivered (as far as this call knows): a {@link
     * io.sluice.delivery.DeliveryException} names its {@link io.sluice.delivery.FailureClass}, any other exception is
     * classified by {@link io.sluice.delivery.Failures#classify}, and only the class decides what the worker does
     * (see {@code worker.DeliveryDecision}): a {@code CONFLICT} is delivered again at once, an {@code EVENT_DATA}
     * failure of several events is split in halves (each half a {@link DeliveryBatch#subset}) until the refused
     * events are found. Destinations that deliver event by event return a {@link DeliveryReport} naming the events
     * that failed; the others were delivered and are never sent again. A failure blamed on one event ({@link
     * io.sluice.delivery.DeliveryException#forEvent}) is that event's; an {@code EVENT_DATA} failure blamed on none,
     * reported for several events, is split like a thrown one.
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
