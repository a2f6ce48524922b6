package io.sluice.queue;

/**
 * A batch cut by the planner: for one sync, the Kafka offsets [firstOffset, lastOffset] of one partition, of which
 * {@code eventCount} events (of {@code byteCount} bytes) match the sync. The ranges of one sync tile its partition.
 */
public record PlannedBatch(
        String syncId, int partition, long firstOffset, long lastOffset, int eventCount, long byteCount) {}
