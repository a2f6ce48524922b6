package io.sluice.worker;

import io.sluice.queue.ClaimedBatch;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The claims a worker holds now, by batch id, and those of them a heartbeat found taken over (fenced: their outcome
 * is refused before it is written).
 *
 * <p>Everything here is per claim, not per batch: a batch that waits as its row after an attempt is claimed again,
 * often by the same worker, under a new epoch. A heartbeat that ran while the first claim was being recorded (the
 * row already pending, so no longer held) must neither fence the second claim nor drop it from the held ones; if it
 * did, the second claim's delivery would be abandoned and, once its lease expired, delivered again (a duplicate at
 * every receiver that does not dedupe). Claims are compared by identity: each claim is one {@link ClaimedBatch}.
 */
final class HeldBatches {
    private final Map<Long, ClaimedBatch> held = new ConcurrentHashMap<>();
    private final Set<ClaimedBatch.Member> fenced = ConcurrentHashMap.newKeySet();

    /** Held from now on (claimed, or handed on by a completion). */
    void hold(ClaimedBatch batch) {
        held.put(batch.id(), batch);
    }

    /** No longer held: its outcome was recorded or given up. A later claim of the same batch is untouched. */
    void release(ClaimedBatch batch) {
        held.remove(batch.id(), batch);
        fenced.remove(claimOf(batch));
    }

    /**
     * A heartbeat found this claim no longer held in the queue database. Fenced only while it is still held here:
     * a claim released meanwhile simply finished (its row no longer running), and leaves nothing behind.
     *
     * @return whether it was fenced
     */
    boolean fenceIfStillHeld(ClaimedBatch batch) {
        if (held.get(batch.id()) != batch) return false;
        ClaimedBatch.Member claim = claimOf(batch);
        fenced.add(claim);
        if (held.get(batch.id()) == batch) return true;
        fenced.remove(claim); // released between the check and the mark
        return false;
    }

    /** Whether a heartbeat found this claim taken over. */
    boolean isFenced(ClaimedBatch batch) {
        return fenced.contains(claimOf(batch));
    }

    /** A copy of what is held now. */
    List<ClaimedBatch> snapshot() {
        return List.copyOf(held.values());
    }

    int size() {
        return held.size();
    }

    boolean isEmpty() {
        return held.isEmpty();
    }

    /** How many claims are fenced now (no claim leaves one behind once released). */
    int fencedCount() {
        return fenced.size();
    }

    /** A claim's identity: its first row and that row's epoch (every claim raises the epoch). */
    private static ClaimedBatch.Member claimOf(ClaimedBatch batch) {
        return new ClaimedBatch.Member(batch.id(), batch.epoch());
    }
}
