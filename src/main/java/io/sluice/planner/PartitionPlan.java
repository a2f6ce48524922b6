package io.sluice.planner;

import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.event.EventHeader;
import io.sluice.event.SyncFilter;
import io.sluice.queue.PlannedBatch;
import io.sluice.queue.ProgressUpdate;
import io.sluice.queue.QueueStore;
import io.sluice.queue.SyncCounts;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;

/**
 * The planner's in-memory state for one partition: per sync, the open batch (from the sync's position to the last
 * offset seen) and the cuts not yet recorded. Pure bookkeeping, no I/O: the {@link Planner} records what it yields.
 */
final class PartitionPlan {
    private static final Duration IDLE_PROGRESS_INTERVAL = Duration.ofSeconds(5);

    private final int partition;
    private final Map<String, Cursor> cursors = new LinkedHashMap<>();
    private final List<PlannedBatch> cuts = new ArrayList<>();
    private Instant lastRecorded;

    /** One sync's position in this partition. {@code stored} is what the database holds (null: nothing yet). */
    private static final class Cursor {
        final SyncSettings sync;
        final SyncFilter filter;
        Long stored;
        boolean recordStart;
        long next;
        long lastSeen;
        int count;
        long bytes;
        Instant openedAt;
        // Delivery accounting (SyncCounts): events of the sync's source seen and, of those, filtered out; "pending"
        // until the position moves past them, then "ready" until recorded with that position.
        long receivedPending, filteredPending, receivedReady, filteredReady;

        Cursor(SyncSettings sync, Long stored, long next) {
            this.sync = sync;
            this.filter = new SyncFilter(sync);
            this.stored = stored;
            this.next = next;
            this.lastSeen = next - 1;
        }
    }

    PartitionPlan(
            int partition,
            List<SyncSettings> syncs,
            Map<String, QueueStore.Position> positions,
            long defaultStart,
            Instant now) {
        this(partition, syncs, positions, Map.of(), defaultStart, now);
    }

    /**
     * @param starts where a sync without a position starts when its {@code startFrom} is not earliest (resolved by
     *     the planner); the others start at {@code defaultStart}, the oldest retained offset
     */
    PartitionPlan(
            int partition,
            List<SyncSettings> syncs,
            Map<String, QueueStore.Position> positions,
            Map<String, Long> starts,
            long defaultStart,
            Instant now) {
        this.partition = partition;
        this.lastRecorded = now;
        for (SyncSettings sync : syncs) {
            QueueStore.Position position = positions.get(sync.id());
            Cursor cursor = position == null
                    ? new Cursor(sync, null, starts.getOrDefault(sync.id(), defaultStart))
                    : new Cursor(sync, position.stored(), position.next());
            // a start resolved from "latest" or a time must be recorded at once: resolved again later, it would move
            cursor.recordStart = position == null && starts.containsKey(sync.id());
            cursors.put(sync.id(), cursor);
        }
    }

    /** Where to seek: the lowest position of any sync. */
    long seekOffset() {
        return cursors.values().stream().mapToLong(c -> c.next).min().orElse(0);
    }

    /** @param headers the record's headers: routing reads type and event there, parsing the value only without them */
    void add(long offset, byte[] key, byte[] value, Headers headers, Instant now) {
        add(offset, EventHeader.sourceOf(key), value, value == null ? 0 : value.length, headers, now);
    }

    /**
     * @param source the key's source id
     * @param value the value, needed only when the record has no routing headers (null otherwise)
     * @param valueSize the value's size in bytes, what batches are bounded by
     */
    void add(long offset, String source, byte[] value, int valueSize, Headers headers, Instant now) {
        EventHeader header = null;
        for (Cursor cursor : cursors.values()) {
            if (offset < cursor.next || offset <= cursor.lastSeen) continue; // planned already
            cursor.lastSeen = offset;
            if (!cursor.filter.matchesSource(source)) continue;
            cursor.receivedPending++;
            if (cursor.filter.needsHeader()) {
                if (header == null) header = EventHeader.read(null, value, headers);
                if (!cursor.filter.matches(source, header.type(), header.event())) {
                    cursor.filteredPending++;
                    continue;
                }
            }
            cursor.count++;
            cursor.bytes += valueSize;
            if (cursor.openedAt == null) cursor.openedAt = now;
            if (cursor.count >= cursor.sync.maxEvents() || cursor.bytes >= cursor.sync.maxBytes()) cut(cursor);
        }
    }

