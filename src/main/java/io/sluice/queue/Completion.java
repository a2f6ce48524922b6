package io.sluice.queue;

import java.time.Instant;
import java.util.List;

/**
 * One member of a grouped completion ({@link QueueStore#completeAll}): a held batch delivered at {@code now}, the
 * events it handed to the retry queue and the dead letters, and how many of its sync's next due batches to claim
 * with it as a run ({@code handOn}, 0: none).
 */
public record Completion(ClaimedBatch batch, Instant now, List<RetryEvent> retries, List<DeadLetter> dead, int handOn) {

    /**
     * A member of a group failed (fenced, or refused by the database): the group's transaction rolled back and
     * nothing of it was written. {@link #index()} names the member; {@link #getCause()} is its own failure.
     */
    public static final class MemberFailed extends Exception {
        private final int index;

        MemberFailed(int index, Exception cause) {
            super("member " + index + " of a grouped completion failed: " + cause.getMessage(), cause);
            this.index = index;
        }

        public int index() {
            return index;
        }
    }
}
