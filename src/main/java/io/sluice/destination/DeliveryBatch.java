package io.sluice.destination;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The events of one planned batch, read back from Kafka, filtered for the sync (and, later, transformed by its
 * function), in offset order. {@code events} are enriched events in the format of docs/record-format.md.
 *
 * <p>{@code part} is null when {@code events} are the whole batch. When they are only what is left of it (earlier
 * attempts delivered the rest, or some users' events wait in the retry queue), it names those events (a digest of
 * their messageIds), so a receiver that dedupes by idempotency key never takes one part for another.
 */
public record DeliveryBatch(
        String syncId,
        String sourceId,
        long batchId,
        int partition,
        long firstOffset,
        long lastOffset,
        List<ObjectNode> events,
        String part) {

    /** The whole batch. */
    public DeliveryBatch(
            String syncId,
            String sourceId,
            long batchId,
            int partition,
            long firstOffset,
            long lastOffset,
            List<ObjectNode> events) {
        this(syncId, sourceId, batchId, partition, firstOffset, lastOffset, events, null);
    }

    /**
     * A stable identity for idempotency keys: the same batch has the same key across retries and replays, and the
     * same part of it the same key across the retries of that part.
     */
    public String idempotencyKey() {
        String whole = syncId + ":" + partition + ":" + firstOffset + "-" + lastOffset;
        return part == null ? whole : whole + "~" + part;
    }
}
