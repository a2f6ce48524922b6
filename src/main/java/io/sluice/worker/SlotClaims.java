package io.sluice.worker;

import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.config.SluiceConfig.WorkerSettings;
import io.sluice.destination.Destination;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.QueueStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Claims batches into free worker slots. Every destination has {@code worker.concurrency} batch slots of its own (not
 * a share of one pool), and only its own free slots bound what is claimed for it: destinations with the same number
 * of free slots share one claim statement with that limit (usually all of them: one statement), a nearly full one
 * gets its own. So a slow destination holding most of its slots never shrinks the claims of the others. A destination
 * that would refuse everything now ({@link Destination#unavailableFor}: open circuit, long Retry-After) is not claimed
 * for at all: its batches wait in the queue unread instead of being read from Kafka only to go to the retry queue
 * unsent.
 *
 * <p>Backfill batches (docs/replay.md) may hold at most {@code worker.backfillShare} of a destination's slots
 * ({@link io.sluice.config.SluiceConfig.WorkerSettings#backfillSlots}); the claim takes due live batches first and
 * backfill ones only up to the room left, so however long a backfill runs, the rest of the slots stay free for live
 * batches.
 */
final class SlotClaims {
    private final QueueStore store;
    private final Map<String, String> destinationOfSync;
    private final Map<String, List<String>> syncsOfDestination;
    private final Map<String, Destination> destinations;
    private final WorkerSettings settings;
    private final HeldBatches held;
    private final Clock clock;
    private final String owner;
    /** Claims under way: counted before the claim asks the gate, so a quiesce check never misses a batch being taken. */
    private final AtomicInteger claiming = new AtomicInteger();
    /** The last claim may have left due batches behind (it filled its limit): a freed slot should claim at once. */
    private volatile boolean moreDue = true;

    SlotClaims(
            QueueStore store,
            List<SyncSettings> syncs,
            Map<String, Destination> destinations,
            WorkerSettings settings,
            HeldBatches held,
            Clock clock,
            String owner) {
        this.store = store;
        this.destinationOfSync =
                syncs.stream().collect(Collectors.toUnmodifiableMap(SyncSettings::id, SyncSettings::destination));
        this.syncsOfDestination = syncs.stream()
                .collect(Collectors.groupingBy(
                        SyncSettings::destination,
                        TreeMap::new,
                        Collectors.mapping(SyncSettings::id, Collectors.toUnmodifiableList())));
        this.destinations = destinations;
        this.settings = settings;
        this.held = held;
        this.clock = clock;
        this.owner = owner;
    }

    /** Claims what fits into the {@code free} slots; each claimed batch is held, then handed to {@code dispatch}. */
    int claim(int free, Consumer<ClaimedBatch> dispatch) throws Exception {
        if (free <= 0) {
            moreDue = true;
            return 0;
        }
        claiming.incrementAndGet();
        try {
            Map<String, int[]> heldNow = heldPerDestination();
            // destinations with the same free slots and the same room for backfill batches share one statement
            Map<Room, List<String>> byRoom = new TreeMap<>(Room.MOST_FREE_FIRST);
            for (Map.Entry<String, List<String>> d : syncsOfDestination.entrySet()) {
                int[] heldThere = heldNow.getOrDefault(d.getKey(), new int[2]);
                int own = settings.concurrency() - heldThere[0];
                if (own <= 0 || !available(d.getKey())) continue;
                int backfill = Math.max(0, Math.min(own, settings.backfillSlots() - heldThere[1]));
                byRoom.computeIfAbsent(new Room(own, backfill), n -> new ArrayList<>())
                        .addAll(d.getValue());
            }
            int total = 0;
            boolean filled = byRoom.isEmpty(); // nothing could be claimed now: claim again once a slot frees
            for (Map.Entry<Room, List<String>> group : byRoom.entrySet()) {
                int limit = Math.min(free - total, group.getKey().free());
                if (limit <= 0) {
                    filled = true;
                    break;
                }
                List<String> others = new ArrayList<>(destinationOfSync.keySet());
                others.removeAll(group.getValue());
                List<ClaimedBatch> claimed = store.claim(
                        owner, limit, group.getKey().backfill(), settings.leaseDuration(), clock.instant(), others);
                for (ClaimedBatch batch : claimed) {
                    held.hold(batch);
                    dispatch.accept(batch);
                }
                total += claimed.size();
                if (claimed.size() >= limit) filled = true;
                long backfills = claimed.stream().filter(ClaimedBatch::backfill).count();
                // the backfill's room was the limit: its further due batches wait for a freed slot, not for a poll
                if (group.getKey().backfill() < limit
                        && backfills >= group.getKey().backfill()) filled = true;
            }
            moreDue = filled;
            return total;
        } finally {
            claiming.decrementAndGet();
        }
    }

    /** Whether the destination takes work now (nothing is claimed or handed on for one that would refuse it). */
    boolean available(String destination) {
        Destination d = destinations.get(destination);
        return d == null || !d.unavailableFor().isPositive();
    }

    /** Free slots over all destinations (each has {@code worker.concurrency} of its own). */
    int free() {
        return settings.concurrency() * Math.max(1, syncsOfDestination.size()) - held.size();
    }

    /** Whether the last claim filled its limit, so a freed slot should claim at once. */
    boolean moreDue() {
        return moreDue;
    }

    /** Whether a claim is under way. */
    boolean claiming() {
        return claiming.get() > 0;
    }

    /** Per destination: the claims held, and of them those of backfill lanes. */
    private Map<String, int[]> heldPerDestination() {
        Map<String, int[]> perDestination = new HashMap<>();
        for (ClaimedBatch batch : held.snapshot()) {
            String destination = destinationOfSync.get(batch.syncId());
            if (destination == null) continue;
            int[] counts = perDestination.computeIfAbsent(destination, d -> new int[2]);
            counts[0]++;
            if (batch.backfill()) counts[1]++;
        }
        return perDestination;
    }

    /** A destination's free slots, and how many of them backfill batches may take now. */
    private record Room(int free, int backfill) {
        static final Comparator<Room> MOST_FREE_FIRST = Comparator.comparingInt(Room::free)
                .reversed()
                .thenComparing(Comparator.comparingInt(Room::backfill).reversed());
    }
}
