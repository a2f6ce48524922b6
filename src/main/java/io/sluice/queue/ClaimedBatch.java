package io.sluice.queue;

import java.time.Instant;

/** A batch a worker holds: {@code owner} + {@code epoch} must accompany every later change of its row. */
public record ClaimedBatch(
        long id,
        String syncId,
        String topic,
        int partition,
        long firstOffset,
        long lastOffset,
        int eventCount,
        int attempts,
        long epoch,
        String owner,
        Instant createdAt) {

    @Override
    public String toString() {
        return "batch " + id + " (sync " + syncId + ", partition " + partition + ", offsets " + firstOffset + "-"
                + lastOffset + ", attempt " + attempts + ", epoch " + epoch + ")";
    }
}
