package io.sluice.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.event.SyncFilter;
import io.sluice.queue.ClaimedBatch;
import java.io.IOException;
import java.util.List;

/**
 * Reads live batches and backfill batches with separate consumers. The live pool's consumers stay on their
 * partitions' heads with the records they fetched ahead (the next live batch starts there); a backfill reading old
 * offsets of the same partitions would seek them away, throw those records out and make the next live batch fetch
 * again, and with every consumer busy reading a backfill a live batch would wait for one. The backfill pool (as many
 * consumers as a destination's backfill slots) is created at the first backfill batch, so a worker that never
 * backfills has none.
 */
final class LaneReaders implements AutoCloseable {
    private final BatchReader live;
    private final int backfillSize;
    private BatchReader backfill;
    private boolean closed;

    LaneReaders(BatchReader live, int backfillSize) {
        this.live = live;
        this.backfillSize = backfillSize;
    }

    /** The events of the batch that match the filter, in offset order, read by its lane's pool. */
    List<ObjectNode> read(ClaimedBatch batch, SyncFilter filter) throws IOException, InterruptedException {
        return (batch.backfill() ? backfill() : live).read(batch, filter);
    }

    private synchronized BatchReader backfill() {
        if (closed) throw new IllegalStateException("closed");
        if (backfill == null) backfill = live.backfillPool(backfillSize);
        return backfill;
    }

    @Override
    public void close() {
        BatchReader b;
        synchronized (this) {
            closed = true;
            b = backfill;
        }
        live.close();
        if (b != null) b.close();
    }
}
