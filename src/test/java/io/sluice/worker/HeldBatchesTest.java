package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.queue.ClaimedBatch;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fencing is per claim: the interleavings of a heartbeat with the recording of an attempt that once fenced the next
 * claim of the same batch (its delivery then abandoned and, after the lease, delivered a second time).
 */
class HeldBatchesTest {
    private static ClaimedBatch claim(long id, long epoch) {
        return new ClaimedBatch(id, "s", "t", 0, 0, 9, 10, 1, epoch, "w", Instant.EPOCH, null);
    }

    @Test
    void aHeartbeatThatSawAnAttemptRecordedNeverFencesTheNextClaimOfItsBatch() {
        HeldBatches held = new HeldBatches();
        ClaimedBatch first = claim(7, 1);
        held.hold(first);
        List<ClaimedBatch> seenByHeartbeat = held.snapshot();
        // The attempt is recorded (its row pending again: the heartbeat's statement no longer finds it held) and
        // released; only then does the heartbeat act on what its statement returned.
        held.release(first);
        assertThat(held.fenceIfStillHeld(seenByHeartbeat.getFirst())).isFalse();
        ClaimedBatch second = claim(7, 2);
        held.hold(second);
        assertThat(held.isFenced(second)).isFalse();
        assertThat(held.fencedCount()).isZero();
    }

    @Test
    void aClaimTakenAgainBeforeTheFirstIsReleasedStaysHeld() {
        HeldBatches held = new HeldBatches();
        ClaimedBatch first = claim(7, 1);
        held.hold(first);
        ClaimedBatch second = claim(7, 2); // the claimer took the batch again as soon as its attempt was recorded
        held.hold(second);
        held.release(first);
        assertThat(held.snapshot()).containsExactly(second);
        assertThat(held.fenceIfStillHeld(first))
                .as("a lost claim no longer held")
                .isFalse();
        assertThat(held.isFenced(second)).isFalse();
    }

    @Test
    void aClaimLostWhileHeldIsFencedUntilReleased() {
        HeldBatches held = new HeldBatches();
        ClaimedBatch batch = claim(7, 1);
        held.hold(batch);
        assertThat(held.fenceIfStillHeld(batch)).isTrue();
        assertThat(held.isFenced(batch)).isTrue();
        held.release(batch);
        assertThat(held.isFenced(batch)).isFalse();
        assertThat(held.fencedCount()).isZero();
        assertThat(held.isEmpty()).isTrue();
    }
}