    /** Cuts batches whose first event waited {@code maxAge}. */
    void cutAged(Instant now) {
        for (Cursor cursor : cursors.values()) {
            if (cursor.openedAt != null && !now.isBefore(cursor.openedAt.plus(cursor.sync.maxAge()))) cut(cursor);
        }
    }

    private void cut(Cursor cursor) {
        cuts.add(new PlannedBatch(
                cursor.sync.id(), partition, cursor.next, cursor.lastSeen, cursor.count, cursor.bytes));
        cursor.next = cursor.lastSeen + 1;
        cursor.count = 0;
        cursor.bytes = 0;
        cursor.openedAt = null;
        countedUpToNext(cursor);
    }

    private static void countedUpToNext(Cursor cursor) {
        cursor.receivedReady += cursor.receivedPending;
        cursor.filteredReady += cursor.filteredPending;
        cursor.receivedPending = 0;
        cursor.filteredPending = 0;
    }

    /** Adds the counts the positions of {@link #progress()} cover, to be written in the same transaction. */
    void countsInto(SyncCounts counts, Instant now) {
        for (Cursor cursor : cursors.values()) {
            counts.add(cursor.sync.id(), now, SyncCounts.Column.RECEIVED, cursor.receivedReady);
            counts.add(cursor.sync.id(), now, SyncCounts.Column.FILTERED, cursor.filteredReady);
        }
    }

    /**
     * Whether there is something to record now: cut batches, or (every few seconds) positions moved past events
     * no sync wanted, so that a restart does not re-read them.
     */
    boolean hasWork(Instant now) {
        if (!cuts.isEmpty()) return true;
        if (cursors.values().stream().anyMatch(c -> c.recordStart && c.stored == null)) return true;
        if (now.isBefore(lastRecorded.plus(IDLE_PROGRESS_INTERVAL))) return false;
        return cursors.values().stream().anyMatch(c -> c.count == 0 && c.lastSeen + 1 > c.next);
    }

    List<PlannedBatch> cuts() {
        return List.copyOf(cuts);
    }

    /** Position moves to record: cut batches, plus empty stretches (no open batch) skipped since the last record. */
    List<ProgressUpdate> progress() {
        List<ProgressUpdate> updates = new ArrayList<>();
        for (Cursor cursor : cursors.values()) {
            if (cursor.count == 0 && cursor.lastSeen + 1 > cursor.next) cursor.next = cursor.lastSeen + 1;
            if (cursor.count == 0) countedUpToNext(cursor);
            if (cursor.stored == null || cursor.stored != cursor.next) {
                updates.add(new ProgressUpdate(cursor.sync.id(), partition, cursor.stored, cursor.next));
            }
        }
        return updates;
    }

    /** The cuts and positions returned by {@link #cuts()} and {@link #progress()} are now in the database. */
    void recorded(List<ProgressUpdate> updates, Instant now) {
        cuts.clear();
        for (ProgressUpdate update : updates) cursors.get(update.syncId()).stored = update.next();
        for (Cursor cursor : cursors.values()) {
            cursor.receivedReady = 0;
            cursor.filteredReady = 0;
        }
        lastRecorded = now;
    }

    /** The offset every sync has planned past, safe to commit to Kafka; -1 while some sync has no stored position. */
    long committableOffset() {
        if (cursors.values().stream().anyMatch(c -> c.stored == null)) return -1;
        return cursors.values().stream().mapToLong(c -> c.stored).min().orElse(-1);
    }
}
