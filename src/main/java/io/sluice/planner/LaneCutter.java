package io.sluice.planner;

import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.event.EventHeader;
import io.sluice.event.SyncFilter;
import io.sluice.queue.PlannedBatch;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Headers;

/**
 * Cuts one partition of a backfill's window [next, end) into batches of one sync, by its {@code maxEvents} and
 * {@code maxBytes} only (never by age): the same window is always cut into the same ranges, however it is polled or
 * resumed, so a rerun sends the same batch idempotency keys and a dry run counts exactly the batches a run plans.
 * Unwanted events lie inside the range of the next batch; an unwanted tail is passed over at the end. Pure
 * bookkeeping: the {@link BackfillPlanner} records the cuts, {@link BackfillWindows} counts them for a dry run.
 */
final class LaneCutter {
    private final SyncSettings sync;
    private final SyncFilter filter;
    private final int partition;
    private final long end;
    private final List<PlannedBatch> cuts = new ArrayList<>();
    private long next;
    private long lastSeen;
    private int count;
    private long bytes;

    LaneCutter(SyncSettings sync, int partition, long next, long end) {
        this.sync = sync;
        this.filter = new SyncFilter(sync);
        this.partition = partition;
        this.next = next;
        this.end = end;
        this.lastSeen = next - 1;
    }

    void add(long offset, byte[] key, byte[] value, Headers headers) {
        if (offset <= lastSeen || offset >= end) return;
        lastSeen = offset;
        if (matches(key, value, headers)) {
            count++;
            bytes += value == null ? 0 : value.length;
            if (count >= sync.maxEvents() || bytes >= sync.maxBytes()) cut();
        }
        if (offset == end - 1) reached(end);
    }

    private boolean matches(byte[] key, byte[] value, Headers headers) {
        String source = EventHeader.sourceOf(key);
        if (!filter.matchesSource(source)) return false;
        if (!filter.needsHeader()) return true;
        EventHeader header = EventHeader.read(key, value, headers);
        return filter.matches(source, header.type(), header.event());
    }

    /**
     * The consumer's position on this partition: past the window's end (the last offsets may be transaction markers
     * or compacted away, never returned as records), the open batch is cut and the partition is planned.
     */
    void reached(long position) {
        if (position < end || next >= end) return;
        if (count > 0) {
            lastSeen = end - 1;
            cut();
        }
        next = end;
    }

    private void cut() {
        cuts.add(new PlannedBatch(sync.id(), partition, next, lastSeen, count, bytes));
        next = lastSeen + 1;
        count = 0;
        bytes = 0;
    }

    /** Cuts made and not yet taken. */
    int waiting() {
        return cuts.size();
    }

    /** The cuts since the last call. */
    List<PlannedBatch> takeCuts() {
        List<PlannedBatch> taken = List.copyOf(cuts);
        cuts.clear();
        return taken;
    }

    /** The first offset not in a cut batch: where planning stands (and resumes after a restart). */
    long next() {
        return next;
    }

    /** Where reading continues: past the last record seen. */
    long readPosition() {
        return lastSeen + 1;
    }

    boolean planned() {
        return next >= end;
    }

    int partition() {
        return partition;
    }
}
