package io.sluice.destination;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The events of one planned batch, read back from Kafka, filtered for the sync (and, later, transformed by its
 * function), in offset order. {@code events} are enriched events in the format of docs/record-format.md.
 */
public record DeliveryBatch(
        String syncId,
        String sourceId,
        long batchId,
        int partition,
        long firstOffset,
        long lastOffset,
        List<ObjectNode> events) {

    /** A stable identity for idempotency keys: the same batch has the same key across retries and replays. */
    public String idempotencyKey() {
        return syncId + ":" + partition + ":" + firstOffset + "-" + lastOffset;
    }
}
