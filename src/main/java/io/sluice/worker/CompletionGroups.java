package io.sluice.worker;

import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.Completion;
import io.sluice.queue.QueueStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;

/**
 * Group commit of the worker's completions: batches of different partitions that finish within {@link #WINDOW} of
 * each other are completed in one queue transaction ({@link QueueStore#completeAll}) instead of one each. At 20,000
 * events/s a completion per 1,000-event batch was the largest share of the queue database's transactions.
 *
 * <p>No thread of its own: the first completion to arrive leads a group, waits until the window closes or until every
 * claim the worker holds has joined (nobody else could), then commits the group for all; the others wait for its
 * result. Each member stays fenced by its own owner and epochs: a member whose lease was lost (or whose rows the
 * database refuses) is taken out, gets its own failure, and the others are committed again without it, so one lost
 * lease never applies, and never blocks another batch's completion. The delay (at most the window) only postpones
 * when a slot frees; the events are already at the destination.
 */
final class CompletionGroups {
    /** How long a completion waits for others to share its transaction. */
    static final Duration WINDOW = Duration.ofMillis(60);

    private final QueueStore store;
    private final IntSupplier held;
    private final Duration lease;
    private final Duration window;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition joined = lock.newCondition();
    private List<Member> open;

    /**
     * @param held how many claims the worker holds now (a group that has all of them commits at once)
     */
    CompletionGroups(QueueStore store, IntSupplier held, Duration lease, Duration window) {
        this.store = store;
        this.held = held;
        this.lease = lease;
        this.window = window;
    }

    /**
     * Completes {@code completion} in a group; returns the run handed on with it, or throws its own failure
     * ({@link io.sluice.queue.FencedException} when its lease was lost) exactly as a completion of its own would.
     */
    Optional<ClaimedBatch> complete(Completion completion) throws Exception {
        Member mine = new Member(completion);
        List<Member> group;
        boolean interrupted = false;
        lock.lock();
        try {
            if (open != null) {
                open.add(mine);
                joined.signalAll();
                group = null;
            } else {
                open = new ArrayList<>(List.of(mine));
                long left = window.toNanos();
                while (open.size() < held.getAsInt() && left > 0) {
                    try {
                        left = joined.awaitNanos(left);
                    } catch (InterruptedException e) {
                        interrupted = true; // commit what has joined all the same: the others wait for it
                        break;
                    }
                }
                group = open;
                open = null;
            }
        } finally {
            lock.unlock();
        }
        if (group != null) commit(group);
        if (interrupted) Thread.currentThread().interrupt();
        return mine.result();
    }

    /** Commits the group; a member that fails leaves it with its own failure and the rest are committed again. */
    private void commit(List<Member> group) {
        List<Member> rest = new ArrayList<>(group);
        while (!rest.isEmpty()) {
            try {
                List<Optional<ClaimedBatch>> handedOn =
                        store.completeAll(rest.stream().map(m -> m.completion).toList(), lease);
                for (int i = 0; i < rest.size(); i++) rest.get(i).result.complete(handedOn.get(i));
                return;
            } catch (Completion.MemberFailed failed) {
                rest.remove(failed.index()).result.completeExceptionally(failed.getCause());
            } catch (Throwable e) {
                rest.forEach(m -> m.result.completeExceptionally(e));
                return;
            }
        }
    }

    private static final class Member {
        final Completion completion;
        final CompletableFuture<Optional<ClaimedBatch>> result = new CompletableFuture<>();

        Member(Completion completion) {
            this.completion = completion;
        }

        Optional<ClaimedBatch> result() throws Exception {
            try {
                return result.get(); // the leader completes every member, whatever happens
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Exception cause) throw cause;
                throw e;
            }
        }
    }
}
