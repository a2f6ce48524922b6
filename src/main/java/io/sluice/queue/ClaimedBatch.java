package io.sluice.queue;

import java.time.Instant;
import java.util.List;

/**
 * A batch a worker holds: {@code owner} + {@code epoch} must accompany every later change of its row. It may be a
 * <em>run</em>: several consecutive batches of one sync and partition claimed together under backlog
 * ({@link QueueStore#completeAndClaimNext}) and delivered as one, spanning the first one's first offset to the last
 * one's last; every change then applies to all its {@link #members()}, each fenced by its own epoch.
 */
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
        Instant createdAt,
        List<Member> members,
        SettledEvents settled,
        long lane) {

    /** One batch row of what is held, with the epoch of its claim. */
    public record Member(long id, long epoch) {}

    public ClaimedBatch {
        members = List.copyOf(members);
    }

    /** A live batch or run (lane 0). */
    public ClaimedBatch(
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
            Instant createdAt,
            List<Member> members,
            SettledEvents settled) {
        this(
                id,
                syncId,
                topic,
                partition,
                firstOffset,
                lastOffset,
                eventCount,
                attempts,
                epoch,
                owner,
                createdAt,
                members,
                settled,
                0);
    }

    /** Whether a backfill planned it ({@link #lane} is then the backfill's id; 0 is the sync's live lane). */
    public boolean backfill() {
        return lane != 0;
    }

    /**
     * A single batch row; {@code settled}: what its earlier attempts settled (null: nothing recorded, see
     * {@link SettledEvents}).
     */
    public ClaimedBatch(
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
            Instant createdAt,
            SettledEvents settled) {
        this(
                id,
                syncId,
                topic,
                partition,
                firstOffset,
                lastOffset,
                eventCount,
                attempts,
                epoch,
                owner,
                createdAt,
                List.of(new Member(id, epoch)),
                settled);
    }

    /** A single batch row of lane {@code lane} (0: live; else the backfill that planned it). */
    public ClaimedBatch(
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
            Instant createdAt,
            SettledEvents settled,
            long lane) {
        this(
                id,
                syncId,
                topic,
                partition,
                firstOffset,
                lastOffset,
                eventCount,
                attempts,
                epoch,
                owner,
                createdAt,
                List.of(new Member(id, epoch)),
                settled,
                lane);
    }

    /**
     * Consecutive single batches of one sync and partition (in offset order) as one run: the first one's identity,
     * the span of all, the most attempts and the oldest creation (retry limits stay as strict as for any member), and
     * what any of them had settled.
     */
    static ClaimedBatch run(List<ClaimedBatch> consecutive) {
        if (consecutive.size() == 1) return consecutive.get(0);
        ClaimedBatch first = consecutive.get(0);
        ClaimedBatch last = consecutive.get(consecutive.size() - 1);
        int events = 0;
        int attempts = 0;
        Instant created = first.createdAt();
        SettledEvents settled = null;
        for (ClaimedBatch b : consecutive) {
            settled = SettledEvents.union(settled, b.settled());
            events += b.eventCount();
            attempts = Math.max(attempts, b.attempts());
            if (b.createdAt().isBefore(created)) created = b.createdAt();
        }
        return new ClaimedBatch(
                first.id(),
                first.syncId(),
                first.topic(),
                first.partition(),
                first.firstOffset(),
                last.lastOffset(),
                events,
                attempts,
                first.epoch(),
                first.owner(),
                created,
                consecutive.stream().map(b -> new Member(b.id(), b.epoch())).toList(),
                settled,
                first.lane());
    }

    @Override
    public String toString() {
        String what = members.size() == 1 ? "batch " + id : "run of " + members.size() + " batches from " + id;
        return what + " (sync " + syncId + (lane == 0 ? "" : ", backfill " + lane) + ", partition " + partition
                + ", offsets " + firstOffset + "-" + lastOffset + ", attempt " + attempts + ", epoch " + epoch
                + (settled == null ? "" : ", " + settled) + ")";
    }
}
