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
            Map<String, Integer> heldNow = heldPerDestination();
            Map<Integer, List<String>> byFreeSlots = new TreeMap<>(Comparator.reverseOrder());
            for (Map.Entry<String, List<String>> d : syncsOfDestination.entrySet()) {
                int own = settings.concurrency() - heldNow.getOrDefault(d.getKey(), 0);
                if (own <= 0 || !available(d.getKey())) continue;
                byFreeSlots.computeIfAbsent(own, n -> new ArrayList<>()).addAll(d.getValue());
            }
            int total = 0;
            boolean filled = byFreeSlots.isEmpty(); // nothing could be claimed now: claim again once a slot frees
            for (Map.Entry<Integer, List<String>> group : byFreeSlots.entrySet()) {
                int limit = Math.min(free - total, group.getKey());
                if (limit <= 0) {
                    filled = true;
                    break;
                }
                List<String> others = new ArrayList<>(destinationOfSync.keySet());
                others.removeAll(group.getValue());
                List<ClaimedBatch> claimed =
                        store.claim(owner, limit, settings.leaseDuration(), clock.instant(), others);
                for (ClaimedBatch batch : claimed) {
                    held.hold(batch);
                    dispatch.accept(batch);
                }
                total += claimed.size();
                if (claimed.size() >= limit) filled = true;
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

    private Map<String, Integer> heldPerDestination() {
        Map<String, Integer> perDestination = new HashMap<>();
        for (ClaimedBatch batch : held.snapshot()) {
            String destination = destinationOfSync.get(batch.syncId());
            if (destination != null) perDestination.merge(destination, 1, Integer::sum);
        }
        return perDestination;
    }
}
